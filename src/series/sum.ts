/**
 * The rules of a sum (a counter or up-down counter): one value per series, added to; the latest
 * exemplar per series when kept. A synchronous or observable gauge's series are the same column
 * (`gauge`), the last value recorded written over, read as a gauge.
 *
 * A level several sources report (the cluster's members: output-set.ts `idleAbsent`) keeps per
 * series how many of them are awake; a series none is awake for is absent from what is read (its
 * position stays: series never move).
 */
import { DataPointType } from '../common/otel-sdk.ts';
import type { HrTime } from '@opentelemetry/api';
import type { MetricData, MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { metricDataOf, type CollectedSeries, type Exemplar } from './collection.ts';
import { Column } from './column.ts';
import { MetricColumns } from './metric-columns.ts';
import { SeriesSet } from './series-set.ts';
import { NONE, type Snapshot, type SnapshotArena } from './snapshot.ts';
import type { MakeIndex } from './positions.ts';

/** A number series' bucket bounds: none. */
const NO_BOUNDS: readonly number[] = [];

export class SumSet extends SeriesSet {
  readonly dataPointType: typeof DataPointType.SUM | typeof DataPointType.GAUGE;
  readonly monotonic: boolean;
  readonly values = new Column();
  /** The latest exemplar per series; undefined when the set keeps none. */
  readonly exemplars: (Exemplar | undefined)[] | undefined;
  /** Per series, the sources awake for it (0: absent from reads); undefined when every series is read. */
  readonly awake: Column | undefined;

  constructor(
    descriptor: MetricDescriptor,
    index: MakeIndex,
    options: { monotonic: boolean; exemplars: boolean; gauge?: boolean; idleAbsent?: boolean },
  ) {
    super(descriptor, index);
    this.dataPointType = options.gauge === true ? DataPointType.GAUGE : DataPointType.SUM;
    this.monotonic = options.monotonic;
    this.exemplars = options.exemplars ? [] : undefined;
    this.awake = options.idleAbsent === true ? new Column() : undefined;
  }

  protected grow(): void {
    this.values.push(0);
    this.awake?.push(0);
  }

  protected override moveSeries(from: number, to: number): void {
    this.values.move(from, to);
    this.awake?.move(from, to);
    if (this.exemplars !== undefined) this.exemplars[to] = this.exemplars[from];
  }

  protected override keepSeries(n: number): void {
    this.values.truncate(n);
    this.awake?.truncate(n);
    if (this.exemplars !== undefined && this.exemplars.length > n) this.exemplars.length = n;
  }

  snapshotLength(): number {
    return this.values.length * (this.awake === undefined ? 1 : 2) + this.heldLength();
  }

  snapshot(arena: SnapshotArena): Snapshot {
    const snap = {
      n: this.values.length,
      values: arena.copy(this.values),
      sums: NONE,
      counts: this.awake === undefined ? NONE : arena.copy(this.awake),
    };
    return this.held(
      this.exemplars === undefined ? snap : { ...snap, exemplars: this.exemplars.slice(0, snap.n) },
      arena,
    );
  }

  collected(snap: Snapshot, startTime: HrTime): CollectedSeries | undefined {
    if (snap.n === 0) return undefined;
    const all = this.collectedOf(snap, startTime, {
      isMonotonic: this.monotonic,
      stride: 1,
      bounds: NO_BOUNDS,
      values: snap.values,
      sums: NONE,
      counts: NONE,
      exemplars: snap.exemplars,
    });
    if (this.awake === undefined) return all;
    let read = 0;
    for (let i = 0; i < snap.n; i++) if (snap.counts[i]! > 0) read++;
    if (read === 0) return undefined;
    if (read === snap.n) return all;
    // Some series are absent: the naming pass reads the others' points, as a producer's
    // (metric-columns.ts; one of its own: a collection is read after the next may be made).
    const metric = metricDataOf(all, startTime);
    const dataPoints = metric.dataPoints.filter((_, i) => snap.counts[i]! > 0);
    return new MetricColumns().of({ ...metric, dataPoints } as MetricData);
  }
}
