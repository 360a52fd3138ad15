/**
 * The ingest store's state as a checkpoint: plain data (the store's `snapshot()` makes it, its
 * `restore()` takes it) and its encoding, versioned. The file around it (header, checksum, atomic
 * replace) is state-file.ts's; what is kept, and why, is the store's (ingest-store.ts).
 *
 * What a checkpoint holds is what the served values are made of — each source series' last value
 * (or delta total), start time, last point time and last update, each output series' base (what
 * its reset or ended streams had counted) and start time, each instrument's shape, unit and
 * description, the last failure's time derived from the senders' runs — so a store restored from it serves the same values and goes on from them.
 *
 * What must stay true: `decodeCheckpoint` accepts only what `encodeCheckpoint` writes (every field
 * checked, of its type), and throws {@link CheckpointError} for anything else, never a TypeError
 * later: a file from a crash or from someone else means a fresh start, not a broken store. Every
 * value is checked by the rules the ingest applies on arrival (stream-rules.ts, the same functions):
 * one it would refuse is left out and listed (`refused`), as the ingest refuses a point and keeps
 * the rest of its request, so the store never holds what an arriving point could not give it.
 * A new meaning of a field, or a field a reader cannot do without, is a new
 * {@link CHECKPOINT_VERSION}; a field an older reader may ignore (it restores as it did before the
 * field was written: `windows`, `gone`, `goneWindows`, `goneSpans`, `carry`, `departed`, `written`) keeps the version, so a downgrade still restores
 * the file rather than moving it aside.
 */
import type { AnyValue, Attributes, HrTime } from '@opentelemetry/api';
import { setAttribute } from '../common/set-attribute.ts';
import type { Acc, CountedWindows, GoneSource, Shape } from '../series/output-set.ts';
import {
  counterRefusal,
  exponentialFault,
  histogramFault,
  histogramRefusal,
  MAX_GAPS,
} from './stream-rules.ts';
import type { Refusal } from './ingest-report.ts';
import { messageOf } from '../common/message-of.ts';
import type { Figures, SourcePart, SourcesSnapshot } from '../series/carry.ts';
import type { HistogramAcc } from '../series/aggregation.ts';
import { DataPointType } from '../common/otel-sdk.ts';
import { ValueType } from '@opentelemetry/api';
import type { WrittenAt } from '../series/clock.ts';
import { EXPOSED_KIND } from '../domain/types.ts';

/** The encoding's version: a file of a higher one is refused (written by a newer jobmeter). */
export const CHECKPOINT_VERSION = 1;

export interface StoreSnapshot {
  readonly instruments: readonly InstrumentSnapshot[];
  /**
   * When the snapshot was made: the wall reading its streams' `updatedAt` are against and the
   * system's monotonic clock then (series/clock.ts `writtenTimes`), so a restart in the same boot
   * counts the time since as idle (`resumedTimes`). Written only with a boot reading; a file
   * without it restores each stream as idle as it was before the newest point the file holds.
   */
  readonly written?: WrittenAt;
  /**
   * What a profile's series carry of the ingested sources they merge (series/carry.ts): the
   * namer's, not the store's, written beside it so a restart serves what was served.
   */
  readonly carry?: SourcesSnapshot;
  /** When a sender's `jobmeter.run.finished{outcome="failure"}` last went up (derived-runs.ts), in seconds. */
  readonly lastFailureSeconds: number | undefined;
  /**
   * Which jobmeter wrote it (`0.1.0 (commit …)`), so a restore by another build says so. A field of
   * its own: a reader that does not know it ignores it, and a file without it came from a jobmeter
   * that did not record it.
   */
  readonly writer?: string;
  /**
   * The point clock when the snapshot was made (series/clock.ts `pointMillis`): a restored process
   * stamps its points after it (`pointFloor`), whatever its wall clock says. A field of its own.
   */
  readonly point?: number;
  /**
   * What {@link decodeCheckpoint} left out of a file: values the ingest refuses, to be counted and
   * said as its refusals are. A store's own snapshot has none.
   */
  readonly refused?: readonly RefusedValue[];
}

/** A value of a checkpoint the ingest would refuse on arrival, left out of the snapshot. */
export interface RefusedValue {
  /** The instrument it is of (a profile's carry: the family). */
  readonly name: string;
  readonly refusal: Refusal;
  /** The source series left out with it: its own, or, for a series' base, all of the series'. */
  readonly points: number;
}

