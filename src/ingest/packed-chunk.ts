/**
 * A decoded chunk as the decoding thread hands it to the main thread: number and histogram points
 * in columns (typed arrays, moved rather than copied) plus one key string per point, instead of an
 * object per point. Structured cloning is slow per object on both sides (each point was a few
 * objects), and deserialising is the main thread's work; columns cross almost for free.
 *
 * Each point's attributes travel as their key (input-bounds.ts `attributesKey`, which the store
 * looks streams up by), made on the decoding thread. The main thread rebuilds a point's attributes
 * only when asked (a new stream, a run failure), from the key's JSON, or from the wire-order JSON
 * when the order differs or the key is hashed; attributes that JSON would not give back exactly
 * (a NaN, an infinity, -0) travel as they are.
 *
 * The main thread reads the points where they are (`packedPoints`), through one object moved from
 * point to point, so ingesting a chunk makes no object per point.
 *
 * What must stay true: a request `c` packed (PointPacker `request`, then `chunk`) and read through
 * `packedPoints` is `c` to the store — the same points, values, times, attributes (key order
 * included; a string value past `MAX_VALUE_LENGTH` cut as every fold cuts it) — only cheaper to
 * move and to read.
 */
import type { AnyValue, Attributes } from '@opentelemetry/api';
import { attributeMemo, type AttributeMemo, type Packing } from '../otlp/decode-attribute-memo.ts';
import type { PointSink } from '../otlp/decode-protobuf.ts';
import type {
  OtlpExportRequest,
  OtlpHistogramPoint,
  OtlpMetric,
  OtlpMetricData,
  OtlpNumberPoint,
  OtlpUnreadable,
} from '../otlp/types.ts';
import { attributesKey } from './input-bounds.ts';
import { limitLengths, MAX_VALUE_LENGTH, withinLength } from '../domain/bounded-attributes.ts';

/** A metric of a packed chunk: gauges, sums and histograms with their points in the columns. */
export interface PackedMetric {
  /** With `data.points` empty when `count >= 0`. */
  readonly metric: OtlpMetric;
  /** Its first point's index in the columns. */
  readonly first: number;
  /** Its points in the columns; -1 when the metric travels as it is (other types). */
  readonly count: number;
}

export interface PackedChunk {
  readonly resourceMetrics: ReadonlyArray<{
    readonly resource: Attributes;
    readonly scopeMetrics: ReadonlyArray<{
      readonly scope: { readonly name: string; readonly version: string };
      readonly metrics: readonly PackedMetric[];
    }>;
  }>;
  /** Per point: its attributes' key. */
  readonly keys: readonly string[];
  /** Per point: its attribute set's memo id (decode-attribute-memo.ts), 0 when it has none. */
  readonly ids: Uint32Array;
  /** Per point: the attributes' JSON in their own order where the key's JSON does not give them back, else ''. */
  readonly texts: readonly string[];
  /** Attributes JSON would change, by point. */
  readonly exact: Readonly<Record<number, Attributes>>;
  /** OTLP's fixed64 times, so unsigned. */
  readonly starts: BigUint64Array;
  readonly times: BigUint64Array;
  /** A number point's value, a histogram point's count. */
  readonly values: Float64Array;
  /** A histogram point's sum. */
  readonly sums: Float64Array;
  /** Per point: {@link NO_RECORDED_VALUE}, {@link HAS_VALUE}, and why it cannot be kept ({@link UNREADABLE_BITS}). */
  readonly flags: Uint8Array;
  /** Per histogram point, three: where its bounds start in `numbers`, how many, how many counts follow them. */
  readonly spans: Uint32Array;
  readonly numbers: Float64Array;
}

const NO_RECORDED_VALUE = 1;
/** A number point's value, or a histogram point's sum, is set. */
const HAS_VALUE = 2;
/** A point's `unreadable`, in the flags' bits 2 and 3 (0: none). */
const UNREADABLE_SHIFT = 2;
const UNREADABLE_BITS: readonly (OtlpUnreadable | undefined)[] = [
  undefined,
  'invalid_utf8',
  'too_deep',
  'unknown_temporality',
];
const unreadableFlags = (u: OtlpUnreadable | undefined): number =>
  u === undefined ? 0 : UNREADABLE_BITS.indexOf(u) << UNREADABLE_SHIFT;

