/**
 * Adding OpenTelemetry base-2 exponential histograms (OTel bucket indexing: bucket `i` of scale
 * `s` covers `(b^i, b^(i+1)]`, `b = 2^(2^-s)`), for whoever holds them as sums: the ingest store
 * (delta points, several senders on one series) and the naming stage (points on one label set).
 *
 * Two histograms are added at the coarser scale of the two (index `i` at scale `s` is index
 * `i >> (s - s')` at scale `s'`, the data model's downscaling), made coarser still until each side
 * spans at most `maxBuckets` buckets — as the SDK's own aggregator does — so a sum never grows
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

/** The SDK's default `maxSize`: most buckets a side may span. */
export const MAX_EXPONENTIAL_BUCKETS = 160;
/** The coarsest scale of the data model. */
export const MIN_SCALE = -10;

const EMPTY: ExponentialSide = { offset: 0, counts: [] };

/** `[first, last]` index of a side at `shift` scales coarser; undefined when empty. */
function range(side: ExponentialSide, shift: number): [number, number] | undefined {
  if (side.counts.length === 0) return undefined;
  const f = 2 ** shift;
  return [Math.floor(side.offset / f), Math.floor((side.offset + side.counts.length - 1) / f)];
}

/** The sum of `a` and `b`, each side at most `maxBuckets` buckets wide. */
export function addExponential(a: ExponentialSum, b: ExponentialSum, maxBuckets = MAX_EXPONENTIAL_BUCKETS): ExponentialSum {
  let scale = Math.min(a.scale, b.scale);
  for (;;) {
    const spans = (['positive', 'negative'] as const).map((side) => {
      const ra = range(a[side], a.scale - scale);
      const rb = range(b[side], b.scale - scale);
      if (ra === undefined || rb === undefined) return (ra ?? rb) === undefined ? 0 : (ra ?? rb)![1] - (ra ?? rb)![0] + 1;
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

function addSide(a: ExponentialSide, aShift: number, b: ExponentialSide, bShift: number): ExponentialSide {
  const ra = range(a, aShift);
  const rb = range(b, bShift);
  if (ra === undefined && rb === undefined) return EMPTY;
  const first = Math.min(ra?.[0] ?? Infinity, rb?.[0] ?? Infinity);
  const last = Math.max(ra?.[1] ?? -Infinity, rb?.[1] ?? -Infinity);
  const counts = new Array<number>(last - first + 1).fill(0);
  for (const [side, shift] of [
    [a, aShift],
    [b, bShift],
  ] as const) {
    const f = 2 ** shift;
    for (let k = 0; k < side.counts.length; k++) counts[Math.floor((side.offset + k) / f) - first]! += side.counts[k]!;
  }
  return { offset: first, counts };
}