export interface InstrumentSnapshot {
  readonly name: string;
  readonly shape: Shape;
  readonly description: string;
  readonly unit: string;
  readonly series: readonly SeriesSnapshot[];
}

export interface SeriesSnapshot {
  readonly scopeKey: string;
  readonly scope: { readonly name: string; readonly version: string };
  readonly attributes: Attributes;
  readonly startTime: HrTime;
  readonly base: number;
  readonly baseAcc: Acc | undefined;
  readonly bounds: readonly number[] | undefined;
  readonly streams: readonly StreamSnapshot[];
  /**
   * `base` (`baseAcc`) is all the series carries beyond its live sources; `gone` splits
   * it into its own base and its gone sources' last reports (output-set.ts `retired`), so that a
   * source coming back after a restart takes its part back and is counted once. Undefined: none
   * (or a file written without it).
   */
  readonly gone?: GoneSplit;
}

export interface GoneSplit {
  readonly base: number;
  readonly baseAcc: Acc | undefined;
  readonly parts: readonly GonePart[];
}

/**
 * A gone source's last report (its `windows`, a delta source's: the checkpoint's `goneWindows`,
 * their start, and `goneSpans`, their end and gaps), by its identity in its instrument
 * (series/streams.ts `identity`, less the instrument's name).
 */
export type GonePart = GoneSource & { readonly source: string };

export interface StreamSnapshot {
  /** The resource and scope part of its group's key (arrival.ts `origin`). */
  readonly origin: string;
  /** Its attributes' key. */
  readonly key: string;
  readonly start: bigint;
  readonly time: bigint;
  readonly points: number;
  readonly value: number;
  readonly acc: Acc | undefined;
  /** Unix ms of its last point, all of one snapshot against one wall reading (series/clock.ts `writtenTimes`, the snapshot's `written.wall`): expiry goes on from it. */
  readonly updatedAt: number;
  /**
   * A delta stream's counted windows (series/streams.ts `from`, `gaps`; the checkpoint's `windows`);
   * 0n and undefined otherwise, or from a state written without them.
   */
  readonly from: bigint;
  readonly gaps: readonly bigint[] | undefined;
}

/** A checkpoint that cannot be read: what is wrong with it, for the warning. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

/**
 * A value's form in the file, both ways: `out` is what is written of it, `in` reads it back from
 * the place `at` (named in its error), checked: one description per kind of value, so that what
 * is read is what is written. @throws {CheckpointError} from `in`, for anything `out` does not write.
 */
interface Codec<T> {
  out(v: T): unknown;
  in(v: unknown, at: string): T;
}
type Of<C> = { -readonly [K in keyof C]: Read<C[K]> };
/** What a codec reads. */
type Read<C> = C extends Codec<infer T> ? T : never;
type Fields = Record<string, Codec<unknown>>;
type Departed = NonNullable<SourcesSnapshot['departed']>[number];

function fail(at: string, what: string): never {
  throw new CheckpointError(`${at}: ${what}`);
}

/** A value written as it is, read when `ok`. */
const plain = <T>(ok: (v: unknown) => boolean, what: string): Codec<T> => ({
  out: (v) => v,
  in: (v, at) => (ok(v) ? (v as T) : fail(at, what)),
});
const string = plain<string>((v) => typeof v === 'string', 'not a string');
const finite = plain<number>(Number.isFinite, 'not a finite number');
const integer = plain<number>(Number.isSafeInteger, 'not an integer');
const shape = plain<Shape>(
  (v) => typeof v === 'string' && Object.hasOwn(EXPOSED_KIND, v),
  'not a shape',
);

// JSON has no NaN, ±Infinity or bigint: numbers that are not finite are written as these strings
// (a gauge may hold NaN; {@link encodeCheckpoint}'s replacer writes every one so), times as
// decimal strings.
const num: Codec<number> = {
  out: (v) => v,
  in: (v, at) =>
    typeof v === 'number' || (typeof v === 'string' && /^(?:NaN|-?Infinity)$/.test(v))
      ? Number(v)
      : fail(at, 'not a number'),
};
const time: Codec<bigint> = {
  out: String,
  in: (v, at) =>
    typeof v === 'string' && /^\d{1,20}$/.test(v)
      ? BigInt(v)
      : fail(at, 'not a time in nanoseconds'),
};

