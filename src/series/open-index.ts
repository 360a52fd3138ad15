/**
 * The series index of an instrument jobmeter has no spec for -- a host's, made on jobmeter's
 * provider, that no View selects: attribute sets as given, at most `limit - 1` of them for the
 * instrument's life, then one overflow series (`otel.metric.overflow`), the budget an SDK
 * instrument gets from AttributeSetCap.
 *
 * A record walks a compact trie (value-trie.ts) keyed by the attribute values in the attributes
 * object's own key order (a literal of one shape always enumerates the same way; undefined and
 * null values are left out, as the SDK leaves them out), then checks the leaf it reached: every
 * key's value, and as many keys as the series has. One `Map#get` per attribute at most, no
 * sorting, no JSON, and one map entry per series: the check reads the rest from the series' own
 * attributes.
 *
 * A set not found that way is resolved in each key order a series was made in (its shapes), so
 * the same set in another key order shares its series (the SDK's identity: keys sorted, values
 * compared, attribute-key.ts); its own path is then remembered too, up to a budget (twice the
 * limit). Sets holding arrays are known by their key (attribute-key.ts), never by a path: a map
 * would key an array by identity. So is a set whose path another set's leaf holds (its values are
 * the other's, or begin them: `{a: 'x'}` and `{a: 'x', b: 'u'}`), which the trie cannot remember:
 * each of its records takes the slow path, but finds its one series.
 */
import type { Attributes } from '@opentelemetry/api';
import { attributesTemplate, setAttribute } from '../common/set-attribute.ts';
import { attributeSetKey } from './attribute-key.ts';
import { Positions } from './positions.ts';
import { EMPTY, type SeriesIndex } from './positions.ts';
import { isLevel, step, ValueTrie, type Alias, type Entry } from './value-trie.ts';

/** Key orders remembered per instrument (a host uses one or two literals per instrument). */
const MAX_SHAPES = 16;

/** The attributes of a leaf (a series' own, or an alias's). */
function leafAttributes(e: number | Alias, attributes: readonly Attributes[]): Attributes {
  return typeof e === 'number' ? attributes[e]! : e.attributes;
}

/** Whether `a` holds exactly `s`'s entries (`n`: `a`'s defined values); NaN equals NaN, as in a map key. */
function sameSet(a: Attributes, s: Attributes, n: number): boolean {
  let m = 0;
  for (const k in s) {
    m++;
    const x = s[k];
    const y = a[k];
    if (x !== y && (x === x || y === y)) return false;
  }
  return m === n;
}

export class OpenSeriesIndex implements SeriesIndex {
  readonly attributes: Attributes[];
  readonly #positions: Positions;
  readonly seriesOf: (attributes: Attributes | undefined) => number;

  readonly #max: number;
  readonly #trie: ValueTrie;
  /** The key orders series were made in, by their joined names, each with its attributes' template. */
  readonly #shapes = new Map<string, { keys: readonly string[]; template: Attributes }>();
  /**
   * Sets no path finds, by their key: those holding arrays, and those whose path is another set's
   * (the trie keeps one leaf per path: `{a: 'x'}` after `{b: 'x'}`).
   */
  readonly #byKey = new Map<string, number>();
  #paths = 0;
  #empty = -1;
  /** Series made (the overflow series not included). */
  #admitted = 0;

  /**
   * @param limit series the instrument may hold, the overflow series included (>= 1).
   * @param grow adds the storage of one more series.
   */
  constructor(limit: number, grow: () => void) {
    this.#positions = new Positions(grow);
    this.attributes = this.#positions.attributes;
    this.#max = Math.max(0, limit - 1);
    const attributes = this.attributes;
    // A series' path: its values in its own key order (its attributes are a copy in the order it was first recorded in).
    this.#trie = new ValueTrie((i) => Object.values(attributes[i]!));
    const root = this.#trie.root;
    this.seriesOf = (a = EMPTY) => {
      let e: Entry | undefined = root;
      let n = 0;
      for (const k in a) {
        const v = a[k];
        if (v === undefined || v === null) continue;
        n++;
        if (e instanceof Map) e = e.get(v);
        else if (Array.isArray(e)) e = step(e, v);
      }
      if (e !== undefined && !isLevel(e) && sameSet(a, leafAttributes(e, attributes), n))
        return typeof e === 'number' ? e : e.index;
      return this.#resolve(a);
    };
  }

