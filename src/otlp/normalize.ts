/**
 * OTLP/JSON-shaped objects → {@link OtlpExportRequest}. Both decoders end here: the JSON one
 * hands over `JSON.parse`'s result, the protobuf one protobufjs's `toObject` (camelCase keys,
 * 64-bit integers as strings, bytes as base64).
 *
 * The OTLP/JSON rules followed (OTLP specification, "JSON Protobuf Encoding"): keys in
 * lowerCamelCase — the protobuf JSON mapping's original snake_case names are accepted too, as the
 * Collector's decoder does; enums as integers (their names are accepted as well); 64-bit integers
 * as decimal strings or numbers; doubles as numbers or `"NaN"`/`"Infinity"`/`"-Infinity"`;
 * `bytesValue` as base64 (kept as that string). Unknown keys are ignored, as the Collector does.
 * A value of the wrong type is an {@link OtlpDecodeError} naming its path, and so is what the
 * Collector's JSON reader refuses: a number out of a double's range (`1e400`), a `bytesValue` that
 * is not base64, an exemplar's `traceId` or `spanId` that is not its length in hex.
 * What it accepts and the ingest cannot keep marks the point or metric (types.ts `OtlpUnreadable`),
 * as decode-protobuf.ts does: an unknown temporality, a value nested too deep, and, in a body that
 * was not UTF-8 (`lossy`), a label value that holds U+FFFD where a bad sequence was.
 *
 * Every element is charged to the request's {@link DecodeMeter} before it is made (decode-limits.ts;
 * codec.ts scanned the JSON text with the same meter before `JSON.parse`).
 */
import type { AnyValue, Attributes } from '@opentelemetry/api';
import { setAttribute } from '../common/set-attribute.ts';
import { DecodeMeter, DEFAULT_DECODE_LIMITS, type DecodeCostKind } from './decode-limits.ts';
import {
  OtlpDecodeError,
  type OtlpExportRequest,
  type OtlpExponentialBuckets,
  type OtlpExponentialHistogramPoint,
  type OtlpHistogramPoint,
  type OtlpMetric,
  type OtlpMetricData,
  type OtlpNumberPoint,
  type OtlpResourceMetrics,
  type OtlpScopeMetrics,
  type OtlpTemporality,
  type OtlpUnreadable,
} from './types.ts';

type Obj = Record<string, unknown>;

/** `DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK`. */
export const FLAG_NO_RECORDED_VALUE = 1;

/** Deepest `arrayValue`/`kvlistValue` nesting converted; deeper values are an error. */
export const MAX_ANY_VALUE_DEPTH = 8;

/** The meter of the request being normalized (synchronous: one at a time per thread). */
let meter: DecodeMeter;

function charge(kind: DecodeCostKind, n = 1): void {
  meter.charge(kind, meter.bodyBytes, n);
}

/** Whether the body was not UTF-8 (decoded with U+FFFD for each bad sequence). */
let lossy = false;
/** As decode-protobuf.ts's: label values made lossy, values nested too deep, unknown temporalities, so far. */
let invalidValues = 0;
let tooDeep = 0;
let unknownTemporalities = 0;

/**
 * @param requestMeter the request's, else one at the default limits for a body of any size
 * @param notUtf8 the JSON text was not UTF-8: a label value holding U+FFFD came from a bad sequence
 */
export function normalizeExportRequest(
  raw: unknown,
  requestMeter?: DecodeMeter,
  notUtf8 = false,
): OtlpExportRequest {
  meter = requestMeter ?? new DecodeMeter(Number.MAX_SAFE_INTEGER, DEFAULT_DECODE_LIMITS);
  lossy = notUtf8;
  const root = object(raw, '(root)') ?? {};
  return {
    resourceMetrics: list(root, 'resourceMetrics', 'resource_metrics', '', resourceMetrics),
  };
}

function resourceMetrics(raw: unknown, at: string): OtlpResourceMetrics {
  charge('resource');
  const o = object(raw, at) ?? {};
  const resource = object(field(o, 'resource'), `${at}.resource`) ?? {};
  return {
    resource: attributes(resource, `${at}.resource`),
    scopeMetrics: list(o, 'scopeMetrics', 'scope_metrics', at, scopeMetrics),
  };
}

