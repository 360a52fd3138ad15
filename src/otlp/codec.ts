/**
 * OTLP/HTTP metrics bodies, both encodings: decoding an `ExportMetricsServiceRequest`, encoding
 * the `ExportMetricsServiceResponse` and the `google.rpc.Status` of a refused request.
 *
 * A protobuf request is read field by field over protobufjs's reader (decode-protobuf.ts); the
 * responses and statuses go through protobufjs against the committed descriptor
 * (otlp-metrics.json, generated from the .proto files), the types a client reads them back with
 * (test/support/otlp-response.ts). JSON follows the OTLP/JSON rules (see normalize.ts), which
 * rewrites it as protobuf for the one decoder: both encodings decode into the same
 * {@link OtlpExportRequest} by the same rules.
 *
 * The descriptor is data, a JSON module: Node ≥22.15 loads it without a warning, a bundler inlines
 * it, scripts/build.ts makes it a module of dist/. The answers are encoded from it rather than by
 * hand over protobufjs's Writer because `--debug` needs the descriptor anyway (debug/wire.ts), and
 * from it the bytes follow the .proto files' field numbers and types by construction.
 */
import { isUtf8 } from 'node:buffer';
import { DecodeMeter, DEFAULT_DECODE_LIMITS, type DecodeLimits } from './decode-limits.ts';
import type { AttributeMemo } from './decode-attribute-memo.ts';
import { decodeProtobufRequest, type PointSink } from './decode-protobuf.ts';
import { jsonToProtobuf, otlpType } from './normalize.ts';
import {
  OtlpDecodeError,
  type OtlpEncoding,
  type OtlpExportRequest,
  type OtlpPartialSuccess,
} from './types.ts';
import { messageOf } from '../common/message-of.ts';

export const CONTENT_TYPE: Readonly<Record<OtlpEncoding, string>> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/**
 * The message types written, from the descriptor's one root (normalize.ts `otlpType`, whose
 * lookups protobufjs caches); a client reads the answers back with the same types (the tests'
 * test/support/otlp-response.ts).
 */
export const otlpTypes = () => ({
  response: otlpType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
  status: otlpType('google.rpc.Status'),
});

/** The media type without parameters when it is one of the two OTLP encodings. */
export function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media === CONTENT_TYPE.protobuf) return 'protobuf';
  if (media === CONTENT_TYPE.json) return 'json';
  return undefined;
}

/**
 * Decodes within `limits` (decode-limits.ts): JSON is scanned before `JSON.parse`, then counted
 * as the protobuf made of it is read, all at the body's end; protobuf counted as it is read.
 * `attributeMemo`: protobuf's (decode-protobuf.ts): this thread's by default, `false` for none.
 * `points`: protobuf's number and histogram points go there instead of the request
 * (decode-protobuf.ts `PointSink`); JSON's stay in the request.
 * @throws {DecodeLimitExceeded} (an OtlpDecodeError) when the body would decode past `limits`
 * @throws {OtlpDecodeError} when the body is not a valid request in `encoding`.
 */
export function decodeExportRequest(
  body: Uint8Array,
  encoding: OtlpEncoding,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  attributeMemo?: AttributeMemo | false,
  points?: PointSink,
): OtlpExportRequest {
  if (encoding === 'protobuf') {
    try {
      return decodeProtobufRequest(
        Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        limits,
        attributeMemo,
        points,
      );
    } catch (err) {
      if (err instanceof OtlpDecodeError) throw err;
      throw new OtlpDecodeError(`invalid protobuf ExportMetricsServiceRequest: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }
  const meter = new DecodeMeter(body.length, limits);
  // Bytes after the request's object are left unread, as the Collector leaves them.
  const text = Buffer.from(body.buffer, body.byteOffset, meter.scanJson(body));
  let raw: unknown;
  try {
    raw = JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw new OtlpDecodeError(`invalid JSON: ${messageOf(err)}`, { cause: err });
  }
  // Not UTF-8: read with U+FFFD for each bad sequence, as the Collector keeps the bytes (normalize.ts).
  const protobufBody = jsonToProtobuf(raw, !isUtf8(text));
  meter.readAll();
  return decodeProtobufRequest(protobufBody, limits, attributeMemo, undefined, meter);
}

/**
 * An `ExportMetricsServiceResponse`. `partial_success` is written only when it says something
 * (points rejected or a message), as the specification asks: an empty one means full success.
 */
export function encodeExportResponse(
  partial: OtlpPartialSuccess | undefined,
  encoding: OtlpEncoding,
): Buffer {
  const { response } = otlpTypes();
  // A field at its default is left out, as protojson writes it (int64 as a decimal string).
  const { rejectedDataPoints = 0, errorMessage = '' } = partial ?? {};
  const partialSuccess = {
    ...(rejectedDataPoints > 0 && { rejectedDataPoints }),
    ...(errorMessage !== '' && { errorMessage }),
  };
  const message = response.fromObject(
    Object.keys(partialSuccess).length > 0 ? { partialSuccess } : {},
  );
  return Buffer.from(
    encoding === 'json'
      ? JSON.stringify(response.toObject(message, { longs: String }))
      : response.encode(message).finish(),
  );
}

/** A `google.rpc.Status` (`code` is a google.rpc.Code, e.g. 3 INVALID_ARGUMENT). */
export function encodeStatus(code: number, message: string, encoding: OtlpEncoding): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  const { status } = otlpTypes();
  return Buffer.from(status.encode(status.fromObject({ code, message })).finish());
}
