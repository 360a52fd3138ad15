/**
 * A set kind of the store for a writer whose series each add up several sources that come and go
 * (the ingest: an output series adds up its senders' streams, streams.ts `StreamTable`). It is a
 * set of one of the plain kinds (sum.ts, histogram.ts, exponential.ts), keyed by the
 * writer's attribute-set key (keyed-index.ts), each series with its own start time, and beside
 * each series: its base (what its restarted sources counted, by carry.ts's rule:
 * {@link OutputSet.reported}), its gone sources (each ended source's last report, by the source's
 * identity, while the series is held: {@link OutputSet.retired}), its list of live sources (first,
 * last; the stream table's `next`), when it was made (`seq`: the order a collection serves series
 * in across a scope's sets) and the writer's charge for it.
 *
 * A gone source is kept apart, not added into the base, so that when it comes back (the same
 * identity: an expired sender that pushes again) it takes its last report back
 * ({@link OutputSet.resume}) and carry.ts's rule judges its next report against it: at or above
 * it goes on from there, below it is a restart and adds whole -- never its kept part and its total
 * whole both (the rule naming's `SourceTotals` applies to the series this set serves).
 *
 * What must stay true: a counter's or histogram's figures in the set are its base plus its gone
 * sources' plus its live sources', added in the order the sources were made (a source is live or
 * gone, never both, and gone only while its series is held); a level's (gauge, up-down sum) are
 * its live sources' combined by the set's {@link LevelRule}, never added unless the rule says `sum` --
 * {@link OutputSet.settle} writes them whenever a source's value or the list changes, so a
 * collection copies columns and walks no list. A removed series is a
 * hole until {@link OutputSet.compact}, which moves the series down (keeping their order) and the
 * sources' positions with them.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import type { ExponentialSum } from '../common/exponential-histogram.ts';
import {
  EXPONENTIAL_HISTOGRAM,
  HISTOGRAM,
  LEVEL,
  mergeInto,
  SUM,
  type Aggregator,
  type HistogramAcc,
  type LevelRule,
} from './aggregation.ts';
import { GoneSources } from './carry.ts';
import { ExponentialSet } from './exponential.ts';
import { HistogramSet } from './histogram.ts';
import { KeyedSeriesIndex } from './keyed-index.ts';
import { SumSet } from './sum.ts';

export type { HistogramAcc } from './aggregation.ts';

/** The five output shapes: what the naming stage sees. */
export type Shape = 'monotonicSum' | 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram';

/** A histogram's or exponential histogram's counts (the instrument's shape says which). */
export type Acc = HistogramAcc | ExponentialSum;

/**
 * What a writer's sets keep beyond the ingest's defaults (the cluster aggregate's: its members
 * report min and max, each delta reader's window its own, a level no live member reports is absent, a `max` counter is no sum).
 */
export interface SetOptions {
  /** Histograms: each series' min and max, widened by the writer ({@link OutputSet.widen}). */
  readonly minMax?: boolean;
  /** Levels: a series no awake source reports is left out of reads (its position kept), not read as 0. */
  readonly idleAbsent?: boolean;
  /** Counters: the series is the largest value any source ever reported, kept in its base, not a sum. */
  readonly largest?: boolean;
  /**
   * Sources never come back under the same identity (a cluster member's key is its process's): a
   * gone source's last report folds into the base at once, nothing kept apart for its return.
   */
  readonly foldGone?: boolean;
}

/** No slot (an empty list of sources). */
export const NO_SLOT = -1;

/** What a set reads of its sources (streams.ts `StreamTable`): each one's series position, next in its list, figures, when it was last written. */
export interface StreamLinks {
  readonly series: Int32Array;
  readonly next: Int32Array;
  readonly value: Float64Array;
  readonly acc: readonly (Acc | undefined)[];
  readonly updatedAt: Float64Array;
  /** NaN for an awake source; a dormant one (streams.ts `slept`) is no level's. */
  readonly slept: Float64Array;
}

/**
 * The windows a delta source counted (streams.ts `from`, `time`, `gaps`): kept when it ends, so
 * that it comes back still delta (a cumulative point then ends its windows) and a window it counted
 * is refused as a live stream refuses it. `time` 0n: not known (a state file that kept only
 * `from`), and its first window back counts as a new stream's.
 */
export interface CountedWindows {
  readonly from: bigint;
  readonly time: bigint;
  readonly gaps: readonly bigint[] | undefined;
}

/** A source that ended while its series stayed: its last report (a histogram's: `acc`). */
export interface GoneSource {
  readonly value: number;
  readonly acc: Acc | undefined;
  /** A delta source's; none: its points were cumulative. */
  readonly windows?: CountedWindows;
}

