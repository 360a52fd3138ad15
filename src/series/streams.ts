/**
 * The sources of output sets (output-set.ts) that their writer keys itself and drops on its own
 * terms: the ingest's sender streams. A stream is one (resource, scope, instrument, attribute set)
 * as sent, and a source of the output series its attributes bound to, under one scope; the streams
 * of a counter's or histogram's series are added up -- what the SDK does with the measurements of
 * an embedded host -- and a level's are combined by its instrument's rule (aggregation.ts
 * `LevelRule`, the writer's choice).
 * Cumulative re-aggregation needs each stream's last report, so the number of streams is what a
 * writer's caps bound.
 *
 * Here: every stream's last report, times and delta windows in typed columns ({@link
 * StreamTable}), found by its group's key and its attributes' key, and the output sets the streams
 * feed, by instrument and scope, in the order their series were made ({@link StreamStore}). What a
 * point does to its stream is the writer's rule (ingest/stream-rules.ts), and which streams and
 * series it holds its policy (ingest/series-registry.ts: caps, memory budget, expiry); what an
 * ended or restarted stream leaves its series is the store's carry rule (carry.ts, through the
 * set's base).
 *
 * Streams are slots in typed columns ({@link StreamTable}), not an object each: a store holds
 * hundreds of thousands of them, and an object, its hidden class slots and its boxed numbers cost
 * several times the figures they hold. A slot is reused once freed.
 *
 * What must stay true: a stream is in its group's map, its series' list and the table, or in none
 * of them; a series with no stream left is removed from its set (a hole until {@link
 * StreamStore.compact}), a set with no series from its scope, a scope with no series from its
 * instrument.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { HISTOGRAM, type HistogramAcc, type LevelRule } from './aggregation.ts';
import { sameBounds } from './carry.ts';
import {
  NO_SLOT,
  OutputSet,
  type Acc,
  type CountedWindows,
  type SetOptions,
  type Shape,
} from './output-set.ts';

export interface Scope {
  readonly name: string;
  readonly version: string;
}

/**
 * An instrument's output series under one scope: one set (output-set.ts), or one per bucket
 * layout of an explicit-bucket histogram whose senders differ. A set goes with its last series,
 * the scope with its last set.
 */
export interface ScopeSeries {
  readonly scope: Scope;
  readonly sets: OutputSet[];
}

/** What the store keeps of an instrument: its output series by scope, and what it holds. A writer's instrument adds its policy to it. */
export interface InstrumentSeries {
  readonly name: string;
  readonly shape: Shape;
  readonly descriptor: MetricDescriptor;
  /** How a level's streams combine into its series (counters and histograms add up). */
  readonly levelRule: LevelRule;
  /** What its sets keep beyond the defaults (output-set.ts). */
  readonly setOptions: SetOptions;
  /** Output series by scope key: none held when there is no scope. */
  readonly scopes: Map<string, ScopeSeries>;
  streamCount: number;
}

/** A new instrument's part in the store: no series, no streams yet. */
export function instrumentSeries(
  name: string,
  shape: Shape,
  descriptor: MetricDescriptor,
  levelRule: LevelRule,
  setOptions: SetOptions = {},
): InstrumentSeries {
  return { name, shape, descriptor, levelRule, setOptions, scopes: new Map(), streamCount: 0 };
}

/**
 * The streams of one instrument sent under one resource and scope, by their attributes' key: a
 * point's stream is found with one short key (its attributes') in the group its metric found once.
 */
interface StreamGroup<I extends InstrumentSeries = InstrumentSeries> {
  /** Its key in the store: the writer's (the ingest's: the instrument's name and the arrival's origin). */
  readonly key: string;
  readonly instrument: I;
  /** Stream slots by attributes key. */
  readonly streams: Map<string, number>;
}

