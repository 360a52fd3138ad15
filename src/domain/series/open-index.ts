/**
 * The series index of an instrument jobmeter has no spec for — a host's, made on jobmeter's
 * provider, that no View selects: attribute sets as given, at most `limit - 1` of them for the
 * instrument's life, then one overflow series (`otel.metric.overflow`), the budget an SDK
 * instrument gets from AttributeSetCap.
 *
 * A record walks a tree keyed by the attribute values in the attributes object's own key order (a
 * literal of one shape always enumerates the same way), then checks the key names at the node it
 * reached: one `Map#get` per attribute, no sorting, no JSON. The first time a raw set is seen it is
 * resolved by its identity (attribute-key.ts, the one key every engine uses: keys sorted, undefined
 * and null values left out, as the SDK hashes attributes), so the same set in another key order
 * shares its series. Raw paths are
 * remembered up to a budget (twice the limit); past it, and for values that are objects (arrays,
 * which a map would key by identity), a set is resolved every time: slower, flat memory.
 */
import type { Attributes } from '@opentelemetry/api';
import { OVERFLOW_ATTRIBUTES } from '../bounded-attributes.ts';
import { attributeSetKey } from './attribute-key.ts';
import { EMPTY, type SeriesIndex } from './spec-index.ts';

/** A node of the raw-path tree: children by the next attribute's value; the series of the path ending here. */
class Node {
  children: Map<unknown, Node> | undefined;
  /** The key names of the path ending here, in order, and its series. */
  keys: readonly string[] | undefined;
  index = -1;
}

export class OpenSeriesIndex implements SeriesIndex {
  readonly attributes: Attributes[] = [];
  readonly seriesOf: (attributes: Attributes | undefined) => number;

  readonly #grow: () => void;
  readonly #max: number;
  readonly #root = new Node();
  readonly #canonical = new Map<string, number>();
  #paths = 0;
  #overflow = -1;

  /**
   * @param limit series the instrument may hold, the overflow series included (≥ 1).
   * @param grow adds the storage of one more series.
   */
  constructor(limit: number, grow: () => void) {
    this.#grow = grow;
    this.#max = Math.max(0, limit - 1);
    const root = this.#root;
    this.seriesOf = (a = EMPTY) => {
      let node: Node | undefined = root;
      let n = 0;
      for (const k in a) {
        node = node.children?.get(a[k]);
        if (node === undefined) return this.#resolve(a);
        n++;
      }
      const keys = node.keys;
      if (keys === undefined || keys.length !== n) return this.#resolve(a);
      let i = 0;
      for (const k in a) if (keys[i++] !== k) return this.#resolve(a);
      return node.index;
    };
  }

  /** The slow path: the set's canonical form, found or given a series, and its raw path remembered. */
  #resolve(a: Attributes): number {
    const keys: string[] = [];
    let rememberable = true;
    for (const k in a) {
      keys.push(k);
      const v = a[k];
      if (v !== null && typeof v === 'object') rememberable = false;
    }
    const canonical = attributeSetKey(a);
    let index = this.#canonical.get(canonical);
    if (index === undefined) {
      if (this.#canonical.size >= this.#max) {
        if (this.#overflow < 0) this.#overflow = this.#newSeries(OVERFLOW_ATTRIBUTES);
        index = this.#overflow;
        if (rememberable && this.#paths < 2 * (this.#max + 1)) this.#remember(a, keys, index);
        return index;
      }
      // A copy, in the caller's key order (labels render in it): the caller may reuse its object.
      const copy: Attributes = {};
      for (const k of keys) if (a[k] !== undefined && a[k] !== null) copy[k] = Array.isArray(a[k]) ? [...(a[k] as unknown[])] as Attributes[string] : a[k];
      index = this.#newSeries(copy);
      this.#canonical.set(canonical, index);
    }
    if (rememberable && this.#paths < 2 * (this.#max + 1)) this.#remember(a, keys, index);
    return index;
  }

  #remember(a: Attributes, keys: readonly string[], index: number): void {
    let node = this.#root;
    for (const k of keys) {
      const children = (node.children ??= new Map());
      let next = children.get(a[k]);
      if (next === undefined) children.set(a[k], (next = new Node()));
      node = next;
    }
    // Another key list already ends at this node (`{a: 'x'}` beside `{b: 'x'}`): it keeps it.
    if (node.keys !== undefined) return;
    node.keys = keys;
    node.index = index;
    this.#paths++;
  }

  #newSeries(attributes: Attributes): number {
    this.attributes.push(attributes);
    this.#grow();
    return this.attributes.length - 1;
  }
}
