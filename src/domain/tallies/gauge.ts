/** A synchronous gauge's tally: the last value recorded per series. */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type DataPoint, type GaugeMetricData, type MetricData } from '@opentelemetry/sdk-metrics';
import { isRecordable } from '../record-guard.ts';
import type { BoundGauge, DeclaredGauge } from './handles.ts';
import { valueColumns, withColumns } from './columns.ts';
import { Column } from './column.ts';
import { NONE, numberPoints, Tally, withPoints, type DeltaState, type Snapshot, type SnapshotArena } from './tally.ts';

export class GaugeTally extends Tally implements DeclaredGauge {
  readonly values = new Column();

  protected grow(): void {
    this.values.push(0);
  }

  record(value: number, attributes?: Attributes): void {
    if (!isRecordable(value, false) || this.guard.closed) return this.reject(value, false);
    // The series first: a new one may move the figures to larger storage.
    const at = this.seriesOf(attributes);
    this.values.data[at] = value;
  }

  bind(attributes?: Attributes): BoundGauge {
    const at = this.seriesOf(attributes);
    const values = this.values;
    const guard = this.guard;
    return {
      record: (value: number): void => {
        if (!isRecordable(value, false) || guard.closed) return this.reject(value, false);
        values.data[at] = value;
      },
    };
  }

  snapshotLength(): number {
    return this.values.length;
  }

  snapshot(arena: SnapshotArena): Snapshot {
    return { n: this.values.length, lease: arena.lease, values: arena.copy(this.values), sums: NONE, counts: NONE };
  }

  cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime, temporality: AggregationTemporality, onRead = false): MetricData | undefined {
    if (snap.n === 0) return undefined;
    const metric = withPoints<GaugeMetricData>(
      { descriptor: this.descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.GAUGE },
      () => numberPoints(this.attributes, snap, startTime, endTime),
      onRead,
    );
    // The naming pass reads columns when there are (columns.ts); a point with exemplars carries more.
    return onRead && snap.exemplars === undefined ? withColumns(metric, valueColumns(this.attributes, snap.n, snap.values, startTime, snap.lease)) : metric;
  }

  /** A gauge is a level, not an amount: every series, with its last value. */
  delta(snap: Snapshot, _state: DeltaState, startTime: HrTime, endTime: HrTime): MetricData | undefined {
    return this.cumulative(snap, startTime, endTime, AggregationTemporality.DELTA);
  }
}

