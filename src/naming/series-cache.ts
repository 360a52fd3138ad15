/**
 * The naming stage's memory across collections, per compiled rule: the label string of each series
 * it read, by position ({@link SeriesCache.labels}: the one memo of label strings, whatever the
 * columns are of: a store's set, a producer's points, several sets as one view), and the series
 * object of each histogram series it rendered (and its bucket-line prefix, and an exponential one's
 * native buckets), so a steady-state scrape only compares figures.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';
import { boundsOf, type CollectedSeries } from '../series/collection.ts';
import { sameBounds } from '../series/carry.ts';
import type { HistogramAcc } from '../series/aggregation.ts';
import { isAscii } from '../exposition/samples.ts';
import type { KeyedLabels, RenderHistogramSeries } from '../exposition/render-model.ts';
import type { NativeBuckets } from '../exposition/types.ts';
import { holdShape } from '../common/held-shapes.ts';
import { bucketExemplars } from './data-points.ts';
import { MIN_NATIVE_SCHEMA } from '../common/exponential-histogram.ts';
import { classicBuckets, nativeOf } from './exponential.ts';

/**
 * The label strings of one collection's series as a rule renders them, keyed as the render model
 * takes them (render-model.ts `KeyedLabels`: a renderer that keeps what it wrote asks {@link at}
 * for the series new to it, and nothing is kept for it); one that reads {@link strings} has them
 * kept.
 */
export interface LabelColumn extends KeyedLabels {
  /**
   * One per series, in series order, made when first read and kept by the rule from then on. The
   * same array from one collection to the next while no series is added; never changed once
   * handed out.
   */
  readonly strings: readonly string[];
  /**
   * The attributes object each position's string was made of, at least `n` long. Of a store's set,
   * its attributes array (a removed series' successors move down, series-set.ts `compact`: a new
   * array). Two points of a producer's that render one string share a key, so a source is told by
   * its own attributes (`CollectedSeries.attributes`), as the carry does (compiled-rule.ts).
   */
  readonly keys: readonly Attributes[];
  /** Strings that are not all ASCII (usually none). */
  readonly nonAscii: number;
  /**
   * Two of the rule's attribute sets may render one label set (a key with a string and another
   * value, two keys of one label name, a key that names no label: {@link LabelMemo.collides}).
   */
  readonly collides?: boolean;
}

const NO_ATTRIBUTES: readonly Attributes[] = [];

/** Attribute keys a rule tells collisions by ({@link LabelMemo.collides}); past them it takes any. */
const MAX_KEYS = 1000;

/**
 * A rule's label strings by position, across collections: the one memo of them, whatever the
 * columns are of. A position holds the same series while it holds the same attributes object;
 * its string is made once, to count the strings not all ASCII, and kept only once a reader reads
 * the strings as an array (the render memo needs none kept: it asks {@link LabelColumn.at} for the
 * series new to it), or once the objects at the positions change (an observable instrument's
 * points get new ones at every collection: a new object that renders the string already there is
 * the same series, with the same key). An attributes array is never changed once read but by
 * growing (a store's set: series-set.ts; a producer's points get a new one at every collection:
 * metric-columns.ts), so the same array as last time holds the same objects at the positions
 * checked; a set's array after a compaction is the one before without the removed series, in
 * order (`CollectedSeries.compactedFrom`). Nothing kept here is changed once handed out: a column
 * reads what it was made with.
 */
class LabelMemo {
  readonly render: (attributes: Attributes) => string;
  /** The attributes array last read: its first {@link checked} positions' strings were made. */
  read: readonly Attributes[] = NO_ATTRIBUTES;
  checked = 0;
  nonAscii = 0;
  /** Each position's key: {@link read} itself while each is the object its string was made of. */
  keys: readonly Attributes[] = NO_ATTRIBUTES;
  /** {@link keys} is this memo's own array (it grows with new positions). */
  ownKeys = false;
  /** The strings kept, by position. */
  strings: readonly string[] | undefined;
  /** How the rule names attributes as labels (label name → value); none: no set is told apart here. */
  readonly named: ((attributes: Attributes) => Attributes) | undefined;
  /**
   * Whether two attribute sets seen may render one label set, which a Prometheus exposition serves
   * as one series. While every key has values of one kind (strings, or others: `1` and `'1'` are
   * one label value) and a label name of its own, two sets that differ render two label sets, so
   * nothing is kept per series to tell: only each key's kind and name ({@link #kinds}).
   */
  collides = false;
  /** Attribute key → the kind of its values (1: strings, 2: others), until {@link collides}. */
  #kinds: Map<string, number> | undefined;
  /** The label names the keys of {@link #kinds} take. */
  #names: Set<string> | undefined;

