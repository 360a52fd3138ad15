/**
 * The store of local tallies: the synchronous instruments jobmeter has specs for (the domain's,
 * the self-metrics, those a host declares), and those a host makes on jobmeter's provider with no
 * View selecting them; and the `MetricProducer`s that hand them to readers in the SDK's shapes, so
 * the naming stage, every reader and OTLP see them as they would see the SDK's.
 *
 * Why not the SDK's own synchronous instruments: a record through them builds a processed
 * attributes object, a sorted-JSON hash of it and an accumulation lookup, every time, and each
 * collection copies every series again. Here a record is a few `Map` lookups and an array add
 * (spec-index.ts, open-index.ts).
 *
 * Differences from the SDK's synchronous instruments, all at the edges:
 * - the series ceiling counts series for the life of the instrument; the SDK counts attribute
 *   sets per collection interval, so over many intervals its cumulative state can exceed it;
 * - cumulative points start at the store's creation, not at the series' first record (both are
 *   valid OTLP start times: nothing was counted before either);
 * - with delta temporality a series is exported when its value changed since the last export
 *   (the SDK exports every set recorded in the interval, even if the records added up to 0), and
 *   a histogram's min and max are its life's, not the interval's.
 */
import { ValueType, type HrTime, type MetricOptions } from '@opentelemetry/api';
import { millisToHrTime, type InstrumentationScope } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import { AggregationTemporality, type CollectionResult, type MetricData, type MetricDescriptor, type MetricProducer, type ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { Slice } from '../../common/slices.ts';
import { RecordGuard } from '../record-guard.ts';
import type { InstrumentKind, InstrumentSpec } from '../types.ts';
import { GaugeTally } from './gauge.ts';
import { TALLY_KINDS, type DeclaredCounter, type DeclaredGauge, type DeclaredHistogram } from './handles.ts';
import { HistogramTally } from './histogram.ts';
import { OpenSeriesIndex } from './open-index.ts';
import { SpecSeriesIndex } from './spec-index.ts';
import { SumTally } from './sum.ts';
import type { ArenaLease } from './columns.ts';
import { INSTRUMENT_TYPE, NONE, SnapshotArena, type DeltaState, type Snapshot, type Tally } from './tally.ts';

export interface ProducerOptions {
  /**
   * Cumulative only: each MetricData's `dataPoints` is a getter that makes the points from the
   * collection's snapshot at every read (the same points each time, as new objects), instead of
   * the collection making every instrument's points up front. For a consumer that reads each
   * MetricData's points once and is done with them before the next instrument, as the naming pass
   * is. Why: made up front, a large scrape's points live over every turn of the sliced collection
   * and naming pass, so V8 pretenures them into the old generation and a mark-compact follows
   * every few dozen scrapes (bench/README.md, event loop). Made on read, an instrument's points die
   * young, right after it is named. (Keeping one point per series and updating it in place stops
   * the pretenuring too, but holds more per series.)
   * @default false
   */
  readonly pointsOnRead?: boolean;
}

export interface TallyStoreOptions {
  /** The instrumentation scope the tallies are reported under (the domain meter's). */
  readonly scope: InstrumentationScope;
  /** Clock, Unix ms. @default Date.now */
  readonly now?: () => number;
  /** Where bad records are reported (and whether the store still records). @default a guard of its own, warning only */
  readonly guard?: RecordGuard;
}

const RESOURCE = emptyResource();


/** The SDK's default histogram buckets, for a host histogram without advice (as the SDK gives it). */
const SDK_DEFAULT_BOUNDARIES: readonly number[] = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

/** The tallies of one instrumentation scope, in creation order. */
interface ScopeTallies {
  readonly scope: InstrumentationScope;
  readonly tallies: Tally[];
}

function specTally(spec: InstrumentSpec, guard: RecordGuard): Tally {
  const descriptor = {
    name: spec.name,
    description: spec.description,
    unit: spec.unit,
    valueType: ValueType.DOUBLE,
    // Not in the MetricDescriptor type, but on every descriptor the SDK produces.
    type: INSTRUMENT_TYPE[spec.kind],
    advice: {},
  } as MetricDescriptor;
  const index = (grow: () => void) => new SpecSeriesIndex(spec, grow);
  const exemplars = spec.exemplars === true;
  if (spec.kind === 'histogram') return new HistogramTally(descriptor, guard, index, { bounds: spec.buckets ?? [], exemplars, minMax: false });
  if (spec.kind === 'gauge') return new GaugeTally(descriptor, guard, index);
  return new SumTally(descriptor, guard, index, { monotonic: spec.kind === 'counter', exemplars });
}

/** A host instrument's tally: what the SDK would make of it with no View, its series open up to `limit`. */
function openTally(name: string, kind: InstrumentKind, options: MetricOptions, limit: number, guard: RecordGuard, exemplars: boolean): Tally {
  const descriptor = {
    name,
    description: options.description ?? '',
    unit: options.unit ?? '',
    valueType: ValueType.DOUBLE,
    type: INSTRUMENT_TYPE[kind],
    advice: options.advice ?? {},
  } as MetricDescriptor;
  const index = (grow: () => void) => new OpenSeriesIndex(limit, grow);
  if (kind === 'histogram') {
    return new HistogramTally(descriptor, guard, index, { bounds: options.advice?.explicitBucketBoundaries ?? SDK_DEFAULT_BOUNDARIES, exemplars, minMax: true });
  }
  if (kind === 'gauge') return new GaugeTally(descriptor, guard, index);
  return new SumTally(descriptor, guard, index, { monotonic: kind === 'counter', exemplars });
}

/**
 * The tallies of every synchronous instrument among `specs` (others are skipped), in spec order,
 * then those of host instruments as they are made ({@link host}), scope by scope; and the
 * producers that read them.
 */
export class TallyStore {
  readonly #tallies: Tally[] = [];
  readonly #byName = new Map<string, Tally>();
  readonly #scopes: ScopeTallies[] = [];
  readonly #hosts = new Map<string, Tally>();
  readonly #guard: RecordGuard;
  readonly #now: () => number;
  readonly #start: HrTime;
  readonly #settlers: (() => PromiseLike<unknown> | undefined)[] = [];
  /** A snapshot's storage given back by its consumer, for the next collection (see #storage). */
  #free: Float64Array | undefined;

  constructor(specs: readonly InstrumentSpec[], options: TallyStoreOptions) {
    this.#now = options.now ?? Date.now;
    this.#start = millisToHrTime(this.#now());
    const guard = (this.#guard = options.guard ?? new RecordGuard());
    const own: ScopeTallies = { scope: options.scope, tallies: [] };
    this.#scopes.push(own);
    for (const spec of specs) {
      if (!TALLY_KINDS.has(spec.kind) || this.#byName.has(spec.name)) continue;
      const tally = specTally(spec, guard);
      own.tallies.push(tally);
      this.#tallies.push(tally);
      this.#byName.set(spec.name, tally);
    }
  }

  /**
   * The tally of a host instrument `name` of `kind` on the meter `scope` (made on first call, the
   * same one after), holding at most `limit` series, the overflow series included; keeping
   * trace-linked exemplars when `exemplars`.
   */
  host(scope: InstrumentationScope, name: string, kind: InstrumentKind, options: MetricOptions, limit: number, exemplars = false): Tally {
    const scopeKey = `${scope.name}\0${scope.version ?? ''}\0${scope.schemaUrl ?? ''}`;
    const key = `${scopeKey}\0${name}\0${kind}`;
    let tally = this.#hosts.get(key);
    if (tally === undefined) {
      tally = openTally(name, kind, options, limit, this.#guard, exemplars);
      this.#hosts.set(key, tally);
      let group = this.#scopes.find((g) => g.scope.name === scope.name && (g.scope.version ?? '') === (scope.version ?? '') && (g.scope.schemaUrl ?? '') === (scope.schemaUrl ?? ''));
      if (group === undefined) this.#scopes.push((group = { scope, tallies: [] }));
      group.tallies.push(tally);
      this.#tallies.push(tally);
    }
    return tally;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The counter or up-down counter `name`. @throws Error when there is none. */
  counter(name: string): DeclaredCounter {
    return this.#get(name, SumTally, 'a counter or upDownCounter');
  }

  /** The histogram `name`. @throws Error when there is none. */
  histogram(name: string): DeclaredHistogram {
    return this.#get(name, HistogramTally, 'a histogram');
  }

  /** The gauge `name`. @throws Error when there is none. */
  gauge(name: string): DeclaredGauge {
    return this.#get(name, GaugeTally, 'a gauge');
  }

  #get<T extends Tally>(name: string, type: abstract new (...args: never[]) => T, what: string): T {
    const t = this.#byName.get(name);
    if (t instanceof type) return t;
    throw new Error(`${JSON.stringify(name)} is not declared as ${what} in options.instruments`);
  }

  /** Series held across all tallies (for tests and diagnostics). */
  get seriesCount(): number {
    let n = 0;
    for (const t of this.#tallies) n += t.size;
    return n;
  }

  /**
   * A producer for one reader. Cumulative: every series, from the store's start. Delta: what
   * changed since this producer's previous collection (each reader needs a producer of its own).
   */
  producer(temporality: AggregationTemporality = AggregationTemporality.CUMULATIVE, options: ProducerOptions = {}): MetricProducer {
    if (temporality === AggregationTemporality.CUMULATIVE) {
      const onRead = options.pointsOnRead === true;
      return { collect: () => this.#collect((t, snap, end) => t.cumulative(snap, this.#start, end, AggregationTemporality.CUMULATIVE, onRead)) };
    }
    const states = new Map<Tally, DeltaState>();
    let last = this.#start;
    let from = last;
    return {
      collect: () =>
        this.#collect(
          (t, snap, end) => {
            let state = states.get(t);
            if (state === undefined) states.set(t, (state = { values: [], sums: [], counts: [] }));
            return t.delta(snap, state, from, end);
          },
          (end) => {
            from = last;
            last = end;
          },
        ),
    };
  }

  /**
   * Registers work a collection should wait for before reading the tallies: records made while
   * the SDK's side of the same collection runs (the snapshot source's failure counter, counted
   * while the snapshot callback is awaited) then land in that collection, as they did when these
   * were SDK instruments (the SDK reads its synchronous instruments after its callbacks).
   */
  settleBeforeCollect(pending: () => PromiseLike<unknown> | undefined): void {
    this.#settlers.push(pending);
  }

  /**
   * One collection: waits for the settlers, snapshots every tally at one instant, then builds the
   * points tally by tally, in slices (common/slices.ts): the event loop is given back between two
   * tallies once the build has held it for the budget.
   */
  async #collect(
    read: (t: Tally, snap: Snapshot, endTime: HrTime) => MetricData | undefined,
    onInstant?: (endTime: HrTime) => void,
  ): Promise<CollectionResult> {
    let waits: PromiseLike<unknown>[] | undefined;
    for (const settler of this.#settlers) {
      const p = settler();
      if (p !== undefined) (waits ??= []).push(p);
    }
    if (waits !== undefined) await Promise.allSettled(waits);
    const end = millisToHrTime(this.#now());
    onInstant?.(end);
    const groups = this.#scopes.map((g) => ({ scope: g.scope, tallies: g.tallies.slice() }));
    let figures = 0;
    for (const g of groups) for (const t of g.tallies) figures += t.snapshotLength();
    const storage = this.#storage(figures);
    const arena = new SnapshotArena(storage, this.#lease(storage));
    // A tally with no series yet (most of the catalog's, until used) gets one shared empty snapshot.
    const empty: Snapshot = { n: 0, lease: arena.lease, values: NONE, sums: NONE, counts: NONE };
    const snaps = groups.map((g) => g.tallies.map((t) => (t.snapshotLength() === 0 ? empty : t.snapshot(arena))));
    const scopeMetrics: ScopeMetrics[] = [];
    const slice = new Slice();
    for (let s = 0; s < groups.length; s++) {
      const { scope, tallies } = groups[s]!;
      const metrics: MetricData[] = [];
      for (let i = 0; i < tallies.length; i++) {
        const m = read(tallies[i]!, snaps[s]![i]!, end);
        if (m !== undefined) metrics.push(m);
        if (slice.due()) await slice.next();
      }
      if (metrics.length > 0) scopeMetrics.push({ scope, metrics });
    }
    return { resourceMetrics: { resource: RESOURCE, scopeMetrics }, errors: [] };
  }

  /**
   * Storage for a snapshot of `figures`: the last one given back when it is large enough, else a
   * new one with room for some growth. Memory fresh from the system is mapped page by page on first
   * write, and on these machines that made the snapshot's copy (one turn: every tally at one
   * instant) many times slower than the copy itself; storage given back is mapped already.
   */
  #storage(figures: number): Float64Array {
    const free = this.#free;
    if (free !== undefined && free.length >= figures) {
      this.#free = undefined;
      return free;
    }
    return new Float64Array(Math.ceil(figures * 1.125) + 64);
  }

  /** What a consumer calls once it is done with a collection's MetricData (columns.ts `releaseCollection`). */
  #lease(storage: Float64Array): ArenaLease {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        if (this.#free === undefined || this.#free.length < storage.length) this.#free = storage;
      },
    };
  }
}