const BLOCK_BITS = 11;
/** Points per block of a {@link PointPacker}'s strings. */
const BLOCK = 1 << BLOCK_BITS;

/** Columns a packer kept for the next request may hold: a typical request's, not the largest's. */
export const SPARE_POINTS = 1 << 18;

/** A packer for one request at a time, reused while its columns are no larger than {@link SPARE_POINTS}: take it, give it back when done with its chunks. */
export class SparePacker {
  #spare: PointPacker | undefined;

  take(): PointPacker {
    const packer = this.#spare?.reset() ?? new PointPacker();
    this.#spare = undefined;
    return packer;
  }

  giveBack(packer: PointPacker): void {
    if (packer.capacity <= SPARE_POINTS) this.#spare = packer;
  }
}

/** A request's resources and scopes, its metrics packed ({@link PointPacker.request}): their `first` counts from the request's first point. */
export type PackedRequest = PackedChunk['resourceMetrics'];

/**
 * A request's number and histogram points in columns, taken as they are decoded (decode-protobuf.ts
 * `PointSink`: no object per point, nor the request's points held until the last is read) or from
 * a decoded request ({@link request}), then handed over in chunks ({@link chunk}, {@link chunks}).
 */
export class PointPacker implements PointSink {
  points = 0;
  /** Bounds and counts taken, in `numbers`. */
  #used = 0;
  /**
   * Per point, in blocks of {@link BLOCK}: an array of a whole request's strings would be one large
   * object in the old generation, its growth copied and every young string stored in it recorded
   * for the collector, a large share of the packing.
   */
  readonly #keys: string[][] = [];
  /** Per point, '' when the key gives its attributes back (most points have one or the other: a dense array, not a map). */
  readonly #texts: string[][] = [];
  readonly #exact = new Map<number, Attributes>();
  #starts = new BigUint64Array(1024);
  #times = new BigUint64Array(1024);
  #values = new Float64Array(1024);
  #sums = new Float64Array(1024);
  #flags = new Uint8Array(1024);
  #ids = new Uint32Array(1024);
  #spans = new Uint32Array(3 * 1024);
  #numbers = new Float64Array(1024);
  /** Where each data's points are, for data whose points came through the sink. */
  readonly #ranges = new Map<OtlpMetricData, { readonly first: number; readonly count: number }>();

  /** Points its columns hold without growing. */
  get capacity(): number {
    return this.#flags.length;
  }

  /** Empties the packer for another request, keeping its columns (what a request's growth would copy again). */
  reset(): this {
    this.points = 0;
    this.#used = 0;
    // The blocks of strings are kept too, written over from the first point.
    this.#exact.clear();
    this.#ranges.clear();
    return this;
  }

  number(p: OtlpNumberPoint, set: number, memo: AttributeMemo | false = attributeMemo): void {
    const i = this.#take(p, set, memo);
    if (p.value !== undefined) {
      this.#values[i] = p.value;
      this.#flags[i]! |= HAS_VALUE;
    }
  }