function scopeMetrics(raw: unknown, at: string): OtlpScopeMetrics {
  charge('scope');
  const o = object(raw, at) ?? {};
  const scope = object(field(o, 'scope'), `${at}.scope`) ?? {};
  const name = string(field(scope, 'name'), `${at}.scope.name`);
  const version = string(field(scope, 'version'), `${at}.scope.version`);
  const metrics = list(o, 'metrics', 'metrics', at, metric);
  // The scope's name and version are every point's otel_scope_* labels.
  if (lossy && (name.includes('\uFFFD') || version.includes('\uFFFD'))) {
    return {
      scope: { name, version },
      metrics: metrics.map((m) =>
        m.unreadable === undefined ? { ...m, unreadable: 'invalid_utf8' as const } : m,
      ),
    };
  }
  return { scope: { name, version }, metrics };
}

function metric(raw: unknown, at: string): OtlpMetric {
  charge('metric');
  const o = object(raw, at) ?? {};
  const unknown = unknownTemporalities;
  const m = {
    name: string(field(o, 'name'), `${at}.name`),
    description: string(field(o, 'description'), `${at}.description`),
    unit: string(field(o, 'unit'), `${at}.unit`),
    data: metricData(o, at),
  };
  return unknownTemporalities === unknown ? m : { ...m, unreadable: 'unknown_temporality' };
}

function metricData(o: Obj, at: string): OtlpMetricData {
  /** A data message's points, read by `item`. */
  const points = <T>(data: Obj, name: string, item: (raw: unknown, at: string) => T): T[] =>
    list(data, 'dataPoints', 'data_points', `${at}.${name}`, item);
  const temporalityOf = (data: Obj, name: string): OtlpTemporality =>
    temporality(
      field(data, 'aggregationTemporality', 'aggregation_temporality'),
      `${at}.${name}.aggregationTemporality`,
    );
  const gauge = object(field(o, 'gauge'), `${at}.gauge`);
  if (gauge !== undefined) return { type: 'gauge', points: points(gauge, 'gauge', numberPoint) };
  const sum = object(field(o, 'sum'), `${at}.sum`);
  if (sum !== undefined) {
    return {
      type: 'sum',
      monotonic: boolean(field(sum, 'isMonotonic', 'is_monotonic'), `${at}.sum.isMonotonic`),
      temporality: temporalityOf(sum, 'sum'),
      points: points(sum, 'sum', numberPoint),
    };
  }
  const histogram = object(field(o, 'histogram'), `${at}.histogram`);
  if (histogram !== undefined) {
    return {
      type: 'histogram',
      temporality: temporalityOf(histogram, 'histogram'),
      points: points(histogram, 'histogram', histogramPoint),
    };
  }
  const exponential = object(
    field(o, 'exponentialHistogram', 'exponential_histogram'),
    `${at}.exponentialHistogram`,
  );
  if (exponential !== undefined) {
    return {
      type: 'exponentialHistogram',
      temporality: temporalityOf(exponential, 'exponentialHistogram'),
      points: points(exponential, 'exponentialHistogram', exponentialPoint),
    };
  }
  const summary = object(field(o, 'summary'), `${at}.summary`);
  if (summary !== undefined) {
    const raw = field(summary, 'dataPoints', 'data_points');
    if (raw !== undefined && raw !== null && !Array.isArray(raw))
      throw new OtlpDecodeError(`${at}.summary.dataPoints: expected an array`);
    if (Array.isArray(raw)) charge('point', raw.length);
    return { type: 'summary', pointCount: Array.isArray(raw) ? raw.length : 0 };
  }
  return { type: 'empty' };
}

function pointBase(o: Obj, at: string) {
  charge('point');
  const flags = integer(field(o, 'flags'), `${at}.flags`);
  const invalid = invalidValues;
  const deep = tooDeep;
  const attrs = attributes(o, at);
  exemplars(o, at);
  const unreadable: OtlpUnreadable | undefined =
    invalidValues !== invalid ? 'invalid_utf8' : tooDeep !== deep ? 'too_deep' : undefined;
  return {
    attributes: attrs,
    startTimeUnixNano: uint64(
      field(o, 'startTimeUnixNano', 'start_time_unix_nano'),
      `${at}.startTimeUnixNano`,
    ),
    timeUnixNano: uint64(field(o, 'timeUnixNano', 'time_unix_nano'), `${at}.timeUnixNano`),
    noRecordedValue: (flags & FLAG_NO_RECORDED_VALUE) !== 0,
    ...(unreadable !== undefined && { unreadable }),
  };
}

