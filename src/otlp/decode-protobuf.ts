/**
 * A protobuf `ExportMetricsServiceRequest` straight into {@link OtlpExportRequest}, over
 * protobufjs's `Reader` (its varints, doubles and length checks).
 *
 * What it refuses and accepts is what the Collector's receiver (pdata) does, both ways: a known
 * field with the wrong wire type refuses the request (pdata: "proto: wrong wireType"), an unknown
 * field is skipped; a string that is not UTF-8 is read with U+FFFD for each bad sequence (pdata keeps
 * the bytes), and a point a label value of which it is (an attribute value, the scope's name or
 * version) is marked `invalid_utf8`, as the Collector's prometheus exporter drops those series; an
 * attribute value nested too deep marks its point `too_deep`, an unknown temporality its metric
 * (types.ts `OtlpUnreadable`): refused per point by the ingest, never the whole request.
 *
 * It is the one decoder: OTLP/JSON comes here too, rewritten as protobuf by normalize.ts.
 * Why a decode loop of our own rather than `Type.decode` + `toObject`: that route builds
 * protobufjs's message tree, then a JSON-shaped copy of it (every fixed64 a long.js object turned
 * into a decimal string), then the model from that — three object trees per data point, the
 * ingest's largest cost. This reads each field once into the model, and skips what the model does
 * not keep (exemplars, summary points' contents, metadata, schema URLs) without decoding it.
 *
 * What must stay true: the result is what protobufjs made of it
 * (test/ingest/otlp-codec.test.ts compares it with the same request in OTLP/JSON): of a oneof
 * (a metric's data, a point's value, an AnyValue) the member last on the wire, an empty AnyValue
 * as no attribute. A malformed body throws (codec.ts makes it an OtlpDecodeError).
 *
 * Every element is charged to the request's {@link DecodeMeter} before it is made, at the body
 * position it starts from (decode-limits.ts): a body that would decode past its limits throws
 * DecodeLimitExceeded having built at most the limit's worth.
 *
 * A point's attributes are remembered by their bytes (decode-attribute-memo.ts): a sender exports
 * the same series export after export, written the same way, so a point whose attribute fields
 * are bytes seen before gets the attributes object decoded then (and the ingest the identity key
 * it made of it then), charged as if decoded again, instead of new objects and strings per point.
 *
 * A caller that keeps points in columns of its own (the ingest's decoding thread, packed-chunk.ts)
 * passes a {@link PointSink}: number and histogram points go to it as they are read, instead of an
 * object per point held in the request until the whole body is read.
 */
import protobuf from 'protobufjs/light.js';
import { attributeMemo, type AttributeMemo } from './decode-attribute-memo.ts';
import { DecodeMeter, type DecodeLimits } from './decode-limits.ts';
import { setAttribute } from '../common/set-attribute.ts';
import {
  OtlpDecodeError,
  type OtlpExponentialBuckets,
  type OtlpExponentialHistogramPoint,
  type OtlpExportRequest,
  type OtlpHistogramPoint,
  type OtlpMetric,
  type OtlpMetricData,
  type OtlpNumberPoint,
  type OtlpResourceMetrics,
  type OtlpScopeMetrics,
  type OtlpTemporality,
  type OtlpUnreadable,
} from './types.ts';
import type { AnyValue, Attributes } from '@opentelemetry/api';

type Reader = protobuf.Reader;

/** `DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK`. */
const FLAG_NO_RECORDED_VALUE = 1;

/** Deepest `arrayValue`/`kvlistValue` nesting converted; a point with a value deeper is marked `too_deep`. */
export const MAX_ANY_VALUE_DEPTH = 8;

/** An AnyValue with its nesting kept, before it becomes an attribute value. */
type PlainValue = string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };

/** An AnyValue as an attribute value: scalars as they are, arrays of scalars as arrays, the rest as JSON text. */
function attributeValue(plain: PlainValue): AnyValue {
  if (plain === null || typeof plain !== 'object') return plain ?? undefined;
  if (Array.isArray(plain) && plain.every((v) => typeof v === 'string')) return plain;
  if (Array.isArray(plain) && plain.every((v) => typeof v === 'number')) return plain;
  if (Array.isArray(plain) && plain.every((v) => typeof v === 'boolean')) return plain;
  return JSON.stringify(plain);
}

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;

/** The meter of the request being decoded (decoding is synchronous: one at a time per thread). */
let meter: DecodeMeter;
/** The memo of the request being decoded, as `meter`. */
let memo: AttributeMemo | false;
/** Where the request being decoded hands its number and histogram points, as `meter`; undefined: into the request. */
let sink: PointSink | undefined;
/** The id of the memo's set the attributes of the point just read are (decode-attribute-memo.ts), or 0. */
let pointSet = 0;
/** Attribute values (top level) read so far that were not UTF-8: a point compares it before and after. */
let invalidValues = 0;
/** Strings of any kind read so far that were not UTF-8. */
let invalidTexts = 0;
/** Attribute values read so far nested too deep (skipped). */
let tooDeep = 0;