  constructor(
    render: (attributes: Attributes) => string,
    named?: (attributes: Attributes) => Attributes,
  ) {
    this.render = render;
    this.named = named;
    if (named !== undefined) [this.#kinds, this.#names] = [new Map(), new Set()];
  }

  /** Takes the keys and value kinds of a set whose string is made, until two sets may collide. */
  #see(attributes: Attributes): void {
    const kinds = this.#kinds;
    if (kinds === undefined) return;
    for (const key in attributes) {
      const v = attributes[key];
      if (v === undefined || v === null) continue;
      const kind = typeof v === 'string' ? 1 : 2;
      const was = kinds.get(key);
      if (was === kind) continue;
      const name = was === undefined ? Object.keys(this.named!({ [key]: '' }))[0] : undefined;
      if (name === undefined || this.#names!.has(name) || kinds.size >= MAX_KEYS) {
        this.collides = true;
        this.#kinds = this.#names = undefined;
        return;
      }
      kinds.set(key, kind);
      this.#names!.add(name);
    }
  }

  /** The label strings of the `n` series of `series`. */
  column(series: Pick<CollectedSeries, 'attributes' | 'n' | 'compactedFrom'>): LabelColumn {
    const { attributes, n, compactedFrom } = series;
    if (attributes !== this.read) {
      if (compactedFrom === undefined && this.checked > 0) this.#realign(attributes, n);
      else {
        if (compactedFrom !== undefined && compactedFrom === this.read) this.#follow(attributes);
        else {
          // Further behind than one compaction: the strings are made again.
          this.checked = this.nonAscii = 0;
          this.strings = undefined;
        }
        this.keys = attributes;
        this.ownKeys = false;
      }
      this.read = attributes;
    }
    const from = this.checked;
    let fresh: string[] | undefined;
    if (from < n) {
      if (this.keys !== attributes && !this.ownKeys) {
        this.keys = this.keys.slice(0, from);
        this.ownKeys = true;
      }
      const keys = this.keys === attributes ? undefined : (this.keys as Attributes[]);
      fresh = new Array<string>(n - from);
      for (let i = from; i < n; i++) {
        const s = (fresh[i - from] = this.render(attributes[i]!));
        this.#see(attributes[i]!);
        if (!isAscii(s)) this.nonAscii++;
        keys?.push(attributes[i]!);
      }
      this.checked = n;
    }
    return new Column(this, attributes, n, from, fresh);
  }

  /** `attributes`, the array read last time without the removed series: the kept strings go along. */
  #follow(attributes: readonly Attributes[]): void {
    const old = this.read;
    const strings = this.strings;
    const kept: string[] = [];
    let at = 0;
    for (let i = 0; i < this.checked; i++) {
      if (attributes[at] === old[i]) {
        if (strings !== undefined && i < strings.length) kept.push(strings[i]!);
        at++;
      } else if (!isAscii(strings?.[i] ?? this.render(old[i]!))) this.nonAscii--;
    }
    this.checked = at;
    if (strings !== undefined) this.strings = kept;
  }

  /** `attributes`, another array than the last, compared with it position by position. */
  #realign(attributes: readonly Attributes[], n: number): void {
    const old = this.read;
    const checked = this.checked;
    let strings = this.strings as string[] | undefined;
    // Made in this call (else a column may read them: copied before a change).
    let made = false;
    let keys: Attributes[] | undefined;
    for (let i = 0; i < checked; i++) {
      if (i < n && attributes[i] === old[i]) continue;
      if (strings === undefined || strings.length < checked) {
        // Kept from now on: the objects at these positions change.
        const kept = strings ?? [];
        strings = old
          .slice(0, checked)
          .map((a, j) => (j < kept.length ? kept[j]! : this.render(a)));
        made = true;
      }
      const was = strings[i]!;
      const s = i < n ? this.render(attributes[i]!) : undefined;
      // One string of another object may hold another kind of value (`1` where `'1'` was).
      if (s !== undefined) this.#see(attributes[i]!);
      if (s === was) continue;
      if (!made) strings = strings.slice();
      made = true;
      if (keys === undefined) {
        this.keys = keys = this.keys.slice(0, Math.min(n, checked));
        this.ownKeys = true;
      }
      if (!isAscii(was)) this.nonAscii--;
      if (s === undefined) continue;
      if (!isAscii(s)) this.nonAscii++;
      strings[i] = s;
      keys[i] = attributes[i]!;
    }
    if (strings !== undefined && n < checked) strings.length = this.checked = n;
    this.strings = strings;
  }
}

