/**
 * The naming stage's memory across collections: per compiled rule, the label string of every
 * series a producer gives as points (and a histogram's series object and bucket-line prefix), so a
 * steady-state scrape only checks identities and copies numbers. The store's series sets keep
 * their label strings themselves (series/series-set.ts `labels`, made by this cache's
 * {@link SeriesCache.labelRender}): for those only a histogram's series object is kept here.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ExponentialHistogram, Histogram } from '@opentelemetry/sdk-metrics';
import type { Exemplar } from '../domain/exemplars.ts';
import { boundsOf, type CollectedSeries, type LabelRender } from '../series/collection.ts';
import { isAscii } from '../exposition/samples.ts';
import type { RenderHistogramSeries } from '../exposition/render-model.ts';
import type { NativeBuckets } from '../exposition/types.ts';
import { bucketExemplars } from './data-points.ts';
import { classicBuckets, classicOfExponential, nativeBuckets } from './exponential.ts';

/**
 * What one compiled rule keeps of its series from one collection to the next, by the position of
 * their data point in its MetricData: the attributes object seen there and the label string
 * rendered from it (a histogram's series object too).
 *
 * Producers keep their points in a stable order (jobmeter's storages and the SDK's cumulative
 * storages append new series at the end, and keep one attributes object per series), so position
 * i of a collection nearly always holds the same attributes object as position i of the last
 * one: an identity check, no hashing (a WeakMap costs a hash lookup per point and ~ 40 B per
 * entry). Then the label string (and a histogram's line prefix) is not rendered again.
 *
 * Number series keep no object: the label string goes into the family's columns with the value
 * (`RenderNumberFamily.columns`), so what is held per series is the label string and two array slots.
 * A histogram's series object is kept, and served again while its figures have not changed:
 * series objects are never changed once made, so families handed out earlier stay as they were,
 * and unchanged ones are old-generation objects the young-generation GC does not copy while a
 * scrape is rendered.
 *
 * A point whose attributes object differs (an observable instrument makes new ones at every
 * collection) is rendered again. The arrays are cut to the last collection's size, so they hold
 * no more than the producer does. Strings are built with `join`, flat: a rope would keep its
 * pieces and be walked again at every scrape.
 */
export class SeriesCache {
  readonly attributes: Attributes[] = [];
  /** Read it through {@link labelsAt} or {@link publish}: replaced, not changed, once published. */
  labels: string[] = [];
  /** Histogram rules: the series object made at each position. */
  readonly histograms: RenderHistogramSeries[] = [];
  /** Exponential histogram rules: the native buckets last seen at each position. */
  readonly natives: Array<NativeBuckets | undefined> = [];
  /** Positions whose label string is not all ASCII (usually none). */
  nonAscii = 0;
  readonly #render: (attributes: Attributes) => string;
  /** Histogram rules: the bucket line prefix of a label string. */
  readonly #prefix: ((labels: string) => string) | undefined;
  /** `labels` was handed out by {@link publish}: copied before it changes. */
  #published = false;
  /** What the store renders this rule's label strings of its series sets with (the same object for the rule's life). */
  readonly labelRender: LabelRender;

  constructor(render: (attributes: Attributes) => string, prefix?: (labels: string) => string) {
    this.#render = render;
    this.#prefix = prefix;
    this.labelRender = { render, isAscii };
  }

  /** The label string of the series at position `i`, rendered again only when its attributes object changed. */
  labelsAt(i: number, attributes: Attributes): string {
    if (this.attributes[i] === attributes) return this.labels[i]!;
    const old = this.labels[i];
    if (old !== undefined && !isAscii(old)) this.nonAscii--;
    const labels = this.#render(attributes);
    if (!isAscii(labels)) this.nonAscii++;
    this.attributes[i] = attributes;
    this.#writable()[i] = labels;
    return labels;
  }

  /**
   * The label strings of every position as one array that never changes from now on (a change
   * copies it first): a family can take it as its column, the same array from one scrape to the
   * next while the series stay the same.
   */
  publish(): readonly string[] {
    this.#published = true;
    return this.labels;
  }

