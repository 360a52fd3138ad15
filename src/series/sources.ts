/**
 * A producer's sources: each series another process reports (a cluster member's series), by the
 * dense id the producer gives it, is one series of a store set -- the writer's index of the set, and
 * the series' position in it -- and its last cumulative report (a value, a histogram's point) or,
 * of a level, its live slot (live.ts). A writer decodes reports and hands each source's value here;
 * the carry rules (carry.ts, aggregation.ts) add what is new into the set. Columns by id, no object
 * per source but a histogram's last point.
 *
 * What must stay true:
 * - Ids are dense: one far past the producer's known ids ({@link MAX_ID_GAP}) is refused, not
 *   allocated for, so a producer's table is bounded by the series it describes.
 * - A counter's or histogram's source that is described again, forgotten or retired leaves what
 *   it added in the set (carry.ts); a level's leaves with its source (its slot is released).
 * - A source described again starts over: what it reported before no longer holds.
 *
 * The other side of the wire keeps {@link LastSent}: what a producer sent of each of its sources,
 * so that it sends only what changed.
 */
import type { Attributes } from '@opentelemetry/api';
import { HISTOGRAM, LEVEL, SUM, type HistogramAcc } from './aggregation.ts';
import { ROW_BUCKETS } from './carry.ts';
import { HistogramSet } from './histogram.ts';
import { LiveSet } from './live.ts';
import { SumSet } from './sum.ts';

/** No set. */
export const NONE = -1;
/** How far past a producer's known source ids a new one may be. */
export const MAX_ID_GAP = 1 << 16;

/** The sets a source can feed: a counter's (carried), a level's (live), a histogram's (carried). */
export type SourceSet = SumSet | LiveSet | HistogramSet;

/** The point a cluster report's histogram row reports. */
function pointOfRow(row: ArrayLike<number>): HistogramAcc {
  const counts = Array.prototype.slice.call(row, ROW_BUCKETS) as number[];
  return { counts, sum: row[1]!, count: row[0]! };
}

/** `column` grown to `size` (at least), its new entries `fill`. */
function grown<T extends Int32Array | Float64Array>(column: T, size: number, fill: number): T {
  if (size <= column.length) return column;
  const larger = new (column.constructor as new (n: number) => T)(
    Math.max(column.length * 2, size),
  );
  larger.set(column);
  larger.fill(fill, column.length);
  return larger;
}

export class SourceTable {
  /** The writer's sets by its index (the index a source's `set` column holds); the writer adds to it. */
  readonly #sets: readonly SourceSet[];
  /** One past the highest id described. */
  #ids = 0;
  /** Per id: the writer's set (NONE: none) and the series' position in it. */
  #set = new Int32Array(16).fill(NONE);
  #at = new Int32Array(16);
  /** A counter's last value (`NaN`: none); a level's slot (live.ts). */
  #last = new Float64Array(16);
  /** A histogram's last point, by id (none: no report yet). */
  readonly #points = new Map<number, HistogramAcc>();

  constructor(sets: readonly SourceSet[]) {
    this.#sets = sets;
  }

  /** The writer's set of source `id`, or NONE (not described, left out, or not an id). */
  setOf(id: unknown): number {
    return Number.isInteger(id) && (id as number) >= 0 && (id as number) < this.#ids
      ? this.#set[id as number]!
      : NONE;
  }

