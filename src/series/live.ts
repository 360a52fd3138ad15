/**
 * The rules of a level several sources report at once (an up-down counter, a gauge): each source's
 * last value is held while the source is live, and a series' value is their merge by the
 * instrument's rule (aggregation.ts `LEVEL`: the writer's merge policy), made when the set is
 * read. A series no live source reports is absent from what is read (its position stays: series
 * never move).
 *
 * A writer gives each (source, series) pair a slot ({@link LiveSet.source}), sets the slot's value
 * as reports arrive, withdraws it when the source no longer reports that series, and releases it
 * when the source is gone; released slots are reused, so memory follows the live sources.
 */
import { DataPointType } from '../common/otel-sdk.ts';
import type { HrTime } from '@opentelemetry/api';
import type { DataPoint, MetricData, MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { LEVEL, type LevelRule } from './aggregation.ts';
import type { CollectedSeries } from './collection.ts';
import { Column } from './column.ts';
import { MetricColumns } from './metric-columns.ts';
import { SeriesSet } from './series-set.ts';
import { NONE, type Snapshot, type SnapshotArena } from './snapshot.ts';
import type { SeriesIndex } from './positions.ts';

export class LiveSet extends SeriesSet {
  readonly dataPointType: typeof DataPointType.SUM | typeof DataPointType.GAUGE;
  readonly #merge: (previous: number, next: number) => number;
  /** Per series, as of the last read: the combined value, and how many live sources made it (0: absent). */
  readonly #values = new Column();
  readonly #sources = new Column();
  /** Per slot: its series (-1: free) and its source's value (`NaN`: not live). */
  readonly #at = new Column();
  readonly #value = new Column();
  readonly #free: number[] = [];
  #dirty = false;

  constructor(
    descriptor: MetricDescriptor,
    index: (grow: () => void) => SeriesIndex,
    options: { gauge: boolean; combine: LevelRule },
  ) {
    super(descriptor, index);
    this.dataPointType = options.gauge ? DataPointType.GAUGE : DataPointType.SUM;
    this.#merge = LEVEL[options.combine];
  }

  protected grow(): void {
    this.#values.push(0);
    this.#sources.push(0);
  }

  /** A slot for one source's value of series `at`, not live until {@link set}. */
  source(at: number): number {
    const slot = this.#free.pop();
    if (slot === undefined) {
      this.#at.push(at);
      this.#value.push(NaN);
      return this.#at.length - 1;
    }
    this.#at.data[slot] = at;
    return slot;
  }

  /** The source of `slot` reports `value` (finite). */
  set(slot: number, value: number): void {
    this.#value.data[slot] = value;
    this.#dirty = true;
  }

  /** The source of `slot` no longer reports its series (it may again: the slot is kept). */
  withdraw(slot: number): void {
    if (this.#value.data[slot] !== this.#value.data[slot]) return;
    this.#value.data[slot] = NaN;
    this.#dirty = true;
  }

  /** The source of `slot` is gone: its value leaves, the slot is reused. */
  release(slot: number): void {
    this.withdraw(slot);
    this.#at.data[slot] = -1;
    this.#free.push(slot);
  }

  /** Combines the live slots into each series' value (only after a change). */
  #settle(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const values = this.#values.data;
    const sources = this.#sources.data;
    const n = this.#values.length;
    values.fill(0, 0, n);
    sources.fill(0, 0, n);
    const at = this.#at.data;
    const value = this.#value.data;
    const merge = this.#merge;
    for (let s = 0; s < this.#at.length; s++) {
      const v = value[s]!;
      if (v !== v) continue;
      const i = at[s]!;
      values[i] = sources[i]!++ === 0 ? v : merge(values[i]!, v);
    }
  }

  snapshotLength(): number {
    return this.#values.length * 2 + this.heldLength();
  }

  /** `values`: the combined values; `counts`: the live sources of each series (0: absent). */
  snapshot(arena: SnapshotArena): Snapshot {
    this.#settle();
    return this.held(
      {
        n: this.#values.length,
        values: arena.copy(this.#values),
        sums: NONE,
        counts: arena.copy(this.#sources),
      },
      arena,
    );
  }

  collected(snap: Snapshot, startTime: HrTime): CollectedSeries | undefined {
    let live = 0;
    for (let i = 0; i < snap.n; i++) if (snap.counts[i]! > 0) live++;
    if (live === 0) return undefined;
    if (live === snap.n) return this.collectedNumbers(snap, startTime, false, undefined);
    // Some series have no live source: the naming pass reads the others' points, as a producer's
    // (metric-columns.ts; one of its own: a collection is read after the next may be made).
    return new MetricColumns().of(this.cumulative(snap, startTime, startTime)!);
  }

  cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime): MetricData | undefined {
    const keys = this.keysOf(snap);
    return this.metricData(
      presentOf(snap).map((i): DataPoint<number> => ({
        attributes: keys[i]!,
        startTime,
        endTime,
        value: snap.values[i]!,
      })),
    );
  }
}

/** The positions of the series a snapshot holds a live source of. */
function presentOf(snap: Snapshot): number[] {
  const out: number[] = [];
  for (let i = 0; i < snap.n; i++) if (snap.counts[i]! > 0) out.push(i);
  return out;
}