/**
 * Every source series the store holds, as slots of columns (typed arrays and plain arrays, one per
 * field). A freed slot is taken again by the next stream made, so the columns follow the most
 * streams held at once, and grow by doubling.
 *
 * What must stay true: a freed slot's fields that point at objects are cleared (`release`), so a
 * dropped stream keeps nothing alive; every typed array the table holds as a public field is one
 * of its columns (growing replaces them all), read through the table at each use.
 */
export class StreamTable<I extends InstrumentSeries = InstrumentSeries> {
  /** Slots ever taken; those freed since are in `#free`. */
  #used = 0;
  #free: number[] = [];
  /** Its key in `group.streams`. */
  key: string[] = [];
  group: (StreamGroup<I> | undefined)[] = [];
  /** Histograms of either kind: its counts (replaced, never changed in place). */
  acc: (Acc | undefined)[] = [];
  /** Its series' set and position in it, and its neighbours in that series' list. */
  out: (OutputSet | undefined)[] = [];
  series = new Int32Array(0);
  prev = new Int32Array(0);
  next = new Int32Array(0);
  start = new BigInt64Array(0);
  /** Time of the last point applied (the latest time seen); 0n before the first. */
  time = new BigInt64Array(0);
  /**
   * Delta streams: where the windows counted begin (the earliest counted window's start; 0n: as
   * far back as anything may be, a stream restored from a state without windows). With `time` and
   * `gaps` it tells a retried window from a late one (ingest/stream-rules.ts `placeWindow`).
   */
  from = new BigInt64Array(0);
  /**
   * Delta streams: the spans between `from` and `time` no window was counted in, oldest first, as
   * pairs (after, upTo] -- undefined when there are none (the steady state). At most
   * ingest/stream-rules.ts `MAX_GAPS` pairs.
   */
  gaps: (bigint[] | undefined)[] = [];
  points = new Float64Array(0);
  value = new Float64Array(0);
  /** The monotonic clock at its last point (clock.ts): its expiry counts from it. */
  updatedAt = new Float64Array(0);
  /**
   * A dormant stream's last point, on the monotonic clock (NaN: awake, as every stream but the
   * ingest's restored ones): restored with a silence past the writer's expiry, it is counted in
   * its series but no level of it is served until a point wakes it (output-set.ts `settle`), and
   * its `updatedAt` is the restore's (ingest/series-registry.ts `restore`).
   */
  slept = new Float64Array(0);
  /** Its charge against the writer's memory budget. */
  bytes = new Float64Array(0);
  /**
   * The stream the next point of the same metric went to after this one's, last time: a sender
   * sends its points in the same order export after export, so it is the first guess for where a
   * point goes (checked: any slot, even a freed one, may be here).
   */
  after = new Int32Array(0);

  /** Streams held. */
  get size(): number {
    return this.#used - this.#free.length;
  }

  /** Stream `s`'s identity across its absences: its group and attributes keys. */
  identity(s: number): string {
    return `${this.group[s]!.key}\0${this.key[s]!}`;
  }

  /**
   * Stream `s`, before its first point is applied, takes back the last report it left its series
   * when it ended under the same identity (an expired sender that pushes again), and whether its
   * points were delta (`from`: a cumulative point then ends its windows, ingest/stream-rules.ts
   * `endWindows`): whether it holds a last report now, which carry.ts's rule judges its point
   * against (output-set.ts `resume`).
   * Taken at the first point applied, not when the stream is made: a stream made for a point that
   * is refused leaves its series as it was.
   */
  resume(s: number): boolean {
    const part = this.out[s]!.resume(this.series[s]!, this.identity(s));
    if (part === undefined) return false;
    this.value[s] = part.value;
    this.acc[s] = part.acc;
    // A delta point placed its window already (placeWindow): the windows count on from it.
    if (this.from[s] === 0n) this.from[s] = part.windows?.from ?? 0n;
    return true;
  }

