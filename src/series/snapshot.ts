/**
 * A series set's figures at one instant: copies of its columns, so a collection can be read over
 * several turns of the event loop and still describe one instant, across instruments too (a run's
 * `started` and `finished`).
 *
 * The copies are views of one {@link SnapshotArena} per collection: off the JS heap and in one
 * allocation. A snapshot lives through a whole sliced naming and rendering pass, and on the heap
 * every young-generation collection landing in that window would copy it on the event loop; one
 * buffer per instrument would be hundreds of allocations per scrape.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Exemplar } from './collection.ts';
import type { Column } from './column.ts';
import type { ExponentialSum } from '../common/exponential-histogram.ts';

export interface Snapshot {
  /** Series held at the instant (the first `n` of the set's series). */
  readonly n: number;
  /** Sums and gauges: the values; histograms: the bucket counts, `stride` per series. */
  readonly values: Float64Array;
  /** Histograms only: sums and counts per series. */
  readonly sums: Float64Array;
  readonly counts: Float64Array;
  /** Histograms that record them: min and max per series (the life's, or a delta reader's window's). */
  readonly mins?: Float64Array;
  readonly maxs?: Float64Array;
  /** `mins` and `maxs` are a delta reader's window's (histogram.ts `snapshot`). */
  readonly windowed?: true;
  /** Sums and gauges whose writer counts records (sum.ts `records`): each series' count. */
  readonly records?: Float64Array;
  /** Exponential histograms: each series' sums (`sums` and `counts` hold their sums and counts too). */
  readonly exponentials?: readonly ExponentialSum[];
  /** Sets that keep exemplars: the latest per series (sums) or per bucket (histograms). */
  readonly exemplars?: readonly (Exemplar | undefined)[];
  /** Sets that keep a start per series (series-set.ts `keepStarts`): its two parts. */
  readonly startSeconds?: Float64Array;
  readonly startNanos?: Float64Array;
  /**
   * Sets whose series are removed: the attributes at the instant (a compaction makes a new array,
   * so this one stays right for a reader still reading the snapshot).
   */
  readonly attributes?: readonly Attributes[];
}

export const NONE = new Float64Array(0);

/** A snapshot of no series (most of the catalog's instruments, until used). */
export const EMPTY_SNAPSHOT: Snapshot = { n: 0, values: NONE, sums: NONE, counts: NONE };

/** Where one collection's snapshots are copied: at least every set's `snapshotLength()`, filled in order. */
export class SnapshotArena {
  readonly storage: Float64Array;
  #at = 0;

  constructor(storage: Float64Array) {
    this.storage = storage;
  }

  /** A copy of `from`'s figures, as a view of the arena. */
  copy(from: Column): Float64Array {
    return this.copyOf(from.view());
  }

  /** A copy of `from`, as a view of the arena. */
  copyOf(from: ArrayLike<number>): Float64Array {
    const at = this.#at;
    const view = this.storage.subarray(at, at + from.length);
    view.set(from);
    this.#at = at + from.length;
    return view;
  }
}

/**
 * Snapshot storage kept from one collection to the next: the last storage a finished collection
 * gave back, lent again when large enough, else a new one with room for some growth. Memory fresh
 * from the system is mapped page by page on first write, and on these machines that made the
 * snapshot's copy (one turn: every set at one instant) many times slower than the copy itself;
 * storage given back is mapped already.
 */
export class SnapshotStorage {
  #free: Float64Array | undefined;

  /** An arena of at least `figures`. */
  arena(figures: number): SnapshotArena {
    const free = this.#free;
    if (free !== undefined && free.length >= figures) {
      this.#free = undefined;
      return new SnapshotArena(free);
    }
    return new SnapshotArena(new Float64Array(Math.ceil(figures * 1.125) + 64));
  }

  /** What gives `arena`'s storage back for a later collection, once (a Collection's `done`): nothing may read its views after. */
  lend(arena: SnapshotArena): () => void {
    const storage = arena.storage;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (this.#free === undefined || this.#free.length < storage.length) this.#free = storage;
    };
  }
}
