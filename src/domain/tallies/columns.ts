/**
 * A tally's cumulative MetricData read as columns instead of points: what the naming pass reads
 * when it is there (naming/to-families.ts), so that a scrape makes no object per series. The
 * points a MetricData gives on read (store.ts `pointsOnRead`) are one object per series and
 * scrape, only to be read for two fields and dropped; at a large scrape they are most of the
 * garbage whose scavenges land on the event loop. A consumer that does not know the columns reads
 * `dataPoints` as before: the columns ride on the MetricData under a symbol, not enumerable.
 *
 * What must hold: the columns describe exactly the points `dataPoints` gives (same series, same
 * order, same figures), and a tally offers them only when a point carries nothing more that a
 * renderer reads (no exemplars).
 *
 * The figures are views of the collection's snapshot storage. A consumer that is done with a
 * collection, and keeps nothing that views it, gives the storage back ({@link releaseCollection}),
 * so the next collection copies into memory already mapped; one that does not simply leaves it to
 * the GC. After the release, neither the columns nor the points may be read again.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** A collection's hold on its snapshot storage (store.ts): given back, the storage serves a later collection. */
export interface ArenaLease {
  /** Gives the storage back; later calls do nothing. */
  release(): void;
}

export interface SeriesColumns {
  /** Series in the collection: the first `n` of `attributes`. */
  readonly n: number;
  /** The tally's attributes objects, one per series, the same objects from one collection to the next. */
  readonly attributes: readonly Attributes[];
  /** The snapshot's figures (a view of the collection's arena): a sum's or gauge's values; a histogram's bucket counts, `stride` per series. */
  readonly values: Float64Array;
  /** Histograms: buckets per series (bounds + the +Inf one), and the bounds. */
  readonly stride: number;
  readonly bounds: readonly number[];
  /** Histograms: sum and count per series. */
  readonly sums: Float64Array;
  readonly counts: Float64Array;
  /** Every series' start time (a tally's series all start with the store). */
  readonly startTime: HrTime;
  /** The collection's hold on the storage `values`, `sums` and `counts` are views of. */
  readonly lease: ArenaLease;
}

const COLUMNS = Symbol('jobmeter.seriesColumns');

/** `metric`, carrying `columns` (see the file comment). */
export function withColumns<M extends MetricData>(metric: M, columns: SeriesColumns): M {
  return Object.defineProperty(metric, COLUMNS, { value: columns, enumerable: false });
}

const NO_BOUNDS: readonly number[] = [];
const NONE = new Float64Array(0);

/** The columns of a sum's or gauge's snapshot (`values`: one per series). */
export function valueColumns(attributes: readonly Attributes[], n: number, values: Float64Array, startTime: HrTime, lease: ArenaLease): SeriesColumns {
  return { n, attributes, values, stride: 1, bounds: NO_BOUNDS, sums: NONE, counts: NONE, startTime, lease };
}

/** The columns `metric` carries, when a tally made it so. */
export function columnsOf(metric: MetricData): SeriesColumns | undefined {
  return (metric as { [COLUMNS]?: SeriesColumns })[COLUMNS];
}

/**
 * Gives back the snapshot storage of every tally MetricData in `rm` (see the file comment): call
 * once done with `rm`, when nothing made from it views its figures.
 */
export function releaseCollection(rm: ResourceMetrics): void {
  for (const scope of rm.scopeMetrics) for (const m of scope.metrics) columnsOf(m)?.lease.release();
}
