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
 * field was written: `windows`, `gone`, `carry`, `written`) keeps the version, so a downgrade still restores
 * the file rather than moving it aside.
 */
import type { AnyValue, Attributes, HrTime } from '@opentelemetry/api';
import { setAttribute } from '../common/set-attribute.ts';
import type { ExponentialSum } from '../common/exponential-histogram.ts';
import type { Acc, HistogramAcc, Shape } from '../series/output-set.ts';
import {
  counterRefusal,
  exponentialFault,
  histogramFault,
  histogramRefusal,
  MAX_GAPS,
} from './stream-rules.ts';
import type { Refusal } from './ingest-report.ts';
import { messageOf } from '../common/message-of.ts';
import type { SourcePart, SourcesSnapshot } from '../series/carry.ts';
import type { WrittenAt } from '../series/clock.ts';

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

/** A gone source's last report, by its identity in its instrument (series/streams.ts `identity`, less the instrument's name). */
export interface GonePart {
  readonly source: string;
  readonly value: number;
  readonly acc: Acc | undefined;
}

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

const SHAPES: readonly Shape[] = [
  'monotonicSum',
  'sum',
  'gauge',
  'histogram',
  'exponentialHistogram',
];

// JSON has no NaN, ±Infinity or bigint: numbers that are not finite are written as these strings
// (a gauge may hold NaN), times as decimal strings.
const NON_FINITE: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/**
 * `snapshot` as the checkpoint's payload (JSON text). A source series is a list, not an object,
 * and its origin (a sender's resource and scope, shared by all its series) an index into one
 * table: the payload is what a write costs, and a store may hold tens of thousands of them.
 */
export function encodeCheckpoint(snapshot: StoreSnapshot): string {
  const origins = new Map<string, number>();
  const originOf = (origin: string): number => {
    let i = origins.get(origin);
    if (i === undefined) origins.set(origin, (i = origins.size));
    return i;
  };
  // Delta streams' windows, [instrument, series, stream, from, ...gaps] by position: a field of its
  // own, so a state with none is written as before and a reader that does not know it ignores it.
  const windows: (number | string)[][] = [];
  // Series' gone sources, [instrument, series, base, baseHist, baseExp, [[source, value, hist,
  // exp], ...]]: a field of its own too, so a reader that does not know it restores the
  // series' `base` (all it carries) as before.
  const gone: unknown[][] = [];
  const instruments = snapshot.instruments.map((i, a) => ({
    name: i.name,
    shape: i.shape,
    description: i.description,
    unit: i.unit,
    series: i.series.map((s, b) => {
      if (s.gone !== undefined) gone.push([a, b, ...splitOut(s.gone)]);
      return {
        scopeKey: s.scopeKey,
        scope: { name: s.scope.name, version: s.scope.version },
        attributes: Object.entries(s.attributes).map(([k, v]) => [k, attributeOut(v)]),
        startTime: [s.startTime[0], s.startTime[1]],
        base: num(s.base),
        baseHist: accOut(s.baseAcc)[0],
        baseExp: accOut(s.baseAcc)[1],
        bounds: s.bounds === undefined ? null : s.bounds.map(num),
        // [origin, key, start, time, points, value, hist, exp, updatedAt]
        streams: s.streams.map((t, c) => {
          if (t.from !== 0n || t.gaps !== undefined)
            windows.push([a, b, c, ...[t.from, ...(t.gaps ?? [])].map(String)]);
          return [
            originOf(t.origin),
            t.key,
            t.start.toString(),
            t.time.toString(),
            t.points,
            num(t.value),
            ...accOut(t.acc),
            t.updatedAt,
          ];
        }),
      };
    }),
  }));
  // The carry too is a field of its own, written only when it holds something.
  const carry = snapshot.carry?.rules.filter((r) => r.sources.length + r.folded.length > 0) ?? [];
  // The instant of the write, a field of its own too: a reader that does not know it restores
  // each stream's idle time as before, not counting the time since.
  const boot = snapshot.written?.boot;
  return JSON.stringify({
    lastFailureSeconds: snapshot.lastFailureSeconds ?? null,
    origins: [...origins.keys()],
    instruments,
    ...(boot !== undefined
      ? {
          written: { wall: snapshot.written!.wall, boot: boot.id, monotonic: boot.monotonicMillis },
        }
      : {}),
    ...(windows.length > 0 ? { windows } : {}),
    ...(gone.length > 0 ? { gone } : {}),
    ...(snapshot.point !== undefined ? { point: snapshot.point } : {}),
    ...(carry.length > 0
      ? {
          carry: carry.map((r) => ({
            key: r.key,
            family: r.family,
            sources: r.sources.map(partOut),
            folded: r.folded.map(partOut),
          })),
        }
      : {}),
  });
}

