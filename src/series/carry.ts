/**
 * The rules that fold a source's cumulative values into a series that outlives the source: the
 * source reports its running total again and again, and the series adds what is new since its
 * previous report. A writer keeps each source's last report (`last`) and calls these with the new
 * one; the series then never decreases while the sources come, go and restart.
 *
 * Every writer that carries a source's cumulative reports decides a restart by {@link isWhole}:
 * the cluster primary, its members' reports (cluster/aggregate.ts, with the functions below), and
 * the ingest, its senders' streams (ingest/stream-rules.ts: a series keeps what its ended and
 * restarted streams counted as a base beside its live streams' values, which sums the same).
 *
 * What must stay true:
 * - A report smaller than the last (a histogram: a smaller count) means the source restarted: all
 *   of it is new, and it is added whole (nothing is subtracted, so the series never goes back).
 * - Only a decrease is a restart. A new start time alone is none: a daemon that reports totals it
 *   keeps (in its database) sends the same totals with a new start time after a restart, and they
 *   must not be counted twice — the rule Prometheus applies to a scraped counter. The price:
 *   increments a restarted in-memory counter made before its first report, up to its old value,
 *   are not seen.
 * - A source with no last report (`NaN`, `undefined`) adds its whole value.
 * - A source that stops reporting keeps what it added (nothing here takes a contribution back).
 *
 * A total merged from several sources that come and go (a profile series served on every
 * collection: a host's own count plus ingested ones) has a rule of its own, {@link ServedTotals}:
 * there a decrease is a part going away, not a restart.
 *
 * Histogram reports are rows: `[count, sum, min, max, …bucket counts]`, min and max `NaN` when the
 * source does not know them; a row's buckets are the series' (`stride` of them).
 */
import type { HistogramSeries } from './histogram.ts';

/** Where a histogram row's bucket counts start. */
export const ROW_BUCKETS = 4;

/**
 * Whether a source's cumulative report `value` (a histogram: its count) is new whole: its first
 * (`last` is `NaN`) or, below `last`, the first after a restart. Otherwise what is new is the
 * difference.
 */
export function isWhole(last: number, value: number): boolean {
  // `NaN` compares false: a first report, like a restart, is added whole.
  return !(value >= last);
}

/** Adds into `values[at]` what the cumulative `value` holds beyond `last` (`NaN`: none). */
export function carrySum(values: Float64Array, at: number, last: number, value: number): void {
  values[at]! += isWhole(last, value) ? value : value - last;
}

/** The largest cumulative value any source has reported: the series keeps it (a `max` merge). */
export function carryLargest(values: Float64Array, at: number, value: number): void {
  if (value > values[at]!) values[at] = value;
}

/**
 * Adds into series `at` of `set` what the histogram `row` holds beyond `last` (undefined: none);
 * min and max become the extremes of every row seen.
 */
export function carryHistogram(
  set: HistogramSeries,
  at: number,
  last: ArrayLike<number> | undefined,
  row: ArrayLike<number>,
): void {
  const whole = last === undefined || isWhole(last[0]!, row[0]!);
  set.counts.data[at]! += whole ? row[0]! : row[0]! - last[0]!;
  set.sums.data[at]! += whole ? row[1]! : row[1]! - last[1]!;
  const buckets = set.buckets.data;
  const from = at * set.stride;
  for (let k = 0; k < set.stride; k++)
    buckets[from + k]! += whole
      ? row[ROW_BUCKETS + k]!
      : row[ROW_BUCKETS + k]! - last[ROW_BUCKETS + k]!;
  if (set.mins !== undefined) {
    // NaN (unknown) never wins either comparison.
    if (row[2]! < set.mins.data[at]!) set.mins.data[at] = row[2]!;
    if (row[3]! > set.maxs!.data[at]!) set.maxs!.data[at] = row[3]!;
  }
}

/** A served total's memory: what was served last, and what its sources' value is added to. */
interface Served {
  total: number;
  offset: number;
}

/**
 * The totals a reader serves on every collection, each its sources' current value merged (one key
 * per served series, e.g. family and label string), such that a total never decreases while its
 * sources come, go and restart. Held by the store whose collections are served (series-store.ts);
 * bounded by the keys its reader serves.
 *
 * What must stay true:
 * - No value (`undefined`: no source now) serves the total as it was; the next value is added to it
 *   whole.
 * - A value that would serve less than the last total means part of the sources went away (an
 *   ingested series expired) or one restarted lower: the total stays, and later increases add on
 *   from there. What a source counted while gone is not seen, and nothing is counted twice (a
 *   merged decrease cannot tell a restart from a part leaving, so unlike {@link carrySum} nothing
 *   is added).
 */
export class ServedTotals {
  readonly #served = new Map<string, Served>();

  /** The total to serve for `key`, whose sources' merged value is `value` now (undefined: none). */
  serve(key: string, value: number | undefined): number {
    let s = this.#served.get(key);
    if (s === undefined) this.#served.set(key, (s = { total: 0, offset: 0 }));
    if (value === undefined) s.offset = s.total;
    else {
      if (s.offset + value < s.total) s.offset = s.total - value;
      s.total = s.offset + value;
    }
    return s.total;
  }
}