/** How a histogram's counts add, of either kind. */
const COUNTS_OF: Partial<Record<Shape, Aggregator<Acc, unknown>>> = {
  histogram: HISTOGRAM,
  exponentialHistogram: EXPONENTIAL_HISTOGRAM,
};

/** Where each figure of a series' row is (see `OutputSet.#rows`). */
const BASE = 0;
const SEQ = 1;
const FIRST = 2;
const LAST = 3;
const BYTES = 4;
const WIDTH = 5;

export class OutputSet {
  readonly shape: Shape;
  /** How a level's sources combine (unread for counters and histograms, which add up). */
  readonly levelRule: LevelRule;
  readonly set: SumSet | HistogramSet | ExponentialSet;
  readonly index: KeyedSeriesIndex;
  readonly scopeKey: string;
  /** Explicit-bucket histograms: the bounds every series of the set has. */
  readonly bounds: readonly number[] | undefined;
  /**
   * Per series, `WIDTH` figures in a row: base, seq, first source, last source, the writer's
   * charge. One plain array (unboxed doubles), not a typed column each: a typed array and its
   * buffer, or an array's spare room, cost more than the figures, and many sets hold one series (a
   * scope each).
   */
  readonly #rows: number[] = [];
  /** Histograms of either kind: what restarted sources had counted (empty for the other shapes). */
  readonly baseAcc: (Acc | undefined)[] = [];
  /**
   * Per series, its gone sources by identity (undefined: none), oldest first; at most
   * carry.ts `MAX_GONE_SOURCES` across the set, past which the oldest of a series fold into its base
   * (still counted; one of them that comes back then counts whole).
   */
  readonly #gone: (GoneSources<GoneSource> | undefined)[] = [];
  readonly #goneCount = { n: 0 };
  /** Histograms of either kind: how their counts add (undefined for the other shapes). */
  readonly aggregator: Aggregator<Acc, unknown> | undefined;
  /** Counters: the largest report ever, not a sum (see {@link SetOptions}). */
  readonly #largest: boolean;
  readonly #foldGone: boolean;
  /** A series was added with an earlier `seq` than the last one's (moved from another layout): positions are not in `seq` order. */
  unordered = false;

  constructor(
    shape: Shape,
    descriptor: MetricDescriptor,
    scopeKey: string,
    bounds: readonly number[] | undefined,
    levelRule: LevelRule = 'sum',
    options: SetOptions = {},
  ) {
    this.shape = shape;
    this.levelRule = levelRule;
    this.#largest = options.largest === true && shape === 'monotonicSum';
    this.#foldGone = options.foldGone === true;
    this.aggregator = COUNTS_OF[shape];
    this.scopeKey = scopeKey;
    this.bounds = bounds;
    let index: KeyedSeriesIndex | undefined;
    const keyed = (grow: () => void) =>
      (index = new KeyedSeriesIndex(() => {
        grow();
        this.#grow();
      }));
    this.set =
      shape === 'histogram'
        ? new HistogramSet(descriptor, keyed, {
            bounds: bounds ?? [],
            exemplars: false,
            minMax: options.minMax === true,
            windows: options.minMax === true,
          })
        : shape === 'exponentialHistogram'
          ? new ExponentialSet(descriptor, keyed)
          : new SumSet(descriptor, keyed, {
              monotonic: shape === 'monotonicSum',
              exemplars: false,
              gauge: shape === 'gauge',
              idleAbsent: options.idleAbsent === true && shape !== 'monotonicSum',
            });
    this.index = index!;
    this.set.keepStarts();
  }

