/**
 * The naming stage's memory across collections: per compiled rule, the series object of each
 * histogram series it rendered (and its bucket-line prefix, and an exponential one's native
 * buckets), so a steady-state scrape only compares figures. Label strings are the columns'
 * (series/series-set.ts `labels` for a store's sets, series/metric-columns.ts for a producer's
 * points), made by this cache's {@link SeriesCache.labelRender}.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';
import { boundsOf, type CollectedSeries, type LabelRender } from '../series/collection.ts';
import { sameBounds } from '../series/carry.ts';
import { isAscii } from '../exposition/samples.ts';
import type { RenderHistogramSeries } from '../exposition/render-model.ts';
import type { NativeBuckets } from '../exposition/types.ts';
import { bucketExemplars } from './data-points.ts';
import { MIN_NATIVE_SCHEMA } from '../common/exponential-histogram.ts';
import { classicBuckets, nativeOf } from './exponential.ts';

/**
 * What one compiled rule keeps of its histogram series from one collection to the next, by
 * position. A series object is served again while its figures have not changed: series objects
 * are never changed once made, so families handed out earlier stay as they were, and unchanged
 * ones are old-generation objects the young-generation GC does not copy while a scrape is
 * rendered. Number series keep nothing here: their label strings go into the family's columns with
 * the values (`RenderNumberFamily.columns`). The arrays are cut to the last collection's size.
 */
export class SeriesCache {
  /** The series object made at each position. */
  readonly #histograms: RenderHistogramSeries[] = [];
  /** Exponential histogram rules: the native buckets last seen at each position. */
  readonly #natives: Array<NativeBuckets | undefined> = [];
  /** Histogram rules: the bucket line prefix of a label string. */
  readonly #prefix: ((labels: string) => string) | undefined;
  /** What the columns render this rule's label strings with (the same object for the rule's life). */
  readonly labelRender: LabelRender;

  constructor(render: (attributes: Attributes) => string, prefix?: (labels: string) => string) {
    this.#prefix = prefix;
    this.labelRender = { render, isAscii };
  }

  /**
   * The histogram series `i` of `series`, `labels` the string its columns hold for it: the same
   * string at a position is the same series, so the last one when nothing changed. Its
   * bounds are the set's, or its own in a view of several bucket layouts (collection.ts
   * `boundsOf`). Its figures are the set's, or `row`'s where given: a source's carried part
   * `[count, sum, ...bucket counts]` over those bounds (series/carry.ts), its sum already scaled,
   * or over `bounds` where the source has a layout of its own (one it was counted in beside the
   * set's, or an exponential one's classic buckets); its exemplars the set's, the latest per
   * bucket.
   */
  histogramAt(
    i: number,
    series: CollectedSeries,
    labels: string,
    scale: number,
    created: number | undefined,
    row: Float64Array | undefined,
    bounds = boundsOf(series, i),
  ): RenderHistogramSeries {
    const prev = this.#at(i, labels);
    const own = row === undefined;
    const counts = own ? series.values : row;
    const from = own ? i * series.stride : 2;
    const n = bounds.length + 1;
    const sum = own ? series.sums[i]! * scale : row[1]!;
    const count = own ? series.counts[i]! : row[0]!;
    // Exemplars change only with a record, which changes the counts too.
    if (
      prev?.count === count &&
      prev.sum === sum &&
      prev.bounds === bounds &&
      prev.created === created &&
      sameCounts(prev.counts, counts, from, n)
    )
      return prev;
    // A new series gets its own copy of the counts.
    const made = this.#made(
      i,
      { labels, bounds, counts: countsAt(counts, from, n), sum, count },
      created,
    );
    // A carried part in other bounds than the set's has no bucket the set's exemplars are of.
    const exemplars =
      own || sameBounds(bounds, boundsOf(series, i))
        ? series.exemplars && bucketExemplars(series.exemplars, i * series.stride, n, scale)
        : undefined;
    if (exemplars === undefined) return made;
    return (this.#histograms[i] = { ...made, exemplars });
  }

  /**
   * The histogram series at position `i` of an exponential histogram, `labels` as for {@link histogramAt}: classic buckets derived from
   * it (bounds times `scale`), and its native buckets (a scaled one has none: scale factors other
   * than powers of two have no native form). The last series when nothing changed,
   * its bounds array when the bucket layout did not (renderers cache `le` strings by identity).
   */
  exponential(
    i: number,
    labels: string,
    h: ExponentialHistogram,
    scale: number,
    created: number | undefined,
  ): RenderHistogramSeries {
    const prev = this.#at(i, labels);
    const sum = (h.sum ?? 0) * scale;
    const native = nativeOf(h);
    const buckets = native.schema >= MIN_NATIVE_SCHEMA ? native : undefined;
    const last = this.#natives[i];
    this.#natives[i] = buckets;
    const classic = classicBuckets(native, scale);
    const laidOut =
      prev !== undefined &&
      buckets !== undefined &&
      last !== undefined &&
      sameLayout(last, buckets);
    if (
      laidOut &&
      prev.count === h.count &&
      prev.sum === sum &&
      prev.created === created &&
      sameCounts(prev.counts, classic.counts, 0, classic.counts.length)
    )
      return prev;
    const bounds = laidOut ? prev.bounds : classic.bounds;
    return this.#made(
      i,
      { labels, bounds, counts: classic.counts, sum, count: h.count },
      created,
      scale === 1 ? buckets : undefined,
    );
  }

  /** The series last made at position `i`, when it has these labels (the same series). */
  #at(i: number, labels: string): RenderHistogramSeries | undefined {
    const prev = this.#histograms[i];
    return prev?.labels === labels ? prev : undefined;
  }

  /** `series` kept at position `i`, with its bucket line prefix (its predecessor's, when the same series), native buckets and start. */
  #made(
    i: number,
    series: RenderHistogramSeries,
    created: number | undefined,
    native?: NativeBuckets,
  ): RenderHistogramSeries {
    const prefix = this.#at(i, series.labels)?.prefix ?? this.#prefix?.(series.labels);
    return (this.#histograms[i] =
      prefix === undefined && native === undefined && created === undefined
        ? series
        : {
            ...series,
            ...(prefix !== undefined && { prefix }),
            ...(native !== undefined && { native }),
            ...(created !== undefined && { created }),
          });
  }

  /** Drops positions past `n` (the collection had fewer points). */
  trim(n: number): void {
    if (this.#histograms.length > n) this.#histograms.length = n;
    if (this.#natives.length > n) this.#natives.length = n;
  }
}

/** Whether two native histograms have the same classic `le` set (so the same bounds array serves both). */
function sameLayout(a: NativeBuckets, b: NativeBuckets): boolean {
  return (
    a.schema === b.schema &&
    a.zeroThreshold === b.zeroThreshold &&
    a.positiveOffset === b.positiveOffset &&
    a.positiveCounts.length === b.positiveCounts.length &&
    a.negativeOffset === b.negativeOffset &&
    a.negativeCounts.length === b.negativeCounts.length &&
    (a.zeroCount > 0 || a.negativeCounts.length > 0) ===
      (b.zeroCount > 0 || b.negativeCounts.length > 0)
  );
}

/** `counts[from..from+n)` as a plain array of its own. */
function countsAt(counts: ArrayLike<number>, from: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let k = 0; k < n; k++) out[k] = counts[from + k]!;
  return out;
}

/** Whether `a` equals `b[from..from+n)`. */
function sameCounts(a: readonly number[], b: ArrayLike<number>, from: number, n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[from + i]) return false;
  return true;
}
