/**
 * The reference model of what `jobmeter serve` serves: from the points it acknowledged, the value
 * of every ingested series, written as plainly as the rules of docs/collector.md ("How ingested
 * data is held", "jobmeter's own restart") say them. It says what a value must be, never how
 * serve computes it, and holds no code of src/: the model-based fault test (model-fault.test.ts)
 * compares every scrape of a real serve with it.
 *
 * A source series is one sender resource × instrument × attribute set. A served series is one
 * instrument × attribute set: the resources of all senders are merged (one jobmeter, one target).
 *
 * - Cumulative counter: a point replaces the source's value; a value below the last one is a
 *   restart of the sender (a reset), and what it had counted stays counted (its base). A new start
 *   time alone is no reset (Prometheus' own rule: only a decrease is).
 * - Delta counter: each window is added, once: one that lies wholly in windows its source counted
 *   is sent again and refused (`delta_repeat`), one partly in them would count some increments
 *   twice and is refused whole (`delta_overlap`). A source back from expiry still knows what it
 *   counted while its series is held (it is forgotten with its series), and a change of
 *   temporality ends its windows.
 * - A counter or histogram whose sender changes its temporality (a restart with another exporter
 *   setting): what it counted stays counted (a histogram's count, sum and every bucket alike), and
 *   its points count by their new temporality from there.
 * - Histogram: as a counter of either temporality, its count deciding a reset. A source that sends
 *   a new bucket layout keeps what its series counted, in a layout of every bound of its own and
 *   the new one (serve caps it at more bounds than any layout here has): each old bucket's count
 *   goes to the bucket of its bound, the point's to the first bucket whose bound is at or above its
 *   own; a cumulative point that goes on from the last reads its own `le` at its bounds and, at a
 *   bound it lacks, what the series read there, no less than the point's `le` below it and no more
 *   than the one above. The series' expired sources move into the new layout whole.
 *   Senders of one series must agree on its layout: a point whose layout another source the series
 *   holds (live, or dormant after a restart) does not share is refused (`bounds_conflict`).
 * - Gauge: a level. Across resources the newest point wins: a restarted daemon with a new
 *   `service.instance.id` replaces the old instance's level, never adds to it.
 * - Counters across resources add up. A source that expires stays counted while its series is still
 *   served, and goes on from there when it comes back; a series all of whose sources expired leaves
 *   the scrape and is forgotten: when a source comes back it starts from what that source sends
 *   (a cumulative total, or a delta window's increments).
 * - Expiry follows each source's silence on the monotonic clock (not the disk, not the wall clock).
 * - A scrape (or a push) only reads: what is counted is the same whether or not one read a source
 *   before it expired, went dormant, was restored, or went unwoken, and whenever the state file was
 *   written in between (a counter never goes back unless its source reset, and nothing is counted
 *   twice, whether or not anyone saw the value before).
 * - While the state disk refuses writes, what is served is the last state written (frozen), series
 *   by series, for the series held since the write: one whose every source expired since is
 *   forgotten, and one made again after that is another series than the file's.
 * - A restart of serve: a source whose last point the state file knows is older than `expiry_ms`
 *   (at the restart, or later while its sender has not pushed since) is dormant (serve cannot know
 *   whether its sender pushed after the write): counted in its series as an expired source is,
 *   never a level, and a series with no source awake is not served; but not forgotten: its
 *   sender's next point goes on from it (dormant sources keep their series held). One not pushed
 *   within `expiry_ms` of the restart expires.
 */

export type Kind = 'counter' | 'delta' | 'gauge' | 'histogram';

export interface Instrument {
  /** The OTLP metric name the senders use. */
  readonly name: string;
  readonly kind: Kind;
  /** Its series name on the pull endpoint (native `otel` profile). */
  readonly served: string;
}

export const INSTRUMENTS: readonly Instrument[] = [
  { name: 'model.events', kind: 'counter', served: 'model_events_total' },
  { name: 'model.delta_events', kind: 'delta', served: 'model_delta_events_total' },
  { name: 'model.level', kind: 'gauge', served: 'model_level' },
  { name: 'model.latency', kind: 'histogram', served: 'model_latency' },
];

/** The values of the one attribute, `k`, the senders record. */
export const KEYS = ['a', 'b'] as const;
export type Key = (typeof KEYS)[number];

export type Temporality = 'cumulative' | 'delta';

/** A histogram point's buckets: `counts[i]` observations in bucket i (the last one past every bound). */
export interface Buckets {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
}

/**
 * A point as a sender sends it: `value` is a cumulative total or a window's increments (by
 * `temporality`), or a level; `buckets`, a histogram's counts, a total or a window's likewise.
 */
