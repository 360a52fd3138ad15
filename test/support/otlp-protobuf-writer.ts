/**
 * OTLP protobuf bodies written field by field, bytes exactly as given: what an encoder from a JS
 * string cannot make (a string that is not UTF-8, a field with the wrong wire type). Field numbers
 * are opentelemetry-proto v1's.
 */
const cat = (...parts: ReadonlyArray<Uint8Array | readonly number[]>): Buffer =>
  Buffer.concat(parts.map((p) => Buffer.from(p as Uint8Array)));

export function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

/** A length-delimited field holding the parts' bytes one after another (each copied once). */
export function lengthDelimited(field: number, parts: readonly Uint8Array[]): Buffer {
  const length = parts.reduce((n, p) => n + p.length, 0);
  return Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(length)]), ...parts]);
}
/** A length-delimited field (a string from JS is written as UTF-8, bytes as they are). */
export const len = (field: number, payload: Uint8Array | string): Buffer =>
  lengthDelimited(field, [typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload]);
export const vint = (field: number, n: number | bigint): Buffer =>
  cat(varint(field << 3), varint(n));
export const f64 = (field: number, x: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return cat(varint((field << 3) | 1), b);
};
export const u64 = (field: number, x: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(x);
  return cat(varint((field << 3) | 1), b);
};
export const msg = (...fields: Uint8Array[]): Buffer => cat(...fields);
/** AnyValue{string_value}. */
export const str = (s: Uint8Array | string): Buffer => len(1, s);
/** KeyValue. */
export const kv = (key: Uint8Array | string, anyValue: Uint8Array): Buffer =>
  msg(len(1, key), len(2, anyValue));
/** An AnyValue holding `levels` arrays around a string. */
export function nested(levels: number): Buffer {
  let v = str('leaf');
  for (let i = 0; i < levels; i++) v = len(5, msg(len(1, v)));
  return v;
}

/** Now, in Unix nanoseconds: a point time a store's window takes. */
export const nowNanos = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** NumberDataPoint{attributes, time, as_double}. */
export const gaugePoint = (
  value: number,
  attrs: readonly Uint8Array[] = [],
  time = nowNanos(),
): Buffer => msg(...attrs.map((a) => len(7, a)), u64(3, time), f64(4, value));
/** Metric{name, [extra fields], gauge{points}}. */
export const gauge = (
  name: string | Uint8Array,
  points: readonly Uint8Array[],
  extra: readonly Uint8Array[] = [],
): Buffer => msg(len(1, name), ...extra, len(5, msg(...points.map((p) => len(1, p)))));
/** Metric{name, sum{points, temporality, monotonic}}. */
export const sum = (name: string, points: readonly Uint8Array[], temporality: number): Buffer =>
  msg(len(1, name), len(7, msg(...points.map((p) => len(1, p)), vint(2, temporality), vint(3, 1))));

/** ExportMetricsServiceRequest: one resource, one scope. */
export function request(
  metrics: readonly Uint8Array[],
  opts: { resource?: readonly Uint8Array[]; scope?: Uint8Array } = {},
): Buffer {
  const resource = msg(
    ...(opts.resource ?? [kv('service.name', str('probe'))]).map((a) => len(1, a)),
  );
  const scope = opts.scope ?? msg(len(1, 'probe-scope'));
  return len(
    1,
    msg(len(1, resource), len(2, msg(len(1, scope), ...metrics.map((m) => len(2, m))))),
  );
}

/** `n` gauges `good_0`… with values 0… */
export const goodGauges = (n: number): Buffer[] =>
  Array.from({ length: n }, (_, i) => gauge(`good_${i}`, [gaugePoint(i)]));

/** `/srv/café/report.csv` written in Latin-1: the é a byte (0xe9) that is not UTF-8. */
export const LATIN1_PATH = Buffer.from('/srv/caf\xe9/report.csv', 'latin1');
/** `caf` and the first byte of a two-byte character: a string cut mid-character. */
export const CUT_MID_CHARACTER = Buffer.from([0x63, 0x61, 0x66, 0xc3]);
