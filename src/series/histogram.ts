/**
 * The rules of a histogram: per series its bucket counts (the first bound >= value, le semantics),
 * sum and count; min and max when the instrument records them (the SDK's default for a host's
 * histogram), for its life and for each delta reader's window; the latest exemplar per bucket when
 * kept.
 *
 * A window's min and max are those since its reader's previous collection (its first: the life's,
 * as the SDK's first delta point has them). What must stay true: every record widens the life's
 * and every window's alike, and only the window's own reader resets it, in the snapshot it reads;
 * records whose min and max are not known (a source's that reports its life's) leave every open
 * window with none ({@link HistogramSet.unknownInWindows}) until it is read, never a false one.
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
import type { MakeIndex } from './positions.ts';

export class HistogramSet extends SeriesSet {
  readonly dataPointType = DataPointType.HISTOGRAM;
  readonly bounds: readonly number[];
  /** Buckets per series: the bounds' and the +Inf one. */
  readonly stride: number;
  /** Per-bucket counts, `stride` per series. */
  readonly buckets = new Column();
  readonly sums = new Column();
  readonly counts = new Column();
  /** The latest exemplar per bucket, `stride` per series; undefined when the set keeps none. */
  readonly exemplars: (Exemplar | undefined)[] | undefined;
  /**
   * Min and max per series, when the instrument records them (else none): the life's, then each
   * delta reader's window's ({@link openWindow}, in the store's order).
   */
  readonly #extremes: Extremes[];
  /** Whether a delta reader's window is kept: only where the extremes are records' (not sources' life extremes). */
  readonly #windowed: boolean;

  constructor(
    descriptor: MetricDescriptor,
    index: MakeIndex,
    options: {
      bounds: readonly number[];
      exemplars: boolean;
      minMax: boolean;
      /**
       * The min and max are of values recorded here (a storage's), or a source tells them of what
       * it adds (a cluster member's reports): each delta reader gets its window's. @default false
       */
      windows?: boolean;
    },
  ) {
    super(descriptor, index);
    this.#windowed = options.minMax && options.windows === true;
    this.#extremes = options.minMax ? [{ mins: new Column(), maxs: new Column() }] : [];
    this.bounds = [...options.bounds];
    this.stride = this.bounds.length + 1;
    this.exemplars = options.exemplars ? [] : undefined;
  }

  protected grow(): void {
    for (let k = 0; k < this.stride; k++) this.buckets.push(0);
    this.sums.push(0);
    this.counts.push(0);
    for (const e of this.#extremes) {
      e.mins.push(Infinity);
      e.maxs.push(-Infinity);
    }
  }

  /**
   * Opens the next delta reader's window, from the life's min and max. A set of sources' life
   * extremes (the ingest's senders' have none) keeps none: its delta points carry them only first.
   */
  override openWindow(): void {
    if (!this.#windowed) return;
    const life = this.#extremes[0]!;
    this.#extremes.push({ mins: life.mins.copy(), maxs: life.maxs.copy() });
  }

  protected override moveSeries(from: number, to: number): void {
    const stride = this.stride;
    this.buckets.move(from * stride, to * stride, stride);
    this.sums.move(from, to);
    this.counts.move(from, to);
    for (const e of this.#extremes) {
      e.mins.move(from, to);
      e.maxs.move(from, to);
    }
    if (this.exemplars !== undefined)
      for (let k = 0; k < stride; k++)
        this.exemplars[to * stride + k] = this.exemplars[from * stride + k];
  }

  protected override keepSeries(n: number): void {
    this.buckets.truncate(n * this.stride);
    this.sums.truncate(n);
    this.counts.truncate(n);
    for (const e of this.#extremes) {
      e.mins.truncate(n);
      e.maxs.truncate(n);
    }
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
    this.#widen(at, value, value);
    return bucket;
  }

  /**
   * Series `at` took records of unknown min and max (a source's life's, not what it added): each
   * open window has none for it (`NaN`, which no widening replaces) until its reader reads it.
   */
  unknownInWindows(at: number): void {
    for (let k = 1; k < this.#extremes.length; k++) {
      this.#extremes[k]!.mins.data[at] = NaN;
      this.#extremes[k]!.maxs.data[at] = NaN;
    }
  }

  /** Widens series `at`'s min and max, the life's and every window's, to `min` and `max` (`NaN`: unknown, never wins). */
  #widen(at: number, min: number, max: number): void {
    const extremes = this.#extremes;
    for (let k = 0; k < extremes.length; k++) {
      const e = extremes[k]!;
      if (min < e.mins.data[at]!) e.mins.data[at] = min;
      if (max > e.maxs.data[at]!) e.maxs.data[at] = max;
    }
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
    this.#widen(at, min, max);
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
      this.counts.length * (this.#extremes.length === 0 ? 2 : 4) +
      this.heldLength()
    );
  }

  /**
   * The figures now; with `window` (a delta reader's, {@link openWindow}), its min and max in place
   * of the life's, and the window closed: the next starts empty.
   */
  override snapshot(arena: SnapshotArena, window?: number): Snapshot {
    const snap: Snapshot = {
      n: this.counts.length,
      values: arena.copy(this.buckets),
      sums: arena.copy(this.sums),
      counts: arena.copy(this.counts),
    };
    const w = window === undefined ? undefined : this.#extremes[window + 1];
    const e = w ?? this.#extremes[0];
    if (e === undefined && this.exemplars === undefined) return this.held(snap, arena);
    return this.held(
      {
        ...snap,
        ...(e !== undefined && { mins: arena.copy(e.mins), maxs: arena.copy(e.maxs) }),
        ...(w !== undefined && { windowed: closeWindow(w) }),
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

/** One kind of a set's extremes: min and max per series. */
interface Extremes {
  readonly mins: Column;
  readonly maxs: Column;
}

/** Empties window `w` (its figures already copied): the next window starts from no record. */
function closeWindow(w: Extremes): true {
  w.mins.view().fill(Infinity);
  w.maxs.view().fill(-Infinity);
  return true;
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
