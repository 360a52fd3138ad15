/**
 * Attribute values -> series positions, compact: a trie keyed by the values in a walk order, one
 * lookup per level on strings V8 has already hashed (no key building, sorting or JSON), whose
 * paths stop as soon as they are unique. A leaf is a series position -- checked against that
 * series' own attributes -- or an {@link Alias} (a raw set remembered for the series it folds or
 * resolves to, checked against its own values). So a series whose first value is its own costs one
 * map entry, not a map per level: the leaf check reads the rest from the attributes the series
 * keeps anyway. A level below the root starts as a small array of value/entry pairs, scanned (a
 * `Map` of a few entries costs several times their size), and becomes a `Map` past
 * {@link SMALL_LEVEL} values.
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

/** A level of few values: value, entry, value, entry, ... */
type SmallLevel = unknown[];
export type Level = Map<unknown, Entry> | SmallLevel;
export type Entry = number | Alias | Level;

/** Values a small level holds before it becomes a map. */
const SMALL_LEVEL = 16;

/** Whether `e` is a level (else a leaf, or nothing). */
export function isLevel(e: Entry | undefined): e is Level {
  return e instanceof Map || Array.isArray(e);
}

/** The entry of `v` at `level` (NaN finds NaN, as in a map). */
export function step(level: Level, v: unknown): Entry | undefined {
  if (level instanceof Map) return level.get(v);
  for (let i = 0; i < level.length; i += 2)
    if (level[i] === v || (v !== v && level[i] !== level[i])) return level[i + 1] as Entry;
  return undefined;
}

export class ValueTrie {
  readonly root = new Map<unknown, Entry>();
  /** A series' values in its walk order. */
  readonly #pathOf: (index: number) => readonly unknown[];

  constructor(pathOf: (index: number) => readonly unknown[]) {
    this.#pathOf = pathOf;
  }

  /** The leaf or level `path` leads to (undefined: nothing there). */
  walk(path: readonly unknown[]): Entry | undefined {
    let e: Entry | undefined = this.root;
    for (let d = 0; isLevel(e) && d < path.length; d++) e = step(e, path[d]);
    return e;
  }

  /**
   * Remembers `path` -> `leaf`: stops at the first level where the path is unique, pushing a leaf
   * that was there one level down. Returns whether it is remembered (not when another leaf ends
   * on the same full path).
   */
  insert(path: readonly unknown[], leaf: number | Alias): boolean {
    let level: Level = this.root;
    /** Where `level` hangs (to replace a small level that grows into a map). */
    let parent: Level | undefined;
    let parentKey: unknown;
    for (let d = 0; d < path.length; d++) {
      const v = path[d];
      const e = step(level, v);
      if (e === undefined) {
        set(level, v, leaf, parent, parentKey);
        return true;
      }
      if (isLevel(e)) {
        parent = level;
        parentKey = v;
        level = e;
        continue;
      }
      const theirs = typeof e === 'number' ? this.#pathOf(e) : e.path;
      if (d + 1 >= path.length || d + 1 >= theirs.length) return false;
      const next: SmallLevel = [theirs[d + 1], e];
      replace(level, v, next);
      parent = level;
      parentKey = v;
      level = next;
    }
    return false;
  }
}

/**
 * Adds `v` -> `e` to `level`. A small level is replaced by a copy one pair longer, hung in its
 * place (an array grown by `push` keeps room for half as much again), or past its size by a map.
 */
function set(
  level: Level,
  v: unknown,
  e: Entry,
  parent: Level | undefined,
  parentKey: unknown,
): void {
  if (level instanceof Map) {
    level.set(v, e);
    return;
  }
  if (level.length < 2 * SMALL_LEVEL) {
    replace(parent!, parentKey, level.concat([v, e]));
    return;
  }
  const map = new Map<unknown, Entry>();
  for (let i = 0; i < level.length; i += 2) map.set(level[i], level[i + 1] as Entry);
  map.set(v, e);
  replace(parent!, parentKey, map);
}

/** Puts `e` in place of the entry of `v` at `level`. */
function replace(level: Level, v: unknown, e: Entry): void {
  if (level instanceof Map) {
    level.set(v, e);
    return;
  }
  for (let i = 0; i < level.length; i += 2) {
    if (level[i] === v || (v !== v && level[i] !== level[i])) {
      level[i + 1] = e;
      return;
    }
  }
}