  /**
   * Stream `s`, before its first point, takes the windows it counted when it ended under the same
   * identity (a delta sender back after expiry; output-set.ts `CountedWindows`), so that its
   * window is judged against them as a live stream's is (ingest/stream-rules.ts `placeWindow`).
   * Only the windows: its last report is {@link resume}'s, once its point is taken. Returns
   * whether it took any.
   */
  windowsBack(s: number): boolean {
    const windows = this.out[s]!.goneOf(this.series[s]!)?.get(this.identity(s))?.windows;
    if (windows === undefined || windows.time === 0n) return false;
    this.from[s] = windows.from;
    this.time[s] = windows.time;
    // placeWindow changes its gaps in place, and a refused window leaves the gone source as it was.
    this.gaps[s] = windows.gaps?.slice();
    return true;
  }

  /** Stream `s`'s counted windows, when its points are delta (`from` set). */
  windowsOf(s: number): CountedWindows | undefined {
    if (this.from[s] === 0n) return undefined;
    return { from: this.from[s]!, time: this.time[s]!, gaps: this.gaps[s] };
  }

  /** A slot for a new stream (its typed fields zeroed, its other fields to be set by the caller). */
  take(): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      // Every typed column is as long as the others.
      if (this.#used === this.series.length) this.#resize(Math.max(16, this.#used * 2));
      slot = this.#used++;
    }
    this.series[slot] = this.prev[slot] = this.next[slot] = this.after[slot] = NO_SLOT;
    this.start[slot] = this.time[slot] = this.from[slot] = 0n;
    this.points[slot] = this.value[slot] = this.updatedAt[slot] = this.bytes[slot] = 0;
    this.slept[slot] = Number.NaN;
    return slot;
  }

  /** Gives `slot` back, dropping what its plain fields point at. */
  release(slot: number): void {
    this.key[slot] = '';
    this.group[slot] = this.acc[slot] = this.out[slot] = this.gaps[slot] = undefined;
    this.#free.push(slot);
  }

  /** Grows every typed column (each typed array among the fields) to `capacity`. */
  #resize(capacity: number): void {
    const fields = this as unknown as Record<string, unknown>;
    for (const name of Object.keys(fields)) {
      const column = fields[name];
      if (!ArrayBuffer.isView(column)) continue;
      const larger = new (column.constructor as new (n: number) => Float64Array)(capacity);
      larger.set(column as never);
      fields[name] = larger;
    }
  }
}

/** What a dropped stream gave back: its charge, its series' when the series went with it (else 0), its scope's key when that went too. */
export interface Dropped {
  readonly stream: number;
  readonly series: number;
  readonly scope: string | undefined;
}

/**
 * The streams a writer holds and the output sets they feed: groups of streams by key, each
 * instrument's sets by scope, the sets with holes to compact, the order series are made in.
 */
export class StreamStore<I extends InstrumentSeries = InstrumentSeries> {
  /** Every stream held. */
  readonly streams = new StreamTable<I>();
  /** Streams by group key, then by attributes key. */
  readonly #groups = new Map<string, StreamGroup<I>>();
  /** Sets with removed series not yet compacted away. */
  readonly #holed = new Set<OutputSet>();
  /** Series made so far: each series' `seq`. */
  #made = 0;

  /** How many series were made so far: a series made from now on has a `seq` at or past it. */
  get made(): number {
    return this.#made;
  }

  /** The stream slots of the group keyed `groupKey`, by attributes key; undefined while there are none. */
  streamsOf(groupKey: string): ReadonlyMap<string, number> | undefined {
    return this.#groups.get(groupKey)?.streams;
  }

