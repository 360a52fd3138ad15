/**
 * An OTLP/JSON request, parsed, rewritten as the protobuf bytes of the same request: decode-protobuf.ts
 * then reads it like any protobuf body, so the model, its limit charges (decode-limits.ts), its
 * attribute memo and what marks a point or metric unreadable (types.ts `OtlpUnreadable`) are
 * written once. What is here is only what OTLP/JSON says differently (OTLP specification, "JSON
 * Protobuf Encoding"), walked over the descriptor (otlp-metrics.json):
 * keys in lowerCamelCase, the protobuf JSON mapping's snake_case names accepted too, as the
 * Collector's decoder does; enums as integers or their names; 64-bit integers as decimal strings
 * or numbers (a `+` only where signed); doubles as numbers, or strings as Go's `strconv.ParseFloat`
 * reads them (decimal; `NaN`, `Infinity`, `inf` in any case); bytes as base64, but an exemplar's
 * `traceId`/`spanId` as hex. Unknown keys are ignored. `null` is absent, as the Collector reads a
 * null message, string or array (a null number or bool it refuses). Of a oneof (a metric's data, a
 * point's value, an AnyValue) the member set last in the object is written, as the Collector's
 * decoder overwrites the one before.
 * A value of the wrong type is an {@link OtlpDecodeError} naming its path, and so is what the
 * Collector's JSON reader refuses: a number out of a double's range (`1e400`), bytes that are not
 * base64, a `traceId` or `spanId` that is not its length in hex.
 *
 * In a body that was not UTF-8 (`lossy`) a string holding U+FFFD is written with an invalid byte
 * there, so the protobuf decoder marks what it marks for a string that is not UTF-8.
 */
import protobuf from 'protobufjs/light.js';
import OTLP_SCHEMA from './otlp-metrics.json' with { type: 'json' };
import { OtlpDecodeError } from './types.ts';

type Obj = Record<string, unknown>;

let root: protobuf.Namespace | undefined;

/** A message type of the committed descriptor (otlp-metrics.json): one root, built on first use. */
export function otlpType(name: string): protobuf.Type {
  return (root ??= protobuf.Root.fromJSON(OTLP_SCHEMA).resolveAll()).lookupType(name);
}

let lossy = false;

/**
 * `raw`: `JSON.parse`'s result. `notUtf8`: the JSON text was not UTF-8 (read with U+FFFD for each
 * bad sequence).
 * @throws {OtlpDecodeError} when `raw` is not an ExportMetricsServiceRequest in OTLP/JSON.
 */
export function jsonToProtobuf(raw: unknown, notUtf8 = false): Uint8Array {
  lossy = notUtf8;
  const w = protobuf.Writer.create();
  const request = otlpType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
  message(w, object(raw, '(root)') ?? {}, request, '');
  return w.finish();
}

const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function message(w: protobuf.Writer, o: Obj, type: protobuf.Type, at: string): void {
  const written = new Set<protobuf.OneOf>();
  for (let field of type.fieldsArray) {
    let raw = o[field.name];
    if (raw === undefined) raw = o[snakeCase(field.name)];
    if (raw === undefined || raw === null) continue;
    const oneof = field.partOf;
    if (oneof !== null) {
      if (written.has(oneof)) continue;
      written.add(oneof);
      // Of a oneof the member last in the object is written: the Collector's decoder sets each in
      // turn. A key in snake_case has a `_` unless it is its field's name.
      for (const key of Object.keys(o).reverse()) {
        const member = oneof.fieldsArray.find(
          (f) => key === f.name || (key.includes('_') && key === snakeCase(f.name)),
        );
        if (member === undefined || o[key] === null) continue;
        [field, raw] = [member, o[key]];
        break;
      }
    }
    const name = field.name;
    const path = at === '' ? name : `${at}.${name}`;
    if (!field.repeated) value(w, field, raw, path);
    else if (field.resolvedType instanceof protobuf.Type || field.type === 'string')
      array(raw, path).forEach((v, i) => value(w, field, v, `${path}[${i}]`));
    else {
      // A repeated number: packed, as proto3 writes it.
      w.uint32((field.id << 3) | 2).fork();
      array(raw, path).forEach((v, i) => scalar(w, field, v, `${path}[${i}]`));
      w.ldelim();
    }
  }
}

function value(w: protobuf.Writer, field: protobuf.Field, raw: unknown, at: string): void {
  if (field.resolvedType instanceof protobuf.Type) {
    w.uint32((field.id << 3) | 2).fork();
    message(w, object(raw, at) ?? {}, field.resolvedType, at);
    w.ldelim();
    return;
  }
  const type = field.resolvedType instanceof protobuf.Enum ? 'int32' : field.type;
  w.uint32((field.id << 3) | (protobuf.types.basic as Record<string, number>)[type]!);
  scalar(w, field, raw, at);
}

