/**
 * What every tally shares: its series index (spec-index.ts or open-index.ts), its descriptor, the
 * record guard, and the snapshot a collection reads (copies of its arrays at one instant, so points
 * can be built over several turns of the event loop and still describe one instant, across
 * instruments too: a run's `started` and `finished`).
 *
 * A tally is also the OpenTelemetry API instrument jobmeter's provider hands out for it
 * (`add` / `record` with attributes and a context), marked {@link BOUNDED}: it bounds itself.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { InstrumentType, type AggregationTemporality, type DataPoint, type MetricData, type MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { BOUNDED } from '../bounded-attributes.ts';
import type { Exemplar } from '../exemplars.ts';
import { invalidValue, type RecordGuard } from '../record-guard.ts';
import type { Column } from './column.ts';
import type { ArenaLease } from './columns.ts';
import type { SeriesIndex } from './spec-index.ts';

export const INSTRUMENT_TYPE: Readonly<Record<string, InstrumentType>> = {
  counter: InstrumentType.COUNTER,
  upDownCounter: InstrumentType.UP_DOWN_COUNTER,
  histogram: InstrumentType.HISTOGRAM,
  gauge: InstrumentType.GAUGE,
};

/** What a producer remembers of one tally between two delta exports. */
export interface DeltaState {
  values: number[];
  sums: number[];
  counts: number[];
}

/**
 * A tally's figures at one instant (see the file comment), as views of one {@link SnapshotArena}
 * per collection. Off the JS heap and in one allocation: a snapshot lives through a whole sliced
 * naming and rendering pass, and on the heap every young-generation collection landing in that
 * window would copy it on the event loop; one buffer per tally would be hundreds of allocations
 * per scrape.
 */
export interface Snapshot {
  /** Series held at the instant (the first `n` attributes objects). */
  readonly n: number;
  /** The collection's hold on the arena's storage. */
  readonly lease: ArenaLease;
  /** Sums and gauges: the values; histograms: the bucket counts, `stride` per series. */
  readonly values: Float64Array;
  /** Histograms only: sums and counts per series. */
  readonly sums: Float64Array;
  readonly counts: Float64Array;
  /** Histograms that record them: min and max per series. */
  readonly mins?: Float64Array;
  readonly maxs?: Float64Array;
  /** Instruments that keep exemplars: the latest per series (sums) or per bucket (histograms). */
  readonly exemplars?: readonly (Exemplar | undefined)[];
}

export const NONE = new Float64Array(0);

/** Where one collection's snapshots are copied: at least every tally's {@link Tally.snapshotLength}, filled in order. */
export class SnapshotArena {
  readonly #figures: Float64Array;
  #at = 0;
  readonly lease: ArenaLease;

  constructor(figures: Float64Array, lease: ArenaLease) {
    this.#figures = figures;
    this.lease = lease;
  }

  /** A copy of `from`'s figures, as a view of the arena. */
  copy(from: Column): Float64Array {
    const at = this.#at;
    const view = this.#figures.subarray(at, at + from.length);
    view.set(from.view());
    this.#at = at + from.length;
    return view;
  }
}

/**
 * `metric` with `dataPoints`: made now, or (`onRead`) made anew at every read of the property, by
 * a getter (see store.ts `ProducerOptions.pointsOnRead`).
 */
export function withPoints<M extends MetricData>(metric: Omit<M, 'dataPoints'>, points: () => M['dataPoints'], onRead: boolean): M {
  if (!onRead) return { ...metric, dataPoints: points() } as M;
  return Object.defineProperty(metric, 'dataPoints', { get: points, enumerable: true }) as M;
}

/** The points of a sum or gauge snapshot. */
export function numberPoints(attributes: readonly Attributes[], snap: Snapshot, startTime: HrTime, endTime: HrTime): DataPoint<number>[] {
  const n = snap.n;
  const values = snap.values;
  const points = new Array<DataPoint<number>>(n);
  for (let i = 0; i < n; i++) points[i] = { attributes: attributes[i]!, startTime, endTime, value: values[i]! };
  const exemplars = snap.exemplars;
  if (exemplars !== undefined) {
    for (let i = 0; i < n; i++) {
      const e = exemplars[i];
      if (e !== undefined) (points[i] as DataPoint<number> & { exemplars?: readonly Exemplar[] }).exemplars = [e];
    }
  }
  return points;
}

/** The series store of one instrument: its index, its descriptor, its guard. */
export abstract class Tally {
  readonly [BOUNDED] = true;
  readonly descriptor: MetricDescriptor;
  /** The attributes of each series, by index (the index's, stable objects). */
  readonly attributes: Attributes[];
  /** The index of the series `attributes` records into (created on first sight). */
  readonly seriesOf: (attributes: Attributes | undefined) => number;
  /** Where bad records and records after shutdown are reported. */
  readonly guard: RecordGuard;

  /** @param index makes the tally's index, given how to add storage for a new series. */
  constructor(descriptor: MetricDescriptor, guard: RecordGuard, index: (grow: () => void) => SeriesIndex) {
    this.descriptor = descriptor;
    this.guard = guard;
    const made = index(() => this.grow());
    this.attributes = made.attributes;
    this.seriesOf = made.seriesOf;
  }

  /** Series held (the overflow series included). */
  get size(): number {
    return this.attributes.length;
  }

  /** Adds the storage of one more series. */
  protected abstract grow(): void;

  /** Reports a record refused by the fast check (`nonNegative` as given to it). */
  reject(value: unknown, nonNegative: boolean): void {
    this.guard.drop(this.descriptor.name, invalidValue(value, nonNegative) ?? 'not_a_number', value);
  }

  /** How many figures {@link snapshot} copies into the arena now. */
  abstract snapshotLength(): number;
  /** The figures now, copied into `arena`. */
  abstract snapshot(arena: SnapshotArena): Snapshot;
  /**
   * The cumulative MetricData of a snapshot, or undefined when it holds no series. With `onRead`,
   * its points are made at every read of `dataPoints` instead of now.
   */
  abstract cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime, temporality: AggregationTemporality, onRead?: boolean): MetricData | undefined;
  /** What changed from `state` (updated in place) to `snap`; undefined when nothing did. */
  abstract delta(snap: Snapshot, state: DeltaState, startTime: HrTime, endTime: HrTime): MetricData | undefined;
}
