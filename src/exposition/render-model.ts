/**
 * What the renderers take: the exposition model (types.ts) plus fields that only make rendering
 * faster or say how names were made, which the naming stage fills as it builds its families (what
 * `scrape()` returns). A host builds the plain model; a plain `Family` is a `RenderFamily` with none
 * of these fields, and renders the same.
 *
 * The renderers trust their input, as client_golang's expfmt does: they do not check metric or
 * label names, label strings, or that a family's fields agree with each other. What must hold:
 * - a label string is escaped and joined as {@link NumberSeries.labels} says;
 * - `columns`, when given, describe exactly the family's `series`; `columns.keyed`, when given,
 *   names each series by a key that stands for one label string (render-memo.ts copies a series'
 *   line when its key and value are as last time);
 * - `ascii`, when `true`, is true of every label string of the family;
 * - `prefix`, when given, equals {@link bucketLinePrefix} of the family's name and the series'
 *   labels, and is given only on a family with a classic name;
 * - a family whose name or label names are not classic is marked `utf8Names`;
 * - the arrays of a family handed to a renderer are not changed afterwards, nor a histogram
 *   series object: render-memo.ts keeps them to tell what changed by the next scrape, and the
 *   naming stage hands the same label array to several scrapes while its series stay the same.
 * Input that breaks one renders wrong output, not an error.
 */
import type {
  ExpositionExemplar,
  HistogramFamily,
  HistogramSeries,
  NumberFamily,
} from './types.ts';

/** Counter/gauge/info/unknown series as columns, `labels[i]` and `values[i]` being series i. */
export interface NumberColumns {
  /** As {@link NumberSeries.labels}, one per series. */
  readonly labels: readonly string[];
  /** One per series, in the same order. */
  readonly values: ArrayLike<number>;
  /** Optional: counters' latest exemplars, one slot per series (sparse). */
  readonly exemplars?: readonly (ExpositionExemplar | undefined)[];
  /** Optional, counters only: each series' {@link NumberSeries.created}, in the same order. */
  readonly created?: readonly number[];
  /**
   * Optional: the series told apart without their label strings, for a renderer that keeps what it
   * wrote (render-memo.ts): then `values` has one entry per series, and `labels` may be made only
   * when read.
   */
  readonly keyed?: KeyedLabels;
}

/** Series identities, and their label strings one at a time (the naming stage's label column: naming/series-cache.ts). */
export interface KeyedLabels {
  /**
   * Series i's identity, `keys[i]`: at a later rendering, the same key in a `keys` array that is
   * the same array, with the same {@link maker}, is a series with the same label string.
   */
  readonly keys: readonly object[];
  /** What made the strings. */
  readonly maker: object;
  /** Series i's label string, as `labels[i]`. */
  at(i: number): string;
}

/** How names were made: what escape-names.ts reads to serve a family to every scraper. */
interface NameMark {
  /**
   * `true` when the family's name or label names may be outside the classic character set (a
   * label string then writes such a name quoted, `"http.method"="GET"`). Such a family is served as
   * it is only to a scraper that negotiated `escaping=allow-utf-8`; escape-names.ts escapes it for
   * any other. Absent: every name is classic.
   */
  readonly utf8Names?: boolean;
  /**
   * `true` when every series' label string is ASCII (U+0000-U+007F). The renderers then write the
   * family's lines as Latin-1 (a plain copy) rather than UTF-8; its name, help and unit they check
   * themselves.
   */
  readonly ascii?: boolean;
}

export interface RenderNumberFamily extends NumberFamily, NameMark {
  /**
   * The series as columns. The naming stage builds these rather than one object per series: the
   * label strings are the ones it keeps across scrapes (an unchanged family's label array is the
   * last scrape's), so a steady-state scrape allocates one array of values per family and nothing
   * per series, and `series` is made on first read. When given,
   * renderers read these instead of `series`.
   */
  readonly columns?: NumberColumns;
}

export interface RenderHistogramSeries extends HistogramSeries {
  /**
   * The head of every bucket line, `<name>_bucket{<labels>,le="` as a flat string. A naming stage
   * that keeps it across scrapes saves the renderers building it per series and scrape, and makes
   * each bucket line one rope node shorter.
   */
  readonly prefix?: string;
}

export interface RenderHistogramFamily extends HistogramFamily, NameMark {
  readonly series: readonly RenderHistogramSeries[];
}

export type RenderFamily = RenderNumberFamily | RenderHistogramFamily;

/**
 * {@link RenderHistogramSeries.prefix} of a series of family `name`. Built with `join`, so the
 * string is flat (one allocation) rather than a rope that would keep its pieces alive and be
 * walked again at every scrape.
 */
export function bucketLinePrefix(name: string, labels: string): string {
  return labels === ''
    ? [name, '_bucket{le="'].join('')
    : [name, '_bucket{', labels, ',le="'].join('');
}