export interface Point {
  readonly instrument: Instrument;
  readonly key: Key;
  readonly value: number;
  readonly temporality?: Temporality;
  readonly buckets?: Buckets;
  /**
   * A delta point's window (start, end], when the caller places windows; without one it is a new
   * window (the fault test's world tells a retry by its own step).
   */
  readonly window?: Window;
}

export interface Window {
  readonly start: number;
  readonly end: number;
}

interface Source {
  /** A cumulative counter's last total, a delta's sum of windows, a gauge's level. */
  value: number;
  /** What a counter counted before its restarts and changes of temporality. */
  base: number;
  temporality: Temporality | undefined;
  /** A histogram's counts as `value` and `base` are a counter's total (in the series' layout). */
  buckets: Buckets | undefined;
  bucketBase: Buckets | undefined;
  /** The order of the push that last wrote it (gauges: the newest wins). */
  written: number;
  /** The order of the push that made its series (every source of a series has the same). */
  made: number;
  expired: boolean;
  /** Restored past `expiry_ms` (see the header): held, not served, until its sender pushes. */
  dormant?: boolean;
  /** The windows its delta points counted (those that carry one) since its temporality was last delta. */
  windows?: Window[];
}

/** Source series keyed `resource|instrument|key`. */
export type ModelState = Map<string, Source>;

export const sourceKey = (resource: string, instrument: string, key: Key): string =>
  `${resource}|${instrument}|${key}`;
const seriesOf = (sourceKey: string): string => sourceKey.slice(sourceKey.indexOf('|') + 1);

export function cloneState(state: ModelState): ModelState {
  return new Map([...state].map(([k, s]) => [k, { ...s }]));
}

const total = (b: Buckets): number => b.counts.reduce((x, y) => x + y, 0);
const sameLayout = (a: Buckets, b: Buckets): boolean =>
  a.bounds.length === b.bounds.length && a.bounds.every((x, i) => x === b.bounds[i]);
export const emptyBuckets = (bounds: readonly number[]): Buckets => ({
  bounds,
  counts: bounds.map(() => 0).concat(0),
  sum: 0,
});
export function addBuckets(a: Buckets, b: Buckets): Buckets {
  return { bounds: a.bounds, counts: a.counts.map((c, i) => c + b.counts[i]!), sum: a.sum + b.sum };
}
/** `b` in the layout `bounds`: each bucket's count in the first bucket whose bound is at or above its own. */
export function relayout(b: Buckets, bounds: readonly number[]): Buckets {
  const counts = bounds.map(() => 0).concat(0);
  b.counts.forEach((c, i) => {
    const upper = b.bounds[i] ?? Infinity;
    const j = bounds.findIndex((x) => x >= upper);
    counts[j === -1 ? bounds.length : j]! += c;
  });
  return { bounds, counts, sum: b.sum };
}

/** The buckets of the observations `observed` in the layout `bounds`, as a sender's histogram counts them. */
export function observedBuckets(observed: readonly number[], bounds: readonly number[]): Buckets {
  const counts = bounds.map(() => 0).concat(0);
  for (const v of observed) {
    const i = bounds.findIndex((b) => v <= b);
    counts[i === -1 ? bounds.length : i]!++;
  }
  return { bounds, counts, sum: observed.reduce((x, y) => x + y, 0) };
}

/** A sender's cumulative points of `key`: its counter's `total` and its histogram's `buckets`. */
export function cumulativePoints(key: Key, total: number, buckets: Buckets): Point[] {
  const [counter, histogram] = ['counter', 'histogram'].map((kind) =>
    INSTRUMENTS.find((i) => i.kind === kind)!,
  ) as [Instrument, Instrument];
  return [
    { instrument: counter, key, value: total, temporality: 'cumulative' },
    { instrument: histogram, key, value: 0, temporality: 'cumulative', buckets },
  ];
}

/** Why serve refuses `point` from `resource` in `state`, or undefined: it is taken. */
export function refusal(state: ModelState, resource: string, point: Point): string | undefined {
  const own = sourceKey(resource, point.instrument.name, point.key);
  const series = seriesOf(own);
  const source = state.get(own);
  if (point.window !== undefined && source !== undefined && isHeld(state, series)) {
    const counted = countedIn(source, point);
    if (counted === point.window.end - point.window.start) return 'delta_repeat';
    if (counted > 0) return 'delta_overlap';
  }
  if (point.buckets === undefined) return undefined;
  for (const [k, s] of state)
    if (k !== own && seriesOf(k) === series && !s.expired && s.buckets !== undefined)
      if (!sameLayout(s.buckets, point.buckets)) return 'bounds_conflict';
  return undefined;
}