/** The snapshot `payload` holds. @throws {CheckpointError} for anything {@link encodeCheckpoint} does not write. */
export function decodeCheckpoint(payload: string): StoreSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch (err) {
    throw new CheckpointError(`not JSON (${messageOf(err)})`);
  }
  const root = record(raw, 'the checkpoint');
  const origins = array(root.origins, 'origins').map((o, i) => string(o, `origins[${i}]`));
  const read = array(root.instruments, 'instruments').map((v, i) =>
    instrumentIn(v, `instruments[${i}]`, origins),
  );
  if (root.windows !== undefined) {
    for (const [n, w] of array(root.windows, 'windows').entries()) {
      const at = `windows[${n}]`;
      const row = array(w, at);
      if (row.length < 4 || row.length % 2 !== 0 || row.length > 4 + 2 * MAX_GAPS)
        throw new CheckpointError(`${at}: not a stream's windows`);
      const [a, b, c] = [0, 1, 2].map((k) => integer(row[k], `${at}[${k}]`));
      const stream = read[a!]?.series[b!]?.streams[c!] as
        { from: bigint; gaps: readonly bigint[] | undefined } | undefined;
      if (stream === undefined) throw new CheckpointError(`${at}: no such source series`);
      const times = row.slice(3).map((v, k) => bigintIn(v, `${at}[${k + 3}]`));
      stream.from = times[0]!;
      stream.gaps = times.length > 1 ? times.slice(1) : undefined;
    }
  }
  if (root.gone !== undefined) {
    for (const [n, g] of array(root.gone, 'gone').entries()) {
      const at = `gone[${n}]`;
      const row = array(g, at);
      if (row.length !== 6) throw new CheckpointError(`${at}: not a series' gone sources`);
      const [a, b] = [0, 1].map((k) => integer(row[k], `${at}[${k}]`));
      const series = read[a!]?.series[b!] as { gone?: GoneSplit } | undefined;
      if (series === undefined) throw new CheckpointError(`${at}: no such series`);
      series.gone = splitIn(row.slice(2), at, read[a!]!.shape);
    }
  }
  // Checked once the windows and gone sources are placed: they name series by position in the file.
  const refused: RefusedValue[] = [];
  const instruments = read.map((i) => ({
    ...i,
    series: i.series.flatMap((s) => admitted(i, s, refused)),
  }));
  return {
    instruments,
    lastFailureSeconds:
      root.lastFailureSeconds === null
        ? undefined
        : finite(root.lastFailureSeconds, 'lastFailureSeconds'),
    ...(root.written !== undefined && { written: writtenIn(root.written) }),
    ...(root.point !== undefined && { point: finite(root.point, 'point') }),
    ...(root.carry !== undefined && { carry: carryIn(root.carry, refused) }),
    ...(refused.length > 0 && { refused }),
  };
}

function writtenIn(v: unknown): WrittenAt {
  const o = record(v, 'written');
  return {
    wall: finite(o.wall, 'written.wall'),
    boot: {
      id: string(o.boot, 'written.boot'),
      monotonicMillis: finite(o.monotonic, 'written.monotonic'),
    },
  };
}

