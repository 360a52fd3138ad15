/**
 * One instrument's series: its index (attribute sets -> positions, with the bounds and the overflow
 * fold: spec-index.ts, open-index.ts), its descriptor, its figures in typed columns (the kinds:
 * sum.ts (a gauge's too), histogram.ts, each with its rules to add and snapshot; deltas of every kind:
 * temporality.ts).
 *
 * A writer (jobmeter's synchronous storages, domain/storage/) records into a set; the store
 * (series-store.ts) reads every set at one instant into a {@link Collection}, or into OpenTelemetry
 * MetricData for a reader outside the scrape.
 *
 * Removal (a writer whose series expire: the ingest, through a keyed index, keyed-index.ts): a
 * removed series is a hole until the writer calls {@link SeriesSet.compact}, which moves every
 * later series down over the holes in one pass, keeping their order, and tells the writer where
 * each went. Chosen over moving the last series into a hole, which would reorder what a
 * collection serves (a series' place is the order it was made in, as it was when the ingest kept
 * them in maps), and over a free list with holes a collection skips, which would make every reader
 * skip holes. A compaction makes a new attributes array, never changes one handed out, so a
 * snapshot read over several turns stays right; a collection says which array it follows
 * (`CollectedSeries.compactedFrom`), so what a reader keeps by position follows the moves.
 */
