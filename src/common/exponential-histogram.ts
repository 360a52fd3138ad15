/**
 * The algebra of OpenTelemetry base-2 exponential histograms, for every stage that holds them: the
 * ingest (points of several senders, delta points added up), the naming stage (native and classic
 * buckets, points landing on one label set), the collection length limit (points folded).
 *
 * Bucket `i` of scale `s` covers `(b^i, b^(i+1)]`, `b = 2^(2^-s)`. Downscaling `shift` scales is
 * the data model's: index `i` at scale `s` is index `i >> shift` at scale `s - shift`. A
 * Prometheus native histogram has the same boundaries with the index one higher (its bucket `i`
 * covers `(b^(i-1), b^i]`), and its `schema` is the scale.
 *
 * Two histograms are added at the coarser scale of the two, made coarser still until each side
 * spans at most `maxBuckets` buckets -- as the SDK's own aggregator does -- so a sum never grows
 * with how far apart its parts' values lie.
 */

export interface ExponentialSide {
  readonly offset: number;
  readonly counts: readonly number[];
}

export interface ExponentialSum {
  readonly scale: number;
  readonly zeroCount: number;
  readonly zeroThreshold: number;
  readonly positive: ExponentialSide;
  readonly negative: ExponentialSide;
  readonly sum: number;
  readonly count: number;
}

/** A histogram as the SDK and OTLP shape it (the SDK's `ExponentialHistogram`, an OTLP point). */
export interface ExponentialBuckets {
  readonly scale: number;
  readonly zeroCount: number;
  readonly positive: { readonly offset: number; readonly bucketCounts: readonly number[] };
  readonly negative: { readonly offset: number; readonly bucketCounts: readonly number[] };
  readonly sum?: number | undefined;
  readonly count: number;
}

/** The SDK's default `maxSize`: most buckets a side may span. */
export const MAX_EXPONENTIAL_BUCKETS = 160;
/** The coarsest and finest scales of the data model. */
export const MIN_SCALE = -10;
export const MAX_SCALE = 20;
/** The schemas a Prometheus native histogram takes: a finer one is downscaled, a coarser one has no native form. */
export const MIN_NATIVE_SCHEMA = -4;
export const MAX_NATIVE_SCHEMA = 8;

const EMPTY: ExponentialSide = { offset: 0, counts: [] };

/** `[first, last]` index of a side at `shift` scales coarser; undefined when empty. */
function range(side: ExponentialSide, shift: number): [number, number] | undefined {
  if (side.counts.length === 0) return undefined;
  const f = 2 ** shift;
  return [Math.floor(side.offset / f), Math.floor((side.offset + side.counts.length - 1) / f)];
}

/** `side` at `shift` scales coarser, neighbouring buckets merged (`side` itself when `shift` is 0). */
export function downscale(side: ExponentialSide, shift: number): ExponentialSide {
  const r = range(side, shift);
  if (r === undefined) return EMPTY;
  if (shift === 0) return side;
  return sideOf(r[0], r[1], [[side, shift]]);
}

/** The sum of `a` and `b`, each side at most `maxBuckets` buckets wide. */
export function addExponential(
  a: ExponentialSum,
  b: ExponentialSum,
  maxBuckets = MAX_EXPONENTIAL_BUCKETS,
): ExponentialSum {
  let scale = Math.min(a.scale, b.scale);
  for (;;) {
    const spans = (['positive', 'negative'] as const).map((side) => {
      const ra = range(a[side], a.scale - scale);
      const rb = range(b[side], b.scale - scale);
      if (ra === undefined || rb === undefined)
        return (ra ?? rb) === undefined ? 0 : (ra ?? rb)![1] - (ra ?? rb)![0] + 1;
      return Math.max(ra[1], rb[1]) - Math.min(ra[0], rb[0]) + 1;
    });
    if (Math.max(...spans) <= maxBuckets || scale <= MIN_SCALE) break;
    scale--;
  }
  return {
    scale,
    zeroCount: a.zeroCount + b.zeroCount,
    zeroThreshold: Math.max(a.zeroThreshold, b.zeroThreshold),
    positive: addSide(a.positive, a.scale - scale, b.positive, b.scale - scale),
    negative: addSide(a.negative, a.scale - scale, b.negative, b.scale - scale),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}

function addSide(
  a: ExponentialSide,
  aShift: number,
  b: ExponentialSide,
  bShift: number,
): ExponentialSide {
  const ra = range(a, aShift);
  const rb = range(b, bShift);
  if (ra === undefined && rb === undefined) return EMPTY;
  const first = Math.min(ra?.[0] ?? Infinity, rb?.[0] ?? Infinity);
  const last = Math.max(ra?.[1] ?? -Infinity, rb?.[1] ?? -Infinity);
  return sideOf(first, last, [
    [a, aShift],
    [b, bShift],
  ]);
}

/** Buckets `first..last` (a new array) holding `parts`, each `shift` scales coarser. */
function sideOf(
  first: number,
  last: number,
  parts: readonly (readonly [ExponentialSide, number])[],
): ExponentialSide {
  const counts = new Array<number>(last - first + 1).fill(0);
  for (const [side, shift] of parts) {
    const f = 2 ** shift;
    for (let k = 0; k < side.counts.length; k++)
      counts[Math.floor((side.offset + k) / f) - first]! += side.counts[k]!;
  }
  return { offset: first, counts };
}

/** `b^index` at `scale`: the lower bound of OTel bucket `index`, the upper bound of Prometheus bucket `index`. */
export function bucketBound(scale: number, index: number): number {
  return scale <= 0 ? 2 ** (index * 2 ** -scale) : 2 ** (index / 2 ** scale);
}

/** An OTel side in Prometheus' indexing (one higher); an empty side at offset 0. */
export function nativeSide(side: ExponentialSide): ExponentialSide {
  return side.counts.length === 0 ? EMPTY : { offset: side.offset + 1, counts: side.counts };
}

/** A Prometheus side in OTel's indexing (one lower); an empty side at offset 0. */
export function otelSide(offset: number, counts: readonly number[]): ExponentialSide {
  return counts.length === 0 ? EMPTY : { offset: offset - 1, counts };
}

/** A histogram of the SDK's or OTLP's shape as a sum, its counts copied (the point's arrays are not kept). */
export function sumOf(h: ExponentialBuckets, zeroThreshold = 0): ExponentialSum {
  return {
    scale: h.scale,
    zeroCount: h.zeroCount,
    zeroThreshold,
    positive: { offset: h.positive.offset, counts: h.positive.bucketCounts.slice() },
    negative: { offset: h.negative.offset, counts: h.negative.bucketCounts.slice() },
    sum: h.sum ?? 0,
    count: h.count,
  };
}

/** A sum as the SDK shapes a histogram (the zero threshold is not carried), its counts copied. */
export function bucketsOf(s: ExponentialSum) {
  return {
    count: s.count,
    sum: s.sum,
    scale: s.scale,
    zeroCount: s.zeroCount,
    positive: { offset: s.positive.offset, bucketCounts: s.positive.counts.slice() },
    negative: { offset: s.negative.offset, bucketCounts: s.negative.counts.slice() },
  };
}
