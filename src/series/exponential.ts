/**
 * Exponential histograms as a set of the store (the ingest writes them): identity, removal and
 * per-series starts are the set's (series-set.ts); each series' figures are one summed
 * `ExponentialSum` (common/exponential-histogram.ts), since their scale and offsets change as
 * points arrive and fit no fixed columns. A collection gives them as the columns of a producer's
 * exponential points (collection.ts `CollectedSeries.exponentials`): sums and counts as columns,
 * each series' buckets as the SDK shapes them.
 */
import { DataPointType } from '../common/otel-sdk.ts';
import type { HrTime } from '@opentelemetry/api';
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
    return this.heldLength() + 2 * this.values.length;
  }

  /** Each series' sums as they are now: a later one replaces them, so the snapshot keeps these. */
  snapshot(arena: SnapshotArena): Snapshot {
    const exponentials = this.values.map((v) => v ?? EMPTY_EXPONENTIAL);
    const n = exponentials.length;
    const sums = arena.copyOf(exponentials.map((v) => v.sum));
    const counts = arena.copyOf(exponentials.map((v) => v.count));
    return this.held({ n, values: NONE, sums, counts, exponentials }, arena);
  }

  collected(snap: Snapshot, startTime: HrTime): CollectedSeries | undefined {
    if (snap.n === 0) return undefined;
    const { sums, counts } = snap;
    const columns = { isMonotonic: false, stride: 0, bounds: [], values: NONE, sums, counts };
    const exponentials = snap.exponentials!.map(bucketsOf);
    return {
      ...this.collectedOf(snap, startTime, { ...columns, exemplars: undefined }),
      exponentials,
    };
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
