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
import type { CollectedSeries, LabelColumn, LabelRender } from './collection.ts';
import { Column } from './column.ts';
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
    const whole = this.collectedNumbers(snap, startTime, false, undefined);
    if (live === snap.n) return whole;
    // Some series have no live source: the naming pass reads the others, their figures copied.
    const present = presentOf(snap);
    const values = pick(snap.values, present);
    const labels = (render: LabelRender): LabelColumn => {
      const all = this.labels(render, snap.n);
      let nonAscii = 0;
      if (all.nonAscii > 0) for (const i of present) if (!render.isAscii(all.at(i))) nonAscii++;
      let strings: string[] | undefined;
      return {
        get strings() {
          return (strings ??= present.map((i) => all.strings[i]!));
        },
        at: (k: number) => all.at(present[k]!),
        keys: attributes,
        maker: all.maker,
        nonAscii,
      };
    };
    const keys = this.keysOf(snap);
    const attributes = present.map((i) => keys[i]!);
    // Written out in collectedOf's order (series-set.ts), not spread: the same hidden class.
    return {
      descriptor: whole.descriptor,
      dataPointType: whole.dataPointType,
      aggregationTemporality: whole.aggregationTemporality,
      n: present.length,
      attributes,
      startTime: whole.startTime,
      labels,
      isMonotonic: whole.isMonotonic,
      stride: whole.stride,
      bounds: whole.bounds,
      values,
      sums: whole.sums,
      counts: whole.counts,
      exemplars: whole.exemplars,
      startSeconds: whole.startSeconds && pick(whole.startSeconds, present),
      startNanos: whole.startNanos && pick(whole.startNanos, present),
    };
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

/** `column`'s figures at `positions`, copied. */
function pick(column: Float64Array, positions: readonly number[]): Float64Array {
  const out = new Float64Array(positions.length);
  for (let k = 0; k < positions.length; k++) out[k] = column[positions[k]!]!;
  return out;
}

/** The positions of the series a snapshot holds a live source of. */
function presentOf(snap: Snapshot): number[] {
  const out: number[] = [];
  for (let i = 0; i < snap.n; i++) if (snap.counts[i]! > 0) out.push(i);
  return out;
}
