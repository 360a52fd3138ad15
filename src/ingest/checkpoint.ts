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
 * field was written: `windows`, `gone`, `goneWindows`, `goneSpans`, `carry`, `written`) keeps the version, so a downgrade still restores
 * the file rather than moving it aside.
 */
import type { AnyValue, Attributes, HrTime } from '@opentelemetry/api';
import { setAttribute } from '../common/set-attribute.ts';
import type { ExponentialSum } from '../common/exponential-histogram.ts';
import type { Acc, CountedWindows, HistogramAcc, Shape } from '../series/output-set.ts';
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

/** A gone source's last report, by its identity in its instrument (series/streams.ts `identity`, less the instrument's name). */
export interface GonePart {
  readonly source: string;
  readonly value: number;
  readonly acc: Acc | undefined;
  /**
   * A delta source's counted windows (output-set.ts `CountedWindows`; the checkpoint's
   * `goneWindows`, their start, and `goneSpans`, their end and gaps); none: cumulative.
   */
  readonly windows?: CountedWindows;
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

// JSON has no NaN, ±Infinity or bigint: numbers that are not finite are written as these strings
// (a gauge may hold NaN; {@link encodeCheckpoint}'s replacer writes every one so), times as
// decimal strings.
const NON_FINITE: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

// The file's rows, by position: a source series, a source's part (series/carry.ts), a series' gone
// sources (its base and the last report of each gone source).
const HIST = nullOr(histIn);
const EXP = nullOr(expIn);
const NUMBERS = nullOr(listOf(numIn));
const STREAM_ROW = [integer, string, timeIn, timeIn, integer, numIn, HIST, EXP, finite] as const;
const PART_ROW = [string, string, numIn, numIn, finite, NUMBERS, NUMBERS, NUMBERS] as const;
const GONE_PART = (v: unknown, at: string) =>
  row(v, at, 'a gone source', [string, numIn, HIST, EXP]);
const GONE_ROW = [integer, integer, numIn, HIST, EXP, listOf(GONE_PART)] as const;
const GONE_WINDOWS_ROW = [integer, integer, integer, timeIn] as const;

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
  // Delta gone sources' windows' start, [instrument, series, part, from]: a reader that does not
  // know it restores them as cumulative, as before.
  const goneWindows: (number | string)[][] = [];
  // And where they end, with the spans no window was counted in, [instrument, series, part, time,
  // ...gaps]: a field of its own (the rows above keep their length, which a reader checks), which a
  // reader that does not know it ignores: the source's first window back counts as a new stream's.
  const goneSpans: (number | string)[][] = [];
  const instruments = snapshot.instruments.map((i, a) => ({
    name: i.name,
    shape: i.shape,
    description: i.description,
    unit: i.unit,
    series: i.series.map((s, b) => {
      if (s.gone !== undefined) gone.push([a, b, ...splitOut(s.gone)]);
      for (const [k, { windows: w }] of s.gone?.parts.entries() ?? []) {
        if (w === undefined) continue;
        goneWindows.push([a, b, k, String(w.from)]);
        if (w.time !== 0n) goneSpans.push([a, b, k, ...[w.time, ...(w.gaps ?? [])].map(String)]);
      }
      return {
        scopeKey: s.scopeKey,
        scope: { name: s.scope.name, version: s.scope.version },
        attributes: Object.entries(s.attributes).map(([k, v]) => [k, attributeOut(v)]),
        startTime: [s.startTime[0], s.startTime[1]],
        base: s.base,
        baseHist: accOut(s.baseAcc)[0],
        baseExp: accOut(s.baseAcc)[1],
        bounds: s.bounds ?? null,
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
            t.value,
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
  const payload = {
    lastFailureSeconds: snapshot.lastFailureSeconds ?? null,
    origins: [...origins.keys()],
    instruments,
    ...(boot !== undefined
      ? {
          written: { wall: snapshot.written!.wall, boot: boot.id, monotonic: boot.monotonicMillis },
        }
      : {}),
    ...(snapshot.writer !== undefined ? { writer: snapshot.writer } : {}),
    ...(windows.length > 0 ? { windows } : {}),
    ...(gone.length > 0 ? { gone } : {}),
    ...(goneWindows.length > 0 ? { goneWindows } : {}),
    ...(goneSpans.length > 0 ? { goneSpans } : {}),
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
  };
  return JSON.stringify(payload, (_, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
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
  const origins = listOf(string)(root.origins, 'origins');
  const read = listOf((v, at) => instrumentIn(v, at, origins))(root.instruments, 'instruments');
  for (const [n, w] of optionalList(root.windows, 'windows').entries()) {
    const [[a, b, c], time, gaps] = timesRow(w, `windows[${n}]`, "a stream's windows");
    const stream = read[a!]?.series[b!]?.streams[c!] as
      { from: bigint; gaps: readonly bigint[] | undefined } | undefined;
    if (stream === undefined) throw new CheckpointError(`windows[${n}]: no such source series`);
    stream.from = time;
    stream.gaps = gaps;
  }
  for (const [n, g] of optionalList(root.gone, 'gone').entries()) {
    const at = `gone[${n}]`;
    const [a, b, base, hist, exp, parts] = row(g, at, "a series' gone sources", GONE_ROW);
    const series = read[a]?.series[b] as { gone?: GoneSplit } | undefined;
    if (series === undefined) throw new CheckpointError(`${at}: no such series`);
    const acc = accOf(read[a]!.shape);
    series.gone = {
      base,
      baseAcc: acc(hist, exp),
      parts: parts.map(([source, value, h, e]) => ({ source, value, acc: acc(h, e) })),
    };
  }
  for (const [n, w] of optionalList(root.goneWindows, 'goneWindows').entries()) {
    const at = `goneWindows[${n}]`;
    const [a, b, k, from] = row(w, at, "a gone source's windows", GONE_WINDOWS_ROW);
    const parts = (read[a]?.series[b] as { gone?: GoneSplit } | undefined)?.gone?.parts;
    const part = parts?.[k] as { windows?: CountedWindows } | undefined;
    if (part === undefined) throw new CheckpointError(`${at}: no such gone source`);
    part.windows = { from, time: 0n, gaps: undefined };
  }
  for (const [n, w] of optionalList(root.goneSpans, 'goneSpans').entries()) {
    const [[a, b, k], time, gaps] = timesRow(w, `goneSpans[${n}]`, "a gone source's windows");
    const parts = (read[a!]?.series[b!] as { gone?: GoneSplit } | undefined)?.gone?.parts;
    const part = parts?.[k!] as { windows?: CountedWindows } | undefined;
    if (part?.windows === undefined)
      throw new CheckpointError(`goneSpans[${n}]: no such delta gone source`);
    part.windows = { from: part.windows.from, time, gaps };
  }
  // Checked once the windows and gone sources are placed: they name series by position in the file.
  const refused: RefusedValue[] = [];
  const instruments = read.map((i) => ({
    ...i,
    series: i.series.flatMap((s) => admitted(i, s, refused)),
  }));
  return {
    instruments,
    lastFailureSeconds: nullOr(finite)(root.lastFailureSeconds, 'lastFailureSeconds'),
    ...(root.written !== undefined && { written: writtenIn(root.written) }),
    ...(root.writer !== undefined && { writer: string(root.writer, 'writer') }),
    ...(root.point !== undefined && { point: finite(root.point, 'point') }),
    ...(root.carry !== undefined && { carry: carryIn(root.carry, refused) }),
    ...(refused.length > 0 && { refused }),
  };
}

function writtenIn(v: unknown): WrittenAt {
  const { wall, boot, monotonic } = fields(v, 'written', {
    wall: finite,
    boot: string,
    monotonic: finite,
  });
  return { wall, boot: { id: boot, monotonicMillis: monotonic } };
}

// [key, labels, total, last, start, bounds, row, lastRow]: a histogram's last three, else null.
function partOut(p: SourcePart): unknown[] {
  return [
    p.key,
    p.labels,
    p.total,
    p.last,
    p.start,
    p.bounds ?? null,
    p.row === undefined ? null : [...p.row],
    p.lastRow === undefined ? null : [...p.lastRow],
  ];
}

/** The carry `v`; a part whose served total the ingest would refuse (a counter's rule) is left out, in `refused`. */
function carryIn(v: unknown, refused: RefusedValue[]): SourcesSnapshot {
  const rules = listOf((r, at) =>
    fields(r, at, { family: string, key: string, sources: listOf(partIn), folded: listOf(partIn) }),
  )(v, 'carry');
  const kept = (family: string, parts: SourcePart[]): SourcePart[] =>
    parts.filter((p) => {
      const refusal = counterRefusal(p.total);
      if (refusal !== undefined) refused.push({ name: family, refusal, points: 1 });
      return refusal === undefined;
    });
  return {
    rules: rules.map((r) => ({
      ...r,
      sources: kept(r.family, r.sources),
      folded: kept(r.family, r.folded),
    })),
  };
}

function partIn(v: unknown, at: string): SourcePart {
  const [key, labels, total, last, start, bounds, figures, lastRow] = row(
    v,
    at,
    "a source's part",
    PART_ROW,
  );
  // A histogram's part holds its count, sum and a count per bucket; a sum's none of them.
  const width = bounds === undefined ? undefined : bounds.length + 3;
  if (figures?.length !== width || (lastRow !== undefined && lastRow.length !== width))
    throw new CheckpointError(`${at}: its rows do not fit its bounds`);
  return {
    key,
    labels,
    total,
    last,
    start,
    ...(bounds !== undefined && { bounds }),
    ...(figures !== undefined && { row: Float64Array.from(figures) }),
    ...(lastRow !== undefined && { lastRow: Float64Array.from(lastRow) }),
  };
}

function instrumentIn(v: unknown, at: string, origins: readonly string[]): InstrumentSnapshot {
  const o = record(v, at);
  const shape = string(o.shape, `${at}.shape`) as Shape;
  // Every shape has its exposed kind.
  if (!Object.hasOwn(EXPOSED_KIND, shape))
    throw new CheckpointError(`${at}.shape: unknown shape ${JSON.stringify(shape)}`);
  return {
    ...fields(o, at, { name: string, description: string, unit: string }),
    shape,
    series: listOf((s, where) => seriesIn(s, where, origins, shape))(o.series, `${at}.series`),
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
  // Levels (an up-down sum, a gauge) take any number, NaN too, and hold no counts (accOf).
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
  const s = fields(v, at, {
    scope: (x, where) => fields(x, where, { name: string, version: string }),
    scopeKey: string,
    attributes: listOf((x, where) => row(x, where, 'a [key, value] pair', [string, attributeIn])),
    startTime: (x, where) => row(x, where, '[seconds, nanoseconds]', [integer, integer]),
    base: numIn,
    baseHist: HIST,
    baseExp: EXP,
    bounds: nullOr(listOf(numIn)),
    streams: listOf((x, where) => streamIn(x, where, origins, shape)),
  });
  const attributes: Attributes = {};
  for (const [key, value] of s.attributes) setAttribute(attributes, key, value);
  const { scopeKey, scope, startTime, base, bounds, streams } = s;
  const baseAcc = accOf(shape)(s.baseHist, s.baseExp);
  return { scopeKey, scope, attributes, startTime, base, baseAcc, bounds, streams };
}

function streamIn(
  v: unknown,
  at: string,
  origins: readonly string[],
  shape: Shape,
): StreamSnapshot {
  const [o, key, start, time, points, value, hist, exp, updatedAt] = row(
    v,
    at,
    'a source series',
    STREAM_ROW,
  );
  const origin = origins[o];
  if (origin === undefined) throw new CheckpointError(`${at}[0]: no such origin`);
  const acc = accOf(shape)(hist, exp);
  // `from` and `gaps` are set from the checkpoint's `windows`, when it has them.
  return { origin, key, start, time, points, value, acc, updatedAt, from: 0n, gaps: undefined };
}

function splitOut(g: GoneSplit): unknown[] {
  return [g.base, ...accOut(g.baseAcc), g.parts.map((p) => [p.source, p.value, ...accOut(p.acc)])];
}

/** `acc` as the file writes it: [hist, exp], in the field of its kind, null in the other. */
function accOut(acc: Acc | undefined): [unknown, unknown] {
  if (acc === undefined) return [null, null];
  return 'counts' in acc ? [histOut(acc), null] : [null, expOut(acc)];
}

/** The accumulator of an instrument of `shape` from the file's two fields ({@link accOut} undone). */
function accOf(
  shape: Shape,
): (hist: HistogramAcc | undefined, exp: ExponentialSum | undefined) => Acc | undefined {
  return (hist, exp) =>
    shape === 'histogram' ? hist : shape === 'exponentialHistogram' ? exp : undefined;
}

function histOut(h: HistogramAcc): unknown {
  return { counts: h.counts, sum: h.sum, count: h.count };
}

function histIn(v: unknown, at: string): HistogramAcc {
  return fields(v, at, { counts: listOf(numIn), sum: numIn, count: numIn });
}

function expOut(e: ExponentialSum): unknown {
  const { scale, zeroCount, zeroThreshold, positive, negative, sum, count } = e;
  const sides = [positive, negative].map(({ offset, counts }) => ({ offset, counts }));
  return { scale, zeroCount, zeroThreshold, positive: sides[0], negative: sides[1], sum, count };
}

function expIn(v: unknown, at: string): ExponentialSum {
  const side = (x: unknown, where: string) =>
    fields(x, where, { offset: integer, counts: listOf(numIn) });
  const figures = {
    scale: integer,
    zeroCount: numIn,
    zeroThreshold: numIn,
    sum: numIn,
    count: numIn,
  };
  return fields(v, at, { ...figures, positive: side, negative: side });
}

function numIn(v: unknown, at: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && Object.hasOwn(NON_FINITE, v)) return NON_FINITE[v]!;
  throw new CheckpointError(`${at}: not a number`);
}

/** Attribute values: strings, booleans, numbers (maybe not finite) and arrays of them (maybe with nulls). */
function attributeOut(v: AnyValue): unknown {
  if (typeof v === 'number') return { n: v };
  if (Array.isArray(v))
    return { a: (v as unknown[]).map((x) => (typeof x === 'number' ? { n: x } : (x ?? null))) };
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

/** A check of the value at a place of the file (`at`, named in its error): the value it holds. */
type Check<T> = (v: unknown, at: string) => T;
type Checked<C> = { -readonly [K in keyof C]: C[K] extends Check<infer T> ? T : never };

/** The fields of the object `v` that `checks` names, each checked (others are ignored). */
function fields<C extends Record<string, Check<unknown>>>(
  v: unknown,
  at: string,
  checks: C,
): Checked<C> {
  const o = record(v, at);
  const out: Record<string, unknown> = {};
  for (const [key, check] of Object.entries(checks)) out[key] = check(o[key], `${at}.${key}`);
  return out as Checked<C>;
}

/** The list `v`, one item per check (`what` it is, for the error), each checked. */
function row<const C extends readonly Check<unknown>[]>(
  v: unknown,
  at: string,
  what: string,
  checks: C,
): Checked<C> {
  const items = array(v, at);
  if (items.length !== checks.length) throw new CheckpointError(`${at}: not ${what}`);
  return checks.map((check, k) => check(items[k], `${at}[${k}]`)) as Checked<C>;
}

/**
 * A row of three positions (instrument, series, stream or gone source) and times: a time (where
 * windows begin, or end) and the uncounted spans' pairs, at most `MAX_GAPS` of them.
 */
function timesRow(
  v: unknown,
  at: string,
  what: string,
): [number[], bigint, readonly bigint[] | undefined] {
  const items = array(v, at);
  if (items.length < 4 || items.length % 2 !== 0 || items.length > 4 + 2 * MAX_GAPS)
    throw new CheckpointError(`${at}: not ${what}`);
  const positions = [0, 1, 2].map((k) => integer(items[k], `${at}[${k}]`));
  const times = items.slice(3).map((t, k) => timeIn(t, `${at}[${k + 3}]`));
  return [positions, times[0]!, times.length > 1 ? times.slice(1) : undefined];
}

/** The list in an optional field: none when the file was written without it. */
function optionalList(v: unknown, at: string): unknown[] {
  return v === undefined ? [] : array(v, at);
}

function listOf<T>(check: Check<T>): Check<T[]> {
  return (v, at) => array(v, at).map((x, i) => check(x, `${at}[${i}]`));
}

function nullOr<T>(check: Check<T>): Check<T | undefined> {
  return (v, at) => (v === null ? undefined : check(v, at));
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

function timeIn(v: unknown, at: string): bigint {
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v))
    throw new CheckpointError(`${at}: not a time in nanoseconds`);
  return BigInt(v);
}