  /**
   * Source `id` is series `attributes` of the writer's set `set` (NONE: one the writer leaves
   * out). False, and nothing kept, when `id` is no dense id ({@link MAX_ID_GAP}).
   */
  describe(id: unknown, set: number, attributes: Attributes): boolean {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) > this.#ids + MAX_ID_GAP)
      return false;
    const sid = id as number;
    this.#reach(sid);
    this.forget(sid);
    this.#set[sid] = set;
    this.#points.delete(sid);
    if (set === NONE) return true;
    const series = this.#sets[set]!;
    const at = series.seriesOf(attributes);
    this.#at[sid] = at;
    this.#last[sid] = series instanceof LiveSet ? series.source(at) : NaN;
    return true;
  }

  /** Source `id` (described) reports `value` (finite): a level's is set, a counter's carried (`largest`: a `max` merge keeps the largest). */
  number(id: number, value: number, largest: boolean): void {
    const series = this.#sets[this.#set[id]!]!;
    const at = this.#at[id]!;
    if (series instanceof LiveSet) series.set(this.#last[id]!, value);
    else if (series instanceof SumSet) {
      const values = series.values.data;
      values[at] = largest
        ? LEVEL.max(values[at]!, value)
        : values[at]! + SUM.since(this.#last[id], value);
      this.#last[id] = value;
    }
  }

  /**
   * Source `id` (described, of a histogram) reports `row` (carry.ts `ROW_BUCKETS` + the set's
   * stride long): what its point adds since the last is carried, min and max widen the series'
   * extremes, and the point is kept as its last.
   */
  row(id: number, row: ArrayLike<number>): void {
    const set = this.#sets[this.#set[id]!]! as HistogramSet;
    const point = pointOfRow(row);
    set.add(this.#at[id]!, HISTOGRAM.since(this.#points.get(id), point), row[2], row[3]);
    this.#points.set(id, point);
  }

  /** Source `id` no longer reports its series (a level's leaves until it reports again). */
  withdraw(id: unknown): void {
    const set = this.setOf(id);
    const series = set === NONE ? undefined : this.#sets[set]!;
    if (series instanceof LiveSet) series.withdraw(this.#last[id as number]!);
  }

  /** Source `id` is no longer described: a level's value leaves; what a counter added stays. */
  forget(id: number): void {
    const set = this.#set[id]!;
    if (set === NONE) return;
    const series = this.#sets[set]!;
    if (series instanceof LiveSet) series.release(this.#last[id]!);
    this.#set[id] = NONE;
  }

  /** The producer is gone: every source is forgotten. */
  retire(): void {
    for (let id = 0; id < this.#ids; id++) this.forget(id);
  }

  /** Makes room for id `sid` (ids skipped on the way feed no set). */
  #reach(sid: number): void {
    if (sid < this.#ids) return;
    this.#set = grown(this.#set, sid + 1, NONE);
    this.#at = grown(this.#at, sid + 1, 0);
    this.#last = grown(this.#last, sid + 1, 0);
    this.#ids = sid + 1;
  }
}

/**
 * What a producer last sent of each of its sources, by its dense id, so that its next report
 * carries only the sources that changed (the other side keeps a {@link SourceTable}). A number's
 * value; a histogram's count and sum (a row changes only with its count: the sum is compared too
 * for a record of 0). Bounded by the ids the producer hands out.
 */
export class LastSent {
  /** Per id: a number's last value or a histogram's count (`NaN`: nothing sent), and a histogram's sum. */
  #value = new Float64Array(16).fill(NaN);
  #sum = new Float64Array(16);

  /** Whether `value` differs from what was last sent of `id`; if so it is now. */
  number(id: number, value: number): boolean {
    this.#reach(id);
    if (this.#value[id] === value) return false;
    this.#value[id] = value;
    return true;
  }

  /** Whether a histogram's `count` and `sum` differ from what was last sent of `id`; if so they are now. */
  histogram(id: number, count: number, sum: number): boolean {
    this.#reach(id);
    if (this.#value[id] === count && this.#sum[id] === sum) return false;
    this.#value[id] = count;
    this.#sum[id] = sum;
    return true;
  }

  /** Nothing of `id` counts as sent: its next value goes whatever it is. */
  forget(id: number): void {
    if (id < this.#value.length) this.#value[id] = NaN;
  }

  #reach(id: number): void {
    if (id < this.#value.length) return;
    this.#value = grown(this.#value, id + 1, NaN);
    this.#sum = grown(this.#sum, id + 1, 0);
  }
}
