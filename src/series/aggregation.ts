/**
 * One aggregation per histogram kind, in the shape of sdk-metrics' `Aggregator<T>`
 * (aggregator/types.ts, Histogram.ts): how two accumulations of one series merge (two sources, a
 * delta window onto a total, two points cut to one attribute set), how a cumulative report
 * restarts (carry.ts's rule, {@link isWhole}, on the count), and the SDK's data point in and out.
 * Every stage that adds histograms adds them here: the ingest's output sets and streams, the
 * cumulative -> delta windows, the attribute length limit's folds and the naming's merges.
 *
 * What must stay true: `merge` and `diff` keep count, sum and each bucket's count exactly (an
 * exponential merge at the coarser scale of the two: common/exponential-histogram.ts), never
 * change their arguments, and give counts of their own.
 */
import type { ExponentialHistogram, Histogram } from '@opentelemetry/sdk-metrics';
import {
  addExponential,
  bucketsOf,
  sumOf,
  type ExponentialSum,
} from '../common/exponential-histogram.ts';
import { isWhole } from './carry.ts';

/**
 * An explicit-bucket histogram's accumulation, the one point the store holds: per-bucket counts
 * (the bounds' and the +Inf one), sum and count. The exposition's `HistogramSeries` carries the
 * same three figures, the SDK's `Histogram` them under `buckets`.
 */
export interface HistogramAcc {
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** A kind's rules; `P` its data point value as the SDK shapes it. */
export interface Aggregator<T, P> {
  /** `previous` and `delta` of one series as one. */
  merge(previous: T, delta: T): T;
  /** Whether the source whose last cumulative report was `last` restarted to report `current`: its count went down. */
  restarted(last: T, current: T): boolean;
  /** An SDK point's value as an accumulation (its counts copied). */
  fromPoint(point: P): T;
  /** An accumulation as an SDK point's value like `like` (its bucket bounds), without min and max. */
  toPoint(acc: T, like: P): P;
}

const restarted = (last: { count: number }, current: { count: number }): boolean =>
  isWhole(last.count, current.count);

/** `a`'s counts plus `sign` times `b`'s (a missing bucket of `b` counts 0). */
function combine(a: HistogramAcc, b: HistogramAcc, sign: 1 | -1): HistogramAcc {
  return {
    counts: a.counts.map((c, k) => c + sign * (b.counts[k] ?? 0)),
    sum: a.sum + sign * b.sum,
    count: a.count + sign * b.count,
  };
}

export const HISTOGRAM: Aggregator<HistogramAcc, Histogram> & {
  /** What the cumulative `current` holds beyond `previous`: a delta. */
  diff(previous: HistogramAcc, current: HistogramAcc): HistogramAcc;
  rebucket(acc: HistogramAcc, from: readonly number[], to: readonly number[]): HistogramAcc;
} = {
  merge: (previous, delta) => combine(previous, delta, 1),
  diff: (previous, current) => combine(current, previous, -1),
  restarted,
  fromPoint: (h) => ({ counts: h.buckets.counts.slice(), sum: h.sum ?? 0, count: h.count }),
  toPoint: (acc, like) => ({
    buckets: { boundaries: like.buckets.boundaries, counts: acc.counts.slice() },
    sum: acc.sum,
    count: acc.count,
  }),
  /**
   * `acc`'s counts moved from the bucket layout `from` to the layout `to`, count and sum kept:
   * each bucket's count goes to the first bucket of `to` whose upper bound is at or above its own
   * (the +Inf bucket to +Inf). Nothing moves to a lower bound, so every bound both layouts have
   * keeps its cumulative count exactly and each served `le` series stays monotonic; an old bucket
   * the new layout splits is counted in its upper part (a quantile errs high, never low).
   */
  rebucket(acc, from, to) {
    const counts = new Array<number>(to.length + 1).fill(0);
    let j = 0;
    for (let i = 0; i < acc.counts.length; i++) {
      if (i < from.length) {
        while (j < to.length && to[j]! < from[i]!) j++;
        counts[j]! += acc.counts[i]!;
      } else counts[to.length]! += acc.counts[i]!;
    }
    return { counts, sum: acc.sum, count: acc.count };
  },
};

export const EXPONENTIAL_HISTOGRAM: Aggregator<ExponentialSum, ExponentialHistogram> = {
  merge: (previous, delta) => addExponential(previous, delta),
  restarted,
  fromPoint: (h) => sumOf(h),
  toPoint: (acc) => bucketsOf(acc),
};

/** `b` merged into `a` by `aggregator`, or `b` when there is no `a` yet. */
export function mergeInto<T>(aggregator: Aggregator<T, unknown>, a: T | undefined, b: T): T {
  return a === undefined ? b : aggregator.merge(a, b);
}