const TRACE_ID = /^(?:[0-9a-fA-F]{32})?$/;
const SPAN_ID = /^(?:[0-9a-fA-F]{16})?$/;

/** A point's exemplars are not kept, but what the Collector refuses in them is refused: an ID that is not hex of its length. */
function exemplars(o: Obj, at: string): void {
  const list = array(field(o, 'exemplars'), `${at}.exemplars`);
  for (let i = 0; i < list.length; i++) {
    const e = object(list[i], `${at}.exemplars[${i}]`) ?? {};
    const traceId = string(field(e, 'traceId', 'trace_id'), `${at}.exemplars[${i}].traceId`);
    if (!TRACE_ID.test(traceId))
      throw new OtlpDecodeError(`${at}.exemplars[${i}].traceId: expected 32 hex digits`);
    const spanId = string(field(e, 'spanId', 'span_id'), `${at}.exemplars[${i}].spanId`);
    if (!SPAN_ID.test(spanId))
      throw new OtlpDecodeError(`${at}.exemplars[${i}].spanId: expected 16 hex digits`);
  }
}

function numberPoint(raw: unknown, at: string): OtlpNumberPoint {
  const o = object(raw, at) ?? {};
  const asDouble = field(o, 'asDouble', 'as_double');
  const asInt = field(o, 'asInt', 'as_int');
  let value: number | undefined;
  if (asDouble !== undefined && asDouble !== null) value = double(asDouble, `${at}.asDouble`);
  else if (asInt !== undefined && asInt !== null) value = Number(int64(asInt, `${at}.asInt`));
  return { ...pointBase(o, at), value };
}

function histogramPoint(raw: unknown, at: string): OtlpHistogramPoint {
  const o = object(raw, at) ?? {};
  const sum = field(o, 'sum');
  return {
    ...pointBase(o, at),
    count: Number(uint64(field(o, 'count'), `${at}.count`)),
    sum: sum === undefined || sum === null ? undefined : double(sum, `${at}.sum`),
    bucketCounts: bucketList(field(o, 'bucketCounts', 'bucket_counts'), `${at}.bucketCounts`).map(
      (v, i) => Number(uint64(v, `${at}.bucketCounts[${i}]`)),
    ),
    explicitBounds: bucketList(
      field(o, 'explicitBounds', 'explicit_bounds'),
      `${at}.explicitBounds`,
    ).map((v, i) => double(v, `${at}.explicitBounds[${i}]`)),
  };
}

function exponentialPoint(raw: unknown, at: string): OtlpExponentialHistogramPoint {
  const o = object(raw, at) ?? {};
  const sum = field(o, 'sum');
  const zeroThreshold = field(o, 'zeroThreshold', 'zero_threshold');
  const buckets = (side: 'positive' | 'negative'): OtlpExponentialBuckets => {
    const b = object(field(o, side), `${at}.${side}`) ?? {};
    return {
      offset: integer(field(b, 'offset'), `${at}.${side}.offset`),
      bucketCounts: bucketList(
        field(b, 'bucketCounts', 'bucket_counts'),
        `${at}.${side}.bucketCounts`,
      ).map((v, i) => Number(uint64(v, `${at}.${side}.bucketCounts[${i}]`))),
    };
  };
  return {
    ...pointBase(o, at),
    count: Number(uint64(field(o, 'count'), `${at}.count`)),
    sum: sum === undefined || sum === null ? undefined : double(sum, `${at}.sum`),
    scale: integer(field(o, 'scale'), `${at}.scale`),
    zeroCount: Number(uint64(field(o, 'zeroCount', 'zero_count'), `${at}.zeroCount`)),
    zeroThreshold:
      zeroThreshold === undefined || zeroThreshold === null
        ? 0
        : double(zeroThreshold, `${at}.zeroThreshold`),
    positive: buckets('positive'),
    negative: buckets('negative'),
  };
}

