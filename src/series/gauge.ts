/** The rules of a synchronous gauge: the last value recorded per series. */
import { DataPointType } from '../common/otel-sdk.ts';
import type { HrTime } from '@opentelemetry/api';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { CollectedSeries } from './collection.ts';
import { Column } from './column.ts';
import { SeriesSet } from './series-set.ts';
import { NONE, type Snapshot, type SnapshotArena } from './snapshot.ts';

export class GaugeSet extends SeriesSet {
  readonly dataPointType = DataPointType.GAUGE;
  readonly values = new Column();

  protected grow(): void {
    this.values.push(0);
  }

  protected override moveSeries(from: number, to: number): void {
    this.values.move(from, to);
  }

  protected override keepSeries(n: number): void {
    this.values.truncate(n);
  }

  snapshotLength(): number {
    return this.values.length + this.heldLength();
  }

  snapshot(arena: SnapshotArena): Snapshot {
    return this.held(
      { n: this.values.length, values: arena.copy(this.values), sums: NONE, counts: NONE },
      arena,
    );
  }

  collected(snap: Snapshot, startTime: HrTime): CollectedSeries | undefined {
    if (snap.n === 0) return undefined;
    return this.collectedNumbers(snap, startTime, false, undefined);
  }

  cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime): MetricData | undefined {
    return this.metricData(this.numberPoints(snap, startTime, endTime));
  }
}