  /** Every stream slot, group by group (a stream dropped meanwhile is not given). */
  *slots(): Generator<number> {
    for (const group of this.#groups.values()) yield* group.streams.values();
  }

  /** The set and position of `instrument`'s series keyed `key` under `scopeKey`, or undefined. */
  seriesIn(
    instrument: I,
    scopeKey: string,
    key: string,
  ): { out: OutputSet; at: number } | undefined {
    const scope = instrument.scopes.get(scopeKey);
    if (scope === undefined) return undefined;
    for (const out of scope.sets) {
      const at = out.index.positionOf(key);
      if (at !== undefined) return { out, at };
    }
    return undefined;
  }

  /**
   * A new series of `instrument` (no stream yet) under `scopeKey`, in the set of its bucket
   * layout `bounds` (an explicit-bucket histogram's); `bytes`: what the writer charged for it.
   */
  newSeries(
    instrument: I,
    key: string,
    scopeKey: string,
    scope: Scope,
    attributes: Attributes,
    startTime: HrTime,
    bytes: number,
    bounds: readonly number[] | undefined,
  ): { out: OutputSet; at: number } {
    let held: ScopeSeries | undefined = instrument.scopes.get(scopeKey);
    if (held === undefined) instrument.scopes.set(scopeKey, (held = { scope, sets: [] }));
    const out = setFor(held, instrument, scopeKey, bounds);
    const at = out.add(key, attributes, startTime, this.#made++, bytes);
    return { out, at };
  }

  /** A new stream of series `series` of `out`, in the group `groupKey` (made if none), keyed `key`: its slot. */
  newStream(
    instrument: I,
    out: OutputSet,
    series: number,
    groupKey: string,
    key: string,
    bytes: number,
    updatedAt: number,
  ): number {
    let group = this.#groups.get(groupKey);
    if (group === undefined)
      this.#groups.set(groupKey, (group = { key: groupKey, instrument, streams: new Map() }));
    const streams = this.streams;
    const s = streams.take();
    streams.key[s] = key;
    streams.group[s] = group;
    streams.out[s] = out;
    streams.series[s] = series;
    streams.updatedAt[s] = updatedAt;
    streams.bytes[s] = bytes;
    // Appended to its series' list, so its figures add streams up in the order they were made.
    const last = out.last(series);
    streams.prev[s] = last;
    if (last === NO_SLOT) out.setFirst(series, s);
    else streams.next[last] = s;
    out.setLast(series, s);
    instrument.streamCount++;
    group.streams.set(key, s);
    return s;
  }

  /**
   * The series of stream `s`, its only one, takes a point in the explicit-bucket layout `bounds`
   * (its sender changed it): the series is held in the layout that keeps every bound of its own
   * and of `bounds` (aggregation.ts `HISTOGRAM.keptLayout`; its own when `bounds` adds none, and
   * then nothing moves), so no `le` it served goes back. It moves to the set of that layout,
   * keeping its key, start and place in the order, and its counts, count and sum, re-bucketed
   * (`HISTOGRAM.rebucket`); its points count into it from there (stream-rules.ts `applyHistogram`).
   * `bytes`: what the writer charged for the bounds it adds, the series' charge from then on.
   */
  relayout(s: number, bounds: readonly number[], bytes = 0): void {
    const st = this.streams;
    const old = st.out[s]!;
    const from = old.bounds ?? [];
    const layout = HISTOGRAM.keptLayout(from, bounds);
    if (layout === from) return;
    const kept = layout === bounds ? bounds.slice() : layout;
    const pos = st.series[s]!;
    const instrument = st.group[s]!.instrument;
    const scope = instrument.scopes.get(old.scopeKey)!;
    const key = old.index.keyAt(pos);
    const attributes = old.set.attributes[pos]!;
    const start = old.set.startOf(pos);
    const seq = old.seq(pos);
    const charge = old.charge(pos) + bytes;
    // Its gone sources' counts go into the new layout's base with the rest: one that comes back
    // counts whole, as a source whose own layout changed does.
    const base = old.carriedAcc(pos) as HistogramAcc | undefined;
    const acc = st.acc[s] as HistogramAcc | undefined;
    this.#removeFrom(scope, old, pos);
    const out = setFor(scope, instrument, old.scopeKey, kept);
    const at = out.add(key, attributes, start, seq, charge);
    out.setFirst(at, s);
    out.setLast(at, s);
    st.out[s] = out;
    st.series[s] = at;
    out.baseAcc[at] = base === undefined ? undefined : HISTOGRAM.rebucket(base, from, kept);
    st.acc[s] = acc === undefined ? undefined : HISTOGRAM.rebucket(acc, from, kept);
    out.settle(at, st);
  }

  /**
   * Drops the stream in slot `s`: what it counted stays in its series (output-set.ts `retired`,
   * told apart by its identity until it comes back, {@link StreamTable.resume}) while other
   * streams keep the series; the series goes with its last stream, the scope with its last
   * series -- unless `keepSeries` (a writer whose series outlive their sources: the cluster's). The
   * instrument stays, even with no series left: the writer drops it.
   */
  dropStream(s: number, keepSeries = false): Dropped {
    const st = this.streams;
    const group = st.group[s]!;
    const instrument = group.instrument;
    const out = st.out[s]!;
    const series = st.series[s]!;
    const bytes = st.bytes[s]!;
    // A stream that took no point counted nothing (and took back nothing: resume).
    if (st.points[s]! > 0)
      out.retired(series, st.identity(s), st.value[s]!, st.acc[s], st.windowsOf(s));
    const prev = st.prev[s]!;
    const next = st.next[s]!;
    if (prev === NO_SLOT) out.setFirst(series, next);
    else st.next[prev] = next;
    if (next === NO_SLOT) out.setLast(series, prev);
    else st.prev[next] = prev;
    instrument.streamCount--;
    group.streams.delete(st.key[s]!);
    if (group.streams.size === 0) this.#groups.delete(group.key);
    st.release(s);
    if (out.first(series) !== NO_SLOT || keepSeries) {
      out.settle(series, st);
      return { stream: bytes, series: 0, scope: undefined };
    }
    const scopeKey = out.scopeKey;
    const scope = instrument.scopes.get(scopeKey)!;
    const charge = out.charge(series);
    this.#removeFrom(scope, out, series);
    if (scope.sets.length > 0) return { stream: bytes, series: charge, scope: undefined };
    instrument.scopes.delete(scopeKey);
    return { stream: bytes, series: charge, scope: scopeKey };
  }

  /** Compacts the sets whose series were removed (before a collection or a snapshot reads them). */
  compact(): void {
    for (const out of this.#holed) out.compact(this.streams);
    this.#holed.clear();
  }

  /** Takes series `pos` out of `out` (a hole until compacted), and `out` out of `scope` with its last series. */
  #removeFrom(scope: ScopeSeries, out: OutputSet, pos: number): void {
    out.remove(pos);
    // Series held: its positions but the holes.
    if (out.set.size > out.set.holes) {
      this.#holed.add(out);
      return;
    }
    this.#holed.delete(out);
    scope.sets.splice(scope.sets.indexOf(out), 1);
  }
}

/** The series of `instrument` (set and position) in the order they were made, across its scopes and sets (compacted). */
export function seriesInOrder(instrument: InstrumentSeries): [OutputSet, number][] {
  const all: [OutputSet, number][] = [];
  for (const scope of instrument.scopes.values())
    for (const out of scope.sets) for (let i = 0; i < out.set.size; i++) all.push([out, i]);
  return all.sort((a, b) => a[0].seq(a[1]) - b[0].seq(b[1]));
}

/** The set of `scope` a new series goes to: its only one, or a histogram's of the same layout (made if none). */
function setFor(
  scope: ScopeSeries,
  instrument: InstrumentSeries,
  scopeKey: string,
  bounds: readonly number[] | undefined,
): OutputSet {
  for (const out of scope.sets)
    if (instrument.shape !== 'histogram' || sameBounds(out.bounds!, bounds!)) return out;
  const out = new OutputSet(
    instrument.shape,
    instrument.descriptor,
    scopeKey,
    bounds,
    instrument.levelRule,
    instrument.setOptions,
  );
  scope.sets.push(out);
  return out;
}
