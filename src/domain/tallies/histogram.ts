/**
 * A histogram's tally: per series its bucket counts (the first bound ≥ value, le semantics), sum
 * and count; min and max when the instrument records them (the SDK's default for a host's
 * histogram); the latest exemplar per bucket when kept.
 */
import type { Attributes, Context, HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type DataPoint, type Histogram, type HistogramMetricData, type MetricData, type MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { exemplarOf, type Exemplar } from '../exemplars.ts';
import { isRecordable, type RecordGuard } from '../record-guard.ts';
import type { BoundHistogram, DeclaredHistogram } from './handles.ts';
import type { SeriesIndex } from './spec-index.ts';
import { Column } from './column.ts';
import { withColumns } from './columns.ts';
import { Tally, withPoints, type DeltaState, type Snapshot, type SnapshotArena } from './tally.ts';

export class HistogramTally extends Tally implements DeclaredHistogram {
  readonly bounds: readonly number[];
  /** Buckets per series: the bounds' and the +Inf one. */
  readonly stride: number;
  /** Per-bucket counts, `stride` per series. */
  readonly buckets = new Column();
  readonly sums = new Column();
  readonly counts = new Column();
  /** Min and max per series; undefined when the instrument records none. */
  readonly mins: Column | undefined;
  readonly maxs: Column | undefined;
  /** The latest exemplar per bucket, `stride` per series; undefined when the spec keeps none. */
  readonly exemplars: (Exemplar | undefined)[] | undefined;

  constructor(
    descriptor: MetricDescriptor,
    guard: RecordGuard,
    index: (grow: () => void) => SeriesIndex,
    options: { bounds: readonly number[]; exemplars: boolean; minMax: boolean },
  ) {
    super(descriptor, guard, index);
    this.bounds = [...options.bounds];
    this.stride = this.bounds.length + 1;
    this.exemplars = options.exemplars ? [] : undefined;
    this.mins = options.minMax ? new Column() : undefined;
    this.maxs = options.minMax ? new Column() : undefined;
  }

  protected grow(): void {
    for (let k = 0; k < this.stride; k++) this.buckets.push(0);
    this.sums.push(0);
    this.counts.push(0);
    this.mins?.push(Infinity);
    this.maxs?.push(-Infinity);
  }

  record(value: number, attributes?: Attributes, context?: Context): void {
    if (!isRecordable(value, true) || this.guard.closed) return this.reject(value, true);
    const bucket = this.observe(this.seriesOf(attributes), value);
    if (this.exemplars === undefined) return;
    const e = exemplarOf(value, context);
    if (e !== undefined) this.exemplars[bucket] = e;
  }

  bind(attributes?: Attributes): BoundHistogram {
    const at = this.seriesOf(attributes);
    const guard = this.guard;
    return {
      record: (value: number): void => {
        if (!isRecordable(value, true) || guard.closed) return this.reject(value, true);
        const bucket = this.observe(at, value);
        if (this.exemplars === undefined) return;
        const e = exemplarOf(value, undefined);
        if (e !== undefined) this.exemplars[bucket] = e;
      },
    };
  }

  /**
   * Counts `value` (a number ≥ 0) into series `at`: the bucket is the first bound ≥ value (le
   * semantics). Returns the bucket's index in {@link buckets}.
   */
  observe(at: number, value: number): number {
    const bounds = this.bounds;
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bounds[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    const bucket = at * this.stride + lo;
    this.buckets.data[bucket]!++;
    this.sums.data[at]! += value;
    this.counts.data[at]!++;
    if (this.mins !== undefined) {
      const mins = this.mins.data;
      const maxs = this.maxs!.data;
      if (value < mins[at]!) mins[at] = value;
      if (value > maxs[at]!) maxs[at] = value;
    }
    return bucket;
  }

  #point(i: number, startTime: HrTime, endTime: HrTime, counts: number[], sum: number, count: number, snap: Snapshot): DataPoint<Histogram> {
    const value: Histogram = { buckets: { boundaries: this.bounds as number[], counts }, sum, count };
    // Cumulative min and max (a delta point carries them too: the SDK's delta points hold the interval's, these the life's).
    if (snap.mins !== undefined && count > 0) {
      value.min = snap.mins[i]!;
      value.max = snap.maxs![i]!;
    }
    const point: DataPoint<Histogram> & { exemplars?: readonly Exemplar[] } = { attributes: this.attributes[i]!, startTime, endTime, value };
    const held = snap.exemplars;
    if (held !== undefined) {
      let exemplars: Exemplar[] | undefined;
      for (let k = i * this.stride, end = k + this.stride; k < end; k++) if (held[k] !== undefined) (exemplars ??= []).push(held[k]!);
      if (exemplars !== undefined) point.exemplars = exemplars;
    }
    return point;
  }

  snapshotLength(): number {
    // Read in the same turn as snapshot(): the series count cannot change in between.
    return this.buckets.length + this.counts.length * (this.mins === undefined ? 2 : 4);
  }

  snapshot(arena: SnapshotArena): Snapshot {
    const snap: Snapshot = { n: this.counts.length, lease: arena.lease, values: arena.copy(this.buckets), sums: arena.copy(this.sums), counts: arena.copy(this.counts) };
    if (this.mins === undefined && this.exemplars === undefined) return snap;
    return {
      ...snap,
      ...(this.mins !== undefined && { mins: arena.copy(this.mins), maxs: arena.copy(this.maxs!) }),
      ...(this.exemplars !== undefined && { exemplars: this.exemplars.slice() }),
    };
  }

  cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime, temporality: AggregationTemporality, onRead = false): MetricData | undefined {
    const n = snap.n;
    if (n === 0) return undefined;
    const stride = this.stride;
    const points = (): DataPoint<Histogram>[] => {
      const out = new Array<DataPoint<Histogram>>(n);
      for (let i = 0; i < n; i++) {
        out[i] = this.#point(i, startTime, endTime, countsAt(snap.values, i * stride, stride), snap.sums[i]!, snap.counts[i]!, snap);
      }
      return out;
    };
    const metric = withPoints<HistogramMetricData>({ descriptor: this.descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.HISTOGRAM }, points, onRead);
    // The naming pass reads columns when there are (columns.ts); a point with exemplars carries more.
    if (!onRead || snap.exemplars !== undefined) return metric;
    return withColumns(metric, { n, attributes: this.attributes, values: snap.values, stride, bounds: this.bounds, sums: snap.sums, counts: snap.counts, startTime, lease: snap.lease });
  }

  delta(snap: Snapshot, state: DeltaState, startTime: HrTime, endTime: HrTime): MetricData | undefined {
    const points: DataPoint<Histogram>[] = [];
    const stride = this.stride;
    for (let i = 0; i < snap.n; i++) {
      const count = snap.counts[i]!;
      const prevCount = state.counts[i] ?? 0;
      if (count === prevCount) continue;
      const counts = new Array<number>(stride);
      for (let k = 0; k < stride; k++) {
        const at = i * stride + k;
        counts[k] = snap.values[at]! - (state.values[at] ?? 0);
        state.values[at] = snap.values[at]!;
      }
      const sum = snap.sums[i]! - (state.sums[i] ?? 0);
      state.sums[i] = snap.sums[i]!;
      state.counts[i] = count;
      points.push(this.#point(i, startTime, endTime, counts, sum, count - prevCount, snap));
    }
    if (points.length === 0) return undefined;
    return { descriptor: this.descriptor, aggregationTemporality: AggregationTemporality.DELTA, dataPointType: DataPointType.HISTOGRAM, dataPoints: points };
  }
}

/** One series' bucket counts out of a snapshot, as the plain array a point carries. */
function countsAt(values: Float64Array, from: number, stride: number): number[] {
  const counts = new Array<number>(stride);
  for (let k = 0; k < stride; k++) counts[k] = values[from + k]!;
  return counts;
}
