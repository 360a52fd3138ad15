/**
 * One instrument's series: its index (attribute sets -> positions, with the bounds and the overflow
 * fold: spec-index.ts, open-index.ts), its descriptor, its figures in typed columns (the kinds:
 * sum.ts (a gauge's too), histogram.ts, each with its rules to add and snapshot; deltas of every kind:
 * temporality.ts), and the label strings readers made of its series (checked once, held here once
 * per series for a reader that reads them as an array: {@link labels}).
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
 * skip holes. Label strings held by position follow the same moves (`Labels`, synced at the next
 * `labels` call); a compaction makes new arrays (attributes, strings), never changes one handed
 * out, so a snapshot read over several turns stays right.
 */
import { AggregationTemporality, DataPointType } from '../common/otel-sdk.ts';
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { MetricData, MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { holdShape } from '../common/held-shapes.ts';
import {
  metricDataOf,
  type CollectedSeries,
  type LabelColumn,
  type LabelRender,
} from './collection.ts';
import type { Snapshot, SnapshotArena } from './snapshot.ts';
import type { SeriesIndex } from './positions.ts';

/** What a set holds of one reader's label strings (see {@link SeriesSet.labels}). */
class Labels {
  /** Series whose string was made and checked for ASCII. */
  checked = 0;
  nonAscii = 0;
  /** The strings, once the reader asked for them as an array. */
  strings: readonly string[] | undefined;
  /** The set's compactions these positions follow (see {@link SeriesSet.compact}). */
  compactions = 0;
}

/** What the last compaction moved: series `i` went to `moves[i]`, the removed (-1) had `removed` (by old position). */
interface Compaction {
  readonly moves: Int32Array;
  readonly removed: readonly (readonly [number, Attributes])[];
}

/** A set's label strings at one collection (collection.ts `LabelColumn`). */
class StoreLabels implements LabelColumn {
  readonly keys: readonly Attributes[];
  readonly maker: LabelRender;
  readonly nonAscii: number;
  readonly #held: Labels;
  readonly #n: number;
  /** The strings made to check the series new at this collection, from `#from` on; dropped with this object. */
  readonly #fresh: readonly string[] | undefined;
  readonly #from: number;
  #strings: readonly string[] | undefined;

  constructor(
    keys: readonly Attributes[],
    render: LabelRender,
    held: Labels,
    n: number,
    from: number,
    fresh: readonly string[] | undefined,
  ) {
    this.keys = keys;
    this.maker = render;
    this.nonAscii = held.nonAscii;
    this.#held = held;
    this.#n = n;
    this.#from = from;
    this.#fresh = fresh;
  }

  at(i: number): string {
    const kept = this.#held.strings;
    if (kept !== undefined && i < kept.length) return kept[i]!;
    const fresh = this.#fresh;
    if (fresh !== undefined && i >= this.#from) return fresh[i - this.#from]!;
    return this.maker.render(this.keys[i]!);
  }

  get strings(): readonly string[] {
    if (this.#strings !== undefined) return this.#strings;
    const held = this.#held;
    const n = this.#n;
    let kept = held.strings ?? [];
    if (kept.length < n) {
      // A new array of exactly `n` (a handed-out one never changes; `push` would keep spare room).
      const grown = new Array<string>(n);
      for (let i = 0; i < kept.length; i++) grown[i] = kept[i]!;
      for (let i = kept.length; i < n; i++) grown[i] = this.at(i);
      kept = held.strings = grown;
    }
    // A collection older than the strings made since (a reader's earlier instant) reads a prefix.
    return (this.#strings = kept.length === n ? kept : kept.slice(0, n));
  }
}

/** The label strings of the first `n` of `keys`, made for one reader and kept by nobody (a snapshot's series whose set moved them since). */
function detachedLabels(keys: readonly Attributes[], render: LabelRender, n: number): LabelColumn {
  const strings = new Array<string>(n);
  let nonAscii = 0;
  for (let i = 0; i < n; i++) {
    const s = (strings[i] = render.render(keys[i]!));
    if (!render.isAscii(s)) nonAscii++;
  }
  return { strings, at: (i) => strings[i]!, keys, maker: render, nonAscii };
}

// Made at every collection and dropped after it: its hidden class is held (common/held-shapes.ts).
holdShape(
  new StoreLabels([], { render: () => '', isAscii: () => true }, new Labels(), 0, 0, undefined),
);

export abstract class SeriesSet {
  readonly descriptor: MetricDescriptor;
  /** The position of the series `attributes` records into (created on first sight). */
  readonly seriesOf: (attributes: Attributes | undefined) => number;
  abstract readonly dataPointType: DataPointType;
  /** Label strings by the reader's render (dropped with it); made when first read (a writer's many small sets may never be). */
  #labels: WeakMap<LabelRender, Labels> | undefined;
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
  #compactions = 0;
  #last: Compaction | undefined;

  /** @param index makes the set's index, given how to add storage for a new series. */
  constructor(descriptor: MetricDescriptor, index: (grow: () => void) => SeriesIndex) {
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
    const removed: [number, Attributes][] = [];
    let n = 0;
    for (let i = 0; i < moves.length; i++) {
      if (moves[i] === -1) {
        removed.push([i, attributes[i]!]);
        continue;
      }
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
    this.#compactions++;
    this.#last = { moves, removed };
    return moves;
  }

  /** Moves series `from`'s figures to position `to` (below it), for {@link compact}. */
  protected abstract moveSeries(from: number, to: number): void;

  /** Keeps the first `n` series' figures, for {@link compact}. */
  protected abstract keepSeries(n: number): void;

  /** Brings `held` (made before the last compactions) to the positions now. */
  #follow(held: Labels, render: LabelRender): void {
    const last = this.#last;
    if (last === undefined || held.compactions !== this.#compactions - 1) {
      // Further behind than one compaction: the strings are made again.
      held.checked = held.nonAscii = 0;
      held.strings = undefined;
    } else {
      const { moves, removed } = last;
      const strings = held.strings;
      let gone = 0;
      for (const [at, attributes] of removed) {
        if (at >= held.checked) break;
        gone++;
        if (
          !render.isAscii(
            strings !== undefined && at < strings.length ? strings[at]! : render.render(attributes),
          )
        )
          held.nonAscii--;
      }
      held.checked -= gone;
      if (strings !== undefined) {
        const kept: string[] = [];
        for (let i = 0; i < strings.length; i++) if (moves[i]! >= 0) kept.push(strings[i]!);
        held.strings = kept;
      }
    }
    held.compactions = this.#compactions;
  }

  /**
   * The label strings of the first `n` series as `render` makes them. Each series' string is made
   * once when it is first collected, to count those not all ASCII, and dropped after this
   * collection unless the reader reads the column's `strings`: those the set keeps for as long as
   * `render` lives (a series' attributes never change, so its string never does). A reader that
   * keeps its own rendering (the render memo) asks only for the strings of series new to it.
   */
  labels(render: LabelRender, n: number): LabelColumn {
    const all = (this.#labels ??= new WeakMap());
    let held = all.get(render);
    if (held === undefined) {
      all.set(render, (held = new Labels()));
      held.compactions = this.#compactions;
    }
    if (held.compactions !== this.#compactions) this.#follow(held, render);
    const from = held.checked;
    let fresh: string[] | undefined;
    if (from < n) {
      fresh = new Array<string>(n - from);
      for (let i = from; i < n; i++) {
        const s = render.render(this.attributes[i]!);
        if (!render.isAscii(s)) held.nonAscii++;
        fresh[i - from] = s;
      }
      held.checked = n;
    }
    return new StoreLabels(this.attributes, render, held, n, from, fresh);
  }

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
  /** The figures now, copied into `arena`. */
  abstract snapshot(arena: SnapshotArena): Snapshot;
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
    // A compaction since the snapshot (a writer's series removed while the collection is read over
    // several turns) moved the positions the held strings follow: the snapshot's are made apart.
    const labels = (render: LabelRender) =>
      attributes === this.attributes
        ? this.labels(render, snap.n)
        : detachedLabels(attributes, render, snap.n);
    // Every field written out, in one order: an object spread into would get a hidden class of its
    // own that a full GC drops (objects made per scrape), and with it the naming pass's optimized code.
    return {
      descriptor: this.descriptor,
      dataPointType: this.dataPointType,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      n: snap.n,
      attributes,
      startTime,
      labels,
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
