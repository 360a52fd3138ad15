/**
 * The series index of a writer that keys its series itself and removes them (the ingest: its
 * points arrive with the attribute-set key already made, attribute-key.ts, and its series expire):
 * one map entry per series, by that key. No bound and no overflow fold here: such a writer bounds
 * its series before it adds one (ingest/series-registry.ts charges and caps every series).
 *
 * What must stay true: a removed series' key is free at once (the same set comes back as a new
 * series, at the end); positions follow the set's compaction (series-set.ts `compact`), which
 * keeps the series' order.
 */
import type { Attributes } from '@opentelemetry/api';
import { attributeSetKey } from './attribute-key.ts';
import { EMPTY, type SeriesIndex } from './positions.ts';

export class KeyedSeriesIndex implements SeriesIndex {
  /** Replaced by a compaction (a new array: one handed out never changes but by growing). */
  attributes: Attributes[] = [];
  readonly seriesOf: (attributes: Attributes | undefined) => number;
  readonly #grow: () => void;
  readonly #byKey = new Map<string, number>();
  /** Each series' key, by position. */
  #keys: string[] = [];

  /** @param grow adds the storage of one more series. */
  constructor(grow: () => void) {
    this.#grow = grow;
    this.seriesOf = (a = EMPTY) => this.seriesOfKey(attributeSetKey(a), a);
  }

  /** The position of the series keyed `key`, or undefined. */
  positionOf(key: string): number | undefined {
    return this.#byKey.get(key);
  }

  /** The key of the series at `at`. */
  keyAt(at: number): string {
    return this.#keys[at]!;
  }

  /** The series keyed `key`, made of `attributes` (held as given: pass an object no one changes) on first sight. */
  seriesOfKey(key: string, attributes: Attributes): number {
    const found = this.#byKey.get(key);
    if (found !== undefined) return found;
    const at = this.attributes.length;
    this.attributes.push(attributes);
    this.#grow();
    this.#keys[at] = key;
    this.#byKey.set(key, at);
    return at;
  }

  /** The series at `at` is removed: its key no longer finds it (the set compacts it away later). */
  forget(at: number): void {
    const key = this.#keys[at]!;
    if (this.#byKey.get(key) === at) this.#byKey.delete(key);
  }

  compacted(moves: Int32Array, n: number): void {
    const keys = new Array<string>(n);
    const attributes = new Array<Attributes>(n);
    for (let i = 0; i < moves.length; i++) {
      const to = moves[i]!;
      if (to < 0) continue;
      const key = this.#keys[i]!;
      keys[to] = key;
      attributes[to] = this.attributes[i]!;
      if (to !== i) this.#byKey.set(key, to);
    }
    this.#keys = keys;
    this.attributes = attributes;
  }
}
