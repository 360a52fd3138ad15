/**
 * The rules that fold a source's cumulative values into a series that outlives the source: the
 * source reports its running total again and again, and the series adds what is new since its
 * previous report. A writer keeps each source's last report (`last`) and adds what its kind's
 * aggregation says the new one holds beyond it (aggregation.ts `since`, `restarted`); the series
 * then never decreases while the sources come, go and restart.
 *
 * Every writer that carries a source's cumulative reports decides a restart by that one rule, in
 * one place: the streams of a stream store (output-set.ts `OutputSet`: a series keeps what its
 * restarted streams counted as a base and its ended streams' last reports apart, by identity,
 * beside its live streams' last reports, which sums the same; an ended stream that comes back
 * takes its last report back and goes on from it) -- the ingest's senders' and the cluster
 * primary's members' (cluster/aggregate.ts).
 *
 * What must stay true:
 * - A report smaller than the last (a histogram: a smaller count) means the source restarted: all
 *   of it is new, and it is added whole (nothing is subtracted, so the series never goes back).
 * - Only a decrease is a restart. A new start time alone is none: a daemon that reports totals it
 *   keeps (in its database) sends the same totals with a new start time after a restart, and they
 *   must not be counted twice -- the rule Prometheus applies to a scraped counter. The price:
 *   increments a restarted in-memory counter made before its first report, up to its old value,
 *   are not seen.
 * - A source with no last report (`NaN`, `undefined`) adds its whole value.
 * - A source that stops reporting keeps what it added (nothing here takes a contribution back).
 *
 * A served series that merges several sources that come and go (a profile's counter: ingested
 * series, which expire and come back, or a host producer's, which it may stop reporting and report
 * again, under one label set) carries each source by these rules
 * ({@link SourceTotals}), so a source that goes away keeps what it counted in the series and one
 * that comes back is not counted twice. What is left, a merged total whose parts cannot be told
 * apart, has {@link ServedTotals}: there a decrease is a part going away, not a restart.
 */