  #grow(): void {
    this.#rows.push(0, 0, NO_SLOT, NO_SLOT, 0);
    this.#gone.push(undefined);
    if (this.aggregator !== undefined) this.baseAcc.push(undefined);
  }

  /** What series `at`'s restarted streams counted (sums); its gone sources' are apart ({@link carried}). */
  base(at: number): number {
    return this.#rows[at * WIDTH + BASE]!;
  }

  /** What series `at` carries beyond its live sources: its base and its gone sources' last reports. */
  carried(at: number): number {
    let v = this.base(at);
    const gone = this.#gone[at];
    if (gone !== undefined) for (const g of gone.values()) v += g.value;
    return v;
  }

  /** Series `at`'s gone sources by identity, oldest first (undefined: none). */
  goneOf(at: number): GoneSources<GoneSource> | undefined {
    return this.#gone[at];
  }

  /** A histogram's {@link carried}: its base counts and its gone sources' (undefined: none). */
  carriedAcc(at: number): Acc | undefined {
    let acc = this.baseAcc[at];
    const gone = this.#gone[at];
    if (gone !== undefined)
      for (const g of gone.values())
        if (g.acc !== undefined) acc = mergeInto(this.aggregator!, acc, g.acc);
    return acc;
  }

  setBase(at: number, value: number): void {
    this.#rows[at * WIDTH + BASE] = value;
  }

  /** When series `at` was made, in the order of the store. */
  seq(at: number): number {
    return this.#rows[at * WIDTH + SEQ]!;
  }

  /** The first and last of series `at`'s streams (NO_SLOT: none). */
  first(at: number): number {
    return this.#rows[at * WIDTH + FIRST]!;
  }

  last(at: number): number {
    return this.#rows[at * WIDTH + LAST]!;
  }

  setFirst(at: number, s: number): void {
    this.#rows[at * WIDTH + FIRST] = s;
  }

  setLast(at: number, s: number): void {
    this.#rows[at * WIDTH + LAST] = s;
  }

  /** A new series (no source yet): its position; `bytes`, what the writer charged for it. */
  add(key: string, attributes: Attributes, start: HrTime, seq: number, bytes: number): number {
    const at = this.index.seriesOfKey(key, attributes);
    this.set.startAt(at, start);
    if (at > 0 && seq < this.seq(at - 1)) this.unordered = true;
    this.#rows[at * WIDTH + SEQ] = seq;
    this.#rows[at * WIDTH + BYTES] = bytes;
    return at;
  }

  /** What the writer charged for series `at` when it was made (given back when it goes). */
  charge(at: number): number {
    return this.#rows[at * WIDTH + BYTES]!;
  }

  /**
   * A live source of series `at` reports the cumulative `value` after its `last` (`NaN`: its
   * first): a counter's restart (aggregation.ts `SUM.restarted`) leaves `last` in the base, and
   * the source's `value` adds whole. A level (gauge, up-down sum) that went down just did: it has
   * no restart and nothing of it goes to the base.
   */
  reported(at: number, last: number, value: number): void {
    if (this.#largest) this.setBase(at, LEVEL.max(this.base(at), value));
    else if (this.shape === 'monotonicSum' && SUM.restarted(last, value))
      this.setBase(at, this.base(at) + last);
  }

  /** As {@link reported}, a histogram source's counts: `held` (undefined: none yet) go to the base when `incoming`'s count restarts them. */
  reportedCounts(at: number, held: Acc | undefined, incoming: Acc): void {
    if (held !== undefined && this.aggregator!.restarted(held, incoming)) this.#addToBase(at, held);
  }

  /**
   * The source `id` of series `at` ends with its last report `value` (a histogram's: `acc`; a
   * delta source's: its `windows` too): a
   * counter's and a histogram's counts stay in the series while other sources keep it (carry.ts: a
   * source that stops reporting keeps what it added), kept apart as a gone source until it comes
   * back ({@link resume}) -- or folded into the base at once (`foldGone`) --; a level's leave with it.
   */
  retired(
    at: number,
    id: string,
    value: number,
    acc: Acc | undefined,
    windows?: CountedWindows,
  ): void {
    if ((this.shape !== 'monotonicSum' && acc === undefined) || this.#largest) return;
    if (this.#foldGone) {
      this.fold(at, { value, acc });
      return;
    }
    const part = windows === undefined ? { value, acc } : { value, acc, windows };
    (this.#gone[at] ??= new GoneSources(this.#goneCount)).keep(id, part, (p) => this.fold(at, p));
  }

  /**
   * The source `id` of series `at` is back, before its first report: its last report when it ended
   * (no longer counted apart: the source's own again), or undefined when the series keeps none of
   * it (it never ended here, or it folded into the base).
   */
  resume(at: number, id: string): GoneSource | undefined {
    const part = this.#gone[at]?.take(id);
    if (this.#gone[at]?.size === 0) this.#gone[at] = undefined;
    return part;
  }

  /**
   * Adds what a source counted into series `at`'s base: a gone source's last report, or what a
   * delta stream's windows counted when its sender turns cumulative (ingest/stream-rules.ts).
   */
  fold(at: number, part: GoneSource): void {
    if (this.shape === 'monotonicSum') this.setBase(at, this.base(at) + part.value);
    else if (part.acc !== undefined) this.#addToBase(at, part.acc);
  }

  #addToBase(at: number, acc: Acc): void {
    this.baseAcc[at] = mergeInto(this.aggregator!, this.baseAcc[at], acc);
  }

  /** Removes series `at` (its sources gone): a hole until {@link compact}. */
  remove(at: number): void {
    this.set.remove(at);
    if (this.aggregator !== undefined) this.baseAcc[at] = undefined;
    this.#gone[at]?.clear();
    this.#gone[at] = undefined;
  }

  /** Moves the series over the holes, their columns and their sources' positions with them. */
  compact(streams: StreamLinks): void {
    const moves = this.set.compact();
    if (moves === undefined) return;
    let n = 0;
    for (let i = 0; i < moves.length; i++) {
      const to = moves[i]!;
      if (to < 0) continue;
      n = to + 1;
      if (to === i) continue;
      for (let k = 0; k < WIDTH; k++) this.#rows[to * WIDTH + k] = this.#rows[i * WIDTH + k]!;
      this.#gone[to] = this.#gone[i];
      if (this.aggregator !== undefined) this.baseAcc[to] = this.baseAcc[i];
      for (let s = this.first(to); s !== NO_SLOT; s = streams.next[s]!) streams.series[s] = to;
    }
    this.#rows.length = n * WIDTH;
    this.#gone.length = n;
    if (this.aggregator !== undefined) this.baseAcc.length = n;
    this.unordered = false;
    for (let i = 1; i < n; i++) if (this.seq(i) < this.seq(i - 1)) this.unordered = true;
  }

  /**
   * Writes series `at`'s figures: a counter's or histogram's base plus its gone sources' plus its
   * live sources', in the order they were made; a level's its live sources' by the set's rule.
   */
  settle(at: number, streams: StreamLinks): void {
    const first = this.first(at);
    const set = this.set;
    if (!(set instanceof SumSet)) {
      let acc = this.carriedAcc(at);
      for (let s = first; s !== NO_SLOT; s = streams.next[s]!) {
        const a = streams.acc[s];
        if (a !== undefined) acc = mergeInto(this.aggregator!, acc, a);
      }
      if (set instanceof ExponentialSet) set.values[at] = acc as ExponentialSum | undefined;
      else {
        const point = (acc ?? NOTHING) as HistogramAcc;
        set.put(at, point, notRoundedDown(set.sums.data[at]!, point.sum));
      }
    } else if (this.#largest) set.values.data[at] = this.base(at);
    else if (this.shape === 'monotonicSum') {
      let v = this.carried(at);
      for (let s = first; s !== NO_SLOT; s = streams.next[s]!) v += streams.value[s]!;
      set.values.data[at] = notRoundedDown(set.values.data[at]!, v);
    } else {
      set.values.data[at] = combined(this.levelRule, first, streams, this.carried(at));
      if (set.awake !== undefined) set.awake.data[at] = awake(first, streams);
    }
  }

  /**
   * A histogram source of series `at` reported `min` and `max` (`NaN`: unknown): the series' widen,
   * when it keeps them. `added`: they are of what the report adds, else of more (its life's), and a
   * delta reader's window has none for the series (histogram.ts `unknownInWindows`).
   */
  widen(at: number, min: number, max: number, added: boolean): void {
    const set = this.set as HistogramSet;
    set.add(at, NOTHING, min, max);
    if (!added || min !== min || max !== max) set.unknownInWindows(at);
  }
}

/** No counts: what widens a histogram's min and max alone. */
const NOTHING: HistogramAcc = { counts: [], sum: 0, count: 0 };

/**
 * A counter's total (or a histogram's sum) `computed` again after it served `served`: the same
 * figures added in another order (a source folded into the base, another source gone) can round
 * an ulp or so below it -- 0.1 + 0.1 + 0.4 is 0.6000000000000001, 0.4 + 0.1 + 0.1 is 0.6 --, and
 * Prometheus reads any decrease as a reset (its rate would count the whole total again). Within
 * rounding, what was served stands; a real decrease (a histogram of negative values) is kept.
 */
function notRoundedDown(served: number, computed: number): number {
  return computed < served && served - computed <= Math.abs(served) * 1e-12 ? served : computed;
}

/** How many of the sources from `first` on are awake (streams.ts `slept`). */
function awake(first: number, streams: StreamLinks): number {
  let n = 0;
  for (let s = first; s !== NO_SLOT; s = streams.next[s]!)
    if (streams.slept[s] !== streams.slept[s]) n++;
  return n;
}

/**
 * The awake sources from `first` on, merged by `rule` (aggregation.ts `LEVEL`; `sum` over `base`,
 * `last` the greatest `updatedAt`, of two written at once the one made later); 0 when none is
 * awake. A dormant source (streams.ts `slept`) is no level's: its sender is not known to be alive.
 */
function combined(rule: LevelRule, first: number, streams: StreamLinks, base: number): number {
  const merge = LEVEL[rule];
  let v = rule === 'sum' ? base : 0;
  let at = Number.NEGATIVE_INFINITY;
  let seen = rule === 'sum';
  for (let s = first; s !== NO_SLOT; s = streams.next[s]!) {
    if (streams.slept[s] === streams.slept[s]) continue;
    if (rule === 'last' && streams.updatedAt[s]! < at) continue;
    at = streams.updatedAt[s]!;
    v = seen ? merge(v, streams.value[s]!) : streams.value[s]!;
    seen = true;
  }
  return v;
}