/**
 * Takes a request's number and histogram points as they are decoded, in wire order, each numbered
 * from 0 in the order taken. The data they belong to keeps `points` empty and is told its range.
 * What must stay true: a point handed over is what the request would have held, and `point` is one
 * object reused for the next number point (copy out what is kept).
 */
export interface PointSink {
  /** Points taken so far: the number the next one gets. */
  readonly points: number;
  /** `set`: the id in `memo` of the set `point.attributes` are (shared, never written to), or 0. */
  number(point: OtlpNumberPoint, set: number, memo: AttributeMemo | false): void;
  histogram(point: OtlpHistogramPoint, set: number, memo: AttributeMemo | false): void;
  /** `data`'s points are the ones numbered `[first, first + count)`. */
  data(data: OtlpMetricData, first: number, count: number): void;
}

/** The number point handed to a sink, moved from point to point. */
const scratch: { -readonly [K in keyof OtlpNumberPoint]: OtlpNumberPoint[K] } = {
  attributes: {},
  startTimeUnixNano: 0n,
  timeUnixNano: 0n,
  noRecordedValue: false,
  value: undefined,
  unreadable: undefined,
};

/**
 * `attributes`: this thread's memo (decode-attribute-memo.ts), another, or `false` for none.
 * `points`: where number and histogram points go instead of the request (see {@link PointSink}).
 * `charged`: the meter of the body `body` was made from (normalize.ts), else one for `body`.
 * @throws {DecodeLimitExceeded} past `limits`
 * @throws {Error} when `body` is not a valid request (wire errors keep protobufjs's messages).
 */
export function decodeProtobufRequest(
  body: Uint8Array,
  limits: DecodeLimits,
  attributes: AttributeMemo | false = attributeMemo,
  points?: PointSink,
  charged?: DecodeMeter,
): OtlpExportRequest {
  const r = protobuf.Reader.create(body);
  meter = charged ?? new DecodeMeter(body.length, limits);
  memo = attributes;
  sink = points;
  try {
    const resourceMetrics: OtlpResourceMetrics[] = [];
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === ((1 << 3) | LEN)) {
        meter.charge('resource', r.pos);
        resourceMetrics.push(readResourceMetrics(r, end(r)));
      } else skip(r, tag, REQUEST_FIELDS);
    }
    return { resourceMetrics };
  } finally {
    sink = undefined;
    scratch.attributes = {};
    if (attributes !== false) attributes.release();
  }
}

function readResourceMetrics(r: Reader, stop: number): OtlpResourceMetrics {
  let resource: Attributes = {};
  let scopeMetrics: OtlpScopeMetrics[] = [];
  // A resource attribute nested too deep: its points are refused (its other faults only change
  // target_info, which the Collector then drops, and keep its points).
  let unreadable: OtlpUnreadable | undefined;
  while (r.pos < stop) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LEN)) {
      const deep = tooDeep;
      resource = readResource(r, end(r));
      if (tooDeep !== deep) unreadable = 'too_deep';
    } else if (tag === ((2 << 3) | LEN)) {
      meter.charge('scope', r.pos);
      scopeMetrics.push(readScopeMetrics(r, end(r)));
    } else skip(r, tag, RESOURCE_METRICS_FIELDS);
  }
  if (unreadable !== undefined)
    scopeMetrics = scopeMetrics.map((sm) => ({
      scope: sm.scope,
      metrics: markMetrics(sm.metrics, unreadable),
    }));
  return { resource, scopeMetrics };
}

/** `metrics`, each marked `unreadable` (its data, which a sink may hold, is the same object). */
function markMetrics(metrics: readonly OtlpMetric[], unreadable: OtlpUnreadable): OtlpMetric[] {
  return metrics.map((m) => (m.unreadable === undefined ? { ...m, unreadable } : m));
}

function readResource(r: Reader, stop: number): Attributes {
  const attributes: Attributes = {};
  while (r.pos < stop) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LEN)) readKeyValue(r, end(r), attributes);
    else skip(r, tag, RESOURCE_FIELDS);
  }
  return attributes;
}

