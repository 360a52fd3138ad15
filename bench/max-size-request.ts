/**
 * The heaviest request the ingest accepts by default: an OTLP/protobuf ExportMetricsServiceRequest
 * of just under 20 MiB (`ingest.maxBodyBytes`), close to a million gauge points — the shape of
 * one max-size request (points with a time and a value, no attributes), split into
 * metrics of 10,000 points so the body is many families' worth, as an SDK batch would be.
 *
 * Written by hand from the OTLP protos (field numbers below) rather than through protobufjs: a
 * million `fromObject` points would cost the sender seconds and hundreds of MiB. The ingest
 * decodes it with its own decoder, so a mistake here is a 400, not a quiet pass.
 */
import { len, lengthDelimited } from '../test/support/otlp-protobuf-writer.ts';

const MAX_BODY_BYTES = 20 * 1024 * 1024;
const POINTS_PER_METRIC = 10_000;
const WIRE_LEN = 2;
const WIRE_I64 = 1;

export interface MaxSizeRequest {
  readonly body: Buffer;
  readonly points: number;
  readonly metrics: number;
  /** The metric names, `big.gauge.<k>`, and how many points each has: the value of a metric's
   * points is their index in it, so a metric that arrived whole is served with its count − 1. */
  readonly names: readonly string[];
  readonly counts: readonly number[];
}

/** `NumberDataPoint { fixed64 time_unix_nano = 3; double as_double = 4; }`, wrapped as `Gauge.data_points` (1). */
function points(count: number, timeUnixNano: bigint): Buffer {
  const one = 2 + 1 + 8 + 1 + 8;
  const buf = Buffer.alloc(count * one);
  for (let i = 0, o = 0; i < count; i++, o += one) {
    buf[o] = (1 << 3) | WIRE_LEN; // Gauge.data_points
    buf[o + 1] = one - 2;
    buf[o + 2] = (3 << 3) | WIRE_I64; // time_unix_nano, fixed64
    buf.writeBigUInt64LE(timeUnixNano + BigInt(i), o + 3);
    buf[o + 11] = (4 << 3) | WIRE_I64; // as_double
    buf.writeDoubleLE(i, o + 12);
  }
  return buf;
}

/** `Metric { string name = 1; string unit = 3; Gauge gauge = 5; }` */
function metric(name: string, count: number, timeUnixNano: bigint): Buffer {
  return lengthDelimited(2, [
    len(1, name),
    len(3, '1'),
    lengthDelimited(5, [points(count, timeUnixNano)]),
  ]);
}

export function maxSizeRequest(
  maxBodyBytes = MAX_BODY_BYTES,
  timeUnixNano = BigInt(Date.now()) * 1_000_000n,
): MaxSizeRequest {
  return filled(maxBodyBytes, (k, room) => {
    const name = `big.gauge.${k}`;
    const full = metric(name, POINTS_PER_METRIC, timeUnixNano);
    if (full.length <= room) return { name, count: POINTS_PER_METRIC, bytes: full };
    // The last metric takes what room is left, if any is worth it.
    const count = Math.floor((room - 64) / 20);
    return count > 0 && count < POINTS_PER_METRIC
      ? { name, count, bytes: metric(name, count, timeUnixNano) }
      : undefined;
  });
}

/**
 * One resource and scope holding the metrics `next` makes (the k-th given the bytes left) until it
 * makes none or one that does not fit.
 */
function filled(
  maxBodyBytes: number,
  next: (k: number, room: number) => { name: string; count: number; bytes: Buffer } | undefined,
): MaxSizeRequest {
  // KeyValue { key = 1; AnyValue value = 2 { string_value = 1 } }
  const resource = lengthDelimited(1, [
    lengthDelimited(1, [len(1, 'service.name'), lengthDelimited(2, [len(1, 'big-sender')])]),
  ]);
  const scope = lengthDelimited(1, [len(1, 'big')]);
  const names: string[] = [];
  const counts: number[] = [];
  const metrics: Buffer[] = [];
  // Room for the envelope: ResourceMetrics' and ScopeMetrics' tags and lengths, resource and scope.
  let room = maxBodyBytes - resource.length - scope.length - 16;
  for (let k = 0; ; k++) {
    const m = next(k, room);
    if (m === undefined || m.bytes.length > room) break;
    names.push(m.name);
    counts.push(m.count);
    metrics.push(m.bytes);
    room -= m.bytes.length;
  }
  const body = lengthDelimited(1, [resource, lengthDelimited(2, [scope, ...metrics])]);
  if (body.length > maxBodyBytes)
    throw new Error(`max-size request is ${body.length} bytes, over ${maxBodyBytes}`);
  return {
    body,
    points: counts.reduce((a, b) => a + b, 0),
    metrics: metrics.length,
    names,
    counts,
  };
}

/**
 * The other dense shape (otlp/decode-limits.ts): a body of just under `maxBodyBytes` of cumulative
 * exponential histograms, `buckets` one-byte bucket counts each, which the decoder still makes one
 * object and one array per point of — where decoding costs the most heap per body byte. Metrics
 * `big.exponential.<k>` of 1,000 points, every point's count `buckets` (one in each bucket).
 */
export function exponentialMaxSizeRequest(
  maxBodyBytes = MAX_BODY_BYTES,
  buckets = 100,
  timeUnixNano = BigInt(Date.now()) * 1_000_000n,
): MaxSizeRequest {
  const i64 = (field: number, v: bigint): Buffer => {
    const b = Buffer.alloc(9);
    b[0] = (field << 3) | WIRE_I64;
    b.writeBigUInt64LE(v, 1);
    return b;
  };
  const f64 = (field: number, v: number): Buffer => {
    const b = Buffer.alloc(9);
    b[0] = (field << 3) | WIRE_I64;
    b.writeDoubleLE(v, 1);
    return b;
  };
  // ExponentialHistogramDataPoint: start (2), time (3), count (4), sum (5), scale (6) = 0,
  // zero_count (7), positive (8) = Buckets { offset (1) = 0, bucket_counts (2, packed) }.
  const point = (i: number): Buffer =>
    lengthDelimited(1, [
      i64(2, timeUnixNano),
      i64(3, timeUnixNano + BigInt(i)),
      i64(4, BigInt(buckets)),
      f64(5, buckets),
      Buffer.from([(6 << 3) | 0, 0]),
      i64(7, 0n),
      lengthDelimited(8, [
        Buffer.from([(1 << 3) | 0, 0]),
        lengthDelimited(2, [Buffer.alloc(buckets, 1)]),
      ]),
    ]);
  const onePoint = point(0).length;
  return filled(maxBodyBytes, (k, room) => {
    const count = Math.min(1_000, Math.floor((room - 64) / onePoint));
    if (count <= 0) return undefined;
    const points = Array.from({ length: count }, (_, i) => point(i));
    // Metric { name (1), unit (3), exponential_histogram (10) { data_points (1), temporality (2) = cumulative } }
    const name = `big.exponential.${k}`;
    return {
      name,
      count,
      bytes: lengthDelimited(2, [
        len(1, name),
        len(3, '1'),
        lengthDelimited(10, [...points, Buffer.from([(2 << 3) | 0, 2])]),
      ]),
    };
  });
}