import { AggregationTemporality, DataPointType } from '../common/otel-sdk.ts';
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { MetricData, MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { metricDataOf, type CollectedSeries } from './collection.ts';
import type { Snapshot, SnapshotArena } from './snapshot.ts';
import type { MakeIndex, SeriesIndex } from './positions.ts';

export abstract class SeriesSet {
  readonly descriptor: MetricDescriptor;
  /** The position of the series `attributes` records into (created on first sight). */
  readonly seriesOf: (attributes: Attributes | undefined) => number;
  abstract readonly dataPointType: DataPointType;
  readonly #index: SeriesIndex;
  /**
   * Each series' start, when the writer keeps one ({@link keepStarts}): an HrTime's two parts, so
   * a saved start comes back exactly as it was; plain arrays (of unboxed doubles), not columns: such
   * a writer holds many sets of a series or two (a scope each), where a typed array and its buffer
   * cost more than the figures.
   */
  #starts: { seconds: number[]; nanos: number[] } | undefined;
  /** Removed series not yet compacted away. */
  #removed: number[] = [];
  /** The attributes array before the last compaction (`CollectedSeries.compactedFrom`). */
  #compactedFrom: Attributes[] | undefined;

  /** @param index makes the set's index, given how to add storage for a new series. */
  constructor(descriptor: MetricDescriptor, index: MakeIndex) {
    this.descriptor = descriptor;
    const made = index(() => {
      this.grow();
      this.#starts?.seconds.push(0);
      this.#starts?.nanos.push(0);
    });
    this.#index = made;
    this.seriesOf = made.seriesOf;
  }

  /** The attributes of each series, by position (the index's, stable objects; a new array after a compaction). */
  get attributes(): Attributes[] {
    return this.#index.attributes;
  }

  /** Series held (the overflow series included, removed ones not yet compacted away too). */
  get size(): number {
    return this.#index.attributes.length;
  }

  /**
   * Keeps a start time per series, set by the writer with {@link startAt} (the ingest: a series
   * starts when its first point arrives, and a restored one keeps its saved start); call before the
   * first series. Collections and points then carry each series' own start.
   */
  keepStarts(): void {
    if (this.size > 0) throw new Error('keepStarts() before the first series');
    this.#starts = { seconds: [], nanos: [] };
  }

  /** Series `at` starts at `start` (a set that {@link keepStarts}). */
  startAt(at: number, start: HrTime): void {
    this.#starts!.seconds[at] = start[0];
    this.#starts!.nanos[at] = start[1];
  }

  /** Series `at`'s start time (a set that {@link keepStarts}). */
  startOf(at: number): HrTime {
    return [this.#starts!.seconds[at]!, this.#starts!.nanos[at]!];
  }

  /** Removed series waiting for {@link compact}. */
  get holes(): number {
    return this.#removed.length;
  }

  /**
   * Removes series `at` (once): its figures stay until {@link compact}, and collections read it
   * until then, so a writer compacts before it reads the set. Only a set whose index removes
   * series (keyed-index.ts).
   */
  remove(at: number): void {
    const index = this.#index;
    if (index.compacted === undefined) throw new Error("this set's series are never removed");
    index.forget?.(at);
    this.#removed.push(at);
  }

  /**
   * Moves the series down over the holes, in order: returns where each went (`moves[i]`, -1:
   * removed), for the writer's own positions; undefined when nothing was removed.
   */
  compact(): Int32Array | undefined {
    if (this.#removed.length === 0) return undefined;
    const attributes = this.#index.attributes;
    const moves = new Int32Array(attributes.length);
    for (const at of this.#removed) moves[at] = -1;
    this.#removed = [];
    let n = 0;
    for (let i = 0; i < moves.length; i++) {
      if (moves[i] === -1) continue;
      moves[i] = n;
      if (i !== n) {
        this.moveSeries(i, n);
        if (this.#starts !== undefined) {
          this.#starts.seconds[n] = this.#starts.seconds[i]!;
          this.#starts.nanos[n] = this.#starts.nanos[i]!;
        }
      }
      n++;
    }
    this.keepSeries(n);
    if (this.#starts !== undefined) this.#starts.seconds.length = this.#starts.nanos.length = n;
    this.#index.compacted!(moves, n);
    this.#compactedFrom = attributes;
    return moves;
  }

  /** Moves series `from`'s figures to position `to` (below it), for {@link compact}. */
  protected abstract moveSeries(from: number, to: number): void;

  /** Keeps the first `n` series' figures, for {@link compact}. */
  protected abstract keepSeries(n: number): void;

  /** Adds the storage of one more series. */
  protected abstract grow(): void;

  /** What every kind's snapshot adds to its figures: the starts, and the attributes of a set whose series move. */
  protected held(snap: Snapshot, arena: SnapshotArena): Snapshot {
    const starts = this.#starts;
    const moving = this.#index.compacted !== undefined;
    if (starts === undefined && !moving) return snap;
    return {
      ...snap,
      ...(starts !== undefined && {
        startSeconds: arena.copyOf(starts.seconds),
        startNanos: arena.copyOf(starts.nanos),
      }),
      ...(moving && { attributes: this.#index.attributes }),
    };
  }

  /** The figures {@link held} adds to a snapshot. */
  protected heldLength(): number {
    return this.#starts === undefined ? 0 : 2 * this.#starts.seconds.length;
  }

  /** The attributes of a snapshot's series. */
  protected keysOf(snap: Snapshot): readonly Attributes[] {
    return snap.attributes ?? this.#index.attributes;
  }
  /** How many figures {@link snapshot} copies into the arena now. */
  abstract snapshotLength(): number;
  /**
   * The figures now, copied into `arena`; `window`: a delta reader's ({@link openWindow}), whose
   * extremes it reads and closes (a histogram's min and max; no other kind keeps any).
   */
  abstract snapshot(arena: SnapshotArena, window?: number): Snapshot;
  /** Opens the next delta reader's window (series-store.ts `producer`): a kind with extremes keeps one. */
  openWindow(): void {}
  /** A delta reader reads the set (series-store.ts `producer`): a kind that counts its records starts (sum.ts). */
  countRecords(): void {}
  /** The snapshot as the naming pass reads it (undefined when it holds no series). */
  abstract collected(snap: Snapshot, startTime: HrTime): CollectedSeries | undefined;
  /** The snapshot as MetricData, or undefined when it holds no series: its columns' points, made now. */
  cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime): MetricData | undefined {
    const collected = this.collected(snap, startTime);
    return collected && metricDataOf(collected, endTime, snap);
  }

  /** The fields every collected set shares; `columns` gives the kind's figures. */
  protected collectedOf(
    snap: Snapshot,
    startTime: HrTime,
    columns: Pick<
      CollectedSeries,
      'isMonotonic' | 'stride' | 'bounds' | 'values' | 'sums' | 'counts' | 'exemplars'
    >,
  ): CollectedSeries {
    const attributes = this.keysOf(snap);
    // Every field written out, in one order: an object spread into would get a hidden class of its
    // own that a full GC drops (objects made per scrape), and with it the naming pass's optimized code.
    return {
      descriptor: this.descriptor,
      dataPointType: this.dataPointType,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      n: snap.n,
      attributes,
      startTime,
      // A compaction since the snapshot (a writer's series removed while the collection is read
      // over several turns) is none this array follows.
      compactedFrom: attributes === this.attributes ? this.#compactedFrom : undefined,
      isMonotonic: columns.isMonotonic,
      stride: columns.stride,
      bounds: columns.bounds,
      values: columns.values,
      sums: columns.sums,
      counts: columns.counts,
      exemplars: columns.exemplars,
      startSeconds: snap.startSeconds,
      startNanos: snap.startNanos,
    };
  }
}