  histogram(p: OtlpHistogramPoint, set: number, memo: AttributeMemo | false = attributeMemo): void {
    const i = this.#take(p, set, memo);
    this.#values[i] = p.count;
    if (p.sum !== undefined) {
      this.#sums[i] = p.sum;
      this.#flags[i]! |= HAS_VALUE;
    }
    const bounds = p.explicitBounds.length;
    const counts = p.bucketCounts.length;
    let n = this.#used;
    if (n + bounds + counts > this.#numbers.length)
      this.#numbers = grown(this.#numbers, n + bounds + counts);
    const nums = this.#numbers;
    this.#spans[3 * i] = n;
    this.#spans[3 * i + 1] = bounds;
    this.#spans[3 * i + 2] = counts;
    for (const b of p.explicitBounds) nums[n++] = b;
    for (const c of p.bucketCounts) nums[n++] = c;
    this.#used = n;
  }

  data(data: OtlpMetricData, first: number, count: number): void {
    this.#ranges.set(data, { first, count });
  }

  /** The point's index, its key, attributes, times and flags set. */
  #take(p: OtlpNumberPoint | OtlpHistogramPoint, set: number, from: AttributeMemo | false): number {
    const i = this.points++;
    if (i === this.#flags.length) this.#grow();
    const attributes = p.attributes;
    // Points decoded without a memo may still hold this thread's sets (a request decoded whole).
    const memo = from === false ? attributeMemo : from;
    const found = set !== 0 ? set : memo.idOf(attributes);
    const key = memo.keyOf(attributes, attributesKey, found);
    const block = i >> BLOCK_BITS;
    if (block === this.#keys.length) {
      this.#keys.push([]);
      this.#texts.push([]);
    }
    this.#keys[block]![i & (BLOCK - 1)] = key;
    let text: string;
    let exact: Attributes | undefined;
    if (found === 0) ({ text, exact } = packing(attributes, key));
    else {
      text = memo.packedText(found, attributes, key, packing);
      exact = memo.exactOf(found);
    }
    this.#texts[block]![i & (BLOCK - 1)] = text;
    if (exact !== undefined) this.#exact.set(i, exact);
    this.#starts[i] = p.startTimeUnixNano;
    this.#times[i] = p.timeUnixNano;
    this.#flags[i] = (p.noRecordedValue ? NO_RECORDED_VALUE : 0) | unreadableFlags(p.unreadable);
    this.#ids[i] = found;
    // A reused packer's columns hold the request before's.
    this.#values[i] = this.#sums[i] = 0;
    return i;
  }

  #grow(): void {
    const size = 2 * this.#flags.length;
    this.#starts = grown(this.#starts, size);
    this.#times = grown(this.#times, size);
    this.#values = grown(this.#values, size);
    this.#sums = grown(this.#sums, size);
    this.#flags = grown(this.#flags, size);
    this.#ids = grown(this.#ids, size);
    this.#spans = grown(this.#spans, 3 * size);
  }

