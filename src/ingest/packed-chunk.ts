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
 * What must stay true: `packChunk(c)` read through `packedPoints` is `c` to the store — the same
 * points, values, times, attributes (key order included) — only cheaper to move and to read.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { attributeMemo } from '../otlp/decode-attribute-memo.ts';
import type { OtlpExportRequest, OtlpHistogramPoint, OtlpMetric, OtlpNumberPoint } from '../otlp/types.ts';
import { attributesKey } from './input-bounds.ts';

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
    readonly scopeMetrics: ReadonlyArray<{ readonly scope: { readonly name: string; readonly version: string }; readonly metrics: readonly PackedMetric[] }>;
  }>;
  /** Per point: its attributes' key. */
  readonly keys: readonly string[];
  /** By point, when the key's JSON does not give the attributes back: their JSON in their own order. */
  readonly texts: Readonly<Record<number, string>>;
  /** Attributes JSON would change, by point. */
  readonly exact: Readonly<Record<number, Attributes>>;
  /** OTLP's fixed64 times, so unsigned. */
  readonly starts: BigUint64Array;
  readonly times: BigUint64Array;
  /** A number point's value, a histogram point's count. */
  readonly values: Float64Array;
  /** A histogram point's sum. */
  readonly sums: Float64Array;
  /** Per point: {@link NO_RECORDED_VALUE}, {@link HAS_VALUE}. */
  readonly flags: Uint8Array;
  /** Per histogram point, three: where its bounds start in `numbers`, how many, how many counts follow them. */
  readonly spans: Uint32Array;
  readonly numbers: Float64Array;
}

const NO_RECORDED_VALUE = 1;
/** A number point's value, or a histogram point's sum, is set. */
const HAS_VALUE = 2;

/** `chunk` packed, and the buffers to move with it. */
export function packChunk(chunk: OtlpExportRequest): { packed: PackedChunk; transfer: ArrayBuffer[] } {
  let points = 0;
  let numbers = 0;
  for (const rm of chunk.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const { data } of sm.metrics) {
        if (data.type === 'gauge' || data.type === 'sum') points += data.points.length;
        else if (data.type === 'histogram') {
          points += data.points.length;
          for (const p of data.points) numbers += p.explicitBounds.length + p.bucketCounts.length;
        }
      }
    }
  }
  const keys: string[] = [];
  const texts: Record<number, string> = {};
  const exact: Record<number, Attributes> = {};
  const starts = new BigUint64Array(points);
  const times = new BigUint64Array(points);
  const values = new Float64Array(points);
  const sums = new Float64Array(points);
  const flags = new Uint8Array(points);
  const spans = new Uint32Array(3 * points);
  const nums = new Float64Array(numbers);
  let i = 0;
  let n = 0;
  const base = (p: OtlpNumberPoint | OtlpHistogramPoint): void => {
    const entry = attributeMemo.entryOf(p.attributes);
    const key = attributeMemo.keyOf(p.attributes, attributesKey, entry);
    keys.push(key);
    const { text, json } = attributeMemo.derived(p.attributes, key, packing, entry);
    if (text !== '') texts[i] = text;
    if (!json) exact[i] = p.attributes;
    starts[i] = p.startTimeUnixNano;
    times[i] = p.timeUnixNano;
    flags[i] = p.noRecordedValue ? NO_RECORDED_VALUE : 0;
  };
  const resourceMetrics = chunk.resourceMetrics.map((rm) => ({
    resource: rm.resource,
    scopeMetrics: rm.scopeMetrics.map((sm) => ({
      scope: sm.scope,
      metrics: sm.metrics.map((metric): PackedMetric => {
        const data = metric.data;
        const first = i;
        if (data.type === 'gauge' || data.type === 'sum') {
          for (const p of data.points) {
            base(p);
            if (p.value !== undefined) {
              values[i] = p.value;
              flags[i]! |= HAS_VALUE;
            }
            i++;
          }
        } else if (data.type === 'histogram') {
          for (const p of data.points) {
            base(p);
            values[i] = p.count;
            if (p.sum !== undefined) {
              sums[i] = p.sum;
              flags[i]! |= HAS_VALUE;
            }
            spans[3 * i] = n;
            spans[3 * i + 1] = p.explicitBounds.length;
            spans[3 * i + 2] = p.bucketCounts.length;
            for (const b of p.explicitBounds) nums[n++] = b;
            for (const c of p.bucketCounts) nums[n++] = c;
            i++;
          }
        } else {
          return { metric, first, count: -1 };
        }
        return { metric: { ...metric, data: { ...data, points: [] } }, first, count: i - first };
      }),
    })),
  }));
  const packed: PackedChunk = { resourceMetrics, keys, texts, exact, starts, times, values, sums, flags, spans, numbers: nums };
  return { packed, transfer: [starts, times, values, sums, flags, spans, nums].map((a) => a.buffer as ArrayBuffer) };
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
export function packedPoints(packed: PackedChunk, m: PackedMetric): PointList<OtlpNumberPoint> | PointList<OtlpHistogramPoint> | undefined {
  if (m.count < 0) return undefined;
  const type = m.metric.data.type;
  if (type === 'histogram') return new PackedPoints(new HistogramCursor(packed), m.first, m.count);
  if (type === 'gauge' || type === 'sum') return new PackedPoints(new NumberCursor(packed), m.first, m.count);
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
    return i >= 0 && i < this.length ? (this.#cursor.moveTo(this.#first + i), this.#cursor) : undefined;
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
    this.#words = new Uint32Array(values.buffer, values.byteOffset, 2 * values.length);
  }

  at(i: number): bigint {
    const w = this.#words;
    const l = this.#last;
    if (l < 0 || w[2 * l] !== w[2 * i] || w[2 * l + 1] !== w[2 * i + 1]) this.#value = this.#values[i]!;
    this.#last = i;
    return this.#value;
  }
}

/**
 * The key a point's stream is found by: made by the decoding thread for a packed point, else once
 * per attribute set the protobuf decoder remembered (decode-attribute-memo.ts).
 */
export function pointKey(point: OtlpNumberPoint | OtlpHistogramPoint | { readonly attributes: Attributes }): string {
  return point instanceof Cursor ? point.key : attributeMemo.keyOf(point.attributes, attributesKey);
}

/** One point of a packed chunk at a time, moved by {@link PackedPoints.at}; its attributes rebuilt when read. */
class Cursor {
  key = '';
  startTimeUnixNano = 0n;
  timeUnixNano = 0n;
  noRecordedValue = false;
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
  const text = packed.texts[i] ?? '';
  const key = packed.keys[i]!;
  if (text === '' && key === '') return {};
  return Object.fromEntries(JSON.parse(text === '' ? key : text) as Array<[string, AttributeValue]>);
}

/** How a point's attributes travel besides their key: `text` ('' when the key gives them back), `json` false when JSON would change them. */
function packing(attributes: Attributes, key: string): { readonly text: string; readonly json: boolean } {
  return { text: textOf(attributes, key), json: jsonExact(attributes) };
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
    if (typeof v === 'number' ? !exactNumber(v) : Array.isArray(v) && !v.every((x) => typeof x !== 'number' || exactNumber(x))) return false;
  }
  return true;
}

const exactNumber = (v: number): boolean => Number.isFinite(v) && !Object.is(v, -0);