// ---------------------------------------------------------------------------------------------
// Attributes

function attributes(o: Obj, at: string): Attributes {
  const out: Attributes = {};
  const list = array(field(o, 'attributes'), `${at}.attributes`);
  charge('attribute', list.length);
  for (let i = 0; i < list.length; i++) {
    const kv = object(list[i], `${at}.attributes[${i}]`) ?? {};
    const key = string(field(kv, 'key'), `${at}.attributes[${i}].key`);
    const value = anyValue(field(kv, 'value'), `${at}.attributes[${i}].value`, 0);
    // An empty AnyValue is "no value": like an attribute that was never set.
    if (value !== undefined) setAttribute(out, key, value);
  }
  return out;
}

/** An AnyValue with its nesting kept, before it becomes an attribute value. */
export type PlainValue =
  string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };

function anyValue(raw: unknown, at: string, depth: number): AnyValue {
  const plain = anyValuePlain(raw, at, depth);
  return plain === undefined ? undefined : attributeValue(plain);
}

/** An AnyValue as an attribute value: scalars as they are, arrays of scalars as arrays, the rest as JSON text. */
export function attributeValue(plain: PlainValue): AnyValue {
  if (plain === null || typeof plain !== 'object') return plain ?? undefined;
  if (Array.isArray(plain) && plain.every((v) => typeof v === 'string')) return plain;
  if (Array.isArray(plain) && plain.every((v) => typeof v === 'number')) return plain;
  if (Array.isArray(plain) && plain.every((v) => typeof v === 'boolean')) return plain;
  return JSON.stringify(plain);
}

function anyValuePlain(raw: unknown, at: string, depth: number): PlainValue | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (depth > MAX_ANY_VALUE_DEPTH) {
    // Not read: the point it belongs to is refused (pointBase).
    tooDeep++;
    return null;
  }
  const o = object(raw, at) ?? {};
  const s = field(o, 'stringValue', 'string_value');
  if (s !== undefined && s !== null) {
    const text = string(s, `${at}.stringValue`);
    // As decode-protobuf.ts: a top-level string is a label value as it is; one nested is JSON first.
    if (lossy && depth === 0 && text.includes('\uFFFD')) invalidValues++;
    return text;
  }
  const b = field(o, 'boolValue', 'bool_value');
  if (b !== undefined && b !== null) return boolean(b, `${at}.boolValue`);
  const i = field(o, 'intValue', 'int_value');
  if (i !== undefined && i !== null) return Number(int64(i, `${at}.intValue`));
  const d = field(o, 'doubleValue', 'double_value');
  if (d !== undefined && d !== null) return double(d, `${at}.doubleValue`);
  const bytes = field(o, 'bytesValue', 'bytes_value');
  if (bytes !== undefined && bytes !== null) {
    const text = string(bytes, `${at}.bytesValue`);
    if (!BASE64.test(text))
      throw new OtlpDecodeError(`${at}.bytesValue: expected base64 (standard alphabet, padded)`);
    return text;
  }
  const arr = object(field(o, 'arrayValue', 'array_value'), `${at}.arrayValue`);
  if (arr !== undefined) {
    const values = array(field(arr, 'values'), `${at}.arrayValue.values`);
    charge('element', values.length);
    return values.map(
      (v, k) => anyValuePlain(v, `${at}.arrayValue.values[${k}]`, depth + 1) ?? null,
    );
  }
  const kvlist = object(field(o, 'kvlistValue', 'kvlist_value'), `${at}.kvlistValue`);
  if (kvlist !== undefined) {
    const out: { [key: string]: PlainValue } = {};
    const values = array(field(kvlist, 'values'), `${at}.kvlistValue.values`);
    charge('attribute', values.length);
    for (let k = 0; k < values.length; k++) {
      const kv = object(values[k], `${at}.kvlistValue.values[${k}]`) ?? {};
      const key = string(field(kv, 'key'), `${at}.kvlistValue.values[${k}].key`);
      const value =
        anyValuePlain(field(kv, 'value'), `${at}.kvlistValue.values[${k}].value`, depth + 1) ??
        null;
      setAttribute(out, key, value);
    }
    return out;
  }
  return undefined;
}

