/**
 * OpenTelemetry base-2 exponential histograms in Prometheus terms: a native histogram (what the
 * protobuf exposition carries) and the classic buckets derived from it (what text 0.0.4 and
 * OpenMetrics carry, having no native form).
 *
 * Both define bucket boundaries as powers of `b = 2^(2^-scale)`, and an OTel `scale` is a
 * Prometheus `schema`; they differ by one in the index: OTel bucket `i` covers `(b^i, b^(i+1)]`,
 * Prometheus bucket `i` covers `(b^(i-1), b^i]`. Prometheus takes schemas -4..8 where OTel goes to
 * 20: a finer histogram is downscaled to 8 by merging neighbouring buckets, as the OTel data model
 * says (index `i` at scale `s` is index `i >> (s - s')` at scale `s'`). One coarser than -4 has no
 * native form and is served as classic buckets only.
 */
import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';
import type { NativeBuckets } from '../exposition/types.ts';
import { addExponential, type ExponentialSum } from '../domain/exponential.ts';

export const MAX_SCHEMA = 8;
export const MIN_SCHEMA = -4;

/** A histogram's native buckets, or undefined when its scale is below {@link MIN_SCHEMA}. */
export function nativeBuckets(h: ExponentialHistogram, zeroThreshold = 0): NativeBuckets | undefined {
  if (!(h.scale >= MIN_SCHEMA)) return undefined;
  const shift = Math.max(0, h.scale - MAX_SCHEMA);
  const positive = downscale(h.positive.offset, h.positive.bucketCounts, shift);
  const negative = downscale(h.negative.offset, h.negative.bucketCounts, shift);
  return {
    schema: h.scale - shift,
    zeroThreshold,
    zeroCount: h.zeroCount,
    positiveOffset: positive.offset,
    positiveCounts: positive.counts,
    negativeOffset: negative.offset,
    negativeCounts: negative.counts,
  };
}

/** OTel buckets from `offset` → Prometheus buckets `shift` scales coarser. */
function downscale(offset: number, counts: readonly number[], shift: number): { offset: number; counts: readonly number[] } {
  if (counts.length === 0) return { offset: 0, counts: [] };
  if (shift === 0) return { offset: offset + 1, counts };
  const f = 2 ** shift;
  const first = Math.floor(offset / f);
  const out: number[] = [];
  for (let k = 0; k < counts.length; k++) {
    const at = Math.floor((offset + k) / f) - first;
    out[at] = (out[at] ?? 0) + counts[k]!;
  }
  return { offset: first + 1, counts: out };
}

/** The upper bound of Prometheus bucket `index` of `schema`: `2^(index · 2^-schema)`. */
export function bucketBound(schema: number, index: number): number {
  return schema <= 0 ? 2 ** (index * 2 ** -schema) : 2 ** (index / 2 ** schema);
}

/**
 * The classic buckets of a native histogram: one `le` per native bucket in the spans (empty ones
 * inside them too, so `histogram_quantile` interpolates within the same ranges), the zero bucket's
 * `le = zeroThreshold` when it or a negative bucket holds something. `counts` are per bucket with
 * the `+Inf` one last (always 0: every finite value has a bucket), as {@link HistogramSeries}.
 */
export function classicBuckets(n: NativeBuckets): { bounds: number[]; counts: number[] } {
  const bounds: number[] = [];
  const counts: number[] = [];
  // Negative bucket i holds [-b^i, -b^(i-1)): its inclusive upper bound is -b^(i-1).
  for (let k = n.negativeCounts.length - 1; k >= 0; k--) {
    bounds.push(-bucketBound(n.schema, n.negativeOffset + k - 1));
    counts.push(n.negativeCounts[k]!);
  }
  if (n.zeroCount > 0 || n.negativeCounts.length > 0) {
    bounds.push(n.zeroThreshold);
    counts.push(n.zeroCount);
  }
  let overflow = 0;
  for (let k = 0; k < n.positiveCounts.length; k++) {
    const bound = bucketBound(n.schema, n.positiveOffset + k);
    // The bucket of the largest doubles ends past Number.MAX_VALUE: its values go to +Inf.
    if (bound === Infinity) overflow += n.positiveCounts[k]!;
    else {
      bounds.push(bound);
      counts.push(n.positiveCounts[k]!);
    }
  }
  counts.push(overflow);
  return { bounds, counts };
}

/** Classic buckets of an OTel histogram of any scale (one below {@link MIN_SCHEMA} too), bounds times `scale`. */
export function classicOfExponential(h: ExponentialHistogram, scale: number): { bounds: number[]; counts: number[] } {
  const n: NativeBuckets = {
    schema: h.scale,
    zeroThreshold: 0,
    zeroCount: h.zeroCount,
    positiveOffset: h.positive.offset + 1,
    positiveCounts: h.positive.bucketCounts,
    negativeOffset: h.negative.offset + 1,
    negativeCounts: h.negative.bucketCounts,
  };
  const c = classicBuckets(h.scale > MAX_SCHEMA ? nativeBuckets(h)! : n);
  if (scale !== 1) for (let i = 0; i < c.bounds.length; i++) c.bounds[i]! *= scale;
  return c;
}

/**
 * The sum of two native histograms (two points landing on one label set): in OTel terms
 * (domain/exponential.ts: at the coarser schema, each side at most 160 buckets wide), then back.
 */
export function addNative(a: NativeBuckets, b: NativeBuckets): NativeBuckets {
  const sum = addExponential(otelOf(a), otelOf(b));
  return {
    schema: sum.scale,
    zeroThreshold: sum.zeroThreshold,
    zeroCount: sum.zeroCount,
    positiveOffset: sum.positive.counts.length === 0 ? 0 : sum.positive.offset + 1,
    positiveCounts: sum.positive.counts,
    negativeOffset: sum.negative.counts.length === 0 ? 0 : sum.negative.offset + 1,
    negativeCounts: sum.negative.counts,
  };
}

/** Native buckets in OTel indexing (one less); sum and count do not matter here. */
function otelOf(n: NativeBuckets): ExponentialSum {
  return {
    scale: n.schema,
    zeroCount: n.zeroCount,
    zeroThreshold: n.zeroThreshold,
    positive: { offset: n.positiveOffset - 1, counts: n.positiveCounts },
    negative: { offset: n.negativeOffset - 1, counts: n.negativeCounts },
    sum: 0,
    count: 0,
  };
}