function scalar(w: protobuf.Writer, field: protobuf.Field, raw: unknown, at: string): void {
  if (field.resolvedType instanceof protobuf.Enum) {
    w.int32(enumValue(field.resolvedType, raw, at));
    return;
  }
  switch (field.type) {
    case 'string':
      w.bytes(utf8(string(raw, at)));
      return;
    case 'bool':
      if (typeof raw !== 'boolean') throw new OtlpDecodeError(`${at}: expected true or false`);
      w.bool(raw);
      return;
    case 'double':
      w.double(double(raw, at));
      return;
    case 'bytes':
      w.bytes(bytes(field.name, string(raw, at), at));
      return;
    case 'int64':
    case 'sfixed64': {
      const v = int64(raw, at);
      if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new OtlpDecodeError(`${at}: out of range`);
      w[field.type](String(v));
      return;
    }
    case 'uint64':
    case 'fixed64': {
      const v = int64(raw, at, false);
      if (v < 0n) throw new OtlpDecodeError(`${at}: expected an unsigned integer`);
      if (v >= 2n ** 64n) throw new OtlpDecodeError(`${at}: out of range`);
      w[field.type](String(v));
      return;
    }
    default:
      // int32, sint32, uint32
      w[field.type as 'int32'](Number(int64(raw, at, field.type !== 'uint32')));
  }
}

/** A string as UTF-8; in a body that was not UTF-8 each U+FFFD an invalid byte (see the file's comment). */
function utf8(text: string): Uint8Array {
  if (!lossy || !text.includes('\uFFFD')) return Buffer.from(text, 'utf8');
  return Buffer.concat(
    text
      .split('\uFFFD')
      .flatMap((part, i) => (i === 0 ? [] : [INVALID_UTF8]).concat(Buffer.from(part))),
  );
}
const INVALID_UTF8 = Buffer.from([0xff]);

const HEX_ID_BYTES: Readonly<Record<string, number>> = { traceId: 16, spanId: 8 };
/** Base64 as Go's `base64.StdEncoding` reads it (the Collector's JSON bytes): standard alphabet, padded. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function bytes(name: string, text: string, at: string): Uint8Array {
  const idBytes = HEX_ID_BYTES[name];
  if (idBytes !== undefined) {
    if (text !== '' && !new RegExp(`^[0-9a-fA-F]{${idBytes * 2}}$`).test(text))
      throw new OtlpDecodeError(`${at}: expected ${idBytes * 2} hex digits`);
    return Buffer.from(text, 'hex');
  }
  if (!BASE64.test(text))
    throw new OtlpDecodeError(`${at}: expected base64 (standard alphabet, padded)`);
  return Buffer.from(text, 'base64');
}

function object(raw: unknown, at: string): Obj | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new OtlpDecodeError(`${at}: expected an object`);
  return raw as Obj;
}

function array(raw: unknown, at: string): readonly unknown[] {
  if (!Array.isArray(raw)) throw new OtlpDecodeError(`${at}: expected an array`);
  return raw;
}

function string(raw: unknown, at: string): string {
  if (typeof raw !== 'string') throw new OtlpDecodeError(`${at}: expected a string`);
  return raw;
}

/** A double as a string, as Go's `strconv.ParseFloat` reads it (the Collector's decoder). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_DOUBLE = /^(?:[+-]?inf(?:inity)?|nan)$/i;

function double(raw: unknown, at: string): number {
  if (typeof raw === 'number') {
    // Only a number past a double's range parses to ±Infinity (the Collector: "value out of range").
    if (!Number.isFinite(raw)) throw new OtlpDecodeError(`${at}: a number out of a double's range`);
    return raw;
  }
  if (typeof raw === 'string') {
    if (SPECIAL_DOUBLE.test(raw))
      return /n$/i.test(raw) ? Number.NaN : raw.startsWith('-') ? -Infinity : Infinity;
    // The protobuf JSON mapping also accepts a number written as a string.
    if (DECIMAL.test(raw) && Number.isFinite(Number(raw))) return Number(raw);
  }
  throw new OtlpDecodeError(`${at}: expected a number`);
}

/** An integer as a string, as Go's `strconv.ParseInt` and `ParseUint` read it: `+` only where signed. */
const SIGNED = /^[+-]?0*\d{1,20}$/;
const UNSIGNED = /^-?0*\d{1,20}$/;

function int64(raw: unknown, at: string, signed = true): bigint {
  if (typeof raw === 'number' && Number.isInteger(raw)) return BigInt(raw);
  if (typeof raw === 'string' && (signed ? SIGNED : UNSIGNED).test(raw)) return BigInt(raw);
  throw new OtlpDecodeError(`${at}: expected an integer (a number or a decimal string)`);
}

function enumValue(type: protobuf.Enum, raw: unknown, at: string): number {
  if (typeof raw === 'string' && Object.hasOwn(type.values, raw)) return type.values[raw]!;
  // Another value of the enum: the Collector accepts it (decode-protobuf.ts marks the metric).
  if (typeof raw === 'number' && Number.isInteger(raw) && Math.abs(raw) <= 0x7fffffff) return raw;
  throw new OtlpDecodeError(`${at}: expected 1 (delta) or 2 (cumulative)`);
}