  /** The slow path: the set found in another key order, or given a series; its own path remembered. */
  #resolve(a: Attributes): number {
    const keys: string[] = [];
    const values: unknown[] = [];
    let rememberable = true;
    for (const k in a) {
      const v = a[k];
      if (v === undefined || v === null) continue;
      keys.push(k);
      values.push(v);
      if (typeof v === 'object') rememberable = false;
    }
    if (keys.length === 0) {
      if (this.#empty >= 0) return this.#empty;
      if (this.#admitted >= this.#max) return this.#positions.overflowSeries();
      this.#admitted++;
      return (this.#empty = this.#positions.add({}));
    }
    if (!rememberable) return this.#byArrays(a, keys);
    let index = this.#inShapes(a, keys);
    if (index === undefined && this.#byKey.size > 0) index = this.#byKey.get(attributeSetKey(a));
    if (index === undefined) {
      if (this.#admitted >= this.#max) {
        index = this.#positions.overflowSeries();
        this.#remember(values, { attributes: copyOf(a, keys), path: values, index });
        return index;
      }
      const names = keys.join('\0');
      let shape = this.#shapes.get(names);
      if (shape === undefined && this.#shapes.size < MAX_SHAPES)
        this.#shapes.set(names, (shape = { keys, template: attributesTemplate(keys) }));
      const copy = copyOf(a, keys, shape?.template);
      index = this.#positions.add(copy);
      this.#admitted++;
      if (this.#trie.insert(values, index)) this.#paths++;
      else this.#byKey.set(attributeSetKey(copy), index);
      return index;
    }
    this.#remember(values, { attributes: this.attributes[index]!, path: values, index });
    return index;
  }

  /** The series of `a` (its defined `keys`) walked in each remembered key order of the same keys. */
  #inShapes(a: Attributes, keys: readonly string[]): number | undefined {
    for (const { keys: shape } of this.#shapes.values()) {
      if (shape.length !== keys.length) continue;
      const e = this.#trie.walk(shape.map((k) => a[k]));
      if (
        e !== undefined &&
        !isLevel(e) &&
        sameSet(a, leafAttributes(e, this.attributes), keys.length)
      ) {
        const index = typeof e === 'number' ? e : e.index;
        if (index !== this.#positions.overflow) return index;
      }
    }
    return undefined;
  }

  /** A set holding arrays: known by its key. */
  #byArrays(a: Attributes, keys: readonly string[]): number {
    const key = attributeSetKey(a);
    let index = this.#byKey.get(key);
    if (index !== undefined) return index;
    if (this.#admitted >= this.#max) return this.#positions.overflowSeries();
    // A copy (the caller may reuse its object), arrays too.
    const copy: Attributes = {};
    for (const k of keys)
      setAttribute(
        copy,
        k,
        Array.isArray(a[k]) ? ([...(a[k] as unknown[])] as Attributes[string]) : a[k],
      );
    index = this.#positions.add(copy);
    this.#admitted++;
    this.#byKey.set(key, index);
    return index;
  }

  /** Remembers a raw path, up to the budget. */
  #remember(path: readonly unknown[], alias: Alias): void {
    if (this.#paths < 2 * (this.#max + 1) && this.#trie.insert(path, alias)) this.#paths++;
  }
}

/**
 * `a`'s defined entries, in its key order (labels render in it): the caller may reuse its object.
 * Spread from `template` (`keys` as its properties, in order) when given, so the copy, one a
 * series, is exactly its size (common/set-attribute.ts `attributesTemplate`).
 */
function copyOf(a: Attributes, keys: readonly string[], template?: Attributes): Attributes {
  const copy: Attributes = template === undefined ? {} : { ...template };
  for (const k of keys) setAttribute(copy, k, a[k]);
  return copy;
}