function list<T>(c: Codec<T>): Codec<readonly T[]> {
  return {
    out: (v) => v.map((x) => c.out(x)),
    in: (v, at) => array(v, at).map((x, i) => c.in(x, `${at}[${i}]`)),
  };
}

/** `c`, or none: written as `none` (null in a row or field, or no field at all). */
function maybe<T>(c: Codec<T>, none: null | undefined): Codec<T | undefined> {
  return {
    out: (v) => (v === undefined ? none : c.out(v)),
    in: (v, at) => (v === none ? undefined : c.in(v, at)),
  };
}

/** A list in a field of its own, written only when it holds something: a reader that does not know the field reads the file as before. */
const sideList = <T>(c: Codec<T>) =>
  as(
    maybe(list(c), undefined),
    (v?: readonly T[]) => (v?.length === 0 ? undefined : v),
    (v) => v,
  );

/** `c` read as a `T`: `from` makes the file's value of a `T`, `to` (which may check it) a `T` of one. */
function as<F, T>(c: Codec<F>, from: (t: T) => F, to: (f: F, at: string) => T): Codec<T> {
  return { out: (t) => c.out(from(t)), in: (v, at) => to(c.in(v, at), at) };
}

/** An object of `fields` (others are ignored); read, the fields that are undefined (null) are left out. */
function obj<C extends Fields>(fields: C): Codec<Of<C>> {
  const entries = Object.entries(fields);
  return {
    out: (v) => Object.fromEntries(entries.map(([k, c]) => [k, c.out((v as Fields)[k])])),
    in: (v, at) => {
      const o = record(v, at);
      return defined(
        entries.map(([k, c]) => [k, c.in(o[k], at === '' ? k : `${at}.${k}`)]),
      ) as Of<C>;
    },
  };
}

/** A list of one value per codec (`what` it is, for the error). */
function tuple<T extends readonly unknown[]>(
  what: string,
  codecs: readonly Codec<unknown>[],
): Codec<T> {
  return {
    out: (v) => codecs.map((c, k) => c.out(v[k])),
    in: (v, at) => {
      const items = array(v, at);
      if (items.length !== codecs.length) fail(at, `not ${what}`);
      return codecs.map((c, k) => c.in(items[k], `${at}[${k}]`)) as unknown as T;
    },
  };
}

/** An object's `fields` as a list, by position: the file's rows, written by the thousand. */
function row<C extends Fields>(what: string, fields: C): Codec<Of<C>> {
  const keys = Object.keys(fields);
  const t = tuple<unknown[]>(what, Object.values(fields));
  return {
    out: (v) => t.out(keys.map((k) => (v as Fields)[k])),
    in: (v, at) => defined(t.in(v, at).map((x, k) => [keys[k]!, x])) as Of<C>,
  };
}

function defined(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) if (x !== undefined) out[k] = x;
  return out;
}

const HIST = obj({ counts: list(num), sum: num, count: num });
const SIDE = obj({ offset: integer, counts: list(num) });
const EXP = obj({
  scale: integer,
  zeroCount: num,
  zeroThreshold: num,
  positive: SIDE,
  negative: SIDE,
  sum: num,
  count: num,
});
/** An accumulator as the file writes it: in the field of its kind, null in the other. */
const ACC = { hist: maybe(HIST, null), exp: maybe(EXP, null) };
type AccFields = Of<typeof ACC>;

function accOut(acc: Acc | undefined): AccFields {
  const hist = acc !== undefined && 'counts' in acc;
  return { hist: hist ? acc : undefined, exp: hist ? undefined : acc };
}

/** The accumulator of an instrument of `shape` of the file's two fields ({@link accOut} undone). */
function accIn(shape: Shape, { hist, exp }: AccFields): Acc | undefined {
  return shape === 'histogram' ? hist : shape === 'exponentialHistogram' ? exp : undefined;
}

/** Attribute values: strings, booleans, numbers (maybe not finite) and arrays of them (maybe with nulls). */
const ATTRIBUTE: Codec<AnyValue> = {
  out: (v) => {
    if (typeof v === 'number') return { n: v };
    if (!Array.isArray(v)) return v ?? null;
    return { a: (v as unknown[]).map((x) => (typeof x === 'number' ? { n: x } : (x ?? null))) };
  },
  in: (v, at) => {
    if (typeof v === 'string' || typeof v === 'boolean') return v;
    const o = record(v, at);
    if ('n' in o) return num.in(o.n, `${at}.n`);
    return array(o.a, `${at}.a`).map((x, i) => {
      if (x === null || typeof x === 'string' || typeof x === 'boolean') return x;
      return num.in(record(x, `${at}.a[${i}]`).n, `${at}.a[${i}].n`);
    });
  },
};