function readScopeMetrics(r: Reader, stop: number): OtlpScopeMetrics {
  let scope = { name: '', version: '' };
  let metrics: OtlpMetric[] = [];
  let unreadable: OtlpUnreadable | undefined;
  while (r.pos < stop) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LEN)) {
      const invalid = invalidTexts;
      scope = readScope(r, end(r));
      // The scope's name and version are every point's otel_scope_* labels.
      unreadable = invalidTexts !== invalid ? 'invalid_utf8' : undefined;
    } else if (tag === ((2 << 3) | LEN)) {
      meter.charge('metric', r.pos);
      metrics.push(readMetric(r, end(r)));
    } else skip(r, tag, SCOPE_METRICS_FIELDS);
  }
  if (unreadable !== undefined) metrics = markMetrics(metrics, unreadable);
  return { scope, metrics };
}

function readScope(r: Reader, stop: number): { name: string; version: string } {
  let name = '';
  let version = '';
  while (r.pos < stop) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LEN)) name = text(r);
    else if (tag === ((2 << 3) | LEN)) version = text(r);
    else if (tag === ((3 << 3) | LEN)) check(r, end(r), KEY_VALUE_SHAPE, 0);
    else skip(r, tag, SCOPE_FIELDS);
  }
  return { name, version };
}

function readMetric(r: Reader, stop: number): OtlpMetric {
  let name = '';
  let description = '';
  let unit = '';
  let data: OtlpMetricData = { type: 'empty' };
  const unknown = unknownTemporalities;
  while (r.pos < stop) {
    const tag = r.uint32();
    switch (tag) {
      // The Collector's exporter serves a name, unit or description that is not UTF-8, cleaned.
      case (1 << 3) | LEN:
        name = text(r);
        break;
      case (2 << 3) | LEN:
        description = text(r);
        break;
      case (3 << 3) | LEN:
        unit = text(r);
        break;
      case (5 << 3) | LEN:
      case (7 << 3) | LEN:
      case (9 << 3) | LEN:
      case (10 << 3) | LEN:
      case (11 << 3) | LEN:
        data = readData(r, end(r), tag >>> 3);
        break;
      default:
        if (tag === ((12 << 3) | LEN)) check(r, end(r), KEY_VALUE_SHAPE, 0);
        else skip(r, tag, METRIC_FIELDS);
    }
  }
  if (unknownTemporalities !== unknown)
    return { name, description, unit, data, unreadable: 'unknown_temporality' };
  return { name, description, unit, data };
}

/** A Gauge (5), Sum (7), Histogram (9), ExponentialHistogram (10) or Summary (11). */
function readData(r: Reader, stop: number, field: number): OtlpMetricData {
  const numbers: OtlpNumberPoint[] = [];
  const histograms: OtlpHistogramPoint[] = [];
  const exponentials: OtlpExponentialHistogramPoint[] = [];
  let summaryPoints = 0;
  let temporality: OtlpTemporality = 'unspecified';
  let monotonic = false;
  const first = sink === undefined ? 0 : sink.points;
  while (r.pos < stop) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LEN)) {
      meter.charge('point', r.pos);
      const pointEnd = end(r);
      if (field === 5 || field === 7) {
        const point = readNumberPoint(r, pointEnd);
        if (sink === undefined) numbers.push(point);
        else sink.number(point, pointSet, memo);
      } else if (field === 9) {
        const point = readHistogramPoint(r, pointEnd);
        if (sink === undefined) histograms.push(point);
        else sink.histogram(point, pointSet, memo);
      } else if (field === 10) exponentials.push(readExponentialPoint(r, pointEnd));
      else {
        summaryPoints++;
        check(r, pointEnd, SUMMARY_POINT_SHAPE, 0);
      }
    } else if (tag === ((2 << 3) | VARINT) && field !== 5 && field !== 11)
      temporality = temporalityOf(r.int32());
    else if (tag === ((3 << 3) | VARINT) && field === 7) monotonic = r.bool();
    else
      skip(
        r,
        tag,
        field === 7 ? SUM_FIELDS : field === 5 || field === 11 ? POINTS_FIELDS : HISTOGRAM_FIELDS,
      );
  }
  let data: OtlpMetricData;
  switch (field) {
    case 5:
      data = { type: 'gauge', points: numbers };
      break;
    case 7:
      data = { type: 'sum', monotonic, temporality, points: numbers };
      break;
    case 9:
      data = { type: 'histogram', temporality, points: histograms };
      break;
    case 10:
      return { type: 'exponentialHistogram', temporality, points: exponentials };
    default:
      return { type: 'summary', pointCount: summaryPoints };
  }
  if (sink !== undefined) sink.data(data, first, sink.points - first);
  return data;
}

/** AggregationTemporality values read so far that are none of the three: their metric is marked. */
let unknownTemporalities = 0;

function temporalityOf(value: number): OtlpTemporality {
  if (value === 0) return 'unspecified';
  if (value === 1) return 'delta';
  if (value === 2) return 'cumulative';
  unknownTemporalities++;
  return 'unspecified';
}

