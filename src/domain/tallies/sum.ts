/** A counter's or up-down counter's tally: one value per series, added to; the latest exemplar per series when kept. */
import type { Attributes, Context, HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type DataPoint, type MetricData, type MetricDescriptor, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { exemplarOf, type Exemplar } from '../exemplars.ts';
import { isRecordable, type RecordGuard } from '../record-guard.ts';
import type { BoundCounter, DeclaredCounter } from './handles.ts';
import type { SeriesIndex } from './spec-index.ts';
import { valueColumns, withColumns } from './columns.ts';
import { Column } from './column.ts';
import { NONE, numberPoints, Tally, withPoints, type DeltaState, type Snapshot, type SnapshotArena } from './tally.ts';

export class SumTally extends Tally implements DeclaredCounter {
  readonly monotonic: boolean;
  readonly values = new Column();
  /** The latest exemplar per series; undefined when the spec keeps none. */
  readonly exemplars: (Exemplar | undefined)[] | undefined;

  constructor(descriptor: MetricDescriptor, guard: RecordGuard, index: (grow: () => void) => SeriesIndex, options: { monotonic: boolean; exemplars: boolean }) {
    super(descriptor, guard, index);
    this.monotonic = options.monotonic;
    this.exemplars = options.exemplars ? [] : undefined;
  }

  protected grow(): void {
    this.values.push(0);
  }

  add(value: number, attributes?: Attributes, context?: Context): void {
    if (!isRecordable(value, this.monotonic) || this.guard.closed) return this.reject(value, this.monotonic);
    // The series first: a new one may move the figures to larger storage.
    const at = this.seriesOf(attributes);
    this.values.data[at]! += value;
    if (this.exemplars === undefined) return;
    const e = exemplarOf(value, context);
    if (e !== undefined) this.exemplars[at] = e;
  }

  bind(attributes?: Attributes): BoundCounter {
    const at = this.seriesOf(attributes);
    const values = this.values;
    const monotonic = this.monotonic;
    const guard = this.guard;
    const exemplars = this.exemplars;
    return {
      add: (value: number): void => {
        if (!isRecordable(value, monotonic) || guard.closed) return this.reject(value, monotonic);
        values.data[at]! += value;
        if (exemplars === undefined) return;
        const e = exemplarOf(value, undefined);
        if (e !== undefined) exemplars[at] = e;
      },
    };
  }

  snapshotLength(): number {
    return this.values.length;
  }

  snapshot(arena: SnapshotArena): Snapshot {
    const snap = { n: this.values.length, lease: arena.lease, values: arena.copy(this.values), sums: NONE, counts: NONE };
    return this.exemplars === undefined ? snap : { ...snap, exemplars: this.exemplars.slice() };
  }

  cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime, temporality: AggregationTemporality, onRead = false): MetricData | undefined {
    if (snap.n === 0) return undefined;
    const metric = withPoints<SumMetricData>(
      { descriptor: this.descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.SUM, isMonotonic: this.monotonic },
      () => numberPoints(this.attributes, snap, startTime, endTime),
      onRead,
    );
    // The naming pass reads columns when there are (columns.ts); a point with exemplars carries more.
    return onRead && snap.exemplars === undefined ? withColumns(metric, valueColumns(this.attributes, snap.n, snap.values, startTime, snap.lease)) : metric;
  }

  delta(snap: Snapshot, state: DeltaState, startTime: HrTime, endTime: HrTime): MetricData | undefined {
    const points: DataPoint<number>[] = [];
    const prev = state.values;
    for (let i = 0; i < snap.n; i++) {
      const v = snap.values[i]!;
      const p = prev[i] ?? 0;
      if (v === p) continue;
      prev[i] = v;
      const e = snap.exemplars?.[i];
      points.push({ attributes: this.attributes[i]!, startTime, endTime, value: v - p, ...(e !== undefined && { exemplars: [e] }) } as DataPoint<number>);
    }
    if (points.length === 0) return undefined;
    return { descriptor: this.descriptor, aggregationTemporality: AggregationTemporality.DELTA, dataPointType: DataPointType.SUM, dataPoints: points, isMonotonic: this.monotonic };
  }
}