const ATTRIBUTES = as(
  list(tuple<[string, AnyValue]>('a [key, value] pair', [string, ATTRIBUTE])),
  (a: Attributes): [string, AnyValue][] => Object.entries(a),
  (pairs) => {
    const attributes: Attributes = {};
    for (const [key, value] of pairs) setAttribute(attributes, key, value);
    return attributes;
  },
);

// The file's rows, by position: a source series (its origin, a sender's resource and scope shared
// by all its series, an index into one table), a series' gone sources (its base and the last
// report of each gone source), a gone delta source's windows' start, a source's part (series/carry.ts).
const STREAM = row('a source series', {
  origin: integer,
  key: string,
  start: time,
  time,
  points: integer,
  value: num,
  ...ACC,
  updatedAt: finite,
});
const SERIES = obj({
  scopeKey: string,
  scope: obj({ name: string, version: string }),
  attributes: ATTRIBUTES,
  startTime: tuple<HrTime>('[seconds, nanoseconds]', [integer, integer]),
  base: num,
  baseHist: ACC.hist,
  baseExp: ACC.exp,
  bounds: maybe(list(num), null),
  streams: list(STREAM),
});
const INSTRUMENT = obj({
  name: string,
  shape,
  description: string,
  unit: string,
  series: list(SERIES),
});
const GONE = row("a series' gone sources", {
  a: integer,
  b: integer,
  base: num,
  ...ACC,
  parts: list(row('a gone source', { source: string, value: num, ...ACC })),
});
const GONE_WINDOWS = row("a gone source's windows", {
  a: integer,
  b: integer,
  k: integer,
  from: time,
});
/** Figures as the file's row: a number's `[value]`, a histogram's `[count, sum, ...bucket counts]`. */
const rowOut = (f?: Figures): number[] | undefined =>
  f === undefined ? undefined : typeof f === 'number' ? [f] : [f.count, f.sum, ...f.counts];
const ROW = maybe(list(num), null);

/** A row read back ({@link rowOut} undone): a histogram's over `bounds` (undefined: a number's). */
function rowIn(
  row: readonly number[] | undefined,
  bounds: readonly number[] | undefined,
  at: string,
): Figures | undefined {
  if (row === undefined) return undefined;
  if (row.length !== (bounds === undefined ? 1 : bounds.length + 3))
    fail(at, 'its rows do not fit its bounds');
  return bounds === undefined ? row[0]! : { count: row[0]!, sum: row[1]!, counts: row.slice(2) };
}

const PART = as(
  row("a source's part", {
    key: string,
    labels: string,
    total: num,
    last: num,
    start: finite,
    bounds: maybe(list(num), null),
    row: ROW,
    lastRow: ROW,
  }),
  ({ acc, lastAcc, bounds, ...p }: SourcePart) => ({
    ...p,
    bounds,
    row: rowOut(acc),
    lastRow: rowOut(lastAcc),
  }),
  ({ row, lastRow, ...p }, at): SourcePart => {
    // A histogram's part holds its counts over its bounds; a sum's none.
    if (p.bounds === undefined ? (row ?? lastRow) !== undefined : row === undefined)
      fail(at, 'its rows do not fit its bounds');
    const acc = rowIn(row, p.bounds, at) as HistogramAcc | undefined;
    const lastAcc = rowIn(lastRow, p.bounds, at) as HistogramAcc | undefined;
    return { ...p, ...(acc && { acc }), ...(lastAcc && { lastAcc }) };
  },
);

/**
 * A series that left, told to the carry by key, that no pass counted yet (series/carry.ts
 * `SourcesSnapshot.departed`): its instrument (a counter's or a histogram's, the ingest's
 * descriptor), its attributes and start, its figures and last report as rows (as a part's).
 */