/** The fields every kind of point has, read by {@link readCommon}. */
interface Common {
  attributes: Attributes;
  /** The id of the memo's set `attributes` is (then never written to), or 0 when the point's own. */
  shared: number;
  /** Whether an attribute field was read already (one after other fields goes to a copy of its own). */
  read: boolean;
  start: bigint;
  time: bigint;
  flags: number;
  /** {@link invalidValues} and {@link tooDeep} when the point's reading began. */
  invalid: number;
  deep: number;
}

/** A point's attributes until a field gives it some: then an object of its own, or the memo's. */
const NO_ATTRIBUTES: Attributes = Object.freeze({});
const COMMON: Common = {
  attributes: NO_ATTRIBUTES,
  shared: 0,
  read: false,
  start: 0n,
  time: 0n,
  flags: 0,
  invalid: 0,
  deep: 0,
};

/** The one Common, cleared for the next point: points are read one at a time, and what one keeps is taken out of it ({@link attributesOf}). */
function common(): Common {
  COMMON.attributes = NO_ATTRIBUTES;
  COMMON.shared = 0;
  COMMON.read = false;
  COMMON.start = 0n;
  COMMON.time = 0n;
  COMMON.flags = 0;
  COMMON.invalid = invalidValues;
  COMMON.deep = tooDeep;
  return COMMON;
}

/** Why the point whose reading `c` holds cannot be kept, if it cannot. */
function unreadableOf(c: Common): OtlpUnreadable | undefined {
  if (invalidValues !== c.invalid) return 'invalid_utf8';
  if (tooDeep !== c.deep) return 'too_deep';
  return undefined;
}

/** The point's attributes: an empty object of its own when no field gave any. */
const attributesOf = (c: Common): Attributes =>
  c.attributes === NO_ATTRIBUTES ? {} : c.attributes;

/** Reads `tag` into `c` when it is one of the common fields (their numbers differ by kind of point); false otherwise. */
function readCommon(
  r: Reader,
  tag: number,
  c: Common,
  attributesField: number,
  flagsField: number,
): boolean {
  if (tag === ((attributesField << 3) | LEN)) readAttributes(r, c, tag);
  else if (tag === ((2 << 3) | FIXED64)) c.start = fixed64(r, START);
  else if (tag === ((3 << 3) | FIXED64)) c.time = fixed64(r, TIME);
  else if (tag === ((flagsField << 3) | VARINT)) c.flags = r.uint32();
  else return false;
  return true;
}

/**
 * The point's attribute fields from the one just tagged `tag`: the run of them that follows one
 * another, from the memo when its bytes were seen before, else decoded (and remembered when the
 * memo takes it). A field after other fields is added to a copy of its own.
 */
function readAttributes(r: Reader, c: Common, tag: number): void {
  // Field numbers of point attributes are below 16: the tag is one byte.
  const from = r.pos - 1;
  if (c.read) {
    if (c.shared !== 0) c.attributes = { ...c.attributes };
    c.shared = 0;
    readKeyValue(r, end(r), c.attributes);
    return;
  }
  c.read = true;
  const stop = memo === false ? -1 : memo.runEnd(r.buf, from, r.len, tag);
  if (memo === false || stop < 0) {
    c.attributes = {};
    readKeyValue(r, end(r), c.attributes);
    return;
  }
  const seen = memo.get(r.buf, from, stop);
  if (seen !== 0) {
    for (let k = 0, n = memo.fieldsOf(seen); k < n; k++)
      meter.charge('attribute', from + memo.fieldStart(seen, k));
    c.attributes = memo.attributesOf(seen);
    c.shared = seen;
    r.pos = stop;
    return;
  }
  // Where each field's KeyValue starts: where decoding it charges its attribute.
  const starts: number[] = [];
  c.attributes = {};
  const invalid = invalidValues + tooDeep;
  for (;;) {
    const kvEnd = end(r);
    starts.push(r.pos - from);
    readKeyValue(r, kvEnd, c.attributes);
    if (r.pos >= stop) break;
    r.uint32();
  }
  // Only attributes a point can be kept with are remembered: a memo hit is never unreadable.
  if (invalidValues + tooDeep === invalid)
    c.shared = memo.remember(r.buf, from, stop, starts, c.attributes);
}

function base(c: Common) {
  const unreadable = unreadableOf(c);
  return {
    attributes: attributesOf(c),
    startTimeUnixNano: c.start,
    timeUnixNano: c.time,
    noRecordedValue: (c.flags & FLAG_NO_RECORDED_VALUE) !== 0,
    ...(unreadable !== undefined && { unreadable }),
  };
}

