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
 * - Delta counter: each window is added; a window sent again is refused (`delta_repeat`).
 * - Gauge: a level. Across resources the newest point wins: a restarted daemon with a new
 *   `service.instance.id` replaces the old instance's level, never adds to it.
 * - Counters across resources add up. A source that expires stays counted while its series is still
 *   served, and goes on from there when it comes back; a series all of whose sources expired leaves
 *   the scrape and is forgotten: when a source comes back it starts from what that source sends
 *   (a cumulative total, or a delta window's increments).
 * - Expiry follows each source's silence on the monotonic clock (not the disk, not the wall clock).
 * - While the state disk refuses writes, what is served is the last state written (frozen), less
 *   the series whose every source expired since.
 */

export type Kind = 'counter' | 'delta' | 'gauge';

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
];

/** The values of the one attribute, `k`, the senders record. */
export const KEYS = ['a', 'b'] as const;
export type Key = (typeof KEYS)[number];

/** A point as a sender sends it; `value` is a cumulative total, a window's increments or a level. */
export interface Point {
  readonly instrument: Instrument;
  readonly key: Key;
  readonly value: number;
}

interface Source {
  /** A counter's last total, a delta's sum of windows, a gauge's level. */
  value: number;
  /** What a cumulative source counted before its restarts. */
  base: number;
  /** The order of the push that last wrote it (gauges: the newest wins). */
  written: number;
  expired: boolean;
}

/** Source series keyed `resource|instrument|key`. */
export type ModelState = Map<string, Source>;

const sourceKey = (resource: string, instrument: string, key: Key): string =>
  `${resource}|${instrument}|${key}`;
const seriesOf = (sourceKey: string): string => sourceKey.slice(sourceKey.indexOf('|') + 1);

export function cloneState(state: ModelState): ModelState {
  return new Map([...state].map(([k, s]) => [k, { ...s }]));
}

/** The acknowledged effect of one push (all its points were accepted). */
export function applyPush(
  state: ModelState,
  resource: string,
  points: readonly Point[],
  order: number,
): void {
  for (const { instrument, key, value } of points) {
    const id = sourceKey(resource, instrument.name, key);
    const series = seriesOf(id);
    // A series all of whose sources expired was forgotten: it is made again from this point.
    if (!isServed(state, series))
      for (const k of [...state.keys()]) if (seriesOf(k) === series) state.delete(k);
    const source = state.get(id);
    if (source === undefined) {
      state.set(id, { value, base: 0, written: order, expired: false });
      continue;
    }
    source.expired = false;
    source.written = order;
    if (instrument.kind === 'delta') source.value += value;
    else if (instrument.kind === 'gauge') source.value = value;
    else {
      if (value < source.value) source.base += source.value;
      source.value = value;
    }
  }
}

/** A sender silent past `expiry_ms`: its sources expire. */
export function expireResource(state: ModelState, resource: string): void {
  for (const [k, s] of state) if (k.startsWith(`${resource}|`)) s.expired = true;
}

function isServed(state: ModelState, series: string): boolean {
  for (const [k, s] of state) if (seriesOf(k) === series && !s.expired) return true;
  return false;
}

/** The pull endpoint's ingested series, `name{k="…"}` → value, as the model says. */
export function served(state: ModelState): Map<string, number> {
  const out = new Map<string, number>();
  const newest = new Map<string, number>();
  for (const [k, s] of state) {
    const series = seriesOf(k);
    if (!isServed(state, series)) continue;
    const [name, key] = series.split('|') as [string, Key];
    const instrument = INSTRUMENTS.find((i) => i.name === name)!;
    const label = `${instrument.served}{k="${key}"}`;
    if (instrument.kind === 'gauge') {
      if (s.expired || s.written <= (newest.get(label) ?? -1)) continue;
      newest.set(label, s.written);
      out.set(label, s.value);
    } else out.set(label, (out.get(label) ?? 0) + s.base + s.value);
  }
  return out;
}

/** Served series that are counters (their values may only go down when the model's do). */
export const isCounterSeries = (label: string): boolean => !label.startsWith('model_level{');
