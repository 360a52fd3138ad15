/**
 * The rules of a histogram: per series its bucket counts (the first bound >= value, le semantics),
 * sum and count; min and max when the instrument records them (the SDK's default for a host's
 * histogram); the latest exemplar per bucket when kept.
 */
import { DataPointType } from '../common/otel-sdk.ts';
import type { HrTime } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import type { HistogramAcc } from './aggregation.ts';
import type { Exemplar } from './collection.ts';
import type { CollectedSeries } from './collection.ts';
import { Column } from './column.ts';
import { SeriesSet } from './series-set.ts';
import type { Snapshot, SnapshotArena } from './snapshot.ts';
import type { SeriesIndex } from './positions.ts';

export class HistogramSet extends SeriesSet {
  readonly dataPointType = DataPointType.HISTOGRAM;
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
  /** The latest exemplar per bucket, `stride` per series; undefined when the set keeps none. */
  readonly exemplars: (Exemplar | undefined)[] | undefined;

  constructor(
    descriptor: MetricDescriptor,
    index: (grow: () => void) => SeriesIndex,
    options: { bounds: readonly number[]; exemplars: boolean; minMax: boolean },
  ) {
    super(descriptor, index);
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

  protected override moveSeries(from: number, to: number): void {
    const stride = this.stride;
    this.buckets.move(from * stride, to * stride, stride);
    this.sums.move(from, to);
    this.counts.move(from, to);
    this.mins?.move(from, to);
    this.maxs?.move(from, to);
    if (this.exemplars !== undefined)
      for (let k = 0; k < stride; k++)
        this.exemplars[to * stride + k] = this.exemplars[from * stride + k];
  }

  protected override keepSeries(n: number): void {
    this.buckets.truncate(n * this.stride);
    this.sums.truncate(n);
    this.counts.truncate(n);
    this.mins?.truncate(n);
    this.maxs?.truncate(n);
    if (this.exemplars !== undefined && this.exemplars.length > n * this.stride)
      this.exemplars.length = n * this.stride;
  }

  /**
   * Counts `value` (a number >= 0) into series `at`: the bucket is the first bound >= value (le
   * semantics). Returns the bucket's index in {@link buckets}.
   */
  observe(at: number, value: number): number {
    const bucket = at * this.stride + bucketOf(this.bounds, value);
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

  /**
   * Adds `point`'s counts, sum and count into series `at` (a bucket `point` lacks counts 0); `min`
   * and `max`, a source's extremes (`NaN`: unknown), widen the series' when it keeps them.
   */
  add(at: number, point: HistogramAcc, min = NaN, max = NaN): void {
    const buckets = this.buckets.data;
    const counts = point.counts;
    for (let k = 0, from = at * this.stride; k < this.stride; k++)
      buckets[from + k]! += counts[k] ?? 0;
    this.sums.data[at]! += point.sum;
    this.counts.data[at]! += point.count;
    if (this.mins === undefined) return;
    // NaN (unknown) never wins either comparison.
    if (min < this.mins.data[at]!) this.mins.data[at] = min;
    if (max > this.maxs!.data[at]!) this.maxs!.data[at] = max;
  }

  /** Series `at`'s counts and count made `point`'s (a bucket `point` lacks counts 0), its sum `sum`; its min and max kept. */
  put(at: number, point: HistogramAcc, sum: number): void {
    const buckets = this.buckets.data;
    for (let k = 0, from = at * this.stride; k < this.stride; k++)
      buckets[from + k] = point.counts[k] ?? 0;
    this.sums.data[at] = sum;
    this.counts.data[at] = point.count;
  }

  snapshotLength(): number {
    // Read in the same turn as snapshot(): the series count cannot change in between.
    return (
      this.buckets.length +
      this.counts.length * (this.mins === undefined ? 2 : 4) +
      this.heldLength()
    );
  }

  snapshot(arena: SnapshotArena): Snapshot {
    const snap: Snapshot = {
      n: this.counts.length,
      values: arena.copy(this.buckets),
      sums: arena.copy(this.sums),
      counts: arena.copy(this.counts),
    };
    if (this.mins === undefined && this.exemplars === undefined) return this.held(snap, arena);
    return this.held(
      {
        ...snap,
        ...(this.mins !== undefined && {
          mins: arena.copy(this.mins),
          maxs: arena.copy(this.maxs!),
        }),
        ...(this.exemplars !== undefined && {
          exemplars: this.exemplars.slice(0, snap.n * this.stride),
        }),
      },
      arena,
    );
  }

  collected(snap: Snapshot, startTime: HrTime): CollectedSeries | undefined {
    if (snap.n === 0) return undefined;
    return this.collectedOf(snap, startTime, {
      isMonotonic: false,
      stride: this.stride,
      bounds: this.bounds,
      values: snap.values,
      sums: snap.sums,
      counts: snap.counts,
      exemplars: snap.exemplars,
    });
  }
}

/** The bucket `value` counts in among `bounds` (the +Inf one is `bounds.length`): the first bound >= value, le semantics. */
export function bucketOf(bounds: readonly number[], value: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