const DEPARTED = as(
  obj({
    scope: obj({ name: string, version: maybe(string, null) }),
    name: string,
    description: string,
    unit: string,
    histogram: plain<boolean>((v) => typeof v === 'boolean', 'not a boolean'),
    attributes: ATTRIBUTES,
    start: finite,
    bounds: maybe(list(num), null),
    figures: ROW,
    last: ROW,
  }),
  ({ left, series: { scope, metric, series } }: Departed) => ({
    scope: { name: scope.name, version: scope.version },
    ...metric.descriptor,
    histogram: metric.dataPointType === DataPointType.HISTOGRAM,
    attributes: series[0]!.attributes,
    start: series[0]!.start,
    bounds: series[0]!.bounds,
    figures: rowOut(left.figures),
    last: rowOut(left.last),
  }),
  ({ scope, name, description, unit, histogram, attributes, start, ...rows }, at): Departed => {
    const bounds = rows.bounds;
    const [figures, last] = [rows.figures, rows.last].map((r) =>
      rowIn(r, histogram ? (bounds ?? []) : undefined, at),
    );
    const type = histogram ? DataPointType.HISTOGRAM : DataPointType.SUM;
    const descriptor = { name, description, unit, valueType: ValueType.DOUBLE };
    const held = { ...(figures !== undefined && { figures }), ...(bounds && { bounds }) };
    return {
      left: { ...held, last },
      series: {
        scope,
        metric: { descriptor, dataPointType: type, isMonotonic: !histogram },
        series: [{ attributes, start, ...held }],
      },
    };
  },
);

/**
 * A row of three positions (instrument, series, stream or gone source) and times: a time (where
 * windows begin, or end) and the uncounted spans' pairs, at most `MAX_GAPS` of them.
 */
interface Times {
  readonly at: readonly number[];
  readonly time: bigint;
  readonly gaps: readonly bigint[] | undefined;
}
const times = (what: string): Codec<Times> => ({
  out: (t) => [...t.at, ...[t.time, ...(t.gaps ?? [])].map(String)],
  in: (v, at) => {
    const items = array(v, at);
    if (items.length < 4 || items.length % 2 !== 0 || items.length > 4 + 2 * MAX_GAPS)
      fail(at, `not ${what}`);
    const ts = items.slice(3).map((t, k) => time.in(t, `${at}[${k + 3}]`));
    const positions = [0, 1, 2].map((k) => integer.in(items[k], `${at}[${k}]`));
    return { at: positions, time: ts[0]!, gaps: ts.length > 1 ? ts.slice(1) : undefined };
  },
});

/**
 * The payload. Fields an older reader may ignore are fields of their own, each written only when
 * it holds something (it restores as it did before the field was written): a delta stream's
 * windows (`windows`), a series' gone sources (`gone`; without them its `base` is all it carries),
 * where a gone delta source's windows begin (`goneWindows`) and end (`goneSpans`: the rows above
 * keep their length, which a reader checks), the instant of the write (`written`), the writer,
 * the point clock, the carry and the departures it holds that no pass counted yet (`departed`).
 */
const ROOT = obj({
  origins: list(string),
  instruments: list(INSTRUMENT),
  lastFailureSeconds: maybe(finite, null),
  written: maybe(
    as(
      obj({ wall: finite, boot: string, monotonic: finite }),
      (w: WrittenAt) => ({ wall: w.wall, boot: w.boot!.id, monotonic: w.boot!.monotonicMillis }),
      ({ wall, boot, monotonic }): WrittenAt => ({
        wall,
        boot: { id: boot, monotonicMillis: monotonic },
      }),
    ),
    undefined,
  ),
  writer: maybe(string, undefined),
  windows: sideList(times("a stream's windows")),
  gone: sideList(GONE),
  goneWindows: sideList(GONE_WINDOWS),
  goneSpans: sideList(times("a gone source's windows")),
  point: maybe(finite, undefined),
  carry: sideList(obj({ key: string, family: string, sources: list(PART), folded: list(PART) })),
  departed: sideList(DEPARTED),
});

/**
 * `snapshot` as the checkpoint's payload (JSON text). A source series is a list, not an object,
 * and its origin an index into one table: the payload is what a write costs, and a store may hold
 * tens of thousands of them.
 */