function readNumberPoint(r: Reader, stop: number): OtlpNumberPoint {
  const c = common();
  let value: number | undefined;
  while (r.pos < stop) {
    const tag = r.uint32();
    if (readCommon(r, tag, c, 7, 8)) continue;
    if (tag === ((4 << 3) | FIXED64)) value = r.double();
    else if (tag === ((6 << 3) | FIXED64)) value = sfixed64Number(r);
    else if (tag === ((5 << 3) | LEN)) check(r, end(r), EXEMPLAR_SHAPE, 0);
    else skip(r, tag, NUMBER_POINT_FIELDS);
  }
  pointSet = c.shared;
  const unreadable = unreadableOf(c);
  if (sink !== undefined) {
    scratch.attributes = attributesOf(c);
    scratch.startTimeUnixNano = c.start;
    scratch.timeUnixNano = c.time;
    scratch.noRecordedValue = (c.flags & FLAG_NO_RECORDED_VALUE) !== 0;
    scratch.value = value;
    scratch.unreadable = unreadable;
    return scratch;
  }
  // One object a point (not base's spread into another): the hot path of every ingest.
  const point = {
    attributes: attributesOf(c),
    startTimeUnixNano: c.start,
    timeUnixNano: c.time,
    noRecordedValue: (c.flags & FLAG_NO_RECORDED_VALUE) !== 0,
    value,
  };
  return unreadable === undefined ? point : { ...point, unreadable };
}

function readHistogramPoint(r: Reader, stop: number): OtlpHistogramPoint {
  const c = common();
  let count = 0;
  let sum: number | undefined;
  const bucketCounts: number[] = [];
  const explicitBounds: number[] = [];
  while (r.pos < stop) {
    const tag = r.uint32();
    if (readCommon(r, tag, c, 9, 10)) continue;
    switch (tag) {
      case (4 << 3) | FIXED64:
        count = fixed64Number(r);
        break;
      case (5 << 3) | FIXED64:
        sum = r.double();
        break;
      case (6 << 3) | LEN:
      case (6 << 3) | FIXED64:
        repeated(r, tag, 8, () => bucketCounts.push(fixed64Number(r)));
        break;
      case (7 << 3) | LEN:
      case (7 << 3) | FIXED64:
        repeated(r, tag, 8, () => explicitBounds.push(r.double()));
        break;
      case (8 << 3) | LEN:
        check(r, end(r), EXEMPLAR_SHAPE, 0);
        break;
      default:
        skip(r, tag, HISTOGRAM_POINT_FIELDS);
    }
  }
  pointSet = c.shared;
  return { ...base(c), count, sum, bucketCounts, explicitBounds };
}

function readExponentialPoint(r: Reader, stop: number): OtlpExponentialHistogramPoint {
  const c = common();
  let count = 0;
  let sum: number | undefined;
  let scale = 0;
  let zeroCount = 0;
  let zeroThreshold = 0;
  let positive: OtlpExponentialBuckets = { offset: 0, bucketCounts: [] };
  let negative: OtlpExponentialBuckets = { offset: 0, bucketCounts: [] };
  while (r.pos < stop) {
    const tag = r.uint32();
    if (readCommon(r, tag, c, 1, 10)) continue;
    switch (tag) {
      case (4 << 3) | FIXED64:
        count = fixed64Number(r);
        break;
      case (5 << 3) | FIXED64:
        sum = r.double();
        break;
      case (6 << 3) | VARINT:
        scale = r.sint32();
        break;
      case (7 << 3) | FIXED64:
        zeroCount = fixed64Number(r);
        break;
      case (8 << 3) | LEN:
        positive = readBuckets(r, end(r));
        break;
      case (9 << 3) | LEN:
        negative = readBuckets(r, end(r));
        break;
      case (14 << 3) | FIXED64:
        zeroThreshold = r.double();
        break;
      case (11 << 3) | LEN:
        check(r, end(r), EXEMPLAR_SHAPE, 0);
        break;
      default:
        skip(r, tag, EXPONENTIAL_POINT_FIELDS);
    }
  }
  return { ...base(c), count, sum, scale, zeroCount, zeroThreshold, positive, negative };
}

/**
 * A repeated scalar (histogram buckets), packed (one length-delimited field) or not (one field per
 * element), its elements charged before they are read: `size` bytes each, or varints (0).
 */
function repeated(r: Reader, tag: number, size: number, read: () => void): void {
  if ((tag & 7) !== LEN) {
    meter.charge('bucket', r.pos);
    read();
    return;
  }
  const stop = end(r);
  meter.charge(
    'bucket',
    r.pos,
    size > 0 ? Math.ceil((stop - r.pos) / size) : varints(r.buf, r.pos, stop),
  );
  while (r.pos < stop) read();
}

/** How many varints end in `buf[from, to)`: the bytes without their continuation bit. */
function varints(buf: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if ((buf[i]! & 0x80) === 0) n++;
  return n;
}

