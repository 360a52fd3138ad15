/**
 * One aggregation per kind, in the shape of sdk-metrics' `Aggregator<T>` (aggregator/types.ts,
 * Histogram.ts, LastValue.ts): how two accumulations of one series merge (two sources, a delta
 * window onto a total, two points cut to one attribute set), how a cumulative report restarts
 * (it went down), what it adds since the last, and the SDK's data point in and out; of a level
 * (gauge, up-down sum), how several sources' values merge by the instrument's rule
 * ({@link LEVEL}). Every stage that adds histograms or combines levels does it
 * here: the ingest's output sets and streams, the cluster's sources, the cumulative -> delta
 * windows, the attribute length limit's folds and the naming's merges; a sum's cumulative value
 * ({@link SUM}) restarts and is differenced by the same rule as a histogram's.
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

/**
 * How a level's (a gauge's, an up-down sum's) live sources combine into its series, the
 * instrument's rule (domain/merge-rules.ts): `sum` adds them, `max` takes the largest, `last` the
 * value of the source written last (sdk-metrics' LastValue merge: the later sample wins).
 */
export type LevelRule = 'sum' | 'max' | 'last';

/** Each level rule's merge of the value so far and a source's `next` (written at or after it). */
export const LEVEL: Readonly<Record<LevelRule, (previous: number, next: number) => number>> = {
  sum: (previous, next) => previous + next,
  max: (previous, next) => (next > previous ? next : previous),
  last: (_, next) => next,
};

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
  /**
   * Whether the source whose last cumulative report was `last` restarted to report `current`: it
   * went down (a histogram: its count). Only a decrease is a restart (carry.ts says why).
   */
  restarted(last: T, current: T): boolean;
  /** An SDK point's value as an accumulation (its counts copied). */
  fromPoint(point: P): T;
  /** An accumulation as an SDK point's value like `like` (its bucket bounds), without min and max. */
  toPoint(acc: T, like: P): P;
}

/** A kind whose cumulative reports are differenced (a sum, an explicit-bucket histogram). */
export interface Cumulative<T, P> extends Aggregator<T, P> {
  /** What the cumulative `current` holds beyond `previous`: a delta. */
  diff(previous: T, current: T): T;
  /**
   * What a source's cumulative report `current` adds to a series that carries it after its `last`
   * (undefined, or a sum's `NaN`: none): all of it when first or restarted, else the {@link diff}.
   */
  since(last: T | undefined, current: T): T;
}

/** `kind` with its {@link Cumulative.since}, written once for every kind. */
function cumulative<T, P>(kind: Omit<Cumulative<T, P>, 'since'>): Cumulative<T, P> {
  return {
    ...kind,
    // `last !== last`: a sum's NaN, no report yet.
    since: (last, current) =>
      last === undefined || last !== last || kind.restarted(last, current)
        ? current
        : kind.diff(last, current),
  };
}

/** A sum's (a counter's) cumulative value. */
export const SUM: Cumulative<number, number> = cumulative({
  merge: (previous, delta) => previous + delta,
  diff: (previous, current) => current - previous,
  restarted: (last, current) => current < last,
  fromPoint: (v) => v,
  toPoint: (v) => v,
});

/** `a`'s counts plus `sign` times `b`'s (a missing bucket of `b` counts 0). */
function combine(a: HistogramAcc, b: HistogramAcc, sign: 1 | -1): HistogramAcc {
  return {
    counts: a.counts.map((c, k) => c + sign * (b.counts[k] ?? 0)),
    sum: a.sum + sign * b.sum,
    count: a.count + sign * b.count,
  };
}

/**
 * The most bounds a layout {@link HISTOGRAM}`.keptLayout` makes holds: a histogram that goes through
 * ever new layouts keeps at most this many bounds (and one count each) of their union; past it, it
 * takes the new layout alone. Twice the SDK's default of 160 exponential buckets, whose classic
 * layout a carried exponential source is held in (naming/compiled-rule.ts).
 */
export const MAX_KEPT_BOUNDS = 320;