// [key, labels, total, last, start, bounds, row, lastRow]: a histogram's last three, else null.
function partOut(p: SourcePart): unknown[] {
  return [
    p.key,
    p.labels,
    num(p.total),
    num(p.last),
    p.start,
    p.bounds?.map(num) ?? null,
    p.row === undefined ? null : [...p.row].map(num),
    p.lastRow === undefined ? null : [...p.lastRow].map(num),
  ];
}

/** The carry `v`; a part whose served total the ingest would refuse (a counter's rule) is left out, in `refused`. */
function carryIn(v: unknown, refused: RefusedValue[]): SourcesSnapshot {
  const rules = array(v, 'carry').map((r, i) => {
    const at = `carry[${i}]`;
    const o = record(r, at);
    const family = string(o.family, `${at}.family`);
    const parts = (list: unknown, where: string): SourcePart[] =>
      array(list, where)
        .map((p, k) => partIn(p, `${where}[${k}]`))
        .filter((p) => {
          const refusal = counterRefusal(p.total);
          if (refusal !== undefined) refused.push({ name: family, refusal, points: 1 });
          return refusal === undefined;
        });
    return {
      key: string(o.key, `${at}.key`),
      family,
      sources: parts(o.sources, `${at}.sources`),
      folded: parts(o.folded, `${at}.folded`),
    };
  });
  return { rules };
}

function partIn(v: unknown, at: string): SourcePart {
  const row = array(v, at);
  if (row.length !== 8) throw new CheckpointError(`${at}: not a source's part`);
  const list = (x: unknown, k: number): number[] | undefined =>
    x === null ? undefined : array(x, `${at}[${k}]`).map((n, j) => numIn(n, `${at}[${k}][${j}]`));
  const bounds = list(row[5], 5);
  const figures = list(row[6], 6);
  const last = list(row[7], 7);
  // A histogram's part holds its count, sum and a count per bucket; a sum's none of them.
  const width = bounds === undefined ? undefined : bounds.length + 3;
  if (figures?.length !== width || (last !== undefined && last.length !== width))
    throw new CheckpointError(`${at}: its rows do not fit its bounds`);
  return {
    key: string(row[0], `${at}[0]`),
    labels: string(row[1], `${at}[1]`),
    total: numIn(row[2], `${at}[2]`),
    last: numIn(row[3], `${at}[3]`),
    start: finite(row[4], `${at}[4]`),
    ...(bounds !== undefined && { bounds }),
    ...(figures !== undefined && { row: Float64Array.from(figures) }),
    ...(last !== undefined && { lastRow: Float64Array.from(last) }),
  };
}