function readBuckets(r: Reader, stop: number): OtlpExponentialBuckets {
  let offset = 0;
  const bucketCounts: number[] = [];
  while (r.pos < stop) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | VARINT)) offset = r.sint32();
    else if (tag === ((2 << 3) | LEN) || tag === ((2 << 3) | VARINT))
      repeated(r, tag, 0, () => bucketCounts.push(varint64Number(r, true)));
    else skip(r, tag, BUCKETS_FIELDS);
  }
  return { offset, bucketCounts };
}

// ---------------------------------------------------------------------------------------------
// Attributes

/** A KeyValue into `out` (an empty AnyValue is no attribute). */
function readKeyValue(r: Reader, stop: number, out: Attributes): void {
  meter.charge('attribute', r.pos);
  let key = '';
  let value: PlainValue | undefined;
  while (r.pos < stop) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LEN)) key = text(r);
    else if (tag === ((2 << 3) | LEN)) value = readAnyValue(r, end(r), 0);
    else skip(r, tag, KEY_VALUE_FIELDS);
  }
  const v = value === undefined ? undefined : attributeValue(value);
  if (v !== undefined) setAttribute(out, key, v);
}

/** An AnyValue as a plain value: undefined when no field is set. */
function readAnyValue(r: Reader, stop: number, depth: number): PlainValue | undefined {
  if (depth > MAX_ANY_VALUE_DEPTH) {
    // Not read: the point it belongs to is refused (Common's `deep`).
    tooDeep++;
    r.pos = stop;
    return null;
  }
  let value: PlainValue | undefined;
  while (r.pos < stop) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | LEN: {
        // A top-level string is a label value as it is (the Collector's exporter drops the series);
        // one nested is JSON-encoded first, which makes it UTF-8 (U+FFFD), and served.
        const invalid = invalidTexts;
        value = text(r);
        if (depth === 0 && invalidTexts !== invalid) invalidValues++;
        break;
      }
      case (2 << 3) | VARINT:
        value = r.bool();
        break;
      case (3 << 3) | VARINT:
        value = varint64Number(r, false);
        break;
      case (4 << 3) | FIXED64:
        value = r.double();
        break;
      case (5 << 3) | LEN:
        value = readArrayValue(r, end(r), depth);
        break;
      case (6 << 3) | LEN:
        value = readKeyValueList(r, end(r), depth);
        break;
      case (7 << 3) | LEN:
        value = Buffer.from(r.bytes()).toString('base64');
        break;
      default:
        skip(r, tag, ANY_VALUE_FIELDS);
    }
  }
  return value;
}

function readArrayValue(r: Reader, stop: number, depth: number): PlainValue[] {
  const values: PlainValue[] = [];
  while (r.pos < stop) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LEN)) {
      meter.charge('element', r.pos);
      values.push(readAnyValue(r, end(r), depth + 1) ?? null);
    } else skip(r, tag, LIST_FIELDS);
  }
  return values;
}