import type { Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import { AggregationTemporality } from '../common/otel-sdk.ts';
import { HISTOGRAM, mergeInto, SUM, type HistogramAcc } from './aggregation.ts';
import { attributeSetKey, scopeKey } from './attribute-key.ts';
import type { DormantSeries } from './collection.ts';

/** Where a cluster report's histogram row, `[count, sum, min, max, ...bucket counts]` (cluster/wire.ts), has its bucket counts. */
export const ROW_BUCKETS = 4;

/** A served total's memory: what was served last, and what its sources' value is added to. */
interface Served {
  total: number;
  offset: number;
}

/**
 * The totals a reader serves on every collection, each its sources' current value merged (one key
 * per served series, e.g. family and label string), such that a total never decreases while its
 * sources come, go and restart. Held by the store whose collections are served (series-store.ts);
 * bounded by the keys its reader serves.
 *
 * What must stay true:
 * - No value (`undefined`: no source now) serves the total as it was; the next value is added to it
 *   whole.
 * - A value that would serve less than the last total means part of the sources went away (a
 *   producer's series no longer reported where no rule carries it; the ingest's, which expire, and
 *   a host producer's are carried one by one before this, {@link SourceTotals}) or one restarted
 *   lower: the total stays, and later increases add on from there. What a source counted while
 *   gone is not seen, and nothing is counted twice (a merged decrease cannot tell a restart from a
 *   part leaving, so unlike a source's restart nothing is added).
 */
export class ServedTotals {
  readonly #served = new Map<string, Served>();

  /** The total to serve for `key`, whose sources' merged value is `value` now (undefined: none). */
  serve(key: string, value: number | undefined): number {
    let s = this.#served.get(key);
    if (s === undefined) this.#served.set(key, (s = { total: 0, offset: 0 }));
    if (value === undefined) s.offset = s.total;
    else {
      if (s.offset + value < s.total) s.offset = s.total - value;
      s.total = s.offset + value;
    }
    return s.total;
  }
}

/** One source of a served series: what it counted across its restarts and absences. */
export interface SourceTotal {
  /** Its identity across absences: the attribute-set key (attribute-key.ts). */
  readonly key: string;
  /** The label string it is served under. */
  readonly labels: string;
  /** What it counted in all: its part of the served series (a histogram's: its count). */
  total: number;
  /** Its last report. */
  last: number;
  /** Its earliest start, Unix ms (0: none). */
  start: number;
  /** The pass that last saw it. */
  seen: number;
  /** A histogram's: its part (over {@link bounds}), and its last report. */
  acc?: HistogramAcc;
  lastAcc?: HistogramAcc;
  /** A histogram's bucket bounds. */
  bounds?: readonly number[];
  /** The attributes object of the series that reported it last (none: restored from a checkpoint). */
  by?: Attributes;
}

/** A {@link SourceTotal} as plain data (a checkpoint's: ingest/checkpoint.ts). */
export type SourcePart = Omit<SourceTotal, 'seen' | 'by'>;

/**
 * What a store's series held as it left with its last source (ingest/series-registry.ts
 * `dropStream`, or forgotten dormant), as {@link Figures} (a histogram's over `bounds`): `figures`, what it served then (a forgotten dormant one: what
 * the file held), counted since the carry's last report too (none: nothing since); `last`, its
 * source's own last report, without what its restarted and ended sources left in it (the store's,
 * which a new series of the source will not hold). `last` none: the source was delta, a new series
 * of it counts from its first window.
 */
export interface Departure {
  readonly figures?: Figures;
  readonly last: Figures | undefined;
  readonly bounds?: readonly number[];
}

/** What a source counted: a number's value, or a histogram's counts. */
export type Figures = number | HistogramAcc;

/**
 * A {@link Departure}'s figures as a rule reports the series (naming/compiled-rule.ts): a number
 * (its value, a histogram's count or scaled sum), or a histogram.
 */
export type ReadFigures = (figures: Figures) => Figures;

const AS_IS: ReadFigures = (figures) => figures;

/**
 * The key of an instrument of a scope, as the naming tells a rule's sources apart
 * ({@link SourceTotals.of}) and a store tells which of them a forgotten series fed
 * ({@link SourceTotals.departedAs}).
 */
export function instrumentKey(scope: InstrumentationScope, name: string): string {
  return `${scopeKey(scope)}\0${name}`;
}

/**
 * A {@link SourceTotals} as plain data: per rule, its key and family, its sources and folded parts;
 * and the series that left, told by key, that no pass counted yet and no rule knows the source of
 * (no pass named them), as told ({@link SourceTotals.departedAs}).
 */
export interface SourcesSnapshot {
  readonly rules: readonly {
    readonly key: string;
    readonly family: string;
    readonly sources: readonly SourcePart[];
    readonly folded: readonly SourcePart[];
  }[];
  readonly departed?: readonly { readonly left: Departure; readonly series: DormantSeries }[];
}

/** `s` as plain data (its histograms, never changed in place, shared). */
function partOf({ seen: _, by: __, ...part }: SourcePart & Partial<SourceTotal>): SourcePart {
  return part;
}

/** Whether two bucket layouts are the same. */
export function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Gone sources kept apart: past this, the oldest fold into what keeps them (an output series'
 * base, a rule's label set's part: what they counted stays counted, and one that comes back then
 * counts whole).
 */
export const MAX_GONE_SOURCES = 10_000;

/**
 * Sources that ended while what they fed stays, each with its part (`P`: its last report, or what
 * it counted) by its identity, oldest first, so that one that comes back under the same identity
 * takes its part back ({@link take}) and carry's rule judges its next report against it: never
 * its kept part and its total whole both. The one keeper of gone sources: an output series' ended
 * streams (output-set.ts) and a rule's sources whose series left ({@link RuleSources}).
 *
 * Bounded: past {@link MAX_GONE_SOURCES} across every keeper that shares one `count`, the oldest
 * of the keeper that grew is handed to `fold`. Written by {@link keep} and {@link take} only,
 * which count.
 */
export class GoneSources<P> extends Map<string, P> {
  readonly #count: { n: number };

  constructor(count: { n: number } = { n: 0 }) {
    super();
    this.#count = count;
  }

  /** Source `id` ended with `part`; `fold` takes a part that cannot stay apart (an earlier one of `id`'s, or the oldest past the bound). */
  keep(id: string, part: P, fold: (part: P) => void): void {
    const held = this.take(id);
    if (held !== undefined) fold(held);
    this.set(id, part);
    if (++this.#count.n <= MAX_GONE_SOURCES) return;
    // Map order is insertion order: the oldest folds.
    const oldest = this.keys().next().value!;
    fold(this.take(oldest)!);
  }

  /** Source `id` is back: its part, no longer kept (undefined: none kept). */
  take(id: string): P | undefined {
    const part = this.get(id);
    if (part !== undefined && this.delete(id)) this.#count.n--;
    return part;
  }

  /** Forgets every part (what they fed is gone too). */
  override clear(): void {
    this.#count.n -= this.size;
    super.clear();
  }
}

/** A source's `seen` while it is gone ({@link RuleSources}). */
const GONE = -1;

/**
 * The sources of one rule's served series (a profile family fed by one instrument of one scope),
 * each carried by aggregation.ts `since` across its restarts, and across its absences: a source not
 * reported in a pass (an ingested series that expired) is gone, and while its label set is still
 * served (by other sources, or as a zero-filled word) it stays in it with what it counted. When it
 * comes back (the same attributes), a report at or above its last goes on from there and one below
 * is a restart, added whole. A gone source whose label set is no longer served is forgotten: the
 * series left the scrape, and a scraper reads a new one when it comes back.
 *
 * Bounded: live sources by what the writer holds; gone ones by {@link MAX_GONE_SOURCES}.
 */
export class RuleSources {
  readonly family: string;
  /** The instrument it reads ({@link instrumentKey}). */
  readonly #instrument: string;
  readonly #owner: SourceTotals;
  readonly #byAttributes = new WeakMap<Attributes, SourceTotal>();
  /** The sources reported since the last settle, or not gone since (restored, dormant). */
  readonly #byKey = new Map<string, SourceTotal>();
  /** The gone ones, whose `seen` is {@link GONE}. */
  readonly #gone = new GoneSources<SourceTotal>();
  /** Folded gone sources' parts by label string, served while the label set is. */
  readonly #folded = new Map<string, SourceTotal>();
  /** How the rule read its series last ({@link ReadFigures}): a gone source's departure is read so. */
  #read: ReadFigures = AS_IS;
  #foldedCount = 0;

  constructor(instrument: string, family: string, owner: SourceTotals) {
    this.#instrument = instrument;
    this.family = family;
    this.#owner = owner;
  }

  /** Whether it holds no source and no folded part. */
  get empty(): boolean {
    return this.#byKey.size + this.#gone.size + this.#folded.size === 0;
  }

  /** Gone sources folded past {@link MAX_GONE_SOURCES}. */
  get folded(): number {
    return this.#foldedCount;
  }

  /**
   * Every source and folded part, as plain data. A source whose series left and no pass read it yet
   * (a pass of the checkpoint's copy reads none) is written as that pass will make it, so the file
   * has it: the departure itself is held by object, which no restart keeps.
   */
  snapshot(): { sources: SourcePart[]; folded: SourcePart[] } {
    return {
      sources: [...this.#byKey.values(), ...this.#gone.values()].map((s) => {
        const part = partOf(s);
        const left = this.#owner.departureOf(s.by, this.#instrument, s.key);
        if (left !== undefined) this.#apply(part, left);
        return part;
      }),
      folded: [...this.#folded.values()].map(partOf),
    };
  }

  /** Takes `sources` and `folded` back (into an empty rule): each source known again by its key. */
  restore(sources: readonly SourcePart[], folded: readonly SourcePart[]): void {
    for (const p of sources) this.#byKey.set(p.key, { ...partOf(p), seen: 0 });
    for (const p of folded) this.#folded.set(p.labels, { ...partOf(p), seen: 0 });
  }

  /**
   * The part of the series the source with `attributes` (a stable object while the writer holds
   * the series) adds now that it reports the cumulative `value`; `start`: its start, Unix ms.
   */
  report(
    attributes: Attributes,
    labels: string,
    value: number,
    start: number,
    read: ReadFigures = AS_IS,
  ): number {
    const s = this.#source(attributes, labels, start, read);
    this.#add(s, value);
    return s.total;
  }

  /**
   * A histogram source's part, as {@link report}: its report is `n` bucket counts of `counts` from
   * `from`, over `bounds`, with `sum` and `count`. The source returned holds its part as `acc`
   * over its `bounds`. A report in
   * a layout without a bound the source was counted in leaves that bound in its part: the part is
   * held in a layout with every bound of both (aggregation.ts `HISTOGRAM.keptLayout`, the ingest's
   * series' rule), its part and last report re-bucketed into it (`HISTOGRAM.rebucket`), and the
   * report counts into it (`HISTOGRAM.reportIn`), so no `le` series it feeds goes back; a report
   * goes on from the last, or is a restart, as in one layout.
   */
  reportHistogram(
    attributes: Attributes,
    labels: string,
    bounds: readonly number[],
    counts: ArrayLike<number>,
    from: number,
    sum: number,
    count: number,
    start: number,
    read: ReadFigures = AS_IS,
  ): Readonly<SourceTotal> {
    const s = this.#source(attributes, labels, start, read);
    const report = Array.from({ length: bounds.length + 1 }, (_, k) => counts[from + k]!);
    this.#add(s, { counts: report, sum, count }, bounds);
    return s;
  }

  /**
   * Adds to `s`'s part what its cumulative `report` holds beyond its last, by its kind's
   * aggregation (aggregation.ts `since`), and takes `report` as its last: a number's, or a
   * histogram's over `bounds` ({@link reportHistogram}).
   */
  #add(s: SourcePart, report: Figures, bounds = s.bounds!): void {
    if (typeof report === 'number') {
      s.total += SUM.since(s.last, report);
      s.last = report;
      return;
    }
    s.bounds ??= bounds;
    const kept = sameBounds(s.bounds, bounds) ? s.bounds : HISTOGRAM.keptLayout(s.bounds, bounds);
    if (kept !== s.bounds) {
      s.acc = HISTOGRAM.rebucket(s.acc!, s.bounds, kept);
      if (s.lastAcc !== undefined) s.lastAcc = HISTOGRAM.rebucket(s.lastAcc, s.bounds, kept);
      s.bounds = kept;
    }
    if (!sameBounds(s.bounds, bounds))
      report = HISTOGRAM.reportIn(s.lastAcc, s.bounds, report, bounds);
    s.acc = mergeInto(HISTOGRAM, s.acc, HISTOGRAM.since(s.lastAcc, report));
    s.lastAcc = report;
    s.total = s.acc.count;
  }

  /**
   * A dormant series' source (ingest/series-registry.ts: restored, no sender of it known alive;
   * or one gone unwoken, {@link SourceTotals.departedSeries}), counted in its label set as a gone
   * source is: one the rule does not know yet (the checkpoint was written before a pass saw it) is
   * taken as gone with what its series counted (`left`, read by `read`), so another scope's series
   * of its label set serves that too; one it knows adds what its series counted since the rule's
   * last report of it (points the file holds that no pass read). It goes on from there when a
   * sender wakes it. Not marked seen.
   */
  dormant(
    attributes: Attributes,
    labels: string,
    left: Departure,
    start: number,
    read: ReadFigures,
  ): void {
    const key = attributeSetKey(attributes);
    this.#read = read;
    const known = this.#byKey.get(key) ?? this.#gone.get(key);
    if (known !== undefined) {
      if (known.labels === labels) this.#apply(known, left);
      return;
    }
    const s: SourceTotal = { key, labels, total: 0, last: Number.NaN, start, seen: 0 };
    this.#apply(s, left);
    this.#byKey.set(key, s);
  }

  /** The source with `attributes`, found by its key when the object is new to this rule (made if none), marked seen. */
  #source(attributes: Attributes, labels: string, start: number, read: ReadFigures): SourceTotal {
    this.#read = read;
    let s = this.#byAttributes.get(attributes);
    if (s === undefined) {
      const key = attributeSetKey(attributes);
      s = this.#byKey.get(key) ?? this.#gone.take(key);
      const held = this.#owner.held;
      if (s === undefined || s.labels !== labels)
        s = { key, labels, total: 0, last: Number.NaN, start, seen: 0 };
      else if (!held) {
        this.#leave(s);
        // A series its sender's delta windows made counts from its first window: its first report
        // is added whole, whatever the cumulative series it replaces reported last.
        if (this.#owner.countsFromZero(attributes)) {
          s.last = Number.NaN;
          s.lastAcc = undefined;
        }
      }
      // A copy's series is the live one as the file had it: the source stays known by the live
      // series' object, whose departure is read once live passes serve again.
      if (!held) {
        s.by = attributes;
        this.#byAttributes.set(attributes, s);
      }
      this.#byKey.set(key, s);
    } else if (s.seen === GONE && this.#gone.take(s.key) === s) this.#byKey.set(s.key, s);
    if (start < s.start) s.start = start;
    s.seen = this.#owner.pass;
    return s;
  }

  /**
   * After a pass: each gone source whose label set `served` says is still served is handed to
   * `keep` (label string, total, start); one whose label set a dormant series holds (restored, no
   * sender of it known alive yet: served again when one wakes it) is kept unserved; the others
   * are forgotten.
   */
  settle(
    served: (labels: string) => boolean,
    keep: (part: Readonly<SourceTotal>) => void,
    dormant: (labels: string) => boolean = () => false,
  ): void {
    const pass = this.#owner.pass;
    const held = (labels: string): boolean => served(labels) || dormant(labels);
    for (const s of this.#gone.values()) {
      if (!held(s.labels)) this.#gone.take(s.key);
      else if (!this.#owner.held) this.#leave(s);
    }
    for (const s of this.#byKey.values()) {
      if (s.seen === pass) continue;
      this.#byKey.delete(s.key);
      if (!held(s.labels)) continue;
      if (!this.#owner.held) this.#leave(s);
      s.seen = GONE;
      this.#gone.keep(s.key, s, (oldest) => this.#fold(oldest));
    }
    for (const [labels, f] of this.#folded) {
      if (served(labels)) keep(f);
      else if (!dormant(labels)) this.#folded.delete(labels);
    }
    for (const s of this.#gone.values()) if (served(s.labels)) keep(s);
  }

  /**
   * When the series `s` was reported by left its store ({@link Departure}; as soon as a pass or a
   * new series of it says so, so the checkpoint keeps it): what it counted since is added, and its
   * next report is compared with its own last one (none: added whole).
   */
  #leave(s: SourceTotal): void {
    const left = this.#owner.departureOf(s.by, this.#instrument, s.key);
    if (left === undefined) return;
    s.by = undefined;
    this.#apply(s, left);
  }

  /** What `s` counted, as its series `left` it ({@link #leave}), and its series' own last report. */
  #apply(s: SourcePart, left: Departure): void {
    const figures = left.figures === undefined ? undefined : this.#read(left.figures);
    const last = left.last === undefined ? undefined : this.#read(left.last);
    const bounds = left.bounds ?? s.bounds;
    if (figures !== undefined) this.#add(s, figures, bounds);
    if (s.acc === undefined) s.last = last === undefined ? Number.NaN : (last as number);
    else
      s.lastAcc =
        last === undefined || sameBounds(bounds!, s.bounds!)
          ? (last as HistogramAcc | undefined)
          : HISTOGRAM.rebucket(last as HistogramAcc, bounds!, s.bounds!);
  }

  /** Adds gone source `s` into its label set's folded part (a histogram's re-bucketed into the part's layout). */
  #fold(s: SourceTotal): void {
    this.#foldedCount++;
    const f = this.#folded.get(s.labels);
    if (f === undefined) {
      this.#folded.set(s.labels, { ...partOf(s), key: '', seen: s.seen });
      return;
    }
    f.total += s.total;
    if (s.start < f.start) f.start = s.start;
    if (f.acc === undefined || s.acc === undefined) return;
    const acc = sameBounds(f.bounds!, s.bounds!)
      ? s.acc
      : HISTOGRAM.rebucket(s.acc, s.bounds!, f.bounds!);
    f.acc = HISTOGRAM.merge(f.acc, acc);
  }
}

/**
 * Departures told by key ({@link SourceTotals.departedAs}) that may wait for a naming pass before
 * one is asked for: each holds its series as a pass names it (about 1 KiB), so what waits is
 * bounded whether or not anyone scrapes.
 */
export const MAX_PENDING_DEPARTURES = 4096;

/**
 * The sources of every served series a store's collections feed (ingested series, which expire;
 * a host producer's, which it may stop reporting: {@link producer}), by rule: {@link RuleSources}.
 * One per jobmeter (jobmeter.ts), given to its namer; the ingest's are kept in its checkpoint
 * (ingest/state-keeper.ts), so a restart serves what was served; a naming pass starts with
 * {@link begin}, but one of the cluster's aggregate (to-families.ts).
 */
export class SourceTotals {
  readonly #rules = new Map<string, RuleSources>();
  /**
   * The rules of a host producer's sources: apart from the ingest's, and in no checkpoint, since
   * the producer is of this process and restarts with it (its totals from 0, which a restored
   * carry would add on top of what was served before).
   */
  readonly #produced = new Map<string, RuleSources>();
  /** A host producer's cumulative metrics ({@link producer}), each held as long as its collection. */
  readonly #points = new WeakSet<MetricData>();
  /** What store series left, by their attributes objects ({@link departed}). */
  readonly #departed = new WeakMap<Attributes, Departure>();
  /** Store series made by a delta stream ({@link madeByWindows}). */
  readonly #windowed = new WeakSet<Attributes>();
  /**
   * What forgotten series left, by instrument and attribute-set key, until a live pass settles;
   * each with the series as a pass names it, if told ({@link departedAs}).
   */
  readonly #departedAs = new Map<string, { left: Departure; series?: DormantSeries }>();
  /** Asks for a naming pass ({@link whenPending}). */
  #askPass: (() => void) | undefined;
  #pass = 0;
  #held = false;
  #settled = 0;
  /**
   * Whether the naming merges the series of one instrument and label set across scopes (a
   * profile's, or the native one without scope labels): a served series is a label set then.
   */
  readonly mergesScopes: boolean;

  constructor(mergesScopes = false) {
    this.mergesScopes = mergesScopes;
  }

  /** The current pass. */
  get pass(): number {
    return this.#pass;
  }

  /**
   * Whether the current pass reads the last checkpoint's copy of the ingest's series (served while
   * writes fail): no departure is read in it, and no source takes a copy's object as its own.
   */
  get held(): boolean {
    return this.#held;
  }

  /** Starts a naming pass (`held`: of the checkpoint's copy): a source not reported in it is gone. */
  begin(held = false): void {
    this.#pass++;
    this.#held = held;
  }

  /**
   * The sources of the rule of `instrument` ({@link instrumentKey}) serving `family`; `produced`:
   * a host producer's ({@link producer}), else the ingest's.
   */
  of(instrument: string, family: string, produced = false): RuleSources {
    const rules = produced ? this.#produced : this.#rules;
    const key = `${instrument}\0${family}`;
    let r = rules.get(key);
    if (r === undefined) rules.set(key, (r = new RuleSources(instrument, family, this)));
    return r;
  }

  /**
   * Whether a rule carries the ingest's sources: a store series that leaves then tells
   * {@link departed}, none of whose departures is read otherwise.
   */
  get carrying(): boolean {
    return this.#rules.size > 0;
  }

  /** The store series of `attributes` left its store as `left` says (held while the object is). */
  departed(attributes: Attributes, left: Departure): void {
    this.#departed.set(attributes, left);
  }

  /**
   * The store series of `attributes` was made by a delta stream: it counts from its first window,
   * so a gone source it brings back goes on from nothing rather than from its cumulative last
   * report (docs/collector.md: "A sender that changes temporality").
   */
  madeByWindows(attributes: Attributes): void {
    this.#windowed.add(attributes);
  }

  /** Whether the store series of `attributes` counts from its first window ({@link madeByWindows}). */
  countsFromZero(attributes: Attributes): boolean {
    return this.#windowed.has(attributes);
  }

  /**
   * A store series of `instrument` ({@link instrumentKey}) with `attributes` left as `left` says,
   * known by its key: one no source holds the object of (held dormant across a restart, then
   * forgotten). Read in the next {@link settle} of a pass of the live series, when a rule sees its
   * source gone (or in a {@link snapshot} before it), then dropped. `series`: the series as a pass
   * names it ({@link departedSeries}), for a rule that does not know its source yet.
   */
  departedAs(
    instrument: string,
    attributes: Attributes,
    left: Departure,
    series?: DormantSeries,
  ): void {
    const key = departureKey(instrument, attributeSetKey(attributes));
    this.#departedAs.set(key, series === undefined ? { left } : { left, series });
    if (this.#departedAs.size % MAX_PENDING_DEPARTURES === 0) this.#askPass?.();
  }

  /**
   * `ask` is called whenever {@link MAX_PENDING_DEPARTURES} more departures wait for a pass: only a
   * pass counts them in their label sets and lets them go, and none may come (nobody scrapes, no
   * push), while senders' series keep leaving.
   */
  whenPending(ask: () => void): void {
    this.#askPass = ask;
  }

  /**
   * Asks for a pass ({@link whenPending}) when departures wait: called when writes succeed again,
   * after passes of the checkpoint's copy that counted none, so what they hold (charged to the
   * ingest's memory budget) goes without waiting for a scrape.
   */
  askIfWaiting(): void {
    if (this.#departedAs.size > 0) this.#askPass?.();
  }

  /**
   * The forgotten series told with how a pass names them ({@link departedAs}), until a live pass
   * settles. A pass counts each in the rules that carry it as a dormant series' source
   * (`RuleSources.dormant`), before its own series: one no rule knows (no pass named its series)
   * is taken as gone with its figures, so its label set keeps its total and its sender back in
   * that pass or later goes on from it; one a rule knows adds what its series counted beyond the
   * rule's last report of it, as its departure would. Either way the departure is still read in
   * that settle (or when its sender's new series reports), adding nothing more, its last report
   * the series' cumulative one.
   */
  departedSeries(): DormantSeries[] {
    const out: DormantSeries[] = [];
    for (const { series } of this.#departedAs.values()) if (series !== undefined) out.push(series);
    return out;
  }

  /**
   * What the series a source of `instrument` keyed `key` was last reported by (`by`: its
   * attributes object, if known) held when it left (undefined: it did not).
   */
  departureOf(by: Attributes | undefined, instrument: string, key: string): Departure | undefined {
    const left = by === undefined ? undefined : this.#departed.get(by);
    if (left !== undefined || this.#departedAs.size === 0) return left;
    return this.#departedAs.get(departureKey(instrument, key))?.left;
  }

  /**
   * A host's `producer` whose cumulative metrics are sources ({@link isProduced}): a producer may
   * stop reporting a series (a bridge that removed it) and report it again. The SDK's storages and
   * jobmeter's never drop a cumulative series, and are none.
   */
  producer(producer: MetricProducer): MetricProducer {
    return {
      collect: (options) =>
        producer.collect(options).then((result) => {
          for (const sm of result.resourceMetrics.scopeMetrics)
            for (const m of sm.metrics)
              if (m.aggregationTemporality === AggregationTemporality.CUMULATIVE)
                this.#points.add(m);
          return result;
        }),
    };
  }

  /** Whether `metric` is of a {@link producer}'s collection: its series are sources. */
  isProduced(metric: MetricData): boolean {
    return this.#points.has(metric);
  }

  /**
   * Settles every rule's sources after a pass ({@link RuleSources.settle}), and forgets the rules
   * left holding none: what is kept follows the instruments served, not every one ever seen.
   */
  settle(each: (rule: RuleSources) => void): void {
    for (const rules of [this.#rules, this.#produced])
      for (const [key, r] of rules) {
        each(r);
        if (r.empty) rules.delete(key);
      }
    // Every source a forgotten series fed saw it gone in this settle, if it is held at all (a pass
    // of the copy reads none).
    if (!this.#held && this.#departedAs.size > 0) {
      this.#departedAs.clear();
      this.#settled++;
    }
  }

  /**
   * Passes that settled a departure (a series that left, told by {@link departedAs}): each decides
   * what the departed series' sources keep, which the checkpoint written before it does not hold.
   */
  get settledDepartures(): number {
    return this.#settled;
  }

  /**
   * What every rule of the ingest's holds, as plain data (kept in its checkpoint across a restart),
   * and the departures no pass counted yet of sources no rule knows: a rule that knows one has it
   * in its part already (RuleSources `snapshot`); the others only the next pass can count, which
   * may come after a restart, so they are written as told.
   */
  snapshot(): SourcesSnapshot {
    const rules = [...this.#rules].map(([key, r]) => ({ key, family: r.family, ...r.snapshot() }));
    if (this.#departedAs.size === 0) return { rules };
    const known = new Set(
      rules.flatMap((r) => r.sources.map((p) => departureKey(instrumentOf(r), p.key))),
    );
    const departed = [...this.#departedAs].flatMap(([key, { left, series }]) =>
      series === undefined || known.has(key) ? [] : [{ left, series }],
    );
    return { rules, departed };
  }

  /** Takes a {@link snapshot} back, into rules that hold nothing yet (at start). */
  restore(snapshot: SourcesSnapshot): void {
    for (const r of snapshot.rules) this.of(instrumentOf(r), r.family).restore(r.sources, r.folded);
    for (const { left, series: d } of snapshot.departed ?? [])
      this.departedAs(
        instrumentKey(d.scope, d.metric.descriptor.name),
        d.series[0]!.attributes,
        left,
        d,
      );
  }
}

/** The instrument of a rule as a snapshot holds it: its key is the instrument's and the family's ({@link SourceTotals.of}). */
const instrumentOf = (r: { readonly key: string; readonly family: string }): string =>
  r.key.slice(0, -r.family.length - 1);

/** A departure's key in {@link SourceTotals}: its instrument's key and its attribute set's. */
const departureKey = (instrument: string, attributes: string): string =>
  `${instrument}\0\0${attributes}`;