/** How much of `point`'s window the windows `source` counted cover, by its temporality now. */
function countedIn(source: Source, point: Point): number {
  const { start, end } = point.window!;
  if (source.temporality !== point.temporality) return 0;
  let covered = start;
  let counted = 0;
  const windows = (source.windows ?? []).toSorted((a, b) => a.start - b.start);
  for (const w of windows) {
    const from = Math.max(w.start, covered);
    const to = Math.min(w.end, end);
    if (to > from) [counted, covered] = [counted + to - from, to];
  }
  return counted;
}

/** The acknowledged effect of one push: its points that serve takes (see {@link refusal}). */
export function applyPush(
  state: ModelState,
  resource: string,
  points: readonly Point[],
  order: number,
): void {
  for (const point of points) {
    if (refusal(state, resource, point) !== undefined) continue;
    const { instrument, key, value, temporality, buckets } = point;
    const id = sourceKey(resource, instrument.name, key);
    const series = seriesOf(id);
    // A series all of whose sources expired was forgotten: it is made again from this point.
    if (!isHeld(state, series))
      for (const k of [...state.keys()]) if (seriesOf(k) === series) state.delete(k);
    const source = state.get(id);
    if (source === undefined) {
      let made = order;
      for (const [k, s] of state) if (seriesOf(k) === series) made = s.made;
      state.set(id, {
        made,
        value,
        base: 0,
        temporality,
        buckets,
        bucketBase: buckets === undefined ? undefined : emptyBuckets(buckets.bounds),
        written: order,
        expired: false,
        ...(point.window !== undefined && { windows: [point.window] }),
      });
      continue;
    }
    if (source.temporality !== temporality) source.windows = undefined;
    if (point.window !== undefined) (source.windows ??= []).push(point.window);
    source.expired = false;
    source.dormant = false;
    source.written = order;
    if (instrument.kind === 'gauge') source.value = value;
    else if (buckets !== undefined) {
      const bounds = [...new Set([...source.buckets!.bounds, ...buckets.bounds])].sort(
        (a, b) => a - b,
      );
      if (bounds.length > source.buckets!.bounds.length)
        relayoutSeries(state, series, source, bounds);
      const goesOn =
        temporality === 'cumulative' &&
        source.temporality === 'cumulative' &&
        total(buckets) >= total(source.buckets!);
      const point =
        bounds.length === buckets.bounds.length
          ? buckets
          : goesOn
            ? goneOn(source.buckets!, buckets)
            : relayout(buckets, bounds);
      [source.bucketBase, source.buckets] = count(
        source.temporality,
        { base: source.bucketBase!, last: source.buckets!, point, temporality },
        addBuckets,
        total,
      );
    } else
      [source.base, source.value] = count(
        source.temporality,
        { base: source.base, last: source.value, point: value, temporality },
        (a, b) => a + b,
        (v) => v,
      );
    source.temporality = temporality;
  }
}

/**
 * How a source counts, a counter's total and a histogram's counts alike (`add`, and `size` deciding
 * a reset): `base` what it counted before, `last` its last total or its windows' sum; returns them
 * with `point` taken. A point of another temporality than the last (its sender changed it): what
 * it counted stays counted, and the point counts by its own from there. A window is added; a
 * cumulative point replaces the last or, lower (its sender restarted), is a reset: what it counted
 * stays counted.
 */
function count<T>(
  was: Temporality | undefined,
  { base, last, point, temporality }: { base: T; last: T; point: T; temporality?: Temporality },
  add: (a: T, b: T) => T,
  size: (v: T) => number,
): [base: T, last: T] {
  if (temporality !== was) return [add(base, last), point];
  if (temporality === 'delta') return [base, add(last, point)];
  return size(point) < size(last) ? [add(base, last), point] : [base, point];
}

/**
 * A new layout from `source`, `bounds` (every bound of the series' and of its point's):
 * everything the series counted moves into it (other sources, expired ones, included: a live one
 * with the old layout would have refused the point), its own last point too, which the point then
 * counts on from as in one layout.
 */
function relayoutSeries(
  state: ModelState,
  series: string,
  source: Source,
  bounds: readonly number[],
): void {
  for (const [k, s] of state)
    if (seriesOf(k) === series && s !== source && s.buckets !== undefined) {
      s.bucketBase = relayout(addBuckets(s.bucketBase!, s.buckets), bounds);
      s.buckets = emptyBuckets(bounds);
    }
  source.bucketBase = relayout(source.bucketBase!, bounds);
  source.buckets = relayout(source.buckets!, bounds);
}

