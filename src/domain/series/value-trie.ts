/**
 * Attribute values → series positions, compact: a trie keyed by the values in a walk order, one
 * `Map#get` per level on strings V8 has already hashed (no key building, sorting or JSON), whose
 * paths stop as soon as they are unique. A leaf is a series position — checked against that
 * series' own attributes — or an {@link Alias} (a raw set remembered for the series it folds or
 * resolves to, checked against its own values). So a series whose first value is its own costs one
 * map entry, not a map per level: the leaf check reads the rest from the attributes the series
 * keeps anyway.
 *
 * What must stay true: a leaf is only ever an accelerator. The index that walks the trie checks
 * every walked key of a leaf it reaches (series-set `attributes`, or the alias's), so a path shared
 * by two sets can only miss (the slow path resolves it), never answer with the wrong series.
 */
import type { Attributes } from '@opentelemetry/api';

/** A raw attribute set remembered for the series it resolves to. */
export interface Alias {
  /** The raw values, by key (what a record is checked against). */
  readonly attributes: Attributes;
  /** Its values in its walk order (what splits it when another path shares its start). */
  readonly path: readonly unknown[];
  readonly index: number;
}

export type Entry = number | Alias | Level;
export type Level = Map<unknown, Entry>;

export class ValueTrie {
  readonly root: Level = new Map();
  /** A series' values in its walk order. */
  readonly #pathOf: (index: number) => readonly unknown[];

  constructor(pathOf: (index: number) => readonly unknown[]) {
    this.#pathOf = pathOf;
  }

  /**
   * Remembers `path` → `leaf`: stops at the first level where the path is unique, pushing a leaf
   * that was there one level down. Returns whether it is remembered (not when another leaf ends
   * on the same full path).
   */
  insert(path: readonly unknown[], leaf: number | Alias): boolean {
    let level = this.root;
    for (let d = 0; d < path.length; d++) {
      const v = path[d];
      const e = level.get(v);
      if (e === undefined) {
        level.set(v, leaf);
        return true;
      }
      if (e instanceof Map) {
        level = e;
        continue;
      }
      const theirs = typeof e === 'number' ? this.#pathOf(e) : e.path;
      if (d + 1 >= path.length || d + 1 >= theirs.length) return false;
      const next: Level = new Map([[theirs[d + 1], e]]);
      level.set(v, next);
      level = next;
    }
    return false;
  }
}
