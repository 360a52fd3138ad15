/**
 * The series index of an instrument jobmeter has a spec for: attribute sets -> series indexes,
 * bounded by the spec.
 *
 * How a record finds its series. The index keeps a compact trie (value-trie.ts) keyed by the *raw*
 * attribute values in the declared attribute order (no key sorting, no JSON, no string building:
 * at most one `Map#get` per declared attribute, on strings V8 has already hashed), ending in the
 * series' position, checked against the series' attributes. The bounds --
 * allow-list, closed vocabulary or cap folding into `other`, values cut at 256 characters
 * (`MAX_VALUE_LENGTH`), at most {@link MAX_SERIES_PER_INSTRUMENT} series then one overflow series --
 * are the views' own folds (bounded-attributes.ts), applied once, the first time a raw set is
 * seen; raw sets that fold onto one attribute set share its series. Folding is deterministic once
 * a value has been seen (a capped vocabulary only grows, up to its cap), so remembering the result
 * is the same as folding on every record, as the SDK's views do.
 *
 * With two or more attributes whose vocabularies are small enough ({@link DenseSets}), the folded
 * sets are a table instead, indexed by each value's code: 4 B a set where a trie level's map
 * entry costs ~36 (bench/heap.ts), and the same two map lookups a record. A raw value with a code
 * is a folded value, which folds to itself, so a record found there needs no check.
 *
 * Memory is bounded whatever the churn: the trie holds the folded sets (one per series, bounded by
 * the caps) plus at most {@link RAW_KEYS_PER_INSTRUMENT} aliases for raw sets that differ from
 * their folded set (values folded into `other`, numbers, cut values). Past that, such sets are
 * folded on every record without being remembered (slower, ~ the SDK's cost, but flat memory).
 * Values that are not primitives (arrays) are never remembered: a map would key them by identity.
 */
import type { Attributes } from '@opentelemetry/api';
import { attributesTemplate } from '../../common/set-attribute.ts';
import { createFold, maxAttributeSets, toLabelString, type Fold } from '../bounded-attributes.ts';
import { OTHER, type InstrumentSpec } from '../types.ts';
import { EMPTY, Positions, type SeriesIndex } from '../../series/positions.ts';
import { isLevel, step, ValueTrie, type Entry } from '../../series/value-trie.ts';

/** Raw attribute sets remembered per instrument beyond the folded ones (see the file comment). */
export const RAW_KEYS_PER_INSTRUMENT = 1024;

/** Most slots of a {@link DenseSets} table (4 B each). */
const MAX_DENSE_SLOTS = 65_536;

/**
 * An instrument's folded attribute sets by their values' codes: per attribute, each folded value
 * (at most its vocabulary and `other`) gets a code from 1 in the order first seen, 0 standing for
 * the attribute left out; a set's slot is its codes in mixed radix, holding its position + 1.
 */
class DenseSets {
  readonly keys: readonly string[];
  readonly codes: Map<unknown, number>[];
  readonly radix: readonly number[];
  table: Int32Array | undefined;
  readonly #slots: number;

  constructor(keys: readonly string[], radix: readonly number[], slots: number) {
    this.keys = keys;
    this.radix = radix;
    this.#slots = slots;
    this.codes = radix.map(() => new Map<unknown, number>());
  }

  /** Position + 1 of set `a` (raw or folded); 0 when a value has no code or the set no series. */
  find(a: Attributes): number {
    let slot = 0;
    for (let i = 0; i < this.keys.length; i++) {
      const v = a[this.keys[i]!];
      const c = v === undefined ? 0 : this.codes[i]!.get(v);
      if (c === undefined) return 0;
      slot = slot * this.radix[i]! + c;
    }
    return this.table === undefined ? 0 : this.table[slot]!;
  }

