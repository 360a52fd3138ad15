/**
 * Exponential histograms as a set of the store (the ingest writes them): identity, removal and
 * per-series starts are the set's (series-set.ts); each series' figures are one summed
 * `ExponentialSum` (common/exponential-histogram.ts), since their scale and offsets change as
 * points arrive and fit no fixed columns. The naming pass cannot read them as columns: a
 * collection gives them as MetricData (`collected` is undefined).
 */
import { AggregationTemporality, DataPointType } from '../common/otel-sdk.ts';
import type { HrTime } from '@opentelemetry/api';
import type { DataPoint, ExponentialHistogram, MetricData } from '@opentelemetry/sdk-metrics';
import type { CollectedSeries } from './collection.ts';
import { SeriesSet } from './series-set.ts';
import { NONE, type Snapshot, type SnapshotArena } from './snapshot.ts';
import { bucketsOf, type ExponentialSum } from '../common/exponential-histogram.ts';

export class ExponentialSet extends SeriesSet {
  readonly dataPointType = DataPointType.EXPONENTIAL_HISTOGRAM;
  /** Each series' counts (undefined: none yet), replaced, never changed in place. */
  readonly values: (ExponentialSum | undefined)[] = [];

  protected grow(): void {
    this.values.push(undefined);
  }

  protected override moveSeries(from: number, to: number): void {
    this.values[to] = this.values[from];
  }

  protected override keepSeries(n: number): void {
    this.values.length = n;
  }

  snapshotLength(): number {
    return this.heldLength();
  }

  snapshot(arena: SnapshotArena): Snapshot {
    return this.held({ n: this.values.length, values: NONE, sums: NONE, counts: NONE }, arena);
  }

  collected(): CollectedSeries | undefined {
    return undefined;
  }

  /** The points of the first `snap.n` series, their counts as they are now (read in the turn of the snapshot); undefined when none. */
  override cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime): MetricData | undefined {
    if (snap.n === 0) return undefined;
    const keys = this.keysOf(snap);
    const seconds = snap.startSeconds;
    const dataPoints = new Array<DataPoint<ExponentialHistogram>>(snap.n);
    for (let i = 0; i < snap.n; i++)
      dataPoints[i] = {
        startTime: seconds === undefined ? startTime : [seconds[i]!, snap.startNanos![i]!],
        endTime,
        attributes: keys[i]!,
        value: bucketsOf(this.values[i] ?? EMPTY_EXPONENTIAL),
      };
    const { descriptor, dataPointType } = this;
    const aggregationTemporality = AggregationTemporality.CUMULATIVE;
    return { descriptor, aggregationTemporality, dataPointType, dataPoints };
  }
}

/** A series with no counts yet (at scale 0). */
export const EMPTY_EXPONENTIAL: ExponentialSum = {
  scale: 0,
  zeroCount: 0,
  zeroThreshold: 0,
  positive: { offset: 0, counts: [] },
  negative: { offset: 0, counts: [] },
  sum: 0,
  count: 0,
};