function instrumentIn(v: unknown, at: string, origins: readonly string[]): InstrumentSnapshot {
  const o = record(v, at);
  const shape = string(o.shape, `${at}.shape`) as Shape;
  if (!SHAPES.includes(shape))
    throw new CheckpointError(`${at}.shape: unknown shape ${JSON.stringify(shape)}`);
  const series = array(o.series, `${at}.series`).map((s, i) =>
    seriesIn(s, `${at}.series[${i}]`, origins, shape),
  );
  return {
    name: string(o.name, `${at}.name`),
    shape,
    description: string(o.description, `${at}.description`),
    unit: string(o.unit, `${at}.unit`),
    series,
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
  const streams = s.streams.filter((t) => {
    const fault = refusal(t.value, t.acc);
    if (fault !== undefined) refused.push({ name: i.name, refusal: fault, points: 1 });
    return fault === undefined;
  });
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

/** How the ingest refuses the figures of a point of `shape` (a series' `bounds`): what it holds of one. */
function figuresRefusal(
  shape: Shape,
  bounds: readonly number[] | undefined,
): (value: number, acc: Acc | undefined) => Refusal | undefined {
  if (shape === 'monotonicSum') return (value) => counterRefusal(value);
  // Levels (an up-down sum, a gauge) take any number, NaN too, and hold no counts (accIn).
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

function seriesIn(
  v: unknown,
  at: string,
  origins: readonly string[],
  shape: Shape,
): SeriesSnapshot {
  const o = record(v, at);
  const scope = record(o.scope, `${at}.scope`);
  const attributes: Attributes = {};
  for (const [i, entry] of array(o.attributes, `${at}.attributes`).entries()) {
    const pair = array(entry, `${at}.attributes[${i}]`);
    if (pair.length !== 2)
      throw new CheckpointError(`${at}.attributes[${i}]: not a [key, value] pair`);
    setAttribute(
      attributes,
      string(pair[0], `${at}.attributes[${i}][0]`),
      attributeIn(pair[1], `${at}.attributes[${i}][1]`),
    );
  }
  const start = array(o.startTime, `${at}.startTime`);
  if (start.length !== 2) throw new CheckpointError(`${at}.startTime: not [seconds, nanoseconds]`);
  return {
    scopeKey: string(o.scopeKey, `${at}.scopeKey`),
    scope: {
      name: string(scope.name, `${at}.scope.name`),
      version: string(scope.version, `${at}.scope.version`),
    },
    attributes,
    startTime: [integer(start[0], `${at}.startTime[0]`), integer(start[1], `${at}.startTime[1]`)],
    base: numIn(o.base, `${at}.base`),
    baseAcc: accIn(shape, o.baseHist, o.baseExp, `${at}.baseHist`, `${at}.baseExp`),
    bounds:
      o.bounds === null
        ? undefined
        : array(o.bounds, `${at}.bounds`).map((b, i) => numIn(b, `${at}.bounds[${i}]`)),
    streams: array(o.streams, `${at}.streams`).map((s, i) =>
      streamIn(s, `${at}.streams[${i}]`, origins, shape),
    ),
  };
}

function streamIn(
  v: unknown,
  at: string,
  origins: readonly string[],
  shape: Shape,
): StreamSnapshot {
  const t = array(v, at);
  if (t.length !== 9) throw new CheckpointError(`${at}: not a source series`);
  const origin = origins[integer(t[0], `${at}[0]`)];
  if (origin === undefined) throw new CheckpointError(`${at}[0]: no such origin`);
  return {
    origin,
    key: string(t[1], `${at}[1]`),
    start: bigintIn(t[2], `${at}[2]`),
    time: bigintIn(t[3], `${at}[3]`),
    points: integer(t[4], `${at}[4]`),
    value: numIn(t[5], `${at}[5]`),
    acc: accIn(shape, t[6], t[7], `${at}[6]`, `${at}[7]`),
    updatedAt: finite(t[8], `${at}[8]`),
    // Set from the checkpoint's `windows`, when it has them.
    from: 0n,
    gaps: undefined,
  };
}

function splitOut(g: GoneSplit): unknown[] {
  return [
    num(g.base),
    ...accOut(g.baseAcc),
    g.parts.map((p) => [p.source, num(p.value), ...accOut(p.acc)]),
  ];
}

function splitIn(row: unknown[], at: string, shape: Shape): GoneSplit {
  const [base, hist, exp, parts] = row;
  return {
    base: numIn(base, `${at}[2]`),
    baseAcc: accIn(shape, hist, exp, `${at}[3]`, `${at}[4]`),
    parts: array(parts, `${at}[5]`).map((v, k) => {
      const where = `${at}[5][${k}]`;
      const p = array(v, where);
      if (p.length !== 4) throw new CheckpointError(`${where}: not a gone source`);
      return {
        source: string(p[0], `${where}[0]`),
        value: numIn(p[1], `${where}[1]`),
        acc: accIn(shape, p[2], p[3], `${where}[2]`, `${where}[3]`),
      };
    }),
  };
}

/** `acc` as the file writes it: [hist, exp], in the field of its kind, null in the other. */
function accOut(acc: Acc | undefined): [unknown, unknown] {
  if (acc === undefined) return [null, null];
  return 'counts' in acc ? [histOut(acc), null] : [null, expOut(acc)];
}

/** The accumulator of an instrument of `shape` from the file's two fields, each checked ({@link accOut} undone). */
function accIn(shape: Shape, hist: unknown, exp: unknown, atHist: string, atExp: string) {
  const h = hist === null ? undefined : histIn(hist, atHist);
  const e = exp === null ? undefined : expIn(exp, atExp);
  return shape === 'histogram' ? h : shape === 'exponentialHistogram' ? e : undefined;
}

function histOut(h: HistogramAcc): unknown {
  return { counts: h.counts.map(num), sum: num(h.sum), count: num(h.count) };
}

function histIn(v: unknown, at: string): HistogramAcc {
  const o = record(v, at);
  return {
    counts: array(o.counts, `${at}.counts`).map((c, i) => numIn(c, `${at}.counts[${i}]`)),
    sum: numIn(o.sum, `${at}.sum`),
    count: numIn(o.count, `${at}.count`),
  };
}

function expOut(e: ExponentialSum): unknown {
  return {
    scale: e.scale,
    zeroCount: num(e.zeroCount),
    zeroThreshold: num(e.zeroThreshold),
    positive: { offset: e.positive.offset, counts: e.positive.counts.map(num) },
    negative: { offset: e.negative.offset, counts: e.negative.counts.map(num) },
    sum: num(e.sum),
    count: num(e.count),
  };
}

function expIn(v: unknown, at: string): ExponentialSum {
  const o = record(v, at);
  const side = (s: unknown, where: string) => {
    const r = record(s, where);
    return {
      offset: integer(r.offset, `${where}.offset`),
      counts: array(r.counts, `${where}.counts`).map((c, i) => numIn(c, `${where}.counts[${i}]`)),
    };
  };
  return {
    scale: integer(o.scale, `${at}.scale`),
    zeroCount: numIn(o.zeroCount, `${at}.zeroCount`),
    zeroThreshold: numIn(o.zeroThreshold, `${at}.zeroThreshold`),
    positive: side(o.positive, `${at}.positive`),
    negative: side(o.negative, `${at}.negative`),
    sum: numIn(o.sum, `${at}.sum`),
    count: numIn(o.count, `${at}.count`),
  };
}

function num(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

function numIn(v: unknown, at: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && Object.hasOwn(NON_FINITE, v)) return NON_FINITE[v]!;
  throw new CheckpointError(`${at}: not a number`);
}

/** Attribute values: strings, booleans, numbers (maybe not finite) and arrays of them (maybe with nulls). */
function attributeOut(v: AnyValue): unknown {
  if (typeof v === 'number') return { n: num(v) };
  if (Array.isArray(v))
    return {
      a: (v as unknown[]).map((x) => (typeof x === 'number' ? { n: num(x) } : (x ?? null))),
    };
  return v ?? null;
}

function attributeIn(v: unknown, at: string): AnyValue {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  const o = record(v, at);
  if ('n' in o) return numIn(o.n, `${at}.n`);
  const items = array(o.a, `${at}.a`).map((x, i) => {
    if (x === null || typeof x === 'string' || typeof x === 'boolean') return x;
    return numIn(record(x, `${at}.a[${i}]`).n, `${at}.a[${i}].n`);
  });
  return items;
}

function record(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new CheckpointError(`${at}: not an object`);
  return v as Record<string, unknown>;
}

function array(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new CheckpointError(`${at}: not a list`);
  return v;
}

function string(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new CheckpointError(`${at}: not a string`);
  return v;
}

function finite(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new CheckpointError(`${at}: not a finite number`);
  return v;
}

function integer(v: unknown, at: string): number {
  if (!Number.isSafeInteger(v)) throw new CheckpointError(`${at}: not an integer`);
  return v as number;
}

function bigintIn(v: unknown, at: string): bigint {
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v))
    throw new CheckpointError(`${at}: not a time in nanoseconds`);
  return BigInt(v);
}