/** One collection's label column (see {@link LabelMemo.column}). */
class Column implements LabelColumn {
  readonly keys: readonly Attributes[];
  readonly maker: LabelMemo;
  readonly nonAscii: number;
  readonly collides: boolean;
  readonly #read: readonly Attributes[];
  readonly #n: number;
  /** The strings kept when made. */
  readonly #kept: readonly string[] | undefined;
  /** The strings made to check the series new at this collection, from `#from` on; dropped with this object. */
  readonly #fresh: readonly string[] | undefined;
  readonly #from: number;
  #strings: readonly string[] | undefined;

  constructor(
    memo: LabelMemo,
    read: readonly Attributes[],
    n: number,
    from: number,
    fresh: readonly string[] | undefined,
  ) {
    this.maker = memo;
    this.keys = memo.keys;
    this.nonAscii = memo.nonAscii;
    this.collides = memo.collides;
    this.#read = read;
    this.#n = n;
    this.#kept = memo.strings;
    this.#from = from;
    this.#fresh = fresh;
  }

  at(i: number): string {
    const kept = this.#strings ?? this.#kept;
    if (kept !== undefined && i < kept.length) return kept[i]!;
    const fresh = this.#fresh;
    if (fresh !== undefined && i >= this.#from) return fresh[i - this.#from]!;
    return this.maker.render(this.keys[i]!);
  }

  get strings(): readonly string[] {
    if (this.#strings !== undefined) return this.#strings;
    const memo = this.maker;
    const n = this.#n;
    // While the memo reads this column's array still, its strings are those of this array's series.
    const current = memo.read === this.#read;
    let kept = (current ? memo.strings : this.#kept) ?? [];
    if (kept.length < n) {
      // A new array of exactly `n` (a handed-out one never changes; `push` would keep spare room).
      const grown = new Array<string>(n);
      for (let i = 0; i < n; i++) grown[i] = i < kept.length ? kept[i]! : this.at(i);
      kept = grown;
      if (current) memo.strings = grown;
    }
    // A collection older than the strings made since (a reader's earlier instant) reads a prefix.
    return (this.#strings = kept.length === n ? kept : kept.slice(0, n));
  }
}

// Made at every collection and dropped after it: its hidden class is held (common/held-shapes.ts).
holdShape(new Column(new LabelMemo(() => ''), NO_ATTRIBUTES, 0, 0, undefined));

/**
 * What one compiled rule keeps of its histogram series from one collection to the next, by
 * position, and its label strings ({@link LabelMemo}). A series object is served again while its
 * figures have not changed: series objects are never changed once made, so families handed out
 * earlier stay as they were, and unchanged ones are old-generation objects the young-generation GC
 * does not copy while a scrape is rendered. Number series keep nothing here but their label
 * strings: those go into the family's columns with the values (`RenderNumberFamily.columns`). The
 * arrays are cut to the last collection's size.
 */
export class SeriesCache {
  /** The series object made at each position. */
  readonly #histograms: RenderHistogramSeries[] = [];
  /** Exponential histogram rules: the native buckets last seen at each position. */
  readonly #natives: Array<NativeBuckets | undefined> = [];
  /** Histogram rules: the bucket line prefix of a label string. */
  readonly #prefix: ((labels: string) => string) | undefined;
  /** The rule's label strings. */
  readonly labels: LabelMemo;

  /** `named`: how the rule names attributes as labels, to tell sets that render one label set. */
  constructor(
    render: (attributes: Attributes) => string,
    prefix?: (labels: string) => string,
    named?: (attributes: Attributes) => Attributes,
  ) {
    this.#prefix = prefix;
    this.labels = new LabelMemo(render, named);
  }

  /**
   * The histogram series `i` of `series`, `labels` the string its columns hold for it: the same
   * string at a position is the same series, so the last one when nothing changed. Its
   * bounds are the set's, or its own in a view of several bucket layouts (collection.ts
   * `boundsOf`). Its figures are the set's, or `part`'s where given: a source's carried part
   * over those bounds (series/carry.ts), its sum already scaled,
   * or over `bounds` where the source has a layout of its own (one it was counted in beside the
   * set's, or an exponential one's classic buckets); its exemplars the set's, the latest per
   * bucket.
   */
  histogramAt(
    i: number,
    series: CollectedSeries,
    labels: string,
    scale: number,
    created: number | undefined,
    part: HistogramAcc | undefined,
    bounds = boundsOf(series, i),
  ): RenderHistogramSeries {
    const prev = this.#at(i, labels);
    const own = part === undefined;
    const counts = own ? series.values : part.counts;
    const from = own ? i * series.stride : 0;
    const n = bounds.length + 1;
    const sum = own ? series.sums[i]! * scale : part.sum;
    const count = own ? series.counts[i]! : part.count;
    // Exemplars change only with a record, which changes the counts too.
    if (
      prev?.count === count &&
      prev.sum === sum &&
      prev.bounds === bounds &&
      prev.created === created &&
      sameCounts(prev.counts, counts, from, n)
    )
      return prev;
    // A new series gets its own copy of the counts.
    const made = this.#made(
      i,
      { labels, bounds, counts: countsAt(counts, from, n), sum, count },
      created,
    );
    // A carried part in other bounds than the set's has no bucket the set's exemplars are of.
    const exemplars =
      own || sameBounds(bounds, boundsOf(series, i))
        ? series.exemplars && bucketExemplars(series.exemplars, i * series.stride, n, scale)
        : undefined;
    if (exemplars === undefined) return made;
    return (this.#histograms[i] = { ...made, exemplars });
  }

  /**
   * The histogram series at position `i` of an exponential histogram, `labels` as for {@link histogramAt}: classic buckets derived from
   * it (bounds times `scale`), and its native buckets (a scaled one has none: scale factors other
   * than powers of two have no native form). The last series when nothing changed,
   * its bounds array when the bucket layout did not (renderers cache `le` strings by identity).
   */
  exponential(
    i: number,
    labels: string,
    h: ExponentialHistogram,
    scale: number,
    created: number | undefined,
  ): RenderHistogramSeries {
    const prev = this.#at(i, labels);
    const sum = (h.sum ?? 0) * scale;
    const native = nativeOf(h);
    const buckets = native.schema >= MIN_NATIVE_SCHEMA ? native : undefined;
    const last = this.#natives[i];
    this.#natives[i] = buckets;
    const classic = classicBuckets(native, scale);
    const laidOut =
      prev !== undefined &&
      buckets !== undefined &&
      last !== undefined &&
      sameLayout(last, buckets);
    if (
      laidOut &&
      prev.count === h.count &&
      prev.sum === sum &&
      prev.created === created &&
      sameCounts(prev.counts, classic.counts, 0, classic.counts.length)
    )
      return prev;
    const bounds = laidOut ? prev.bounds : classic.bounds;
    return this.#made(
      i,
      { labels, bounds, counts: classic.counts, sum, count: h.count },
      created,
      scale === 1 ? buckets : undefined,
    );
  }

  /** The series last made at position `i`, when it has these labels (the same series). */
  #at(i: number, labels: string): RenderHistogramSeries | undefined {
    const prev = this.#histograms[i];
    return prev?.labels === labels ? prev : undefined;
  }

  /** `series` kept at position `i`, with its bucket line prefix (its predecessor's, when the same series), native buckets and start. */
  #made(
    i: number,
    series: RenderHistogramSeries,
    created: number | undefined,
    native?: NativeBuckets,
  ): RenderHistogramSeries {
    const prefix = this.#at(i, series.labels)?.prefix ?? this.#prefix?.(series.labels);
    return (this.#histograms[i] =
      prefix === undefined && native === undefined && created === undefined
        ? series
        : {
            ...series,
            ...(prefix !== undefined && { prefix }),
            ...(native !== undefined && { native }),
            ...(created !== undefined && { created }),
          });
  }

  /** Drops positions past `n` (the collection had fewer points). */
  trim(n: number): void {
    if (this.#histograms.length > n) this.#histograms.length = n;
    if (this.#natives.length > n) this.#natives.length = n;
  }
}

/** Whether two native histograms have the same classic `le` set (so the same bounds array serves both). */
function sameLayout(a: NativeBuckets, b: NativeBuckets): boolean {
  return (
    a.schema === b.schema &&
    a.zeroThreshold === b.zeroThreshold &&
    a.positiveOffset === b.positiveOffset &&
    a.positiveCounts.length === b.positiveCounts.length &&
    a.negativeOffset === b.negativeOffset &&
    a.negativeCounts.length === b.negativeCounts.length &&
    (a.zeroCount > 0 || a.negativeCounts.length > 0) ===
      (b.zeroCount > 0 || b.negativeCounts.length > 0)
  );
}

/** `counts[from..from+n)` as a plain array of its own. */
function countsAt(counts: ArrayLike<number>, from: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let k = 0; k < n; k++) out[k] = counts[from + k]!;
  return out;
}

/** Whether `a` equals `b[from..from+n)`. */
function sameCounts(a: readonly number[], b: ArrayLike<number>, from: number, n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[from + i]) return false;
  return true;
}