  #writable(): string[] {
    if (this.#published) {
      this.labels = this.labels.slice();
      this.#published = false;
    }
    return this.labels;
  }

  /** The histogram series at position `i`: the last one when nothing changed. */
  histogram(
    i: number,
    attributes: Attributes,
    bounds: readonly number[],
    h: Histogram,
    scale: number,
    created: number | undefined,
    exemplars?: readonly Exemplar[],
  ): RenderHistogramSeries {
    const counts = h.buckets.counts;
    const same = this.histograms[i] !== undefined && this.attributes[i] === attributes;
    return this.#histogram(
      i,
      same,
      this.labelsAt(i, attributes),
      bounds,
      counts,
      0,
      counts.length,
      (h.sum ?? 0) * scale,
      h.count,
      scale,
      created,
      exemplars,
    );
  }

  /**
   * As {@link histogram}, series `i` of a store's series set, `labels` the string the store holds
   * for it: a series never changes its attributes, so the same string is the same series. Its
   * bounds are the set's, or its own in a view of several bucket layouts (collection.ts
   * `boundsOf`). Its figures are the set's, or `row`'s where given: a source's carried part
   * `[count, sum, ...bucket counts]` over those bounds (series/carry.ts), its sum already scaled.
   */
  histogramAt(
    i: number,
    series: CollectedSeries,
    labels: string,
    scale: number,
    created: number | undefined,
    exemplars: readonly Exemplar[] | undefined,
    row: Float64Array | undefined,
  ): RenderHistogramSeries {
    const bounds = boundsOf(series, i);
    const prev = this.histograms[i];
    const same = prev !== undefined && prev.labels === labels;
    const own = row === undefined;
    return this.#histogram(
      i,
      same,
      labels,
      bounds,
      own ? series.values : row,
      own ? i * series.stride : 2,
      bounds.length + 1,
      own ? series.sums[i]! * scale : row[1]!,
      own ? series.counts[i]! : row[0]!,
      scale,
      created,
      exemplars,
    );
  }

  /** The series whose bucket counts are `counts[from..from+n)`; an unchanged one is the last one, a new one gets its own copy of the counts. */
  #histogram(
    i: number,
    same: boolean,
    labels: string,
    bounds: readonly number[],
    counts: ArrayLike<number>,
    from: number,
    n: number,
    sum: number,
    count: number,
    scale: number,
    created: number | undefined,
    exemplars: readonly Exemplar[] | undefined,
  ): RenderHistogramSeries {
    const prev = this.histograms[i];
    let prefix: string | undefined;
    // Exemplars change only with a record, which changes the counts too.
    if (same && prev !== undefined) {
      if (
        prev.count === count &&
        prev.sum === sum &&
        prev.bounds === bounds &&
        prev.created === created &&
        sameCounts(prev.counts, counts, from, n)
      )
        return prev;
      prefix = prev.prefix;
    } else {
      prefix = this.#prefix?.(labels);
    }
    const own =
      from === 0 && Array.isArray(counts) && counts.length === n
        ? (counts as readonly number[])
        : countsAt(counts, from, n);
    let series: RenderHistogramSeries =
      prefix === undefined && created === undefined
        ? { labels, bounds, counts: own, sum, count }
        : {
            labels,
            bounds,
            counts: own,
            sum,
            count,
            ...(prefix !== undefined && { prefix }),
            ...(created !== undefined && { created }),
          };
    if (exemplars !== undefined)
      series = { ...series, exemplars: bucketExemplars(exemplars, bounds, scale) };
    return (this.histograms[i] = series);
  }

  /**
   * The histogram series at position `i` of an exponential histogram: classic buckets derived from
   * it (bounds times `scale`), and its native buckets when `native` (a scaled one has none: scale
   * factors other than powers of two have no native form). The last series when nothing changed,
   * its bounds array when the bucket layout did not (renderers cache `le` strings by identity).
   */
  exponential(
    i: number,
    attributes: Attributes,
    h: ExponentialHistogram,
    scale: number,
    native: boolean,
    created: number | undefined,
  ): RenderHistogramSeries {
    const prev = this.histograms[i];
    const same = prev !== undefined && this.attributes[i] === attributes;
    const labels = this.labelsAt(i, attributes);
    const sum = (h.sum ?? 0) * scale;
    const buckets = nativeBuckets(h);
    const last = this.natives[i];
    this.natives[i] = buckets;
    const classic =
      buckets === undefined || scale !== 1
        ? classicOfExponential(h, scale)
        : classicBuckets(buckets);
    let prefix: string | undefined;
    let bounds: readonly number[] = classic.bounds;
    if (same) {
      if (buckets !== undefined && last !== undefined && sameLayout(last, buckets)) {
        bounds = prev.bounds;
        if (
          prev.count === h.count &&
          prev.sum === sum &&
          prev.created === created &&
          sameCounts(prev.counts, classic.counts, 0, classic.counts.length)
        )
          return prev;
      }
      prefix = prev.prefix;
    } else {
      prefix = this.#prefix?.(labels);
    }
    const series: RenderHistogramSeries = {
      labels,
      bounds,
      counts: classic.counts,
      sum,
      count: h.count,
    };
    const withNative = native && scale === 1 && buckets !== undefined;
    return (this.histograms[i] =
      prefix === undefined && !withNative && created === undefined
        ? series
        : {
            ...series,
            ...(prefix !== undefined && { prefix }),
            ...(withNative && { native: buckets }),
            ...(created !== undefined && { created }),
          });
  }

  /** Drops positions past `n` (the collection had fewer points). */
  trim(n: number): void {
    if (this.attributes.length > n) {
      for (let i = n; i < this.labels.length; i++) if (!isAscii(this.labels[i]!)) this.nonAscii--;
      this.attributes.length = n;
      this.#writable().length = n;
    }
    if (this.histograms.length > n) this.histograms.length = n;
    if (this.natives.length > n) this.natives.length = n;
  }
}

/** Reuses one bounds array per rule while the boundaries do not change, so renderers can cache `le` strings by identity. */
export function boundsInterner(): (b: readonly number[]) => readonly number[] {
  let cached: readonly number[] = [];
  return (b) => {
    if (b.length === cached.length && b.every((v, i) => v === cached[i])) return cached;
    cached = b.slice();
    return cached;
  };
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