export function encodeCheckpoint(snapshot: StoreSnapshot): string {
  const origins = new Map<string, number>();
  const originOf = (origin: string): number => {
    let i = origins.get(origin);
    if (i === undefined) origins.set(origin, (i = origins.size));
    return i;
  };
  const windows: Times[] = [];
  const gone: Read<typeof GONE>[] = [];
  const goneWindows: Read<typeof GONE_WINDOWS>[] = [];
  const goneSpans: Times[] = [];
  const instruments = snapshot.instruments.map((i, a) => ({
    ...i,
    series: i.series.map((s, b) => {
      if (s.gone !== undefined) {
        const { base, baseAcc, parts } = s.gone;
        gone.push({
          a,
          b,
          base,
          ...accOut(baseAcc),
          parts: parts.map((p) => ({ ...p, ...accOut(p.acc) })),
        });
      }
      for (const [k, { windows: w }] of s.gone?.parts.entries() ?? []) {
        if (w === undefined) continue;
        goneWindows.push({ a, b, k, from: w.from });
        if (w.time !== 0n) goneSpans.push({ at: [a, b, k], time: w.time, gaps: w.gaps });
      }
      const { hist: baseHist, exp: baseExp } = accOut(s.baseAcc);
      const streams = s.streams.map((t, c) => {
        if (t.from !== 0n || t.gaps !== undefined)
          windows.push({ at: [a, b, c], time: t.from, gaps: t.gaps });
        return { ...t, origin: originOf(t.origin), ...accOut(t.acc) };
      });
      return { ...s, baseHist, baseExp, streams };
    }),
  }));
  const payload = ROOT.out({
    lastFailureSeconds: snapshot.lastFailureSeconds,
    origins: [...origins.keys()],
    instruments,
    // The instant of the write, with a boot reading only: a reader that does not know it restores
    // each stream's idle time as before, not counting the time since.
    written: snapshot.written?.boot === undefined ? undefined : snapshot.written,
    writer: snapshot.writer,
    windows,
    gone,
    goneWindows,
    goneSpans,
    point: snapshot.point,
    carry: snapshot.carry?.rules.filter((r) => r.sources.length + r.folded.length > 0),
    departed: snapshot.carry?.departed,
  });
  return JSON.stringify(payload, (_, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The snapshot `payload` holds. @throws {CheckpointError} for anything {@link encodeCheckpoint} does not write. */
export function decodeCheckpoint(payload: string): StoreSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch (err) {
    throw new CheckpointError(`not JSON (${messageOf(err)})`);
  }
  const root = ROOT.in(record(raw, 'the checkpoint'), '');
  const read = root.instruments.map((i, a) => ({
    ...i,
    series: i.series.map(({ baseHist, baseExp, ...s }, b) => ({
      ...s,
      baseAcc: accIn(i.shape, { hist: baseHist, exp: baseExp }),
      gone: undefined as GoneSplit | undefined,
      streams: s.streams.map(({ origin, hist, exp, ...t }, c): Mutable<StreamSnapshot> => ({
        ...t,
        origin:
          root.origins[origin] ??
          fail(`instruments[${a}].series[${b}].streams[${c}][0]`, 'no such origin'),
        acc: accIn(i.shape, { hist, exp }),
        // Set from the checkpoint's `windows`, when it has them.
        from: 0n,
        gaps: undefined,
      })),
    })),
  }));
  const series = (a: number, b: number) => read[a]?.series[b];
  const gonePart = (a: number, b: number, k: number) =>
    series(a, b)?.gone?.parts[k] as { windows?: CountedWindows } | undefined;
  for (const [n, w] of root.windows?.entries() ?? []) {
    const [a, b, c] = w.at as [number, number, number];
    const stream = series(a, b)?.streams[c] ?? fail(`windows[${n}]`, 'no such source series');
    stream.from = w.time;
    stream.gaps = w.gaps;
  }
  for (const [n, { a, b, base, parts, ...acc }] of root.gone?.entries() ?? []) {
    const s = series(a, b) ?? fail(`gone[${n}]`, 'no such series');
    const shape = read[a]!.shape;
    s.gone = {
      base,
      baseAcc: accIn(shape, acc),
      parts: parts.map((p) => ({ source: p.source, value: p.value, acc: accIn(shape, p) })),
    };
  }
  for (const [n, { a, b, k, from }] of root.goneWindows?.entries() ?? []) {
    const part = gonePart(a, b, k) ?? fail(`goneWindows[${n}]`, 'no such gone source');
    part.windows = { from, time: 0n, gaps: undefined };
  }
  for (const [n, { at, time: t, gaps }] of root.goneSpans?.entries() ?? []) {
    const part = gonePart(at[0]!, at[1]!, at[2]!);
    if (part?.windows === undefined) fail(`goneSpans[${n}]`, 'no such delta gone source');
    part.windows = { from: part.windows.from, time: t, gaps };
  }
  // Checked once the windows and gone sources are placed: they name series by position in the file.
  const refused: RefusedValue[] = [];
  const instruments = read.map((i) => ({
    ...i,
    series: i.series.flatMap((s) => admitted(i, s, refused)),
  }));
  // A part whose served total the ingest would refuse (a counter's rule) is left out, in `refused`.
  const carry = root.carry?.map(({ key, family, ...parts }) => {
    const [sources, folded] = [parts.sources, parts.folded].map((of) =>
      of.filter((p) => passes(refused, family, counterRefusal(p.total))),
    );
    return { key, family, sources: sources!, folded: folded! };
  });
  // So is a departure with a figure no counter or histogram holds.
  const departed = root.departed?.filter(({ left, series }) => {
    const figures = [...(rowOut(left.figures) ?? []), ...(rowOut(left.last) ?? [])];
    const refusal = figures.map(counterRefusal).find((r) => r !== undefined);
    return passes(refused, series.metric.descriptor.name, refusal);
  });
  return {
    instruments,
    lastFailureSeconds: root.lastFailureSeconds,
    ...(root.written !== undefined && { written: root.written }),
    ...(root.writer !== undefined && { writer: root.writer }),
    ...(root.point !== undefined && { point: root.point }),
    ...((carry ?? departed) !== undefined && {
      carry: { rules: carry ?? [], ...(departed && { departed }) },
    }),
    ...(refused.length > 0 && { refused }),
  };
}

/**
 * `s` as the ingest could hold it, in a list of one, or none. A figure the ingest refuses on
 * arrival (stream-rules.ts, the same refusals: a counter that is negative, NaN or infinite, a
 * histogram whose counts are not counts or do not add up, whose sum is negative or not finite) is
 * left out and listed in `refused`: a source series' value, that source series (the series goes on
 * with the others); the series' own base, the series.
 */
function admitted(
  i: InstrumentSnapshot,
  s: SeriesSnapshot,
  refused: RefusedValue[],
): SeriesSnapshot[] {
  const refusal = figuresRefusal(i.shape, s.bounds);
  const base = refusal(s.base, s.baseAcc);
  if (base !== undefined) {
    refused.push({ name: i.name, refusal: base, points: Math.max(1, s.streams.length) });
    return [];
  }
  const streams = s.streams.filter((t) => passes(refused, i.name, refusal(t.value, t.acc)));
  // A split with a figure the ingest refuses is not used: the series restores its whole base, as
  // from a file without the split (the base itself passed above).
  const g = s.gone;
  const split =
    g === undefined ||
    (refusal(g.base, g.baseAcc) === undefined &&
      g.parts.every((p) => refusal(p.value, p.acc) === undefined))
      ? g
      : undefined;
  return [streams.length === s.streams.length && split === g ? s : { ...s, streams, gone: split }];
}

/** Whether a value is held: `refusal` is undefined; else it is listed in `refused`, a point of `name`. */
function passes(refused: RefusedValue[], name: string, refusal: Refusal | undefined): boolean {
  if (refusal !== undefined) refused.push({ name, refusal, points: 1 });
  return refusal === undefined;
}

/** How the ingest refuses the figures of a point of `shape` (a series' `bounds`): what it holds of one. */
function figuresRefusal(
  shape: Shape,
  bounds: readonly number[] | undefined,
): (value: number, acc: Acc | undefined) => Refusal | undefined {
  if (shape === 'monotonicSum') return (value) => counterRefusal(value);
  // Levels (an up-down sum, a gauge) take any number, NaN too, and hold no counts.
  return (_, acc) => {
    if (acc === undefined) return undefined;
    if ('counts' in acc) {
      const { counts: bucketCounts, sum, count } = acc;
      return histogramRefusal(
        { explicitBounds: bounds ?? [], bucketCounts, sum, count },
        histogramFault,
      );
    }
    const positive = { bucketCounts: acc.positive.counts };
    const negative = { bucketCounts: acc.negative.counts };
    return histogramRefusal({ ...acc, positive, negative }, exponentialFault);
  };
}

function record(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(at, 'not an object');
  return v as Record<string, unknown>;
}

function array(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) fail(at, 'not a list');
  return v;
}