  /**
   * Puts folded set `folded` (undefined: left out) at `index`, coding its new values. False when a
   * value would take a code past its radix: a fold gives at most its vocabulary and `other`, so
   * only a broken one would (the set then stays in the trie).
   */
  add(folded: readonly (string | undefined)[], index: number): boolean {
    let slot = 0;
    for (let i = 0; i < folded.length; i++) {
      const v = folded[i];
      const codes = this.codes[i]!;
      let c = v === undefined ? 0 : codes.get(v);
      if (c === undefined) {
        if (codes.size + 1 >= this.radix[i]!) return false;
        codes.set(v, (c = codes.size + 1));
      }
      slot = slot * this.radix[i]! + c;
    }
    (this.table ??= new Int32Array(this.#slots))[slot] = index + 1;
    return true;
  }
}

/** The dense table of `spec`'s folded sets, when it has two or more attributes and the table is small beside its limit. */
function denseSets(spec: InstrumentSpec, limit: number): DenseSets | undefined {
  if (spec.attributes.length < 2) return undefined;
  const radix = spec.attributes.map((a) => (a.values?.length ?? a.cap ?? 0) + 2);
  const slots = radix.reduce((n, r) => n * r, 1);
  return slots <= MAX_DENSE_SLOTS && slots <= 4 * limit
    ? new DenseSets(
        spec.attributes.map((a) => a.key),
        radix,
        slots,
      )
    : undefined;
}

export class SpecSeriesIndex implements SeriesIndex {
  readonly attributes: Attributes[];
  readonly #positions: Positions;
  readonly seriesOf: (attributes: Attributes | undefined) => number;

  readonly #keys: readonly string[];
  readonly #folds: readonly Fold[];
  readonly #template: Attributes;
  readonly #trie: ValueTrie;
  readonly #limit: number;
  /** The cap of a single capped attribute, enforced on the series map itself (no second set); -1 otherwise. */
  readonly #soleCap: number;
  /** The folded sets as a table (then not in the trie, which keeps the aliases), when small enough. */
  readonly #dense: DenseSets | undefined;
  #admitted = 0;
  #rawEntries = 0;
  #only = -1;

  /** @param grow adds the storage of one more series (called as each series is made). */
  constructor(spec: InstrumentSpec, grow: () => void) {
    this.#positions = new Positions(grow);
    this.attributes = this.#positions.attributes;
    const keys = spec.attributes.map((a) => a.key);
    this.#keys = keys;
    this.#limit = maxAttributeSets(spec.attributes);
    const sole = spec.attributes.length === 1 ? spec.attributes[0]! : undefined;
    this.#soleCap =
      sole?.values === undefined && sole?.cap !== undefined && sole.cap < this.#limit
        ? sole.cap
        : -1;
    this.#folds = this.#soleCap >= 0 ? [] : spec.attributes.map(createFold);
    this.#template = attributesTemplate(keys);
    const dense = (this.#dense = denseSets(spec, this.#limit));

    const attributes = this.attributes;
    this.#trie = new ValueTrie((i) => keys.map((k) => attributes[i]![k]));
    const root = this.#trie.root;
    const [k0, k1, k2] = keys as [string, string, string];
    // Any arity: the table's slot when there is one, else the trie's walk, then the check of the
    // leaf it reaches (value-trie.ts).
    const walk = (a: Attributes = EMPTY): number => {
      if (dense !== undefined) {
        const p = dense.find(a);
        if (p > 0) return p - 1;
      }
      let e: Entry | undefined = root;
      for (let d = 0; e !== undefined && isLevel(e); d++) e = step(e, a[keys[d]!]);
      return this.#find(e, a) ?? this.#resolve(a);
    };
    // Straight-line code for what bench/record-*.ts records: one attribute (a reason), two in a
    // table (the record-counter row), three in the trie (a run's task, kind and runner).
    switch (keys.length) {
      case 0:
        this.seriesOf = () => (this.#only >= 0 ? this.#only : this.#resolve(EMPTY));
        break;
      case 1:
        this.seriesOf = (a = EMPTY) => {
          const e = root.get(a[k0]);
          if (typeof e === 'number') {
            if (attributes[e]![k0] === a[k0]) return e;
          } else if (e !== undefined && !isLevel(e) && e.attributes[k0] === a[k0]) return e.index;
          return this.#resolve(a);
        };
        break;
      case 2:
        if (dense === undefined) {
          this.seriesOf = walk;
          break;
        }
        {
          // The folded sets are the table's; the trie holds the aliases only.
          const [codes0, codes1] = dense.codes as [Map<unknown, number>, Map<unknown, number>];
          const radix1 = dense.radix[1]!;
          this.seriesOf = (a = EMPTY) => {
            const v0 = a[k0];
            const v1 = a[k1];
            const c0 = v0 === undefined ? 0 : codes0.get(v0);
            const c1 = v1 === undefined ? 0 : codes1.get(v1);
            const table = dense.table;
            if (c0 !== undefined && c1 !== undefined && table !== undefined) {
              const p = table[c0 * radix1 + c1]!;
              if (p > 0) return p - 1;
            }
            return this.#find(this.#trie.walk([v0, v1]), a) ?? this.#resolve(a);
          };
        }
        break;
      case 3:
        if (dense !== undefined) {
          this.seriesOf = walk;
          break;
        }
        this.seriesOf = (a = EMPTY) => {
          let e = root.get(a[k0]);
          if (e !== undefined && isLevel(e)) e = step(e, a[k1]);
          if (e !== undefined && isLevel(e)) e = step(e, a[k2]);
          if (typeof e === 'number') {
            const s = attributes[e]!;
            if (s[k0] === a[k0] && s[k1] === a[k1] && s[k2] === a[k2]) return e;
          }
          return this.#find(e, a) ?? this.#resolve(a);
        };
        break;
      default:
        this.seriesOf = walk;
    }
  }

  /** The series of the leaf `e` a walk reached, when its values are `a`'s. */
  #find(e: Entry | undefined, a: Attributes): number | undefined {
    if (e === undefined || isLevel(e)) return undefined;
    const s = typeof e === 'number' ? this.attributes[e]! : e.attributes;
    for (const k of this.#keys) if (s[k] !== a[k]) return undefined;
    return typeof e === 'number' ? e : e.index;
  }

  /** The slow path: folds a set not seen before (or not remembered), finds or creates its series. */
  #resolve(a: Attributes): number {
    const keys = this.#keys;
    const n = keys.length;
    if (n === 0) {
      if (this.#only < 0) this.#only = this.#positions.add({});
      return this.#only;
    }
    const raw: unknown[] = new Array<unknown>(n);
    const folded: (string | undefined)[] = new Array<string | undefined>(n);
    let rememberable = true;
    let same = true;
    for (let i = 0; i < n; i++) {
      const v = a[keys[i]!];
      raw[i] = v;
      if (v === undefined || v === null) {
        folded[i] = undefined;
        if (v === null) same = false;
        continue;
      }
      if (typeof v === 'object') rememberable = false;
      const f = this.#fold(i, toLabelString(v));
      folded[i] = f;
      if (f !== v) same = false;
    }
    const foldedSet = this.#attributesOf(folded);
    let index = this.#findPath(folded, foldedSet);
    let overflowed = false;
    if (index === undefined) {
      if (this.attributes.length - (this.#positions.overflow < 0 ? 0 : 1) >= this.#limit) {
        index = this.#positions.overflowSeries();
        overflowed = true;
      } else {
        index = this.#positions.add(foldedSet);
        if (this.#dense?.add(folded, index) !== true) this.#trie.insert(folded, index);
      }
    }
    if ((overflowed || !same) && rememberable && this.#rawEntries < RAW_KEYS_PER_INSTRUMENT) {
      const values: Attributes = {};
      for (let i = 0; i < n; i++) if (raw[i] !== undefined) values[keys[i]!] = raw[i];
      if (this.#trie.insert(raw, { attributes: values, path: raw, index })) this.#rawEntries++;
    }
    return index;
  }

  #fold(i: number, value: string): string {
    if (this.#soleCap < 0) return this.#folds[i]!(value);
    // A single capped attribute: the admitted values are exactly the series' own values.
    const at = this.#trie.root.get(value);
    if (typeof at === 'number' && this.attributes[at]![this.#keys[0]!] === value) return value;
    if (this.#admitted >= this.#soleCap) return OTHER;
    this.#admitted++;
    return value;
  }

  /** The series of the folded set (`path`, as `set`), when there is one. */
  #findPath(path: readonly (string | undefined)[], set: Attributes): number | undefined {
    const p = this.#dense?.find(set) ?? 0;
    return p > 0 ? p - 1 : this.#find(this.#trie.walk(path), set);
  }

  #attributesOf(folded: readonly (string | undefined)[]): Attributes {
    const keys = this.#keys;
    const complete = !folded.includes(undefined);
    const out: Attributes = complete ? { ...this.#template } : {};
    for (let i = 0; i < keys.length; i++) if (folded[i] !== undefined) out[keys[i]!] = folded[i];
    return out;
  }
}