/** How many observations `b` counts at or below `x`: its `le` series at `x`. */
function atOrBelow(b: Buckets, x: number): number {
  return b.counts.filter((_, i) => (b.bounds[i] ?? Infinity) <= x).reduce((a, c) => a + c, 0);
}

/**
 * A cumulative point going on from `last`, which has every bound of the point's and more, in
 * `last`'s layout: at a bound the point has, the point's `le`; at one it lacks, what `last` read
 * there, no less than the point's `le` at its bound below and no more than at its bound above.
 */
function goneOn(last: Buckets, point: Buckets): Buckets {
  const reads = last.bounds.map((x) => {
    if (point.bounds.includes(x)) return atOrBelow(point, x);
    const below = point.bounds.filter((y) => y < x).at(-1);
    const above = point.bounds.find((y) => y > x) ?? Infinity;
    const floor = below === undefined ? 0 : atOrBelow(point, below);
    return Math.min(atOrBelow(point, above), Math.max(atOrBelow(last, x), floor));
  });
  const cumulative = [...reads, total(point)];
  const counts = cumulative.map((r, i) => r - (i === 0 ? 0 : cumulative[i - 1]!));
  return { bounds: last.bounds, counts, sum: point.sum };
}

/** A source series silent past `expiry_ms` expires (a dormant one by the restart's clock): `id`, as `sourceKey` makes it. */
export function expireSource(state: ModelState, id: string): void {
  const s = state.get(id);
  if (s !== undefined && s.dormant !== true) s.expired = true;
}

/** A restart of serve: each source `isDormant` says the file knows silent past `expiry_ms` is dormant. */
export function restoreDormant(state: ModelState, isDormant: (s: Source) => boolean): void {
  for (const s of state.values()) if (!s.expired && isDormant(s)) s.dormant = true;
}

/** `expiry_ms` after the restart: the dormant sources expire. */
export function expireDormant(state: ModelState): void {
  for (const s of state.values()) if (s.dormant === true) [s.dormant, s.expired] = [false, true];
}

const awake = (s: Source): boolean => !s.expired && s.dormant !== true;

function isServed(state: ModelState, series: string): boolean {
  for (const [k, s] of state) if (seriesOf(k) === series && awake(s)) return true;
  return false;
}

function isHeld(state: ModelState, series: string): boolean {
  for (const [k, s] of state) if (seriesOf(k) === series && !s.expired) return true;
  return false;
}

/**
 * While the disk fails, what of `frozen` (the last state written, after the push of order
 * `writtenAt`) is served: the series `live` still holds as the file's. One whose every source
 * expired there since was forgotten, and one made again after the write is another series under
 * that name (the soak's seeds 6027, 9021: which it is may differ from one possible state to
 * another, so this is asked of each).
 */
export function fileSeries(frozen: ModelState, live: ModelState, writtenAt: number): ModelState {
  const out = cloneState(frozen);
  for (const k of [...out.keys()]) {
    const series = seriesOf(k);
    const held = [...live].find(([l, s]) => seriesOf(l) === series && !s.expired)?.[1];
    if (held === undefined || held.made > writtenAt) out.delete(k);
  }
  return out;
}

const le = (bound: number | undefined): string => (bound === undefined ? '+Inf' : String(bound));

/** The pull endpoint's ingested series, `name{k="…"}` (and `le`) → value, as the model says. */
export function served(state: ModelState): Map<string, number> {
  const out = new Map<string, number>();
  const add = (label: string, v: number): void => void out.set(label, (out.get(label) ?? 0) + v);
  const newest = new Map<string, number>();
  for (const [k, s] of state) {
    const series = seriesOf(k);
    if (!isServed(state, series)) continue;
    const [name, key] = series.split('|') as [string, Key];
    const instrument = INSTRUMENTS.find((i) => i.name === name)!;
    const label = `${instrument.served}{k="${key}"}`;
    if (instrument.kind === 'gauge') {
      if (!awake(s) || s.written <= (newest.get(label) ?? -1)) continue;
      newest.set(label, s.written);
      out.set(label, s.value);
    } else if (s.buckets !== undefined) {
      const b = addBuckets(s.bucketBase!, s.buckets);
      let cumulative = 0;
      b.counts.forEach((c, i) => {
        cumulative += c;
        add(`${instrument.served}_bucket{k="${key}",le="${le(b.bounds[i])}"}`, cumulative);
      });
      add(`${instrument.served}_count{k="${key}"}`, cumulative);
      add(`${instrument.served}_sum{k="${key}"}`, b.sum);
    } else add(label, s.base + s.value);
  }
  return out;
}

/** Served series that are counters (their values may only go down when the model's do). */
export const isCounterSeries = (label: string): boolean => !label.startsWith('model_level{');
