/**
 * OpenTelemetry base-2 exponential histograms in Prometheus terms: a native histogram (what the
 * protobuf exposition carries) and the classic buckets derived from it (what text 0.0.4 and
 * OpenMetrics carry, having no native form).
 *
 * Both define bucket boundaries as powers of `b = 2^(2^-scale)`, and an OTel `scale` is a
 * Prometheus `schema`; they differ by one in the index (the algebra of both:
 * common/exponential-histogram.ts). Prometheus takes schemas -4..8 where OTel goes to 20: a finer
 * histogram is downscaled to 8. One coarser than -4 has no native form and is served as classic
 * buckets only.
 */
import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';
import type { NativeBuckets } from '../exposition/types.ts';
import {
  addExponential,
  bucketBound,
  downscale,
  MAX_NATIVE_SCHEMA,
  nativeSide,
  otelSide,
  type ExponentialSum,
} from '../common/exponential-histogram.ts';

/**
 * `h` in Prometheus indexing, downscaled to {@link MAX_NATIVE_SCHEMA} when finer; a schema below
 * MIN_NATIVE_SCHEMA has no native form (its classic buckets are served alone).
 */
export function nativeOf(h: ExponentialHistogram): NativeBuckets {
  const shift = Math.max(0, h.scale - MAX_NATIVE_SCHEMA);
  return nativeOfSum({
    scale: h.scale - shift,
    // The SDK's exponential histogram has no zero threshold: its zero bucket holds exact zeros.
    zeroThreshold: 0,
    zeroCount: h.zeroCount,
    positive: downscale({ offset: h.positive.offset, counts: h.positive.bucketCounts }, shift),
    negative: downscale({ offset: h.negative.offset, counts: h.negative.bucketCounts }, shift),
  });
}

/** OTel-indexed buckets as native ones: the scale is the schema, each side's index one higher. */
function nativeOfSum(s: Omit<ExponentialSum, 'sum' | 'count'>): NativeBuckets {
  const positive = nativeSide(s.positive);
  const negative = nativeSide(s.negative);
  return {
    schema: s.scale,
    zeroThreshold: s.zeroThreshold,
    zeroCount: s.zeroCount,
    positiveOffset: positive.offset,
    positiveCounts: positive.counts,
    negativeOffset: negative.offset,
    negativeCounts: negative.counts,
  };
}

/**
 * The classic buckets of a native histogram: one `le` per native bucket in the spans (empty ones
 * inside them too, so `histogram_quantile` interpolates within the same ranges), the zero bucket's
 * `le = zeroThreshold` when it or a negative bucket holds something. `counts` are per bucket with
 * the `+Inf` one last (always 0: every finite value has a bucket), as {@link HistogramSeries};
 * bounds times `scale`.
 */
export function classicBuckets(
  n: NativeBuckets,
  scale = 1,
): { bounds: number[]; counts: number[] } {
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
  if (scale !== 1) for (let i = 0; i < bounds.length; i++) bounds[i]! *= scale;
  return { bounds, counts };
}

/**
 * The sum of two native histograms (two points landing on one label set): in OTel terms (at the
 * coarser schema, each side at most 160 buckets wide), then back.
 */
export function addNative(a: NativeBuckets, b: NativeBuckets): NativeBuckets {
  return nativeOfSum(addExponential(otelOf(a), otelOf(b)));
}

/** Native buckets in OTel indexing (one less), with the histogram's `sum` and `count`. */
export function otelOf(n: NativeBuckets, sum = 0, count = 0): ExponentialSum {
  return {
    scale: n.schema,
    zeroCount: n.zeroCount,
    zeroThreshold: n.zeroThreshold,
    positive: otelSide(n.positiveOffset, n.positiveCounts),
    negative: otelSide(n.negativeOffset, n.negativeCounts),
    sum,
    count,
  };
}