export const HISTOGRAM: Cumulative<HistogramAcc, Histogram> & {
  rebucket(acc: HistogramAcc, from: readonly number[], to: readonly number[]): HistogramAcc;
  keptLayout(from: readonly number[], to: readonly number[]): readonly number[];
  reportIn(
    held: HistogramAcc | undefined,
    kept: readonly number[],
    report: HistogramAcc,
    bounds: readonly number[],
  ): HistogramAcc;
} = {
  ...cumulative<HistogramAcc, Histogram>({
    merge: (previous, delta) => combine(previous, delta, 1),
    diff: (previous, current) => combine(current, previous, -1),
    restarted: (last, current) => current.count < last.count,
    fromPoint: (h) => ({ counts: h.buckets.counts.slice(), sum: h.sum ?? 0, count: h.count }),
    toPoint: (acc, like) => ({
      buckets: { boundaries: like.buckets.boundaries, counts: acc.counts.slice() },
      sum: acc.sum,
      count: acc.count,
    }),
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
  /**
   * The layout a histogram counted in `from` holds its counts in once a report in `to` comes (its
   * source changed its layout): every bound of both, so what was counted at a bound `to` lacks
   * stays counted there and its `le` series never goes back (a bound `to` adds splits nothing
   * counted before: {@link rebucket}). `from` itself when `to` adds no bound, `to` when it has
   * every one of `from`'s. Past {@link MAX_KEPT_BOUNDS} bounds it is `to` alone: the counts move
   * up into its buckets ({@link rebucket}), so an `le` only the old layouts had leaves the scrape,
   * and reads lower if a later layout has it again (the one way an `le` series can go back
   * without a restart; the count and sum never do).
   */
  keptLayout(from, to) {
    const union: number[] = [];
    let i = 0;
    let j = 0;
    while (i < from.length || j < to.length) {
      const a = i < from.length ? from[i]! : Infinity;
      const b = j < to.length ? to[j]! : Infinity;
      union.push(a <= b ? a : b);
      if (a <= b) i++;
      if (b <= a) j++;
    }
    if (union.length === from.length) return from;
    if (union.length === to.length || union.length > MAX_KEPT_BOUNDS) return to;
    return union;
  },
  /**
   * A source's cumulative `report` in the layout `bounds`, as counts held in `kept` (a layout
   * {@link keptLayout} made from `bounds`) after its last one, `held` (in `kept`; undefined: none).
   * Read as cumulative `le` figures: at a bound the report has, the report's; at a bound only
   * `kept` has, what `held` read there, raised to what the report reads at its bound below and
   * held to what it reads at its bound above. So no figure goes back that the report does not
   * take back itself, and none reads more than was observed at or below its bound (the report's
   * figures are its observations', `held`'s at most theirs). A report that restarted, or with
   * nothing held, is moved up whole ({@link rebucket}).
   */
  reportIn(held, kept, report, bounds) {
    if (held === undefined || this.restarted(held, report))
      return this.rebucket(report, bounds, kept);
    const counts = new Array<number>(kept.length + 1);
    let k = 0;
    let below = 0;
    let was = 0;
    let read = 0;
    for (let j = 0; j < kept.length; j++) {
      was += held.counts[j]!;
      while (k < bounds.length && bounds[k]! < kept[j]!) below += report.counts[k++]!;
      const above = below + report.counts[k]!;
      const now = bounds[k] === kept[j] ? above : Math.min(above, Math.max(was, below));
      counts[j] = now - read;
      read = now;
    }
    while (k <= bounds.length) below += report.counts[k++]!;
    counts[kept.length] = below - read;
    return { counts, sum: report.sum, count: report.count };
  },
};

export const EXPONENTIAL_HISTOGRAM: Aggregator<ExponentialSum, ExponentialHistogram> = {
  merge: (previous, delta) => addExponential(previous, delta),
  restarted: (last, current) => current.count < last.count,
  fromPoint: (h) => sumOf(h),
  toPoint: (acc) => bucketsOf(acc),
};

/**
 * Two SDK point values of one series merged by `kind`, as a point like `a`: what the series would
 * hold had it recorded both's records. A histogram's sum, min and max are kept where both have them
 * (the SDK leaves out the sum of an instrument that records negative values).
 */
export function mergePoints<T, P>(kind: Aggregator<T, P>, a: P, b: P): P {
  const value = kind.toPoint(kind.merge(kind.fromPoint(a), kind.fromPoint(b)), a);
  if (typeof value === 'number') return value;
  const x = a as Histogram;
  const y = b as Histogram;
  const { sum: _, ...counts } = value as Histogram;
  return {
    ...counts,
    ...(x.sum !== undefined && y.sum !== undefined && { sum: x.sum + y.sum }),
    ...(x.min !== undefined && y.min !== undefined && { min: Math.min(x.min, y.min) }),
    ...(x.max !== undefined && y.max !== undefined && { max: Math.max(x.max, y.max) }),
  } as P;
}

/** What the SDK point value `current` holds beyond `previous`, by `kind` (without min and max). */
export function diffPoints<T, P>(kind: Cumulative<T, P>, previous: P, current: P): P {
  return kind.toPoint(kind.diff(kind.fromPoint(previous), kind.fromPoint(current)), current);
}

/** `b` merged into `a` by `aggregator`, or `b` when there is no `a` yet. */
export function mergeInto<T>(aggregator: Aggregator<T, unknown>, a: T | undefined, b: T): T {
  return a === undefined ? b : aggregator.merge(a, b);
}