  /**
   * `request`'s metrics packed: the points of data decoded into this packer where they are, the
   * others' (a request decoded whole, as JSON is) taken now.
   */
  request(request: OtlpExportRequest): PackedRequest {
    return request.resourceMetrics.map((rm) => ({
      resource: rm.resource,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({
        scope: sm.scope,
        metrics: sm.metrics.map((metric): PackedMetric => {
          const data = metric.data;
          if (data.type !== 'gauge' && data.type !== 'sum' && data.type !== 'histogram')
            return { metric, first: this.points, count: -1 };
          let range = this.#ranges.get(data);
          if (range === undefined) {
            const first = this.points;
            if (data.type === 'histogram') for (const p of data.points) this.histogram(p, 0);
            else for (const p of data.points) this.number(p, 0);
            range = { first, count: data.points.length };
          }
          return {
            metric: { ...metric, data: { ...data, points: [] } },
            first: range.first,
            count: range.count,
          };
        }),
      })),
    }));
  }

  /**
   * `request` ({@link request}'s) cut into chunks of at most `limit` points each, a chunk per
   * resource and scope at least (a metric's points may span several), each packed.
   */
  *chunks(
    request: PackedRequest,
    limit: number,
  ): Generator<{ packed: PackedChunk; transfer: ArrayBuffer[] }> {
    let metrics: PackedMetric[] = [];
    let points = 0;
    let current:
      | {
          readonly resource: Attributes;
          readonly scope: { readonly name: string; readonly version: string };
        }
      | undefined;
    const flush = (): { packed: PackedChunk; transfer: ArrayBuffer[] } | undefined => {
      const out =
        current !== undefined && metrics.length > 0
          ? this.chunk([
              { resource: current.resource, scopeMetrics: [{ scope: current.scope, metrics }] },
            ])
          : undefined;
      metrics = [];
      points = 0;
      return out;
    };
    for (const rm of request) {
      for (const sm of rm.scopeMetrics) {
        const out = flush();
        if (out !== undefined) yield out;
        current = { resource: rm.resource, scope: sm.scope };
        for (const m of sm.metrics) {
          const data = m.metric.data;
          if (data.type === 'empty' || data.type === 'summary') {
            metrics.push(m);
            continue;
          }
          // An exponential histogram's points travel as they are: its metric is cut.
          const total = m.count >= 0 ? m.count : data.points.length;
          for (let start = 0; start < total;) {
            if (points >= limit) {
              const full = flush();
              if (full !== undefined) yield full;
            }
            const take = Math.min(limit - points, total - start);
            const part: PackedMetric =
              m.count >= 0
                ? { metric: m.metric, first: m.first + start, count: take }
                : {
                    metric: {
                      ...m.metric,
                      data: {
                        ...data,
                        points: data.points.slice(start, start + take),
                      } as OtlpMetricData,
                    },
                    first: 0,
                    count: -1,
                  };
            metrics.push(part);
            points += take;
            start += take;
          }
        }
      }
    }
    const last = flush();
    if (last !== undefined) yield last;
  }

  /** The metrics of `request` (their points this packer's) as one chunk, its columns their points' only, and the buffers to move with it. */
  chunk(request: PackedRequest): { packed: PackedChunk; transfer: ArrayBuffer[] } {
    let points = 0;
    let numbers = 0;
    let histograms = false;
    const startWords = words(this.#starts);
    const timeWords = words(this.#times);
    let head = -1;
    let uniform = true;
    for (const rm of request) {
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
          if (m.count <= 0) continue;
          points += m.count;
          if (head < 0) head = m.first;
          for (let j = m.first; j < m.first + m.count && uniform; j++)
            uniform = sameTime(startWords, head, j) && sameTime(timeWords, head, j);
          if (m.metric.data.type === 'histogram') {
            histograms = true;
            for (let j = m.first; j < m.first + m.count; j++)
              numbers += this.#spans[3 * j + 1]! + this.#spans[3 * j + 2]!;
          }
        }
      }
    }
    // An SDK stamps an export with one start and one time: then a chunk carries them once
    // (TimeColumn), and a chunk of number points no histogram columns -- a third of the bytes.
    const times1 = uniform ? Math.min(points, 1) : points;
    const keys = new Array<string>(points);
    const texts = new Array<string>(points);
    const exact: Record<number, Attributes> = {};
    const starts = new BigUint64Array(times1);
    const times = new BigUint64Array(times1);
    const values = new Float64Array(points);
    const sums = new Float64Array(histograms ? points : 0);
    const flags = new Uint8Array(points);
    const ids = new Uint32Array(points);
    const spans = new Uint32Array(histograms ? 3 * points : 0);
    const nums = new Float64Array(numbers);
    let i = 0;
    let n = 0;
    const resourceMetrics = request.map((rm) => ({
      resource: rm.resource,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({
        scope: sm.scope,
        metrics: sm.metrics.map((m): PackedMetric => {
          if (m.count < 0) return m;
          const first = i;
          const from = m.first;
          const to = from + m.count;
          if (!uniform) {
            starts.set(this.#starts.subarray(from, to), first);
            times.set(this.#times.subarray(from, to), first);
          } else if (first === 0 && m.count > 0) {
            starts[0] = this.#starts[from]!;
            times[0] = this.#times[from]!;
          }
          values.set(this.#values.subarray(from, to), first);
          if (histograms) sums.set(this.#sums.subarray(from, to), first);
          flags.set(this.#flags.subarray(from, to), first);
          ids.set(this.#ids.subarray(from, to), first);
          const histogram = m.metric.data.type === 'histogram';
          const inexact = this.#exact.size > 0;
          for (let j = from; j < to; j++, i++) {
            keys[i] = this.#keys[j >> BLOCK_BITS]![j & (BLOCK - 1)]!;
            texts[i] = this.#texts[j >> BLOCK_BITS]![j & (BLOCK - 1)]!;
            if (inexact) {
              const attributes = this.#exact.get(j);
              if (attributes !== undefined) exact[i] = attributes;
            }
            if (histogram) {
              const at = this.#spans[3 * j]!;
              const length = this.#spans[3 * j + 1]! + this.#spans[3 * j + 2]!;
              spans[3 * i] = n;
              spans[3 * i + 1] = this.#spans[3 * j + 1]!;
              spans[3 * i + 2] = this.#spans[3 * j + 2]!;
              nums.set(this.#numbers.subarray(at, at + length), n);
              n += length;
            }
          }
          return { metric: m.metric, first, count: m.count };
        }),
      })),
    }));
    const packed: PackedChunk = {
      resourceMetrics,
      keys,
      ids,
      texts,
      exact,
      starts,
      times,
      values,
      sums,
      flags,
      spans,
      numbers: nums,
    };
    return {
      packed,
      transfer: [starts, times, values, sums, flags, ids, spans, nums].map((a) => a.buffer),
    };
  }
}

/**
 * A chunk as it crosses from the decoding thread to the main thread: each point's key and text
 * named by its attribute set's memo id ({@link KeyWire}) instead of travelling as strings. A fleet
 * sends the same series export after export, so they cross once, not once a point: deserialising
 * strings per point was the main thread's largest single cost under a fleet (bench/collector.ts,
 * its load rows), and a key the main thread already holds is one whose hash V8 has cached.
 */
export interface WireChunk extends Omit<PackedChunk, 'keys' | 'texts'> {
  /** By point: its key, where its id is 0 or names another key in this chunk. */
  readonly inline: Readonly<Record<number, string>>;
  /** By point: its text, where its key is inline and its text is not ''. */
  readonly texts: Readonly<Record<number, string>>;
  /** Ids and the key and text they name from this chunk on, in threes. */
  readonly named: readonly (number | string)[];
}

/**
 * The decoding thread's side of the keys' names: which key and text the main thread holds for
 * each id (a memo id is given again once its entry is dropped, so what an id names changes). What
 * must stay true: every chunk {@link encode} makes is read by a {@link KeyTable} in the order made
 * (one port, each message taken), and within one chunk an id names one key and text -- a point
 * whose id names others there goes inline.
 */
export class KeyWire {
  /** By id: the key and text the main thread holds for it. */
  readonly #keys: (string | undefined)[] = [];
  readonly #texts: (string | undefined)[] = [];
  /** By id: the last chunk that used it. */
  #seen = new Uint32Array(1024);
  #chunk = 0;

  encode(packed: PackedChunk): WireChunk {
    const chunk = ++this.#chunk;
    const { keys, texts: all, ...columns } = packed;
    const ids = packed.ids;
    const inline: Record<number, string> = {};
    const texts: Record<number, string> = {};
    const named: (number | string)[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const key = keys[i]!;
      const text = all[i]!;
      if (id !== 0) {
        if (id >= this.#seen.length) this.#seen = grown(this.#seen, id + 1);
        const same = this.#keys[id] === key && this.#texts[id] === text;
        if (this.#seen[id] !== chunk) {
          this.#seen[id] = chunk;
          if (!same) {
            this.#keys[id] = key;
            this.#texts[id] = text;
            named.push(id, key, text);
          }
          continue;
        }
        if (same) continue;
        ids[i] = 0;
      }
      inline[i] = key;
      if (text !== '') texts[i] = text;
    }
    return { ...columns, texts, inline, named };
  }
}

/**
 * The main thread's side: the keys and texts a {@link KeyWire} named, by id. Bounded as the ids
 * are: at most the memo's two generations of sets are numbered at once, so its tables hold at
 * most that many keys (a dropped set's until its id is given again).
 */
export class KeyTable {
  readonly #keys: string[] = [];
  readonly #texts: string[] = [];

  /** `wire` with its keys, every chunk of the wire read here in the order made (even one then dropped). */
  receive(wire: WireChunk): PackedChunk {
    const { inline, named, texts: some, ...columns } = wire;
    const byId = this.#keys;
    const textById = this.#texts;
    for (let j = 0; j < named.length; j += 3) {
      byId[named[j] as number] = named[j + 1] as string;
      textById[named[j] as number] = named[j + 2] as string;
    }
    const ids = wire.ids;
    const keys = new Array<string>(ids.length);
    const texts = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === 0) {
        keys[i] = inline[i]!;
        texts[i] = some[i] ?? '';
      } else {
        keys[i] = byId[id]!;
        texts[i] = textById[id]!;
      }
    }
    return { ...columns, keys, texts };
  }
}

/** A time column's 32-bit halves (reading a BigUint64Array's element makes a bigint). */
const words = (column: BigUint64Array): Uint32Array =>
  new Uint32Array(column.buffer, column.byteOffset, 2 * column.length);

const sameTime = (words: Uint32Array, i: number, j: number): boolean =>
  words[2 * i] === words[2 * j] && words[2 * i + 1] === words[2 * j + 1];

/** `column` copied into a new one of `size` (at least twice its length). */
function grown<T extends BigUint64Array | Float64Array | Uint8Array | Uint32Array>(
  column: T,
  size: number,
): T {
  const out = new (column.constructor as new (length: number) => T)(
    Math.max(size, 2 * column.length),
  );
  out.set(column as never);
  return out;
}

/**
 * A metric's points as the store reads them: its array, or a packed metric's {@link PackedPoints}.
 * What must stay true for a packed list: `at(i)` moves one object to point `i`, so a caller reads
 * what it needs of a point (copying any array it keeps) before it asks for the next one.
 */
export interface PointList<P> {
  readonly length: number;
  at(i: number): P | undefined;
}

/**
 * The points of `m`, a metric of `packed`, read in place from the columns: one object moved from
 * point to point rather than one made per point (a max-size request has a million). Undefined for
 * a metric whose points travel as they are.
 */
export function packedPoints(
  packed: PackedChunk,
  m: PackedMetric,
): PointList<OtlpNumberPoint> | PointList<OtlpHistogramPoint> | undefined {
  if (m.count < 0) return undefined;
  const type = m.metric.data.type;
  if (type === 'histogram') return new PackedPoints(new HistogramCursor(packed), m.first, m.count);
  if (type === 'gauge' || type === 'sum')
    return new PackedPoints(new NumberCursor(packed), m.first, m.count);
  return undefined;
}

class PackedPoints<P extends Cursor> implements PointList<P> {
  readonly length: number;
  readonly #cursor: P;
  readonly #first: number;

  constructor(cursor: P, first: number, count: number) {
    this.#cursor = cursor;
    this.#first = first;
    this.length = count;
  }

  at(i: number): P | undefined {
    return i >= 0 && i < this.length
      ? (this.#cursor.moveTo(this.#first + i), this.#cursor)
      : undefined;
  }
}

/**
 * A time column read point by point. Reading a bigint out of a BigUint64Array makes a new one: a
 * time equal to the point before's (an SDK stamps a whole export with one time and one start)
 * reuses that one.
 */
class TimeColumn {
  readonly #values: BigUint64Array;
  readonly #words: Uint32Array;
  #last = -1;
  #value = 0n;

  constructor(values: BigUint64Array) {
    this.#values = values;
    this.#words = words(values);
  }

  /** A column of one value is every point's (a chunk whose points share their time). */
  at(point: number): bigint {
    const i = this.#values.length === 1 ? 0 : point;
    const l = this.#last;
    if (l < 0 || !sameTime(this.#words, l, i)) this.#value = this.#values[i]!;
    this.#last = i;
    return this.#value;
  }
}

/**
 * The key a point's stream is found by: made by the decoding thread for a packed point, else once
 * per attribute set the protobuf decoder remembered (decode-attribute-memo.ts).
 */
export function pointKey(
  point: OtlpNumberPoint | OtlpHistogramPoint | { readonly attributes: Attributes },
): string {
  return point instanceof Cursor ? point.key : attributeMemo.keyOf(point.attributes, attributesKey);
}

/** One point of a packed chunk at a time, moved by {@link PackedPoints.at}; its attributes rebuilt when read. */
class Cursor {
  key = '';
  startTimeUnixNano = 0n;
  timeUnixNano = 0n;
  noRecordedValue = false;
  unreadable: OtlpUnreadable | undefined = undefined;
  protected readonly packed: PackedChunk;
  protected index = -1;
  readonly #start: TimeColumn;
  readonly #time: TimeColumn;

  constructor(packed: PackedChunk) {
    this.packed = packed;
    this.#start = new TimeColumn(packed.starts);
    this.#time = new TimeColumn(packed.times);
  }

  moveTo(i: number): void {
    const packed = this.packed;
    this.index = i;
    this.key = packed.keys[i]!;
    this.startTimeUnixNano = this.#start.at(i);
    this.timeUnixNano = this.#time.at(i);
    this.noRecordedValue = (packed.flags[i]! & NO_RECORDED_VALUE) !== 0;
    this.unreadable = UNREADABLE_BITS[(packed.flags[i]! >> UNREADABLE_SHIFT) & 3];
  }

  /** Made anew at each read: read once per point, and only for a new stream or a run failure. */
  get attributes(): Attributes {
    return attributesOf(this.packed, this.index);
  }
}

class NumberCursor extends Cursor implements OtlpNumberPoint {
  value: number | undefined = undefined;

  override moveTo(i: number): void {
    super.moveTo(i);
    const packed = this.packed;
    this.value = (packed.flags[i]! & HAS_VALUE) !== 0 ? packed.values[i]! : undefined;
  }
}

class HistogramCursor extends Cursor implements OtlpHistogramPoint {
  count = 0;
  sum: number | undefined = undefined;
  explicitBounds: readonly number[] = [];
  bucketCounts: readonly number[] = [];

  override moveTo(i: number): void {
    super.moveTo(i);
    const packed = this.packed;
    this.count = packed.values[i]!;
    this.sum = (packed.flags[i]! & HAS_VALUE) !== 0 ? packed.sums[i]! : undefined;
    const at = packed.spans[3 * i]!;
    const bounds = packed.spans[3 * i + 1]!;
    this.explicitBounds = numbers(packed.numbers, at, bounds);
    this.bucketCounts = numbers(packed.numbers, at + bounds, packed.spans[3 * i + 2]!);
  }
}

/** `count` numbers of `column` from `at`, as an array (a loop: `Array.from` of a typed array goes through its iterator). */
function numbers(column: Float64Array, at: number, count: number): number[] {
  const out = new Array<number>(count);
  for (let j = 0; j < count; j++) out[j] = column[at + j]!;
  return out;
}

function attributesOf(packed: PackedChunk, i: number): Attributes {
  const exact = packed.exact[i];
  if (exact !== undefined) return exact;
  const text = packed.texts[i]!;
  const key = packed.keys[i]!;
  if (text === '' && key === '') return {};
  return Object.fromEntries(JSON.parse(text === '' ? key : text) as Array<[string, AnyValue]>);
}

/**
 * How a point's attributes travel besides their key: `text` ('' when the key gives them back) and,
 * when JSON would change them, `exact`. Both have each string (and each string of an array)
 * longer than {@link MAX_VALUE_LENGTH} cut as every fold on the main thread cuts it (a cut value
 * is cut no further), so a 19 MiB attribute value is not copied to the main thread's heap to be
 * cut there and left for its next major collection; the key, made of the values as sent, keeps
 * two values that differ past the cut two streams.
 */
function packing(attributes: Attributes, key: string): ReturnType<Packing> {
  const kept = withinLength(attributes, MAX_VALUE_LENGTH)
    ? attributes
    : limitLengths(attributes, MAX_VALUE_LENGTH, () => {});
  return { text: textOf(kept, key), exact: jsonExact(kept) ? undefined : kept };
}

/** '' when the key's JSON gives `attributes` back in their order, else their JSON in their order. */
function textOf(attributes: Attributes, key: string): string {
  const keys = Object.keys(attributes);
  if (!key.startsWith('#')) {
    let sorted = true;
    for (let k = 1; k < keys.length && sorted; k++) sorted = keys[k - 1]! < keys[k]!;
    if (sorted) return '';
  }
  return JSON.stringify(keys.map((k) => [k, attributes[k]]));
}

/** Whether JSON gives every value of `attributes` back as it is (not a NaN, an infinity or -0). */
function jsonExact(attributes: Attributes): boolean {
  for (const k in attributes) {
    const v = attributes[k];
    if (
      typeof v === 'number'
        ? !exactNumber(v)
        : Array.isArray(v) && !v.every((x) => typeof x !== 'number' || exactNumber(x))
    )
      return false;
  }
  return true;
}

const exactNumber = (v: number): boolean => Number.isFinite(v) && !Object.is(v, -0);