function readKeyValueList(r: Reader, stop: number, depth: number): { [key: string]: PlainValue } {
  const out: { [key: string]: PlainValue } = {};
  while (r.pos < stop) {
    const tag = r.uint32();
    if (tag !== ((1 << 3) | LEN)) {
      skip(r, tag, LIST_FIELDS);
      continue;
    }
    meter.charge('attribute', r.pos);
    const kvEnd = end(r);
    let key = '';
    let value: PlainValue | undefined;
    while (r.pos < kvEnd) {
      const t = r.uint32();
      if (t === ((1 << 3) | LEN)) key = text(r);
      else if (t === ((2 << 3) | LEN)) value = readAnyValue(r, end(r), depth + 1);
      else skip(r, t, KEY_VALUE_FIELDS);
    }
    setAttribute(out, key, value ?? null);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Wire primitives protobufjs gives only as long.js objects (util.Long is set whenever long.js is
// installed, and it is: other packages depend on it), read here as two 32-bit halves.

/** The end of the length-delimited field starting at the reader's position, checked against the body. */
function end(r: Reader): number {
  // protobufjs's length read: it refuses a length past 32 bits ("invalid length encoding").
  const length = r.size();
  const stop = r.pos + length;
  if (stop > r.len) throw RangeError(`index out of range: ${r.pos} + ${length} > ${r.len}`);
  return stop;
}

/**
 * Skips the field `tag` starts, unknown to `fields` or known and not kept; a known field with a wire
 * type `fields` does not allow refuses the request, as pdata's decoder does.
 */
function skip(r: Reader, tag: number, fields: WireTypes): void {
  const field = tag >>> 3;
  const allowed = field < fields.length ? fields[field]! : 0;
  if (allowed !== 0 && (allowed & (1 << (tag & 7))) === 0)
    throw new OtlpDecodeError(`wrong wire type ${tag & 7} for field ${field} (${fields.message})`);
  r.skipType(tag & 7, 0, field);
}

/**
 * A string, as pdata keeps it but in UTF-16: each sequence that is not UTF-8 becomes U+FFFD (and is
 * counted in {@link invalidTexts}). Strict first: the usual string costs no more than before.
 */
function text(r: Reader): string {
  const at = r.pos;
  try {
    return r.stringVerify();
  } catch {
    r.pos = at;
    const stop = end(r); // a length past the body throws here, as it did
    const from = r.pos;
    r.pos = stop;
    invalidTexts++;
    return Buffer.from(r.buf.buffer, r.buf.byteOffset + from, stop - from).toString('utf8');
  }
}

/** Per field number of a message, the wire types it may have as bits (1 << type); 0: unknown. */
type WireTypes = readonly number[] & { readonly message: string };

/**
 * The fields of an OTLP message (opentelemetry-proto v1): the numbers of its fields of each wire
 * type (a repeated scalar has two: packed, and one field per element).
 */
function wireTypes(
  message: string,
  fields: { readonly varint?: number[]; readonly fixed64?: number[]; readonly len?: number[] },
): WireTypes {
  const out = Object.assign([] as number[], { message });
  const add = (numbers: readonly number[] = [], type: number) => {
    for (const field of numbers) {
      while (out.length <= field) out.push(0);
      out[field]! |= 1 << type;
    }
  };
  add(fields.varint, VARINT);
  add(fields.fixed64, FIXED64);
  add(fields.len, LEN);
  return out;
}

const REQUEST_FIELDS = wireTypes('ExportMetricsServiceRequest', { len: [1] });
const RESOURCE_METRICS_FIELDS = wireTypes('ResourceMetrics', { len: [1, 2, 3] });
const RESOURCE_FIELDS = wireTypes('Resource', { varint: [2], len: [1, 3] });
const SCOPE_METRICS_FIELDS = wireTypes('ScopeMetrics', { len: [1, 2, 3] });
const SCOPE_FIELDS = wireTypes('InstrumentationScope', { varint: [4], len: [1, 2, 3] });
const METRIC_FIELDS = wireTypes('Metric', { len: [1, 2, 3, 5, 7, 9, 10, 11, 12] });
const POINTS_FIELDS = wireTypes('Gauge', { len: [1] });
const SUM_FIELDS = wireTypes('Sum', { varint: [2, 3], len: [1] });
const HISTOGRAM_FIELDS = wireTypes('Histogram', { varint: [2], len: [1] });
const NUMBER_POINT_FIELDS = wireTypes('NumberDataPoint', {
  varint: [8],
  fixed64: [2, 3, 4, 6],
  len: [5, 7],
});
const HISTOGRAM_POINT_FIELDS = wireTypes('HistogramDataPoint', {
  varint: [10],
  fixed64: [2, 3, 4, 5, 6, 7, 11, 12],
  len: [6, 7, 8, 9],
});
const EXPONENTIAL_POINT_FIELDS = wireTypes('ExponentialHistogramDataPoint', {
  varint: [6, 10],
  fixed64: [2, 3, 4, 5, 7, 12, 13, 14],
  len: [1, 8, 9, 11],
});
const BUCKETS_FIELDS = wireTypes('ExponentialHistogramDataPoint.Buckets', {
  varint: [1, 2],
  len: [2],
});
const KEY_VALUE_FIELDS = wireTypes('KeyValue', { len: [1, 2] });
const ANY_VALUE_FIELDS = wireTypes('AnyValue', { varint: [2, 3], fixed64: [4], len: [1, 5, 6, 7] });
const LIST_FIELDS = wireTypes('ArrayValue', { len: [1] });

/**
 * A message the model does not keep (an exemplar, a summary point, the scope's attributes, a
 * metric's metadata), checked as pdata reads it: its fields' wire types, its messages', and the
 * length of a trace or span ID. `messages`: the shape of each message field; `ids`: the length each
 * bytes field must have when not empty.
 */
interface Shape {
  readonly fields: WireTypes;
  readonly messages?: Readonly<Record<number, () => Shape>>;
  readonly ids?: Readonly<Record<number, number>>;
}

/** AnyValues nested deeper than this in a message that is only checked are skipped, not checked: the stack is bounded. */
const MAX_CHECK_DEPTH = 64;

const ANY_VALUE_SHAPE: Shape = {
  fields: ANY_VALUE_FIELDS,
  messages: { 5: () => ARRAY_SHAPE, 6: () => KEY_VALUE_LIST_SHAPE },
};
const KEY_VALUE_SHAPE: Shape = { fields: KEY_VALUE_FIELDS, messages: { 2: () => ANY_VALUE_SHAPE } };
const ARRAY_SHAPE: Shape = { fields: LIST_FIELDS, messages: { 1: () => ANY_VALUE_SHAPE } };
const KEY_VALUE_LIST_SHAPE: Shape = { fields: LIST_FIELDS, messages: { 1: () => KEY_VALUE_SHAPE } };
const EXEMPLAR_SHAPE: Shape = {
  fields: wireTypes('Exemplar', { fixed64: [2, 3, 6], len: [4, 5, 7] }),
  messages: { 7: () => KEY_VALUE_SHAPE },
  ids: { 4: 8, 5: 16 },
};
const SUMMARY_POINT_SHAPE: Shape = {
  fields: wireTypes('SummaryDataPoint', { varint: [8], fixed64: [2, 3, 4, 5], len: [6, 7] }),
  messages: {
    6: () => ({
      fields: wireTypes('SummaryDataPoint.ValueAtQuantile', { fixed64: [1, 2] }),
    }),
    7: () => KEY_VALUE_SHAPE,
  },
};

/** Checks the message in `[r.pos, stop)` against `shape`, building nothing. */
function check(r: Reader, stop: number, shape: Shape, depth: number): void {
  while (r.pos < stop) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const sub = (tag & 7) === LEN ? shape.messages?.[field] : undefined;
    const id = (tag & 7) === LEN ? shape.ids?.[field] : undefined;
    if (sub !== undefined && depth < MAX_CHECK_DEPTH) check(r, end(r), sub(), depth + 1);
    else if (id !== undefined) {
      const length = end(r) - r.pos;
      if (length !== 0 && length !== id)
        throw new OtlpDecodeError(
          `invalid ${id === 16 ? 'trace' : 'span'} ID length ${length} (${shape.fields.message})`,
        );
      r.pos += length;
    } else skip(r, tag, shape.fields);
  }
}

/** The two little-endian 32-bit halves of the next 8 bytes, as [low, high] in `HALVES`. */
const HALVES = new Uint32Array(2);

function halves(r: Reader): void {
  const at = r.pos;
  if (at + 8 > r.len) throw RangeError(`index out of range: ${at} + 8 > ${r.len}`);
  const buf = r.buf;
  HALVES[0] = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24);
  HALVES[1] = buf[at + 4]! | (buf[at + 5]! << 8) | (buf[at + 6]! << 16) | (buf[at + 7]! << 24);
  r.pos = at + 8;
}

/**
 * Per field (a point's start, its time), the last fixed64 made a bigint and its halves: an SDK
 * stamps a whole export with one start and one time, so most points make no bigint.
 */
const LAST_LO = new Uint32Array(2);
const LAST_HI = new Uint32Array(2);
const LAST_VALUE: bigint[] = [0n, 0n];
const START = 0;
const TIME = 1;

/** A fixed64 exactly, as a bigint (the one made before for `field` when the value is the same). */
function fixed64(r: Reader, field: typeof START | typeof TIME): bigint {
  halves(r);
  const lo = HALVES[0]!;
  const hi = HALVES[1]!;
  if (lo === LAST_LO[field] && hi === LAST_HI[field]) return LAST_VALUE[field]!;
  // Below 2^53 the number is exact; above, the halves are joined as bigints.
  const value = hi < 0x200000 ? BigInt(hi * 0x100000000 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  LAST_LO[field] = lo;
  LAST_HI[field] = hi;
  LAST_VALUE[field] = value;
  return value;
}

/** A fixed64 as the nearest double. */
function fixed64Number(r: Reader): number {
  halves(r);
  return HALVES[1]! * 0x100000000 + HALVES[0]!;
}

/** An sfixed64 as the nearest double. */
function sfixed64Number(r: Reader): number {
  halves(r);
  return (HALVES[1]! | 0) * 0x100000000 + HALVES[0]!;
}

/** A 64-bit varint (int64, or uint64 when `unsigned`) as the nearest double. */
function varint64Number(r: Reader, unsigned: boolean): number {
  let lo = 0;
  let hi = 0;
  const buf = r.buf;
  let at = r.pos;
  for (let shift = 0; shift < 70; shift += 7) {
    if (at >= r.len) throw RangeError(`index out of range: ${at} + 1 > ${r.len}`);
    const byte = buf[at++]!;
    const bits = byte & 0x7f;
    if (shift < 28) lo |= bits << shift;
    else if (shift === 28) {
      lo |= bits << 28;
      hi |= bits >>> 4;
    } else hi |= bits << (shift - 32);
    if ((byte & 0x80) === 0) {
      r.pos = at;
      return (unsigned ? hi >>> 0 : hi | 0) * 0x100000000 + (lo >>> 0);
    }
  }
  throw Error(`invalid varint encoding at offset ${r.pos}`);
}
