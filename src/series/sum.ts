/**
 * The rules of a sum (a counter or up-down counter): one value per series, added to; the latest
 * exemplar per series when kept. A synchronous or observable gauge's series are the same column
 * (`gauge`), the last value recorded written over, read as a gauge.
 *
 * A level several sources report (the cluster's members: output-set.ts `idleAbsent`) keeps per
 * series how many of them are awake; a series none is awake for is absent from what is read (its
 * position stays: series never move).
 *
 * A set whose values are recorded here (a storage's: `recorded`) counts each series' records once a
 * delta reader reads it ({@link SumSet.records}): a delta reader exports the series recorded in its
 * window, as the SDK does, even when they add up to no change (temporality.ts).
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
  /**
   * Per series, the records (observations) it took since a delta reader first read the set, which
   * its writer counts; undefined until then, and in a set whose values are not recorded here.
   */
  records: Column | undefined;
  readonly #recorded: boolean;

  constructor(
    descriptor: MetricDescriptor,
    index: MakeIndex,
    options: {
      monotonic: boolean;
      exemplars: boolean;
      gauge?: boolean;
      idleAbsent?: boolean;
      /** Its values are recorded here (a storage's): its writer counts records for delta readers. @default false */
      recorded?: boolean;
    },
  ) {
    super(descriptor, index);
    this.dataPointType = options.gauge === true ? DataPointType.GAUGE : DataPointType.SUM;
    this.monotonic = options.monotonic;
    this.exemplars = options.exemplars ? [] : undefined;
    this.awake = options.idleAbsent === true ? new Column() : undefined;
    this.#recorded = options.recorded === true;
  }

  protected grow(): void {
    this.values.push(0);
    this.awake?.push(0);
    this.records?.push(0);
  }

  /**
   * Records are counted from the first delta reader on. A series made before counts as recorded
   * once, as a reader's first window is its life, unless it is a sum that holds 0 (made by a bound
   * handle, never recorded: the SDK would export nothing of it).
   */
  override countRecords(): void {
    if (!this.#recorded || this.records !== undefined) return;
    const records = (this.records = new Column(this.values.data.length));
    const gauge = this.dataPointType === DataPointType.GAUGE;
    for (let i = 0; i < this.values.length; i++)
      records.push(gauge || this.values.data[i] !== 0 ? 1 : 0);
  }

  protected override moveSeries(from: number, to: number): void {
    this.values.move(from, to);
    this.awake?.move(from, to);
    this.records?.move(from, to);
    if (this.exemplars !== undefined) this.exemplars[to] = this.exemplars[from];
  }

  protected override keepSeries(n: number): void {
    this.values.truncate(n);
    this.awake?.truncate(n);
    this.records?.truncate(n);
    if (this.exemplars !== undefined && this.exemplars.length > n) this.exemplars.length = n;
  }

  snapshotLength(): number {
    const columns = 1 + (this.awake === undefined ? 0 : 1) + (this.records === undefined ? 0 : 1);
    return this.values.length * columns + this.heldLength();
  }

  snapshot(arena: SnapshotArena): Snapshot {
    let snap: Snapshot = {
      n: this.values.length,
      values: arena.copy(this.values),
      sums: NONE,
      counts: this.awake === undefined ? NONE : arena.copy(this.awake),
    };
    if (this.records !== undefined) snap = { ...snap, records: arena.copy(this.records) };
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
