/** The rules of a sum (a counter or up-down counter): one value per series, added to; the latest exemplar per series when kept. */
import { AggregationTemporality, DataPointType } from '../common/otel-sdk.ts';
import type { Attributes, HrTime } from '@opentelemetry/api';
import type {
  DataPoint,
  MetricData,
  MetricDescriptor,
  SumMetricData,
} from '@opentelemetry/sdk-metrics';
import type { Exemplar } from './collection.ts';
import type { CollectedSeries } from './collection.ts';
import { Column } from './column.ts';
import { SeriesSet } from './series-set.ts';
import { NONE, type Snapshot, type SnapshotArena } from './snapshot.ts';
import type { SeriesIndex } from './positions.ts';

export class SumSeries extends SeriesSet {
  readonly dataPointType = DataPointType.SUM;
  readonly monotonic: boolean;
  readonly values = new Column();
  /** The latest exemplar per series; undefined when the set keeps none. */
  readonly exemplars: (Exemplar | undefined)[] | undefined;

  constructor(
    descriptor: MetricDescriptor,
    index: (grow: () => void) => SeriesIndex,
    options: { monotonic: boolean; exemplars: boolean },
  ) {
    super(descriptor, index);
    this.monotonic = options.monotonic;
    this.exemplars = options.exemplars ? [] : undefined;
  }

  protected grow(): void {
    this.values.push(0);
  }

  protected override moveSeries(from: number, to: number): void {
    this.values.move(from, to);
    if (this.exemplars !== undefined) this.exemplars[to] = this.exemplars[from];
  }

  protected override keepSeries(n: number): void {
    this.values.truncate(n);
    if (this.exemplars !== undefined && this.exemplars.length > n) this.exemplars.length = n;
  }

  snapshotLength(): number {
    return this.values.length + this.heldLength();
  }

  snapshot(arena: SnapshotArena): Snapshot {
    const snap = {
      n: this.values.length,
      values: arena.copy(this.values),
      sums: NONE,
      counts: NONE,
    };
    return this.held(
      this.exemplars === undefined ? snap : { ...snap, exemplars: this.exemplars.slice(0, snap.n) },
      arena,
    );
  }

  collected(snap: Snapshot, startTime: HrTime): CollectedSeries | undefined {
    if (snap.n === 0) return undefined;
    return this.collectedNumbers(snap, startTime, this.monotonic, snap.exemplars);
  }

  cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime): MetricData | undefined {
    if (snap.n === 0) return undefined;
    const dataPoints = numberPoints(this.keysOf(snap), snap, startTime, endTime);
    return {
      descriptor: this.descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      dataPoints,
      isMonotonic: this.monotonic,
    } satisfies SumMetricData;
  }
}

/** The points of a sum or gauge snapshot (each series' own start when the snapshot holds one). */
export function numberPoints(
  attributes: readonly Attributes[],
  snap: Snapshot,
  startTime: HrTime,
  endTime: HrTime,
): DataPoint<number>[] {
  const n = snap.n;
  const values = snap.values;
  const points = new Array<DataPoint<number>>(n);
  const seconds = snap.startSeconds;
  if (seconds === undefined)
    for (let i = 0; i < n; i++)
      points[i] = { attributes: attributes[i]!, startTime, endTime, value: values[i]! };
  else
    for (let i = 0; i < n; i++)
      points[i] = {
        attributes: attributes[i]!,
        startTime: [seconds[i]!, snap.startNanos![i]!],
        endTime,
        value: values[i]!,
      };
  const exemplars = snap.exemplars;
  if (exemplars !== undefined) {
    for (let i = 0; i < n; i++) {
      const e = exemplars[i];
      if (e !== undefined)
        (points[i] as DataPoint<number> & { exemplars?: readonly Exemplar[] }).exemplars = [e];
    }
  }
  return points;
}
