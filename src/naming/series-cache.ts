/**
 * The naming stage's memory across collections: per compiled rule, the label string of every
 * series (and a histogram's series object and bucket-line prefix), so a steady-state scrape only
 * checks identities and copies numbers.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ExponentialHistogram, Histogram } from '@opentelemetry/sdk-metrics';
import type { Exemplar } from '../domain/exemplars.ts';
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
 * Producers keep their points in a stable order (the domain tallies and the SDK's cumulative
 * storages append new series at the end, and keep one attributes object per series), so position
 * i of a collection nearly always holds the same attributes object as position i of the last
 * one: an identity check, no hashing (a WeakMap costs a hash lookup per point and ≈ 40 B per
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
  readonly labels: string[] = [];
  /** Histogram rules: the series object made at each position. */
  readonly histograms: RenderHistogramSeries[] = [];
  /** Exponential histogram rules: the native buckets last seen at each position. */
  readonly natives: Array<NativeBuckets | undefined> = [];
  /** Positions whose label string is not all ASCII (usually none). */
  nonAscii = 0;
  readonly #render: (attributes: Attributes) => string;
  /** Histogram rules: the bucket line prefix of a label string. */
  readonly #prefix: ((labels: string) => string) | undefined;

  constructor(render: (attributes: Attributes) => string, prefix?: (labels: string) => string) {
    this.#render = render;
    this.#prefix = prefix;
  }

  /** The label string of the series at position `i`, rendered again only when its attributes object changed. */
  labelsAt(i: number, attributes: Attributes): string {
    if (this.attributes[i] === attributes) return this.labels[i]!;
    const old = this.labels[i];
    if (old !== undefined && !isAscii(old)) this.nonAscii--;
    const labels = this.#render(attributes);
    if (!isAscii(labels)) this.nonAscii++;
    this.attributes[i] = attributes;
    this.labels[i] = labels;
    return labels;
  }

  /** The histogram series at position `i`: the last one when nothing changed. */
  histogram(i: number, attributes: Attributes, bounds: readonly number[], h: Histogram, scale: number, created: number | undefined, exemplars?: readonly Exemplar[]): RenderHistogramSeries {
    const prev = this.histograms[i];
    const same = prev !== undefined && this.attributes[i] === attributes;
    const labels = this.labelsAt(i, attributes);
    const sum = (h.sum ?? 0) * scale;
    const counts = h.buckets.counts;
    let prefix: string | undefined;
    // Exemplars change only with a record, which changes the counts too.
    if (same) {
      if (prev.count === h.count && prev.sum === sum && prev.bounds === bounds && prev.created === created && sameCounts(prev.counts, counts)) return prev;
      prefix = prev.prefix;
    } else {
      prefix = this.#prefix?.(labels);
    }
    let series: RenderHistogramSeries =
      prefix === undefined && created === undefined
        ? { labels, bounds, counts, sum, count: h.count }
        : { labels, bounds, counts, sum, count: h.count, ...(prefix !== undefined && { prefix }), ...(created !== undefined && { created }) };
    if (exemplars !== undefined) series = { ...series, exemplars: bucketExemplars(exemplars, bounds, scale) };
    return (this.histograms[i] = series);
  }

  /**
   * The histogram series at position `i` of an exponential histogram: classic buckets derived from
   * it (bounds times `scale`), and its native buckets when `native` (a scaled one has none: scale
   * factors other than powers of two have no native form). The last series when nothing changed,
   * its bounds array when the bucket layout did not (renderers cache `le` strings by identity).
   */
  exponential(i: number, attributes: Attributes, h: ExponentialHistogram, scale: number, native: boolean, created: number | undefined): RenderHistogramSeries {
    const prev = this.histograms[i];
    const same = prev !== undefined && this.attributes[i] === attributes;
    const labels = this.labelsAt(i, attributes);
    const sum = (h.sum ?? 0) * scale;
    const buckets = nativeBuckets(h);
    const last = this.natives[i];
    this.natives[i] = buckets;
    const classic = buckets === undefined || scale !== 1 ? classicOfExponential(h, scale) : classicBuckets(buckets);
    let prefix: string | undefined;
    let bounds: readonly number[] = classic.bounds;
    if (same) {
      if (buckets !== undefined && last !== undefined && sameLayout(last, buckets)) {
        bounds = prev.bounds;
        if (prev.count === h.count && prev.sum === sum && prev.created === created && sameCounts(prev.counts, classic.counts)) return prev;
      }
      prefix = prev.prefix;
    } else {
      prefix = this.#prefix?.(labels);
    }
    const series: RenderHistogramSeries = { labels, bounds, counts: classic.counts, sum, count: h.count };
    const withNative = native && scale === 1 && buckets !== undefined;
    return (this.histograms[i] =
      prefix === undefined && !withNative && created === undefined
        ? series
        : { ...series, ...(prefix !== undefined && { prefix }), ...(withNative && { native: buckets }), ...(created !== undefined && { created }) });
  }

  /** Drops positions past `n` (the collection had fewer points). */
  trim(n: number): void {
    if (this.attributes.length > n) {
      for (let i = n; i < this.labels.length; i++) if (!isAscii(this.labels[i]!)) this.nonAscii--;
      this.attributes.length = n;
      this.labels.length = n;
      if (this.histograms.length > n) this.histograms.length = n;
      if (this.natives.length > n) this.natives.length = n;
    }
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
    (a.zeroCount > 0 || a.negativeCounts.length > 0) === (b.zeroCount > 0 || b.negativeCounts.length > 0)
  );
}

function sameCounts(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