/** Base64 as Go's `base64.StdEncoding` reads it (the Collector's JSON `bytesValue`): standard alphabet, padded. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// ---------------------------------------------------------------------------------------------
// Scalars. proto3 leaves defaults off the wire and OTLP/JSON may omit them: absent is the default.

function field(o: Obj, camel: string, snake?: string): unknown {
  const v = o[camel];
  if (v !== undefined || snake === undefined || snake === camel) return v;
  return o[snake];
}

function object(raw: unknown, at: string): Obj | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new OtlpDecodeError(`${at}: expected an object`);
  return raw as Obj;
}

function array(raw: unknown, at: string): readonly unknown[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new OtlpDecodeError(`${at}: expected an array`);
  return raw;
}

/** A histogram's bucket counts or bounds, charged before they are converted. */
function bucketList(raw: unknown, at: string): readonly unknown[] {
  const values = array(raw, at);
  charge('bucket', values.length);
  return values;
}

function list<T>(
  o: Obj,
  camel: string,
  snake: string,
  at: string,
  item: (raw: unknown, at: string) => T,
): T[] {
  const prefix = at === '' ? camel : `${at}.${camel}`;
  return array(field(o, camel, snake), prefix).map((raw, i) => item(raw, `${prefix}[${i}]`));
}

function string(raw: unknown, at: string): string {
  if (raw === undefined || raw === null) return '';
  if (typeof raw !== 'string') throw new OtlpDecodeError(`${at}: expected a string`);
  return raw;
}

function boolean(raw: unknown, at: string): boolean {
  if (raw === undefined || raw === null) return false;
  if (typeof raw !== 'boolean') throw new OtlpDecodeError(`${at}: expected true or false`);
  return raw;
}

const SPECIAL_DOUBLES: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
};

function double(raw: unknown, at: string): number {
  if (typeof raw === 'number') {
    // Only a number past a double's range parses to ±Infinity (the Collector: "value out of range").
    if (!Number.isFinite(raw)) throw new OtlpDecodeError(`${at}: a number out of a double's range`);
    return raw;
  }
  if (typeof raw === 'string') {
    const special = SPECIAL_DOUBLES[raw];
    if (special !== undefined) return special;
    // The protobuf JSON mapping also accepts a number written as a string.
    if (raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  }
  throw new OtlpDecodeError(`${at}: expected a number`);
}

const INT64 = /^-?\d{1,20}$/;

function int64(raw: unknown, at: string): bigint {
  if (raw === undefined || raw === null) return 0n;
  if (typeof raw === 'number' && Number.isInteger(raw)) return BigInt(raw);
  if (typeof raw === 'string' && INT64.test(raw)) return BigInt(raw);
  throw new OtlpDecodeError(`${at}: expected an integer (a number or a decimal string)`);
}

function uint64(raw: unknown, at: string): bigint {
  const v = int64(raw, at);
  if (v < 0n) throw new OtlpDecodeError(`${at}: expected an unsigned integer`);
  return v;
}

function integer(raw: unknown, at: string): number {
  return Number(int64(raw, at));
}

const TEMPORALITY_NAMES: Readonly<Record<string, OtlpTemporality>> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 'unspecified',
  AGGREGATION_TEMPORALITY_DELTA: 'delta',
  AGGREGATION_TEMPORALITY_CUMULATIVE: 'cumulative',
};

function temporality(raw: unknown, at: string): OtlpTemporality {
  if (raw === undefined || raw === null || raw === 0) return 'unspecified';
  if (raw === 1) return 'delta';
  if (raw === 2) return 'cumulative';
  if (typeof raw === 'string' && TEMPORALITY_NAMES[raw] !== undefined)
    return TEMPORALITY_NAMES[raw];
  // Another value of the enum: the Collector accepts it; its metric is marked (metric()).
  if (typeof raw === 'number' && Number.isInteger(raw) && Math.abs(raw) <= 0x7fffffff) {
    unknownTemporalities++;
    return 'unspecified';
  }
  throw new OtlpDecodeError(`${at}: expected 1 (delta) or 2 (cumulative)`);
}
