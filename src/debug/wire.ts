/**
 * OTLP request bodies in their wire shape, for `--debug` (normal-text.ts prints that shape):
 *
 * - {@link decodeWire}: a received body, protobuf or JSON, as an OTLP/JSON-shaped object. Protobuf
 *   goes through the same committed descriptor as the ingest's answers (src/otlp/otlp-metrics.json,
 *   generated from the .proto files the ingest decoder reads), so what is printed is what the
 *   ingest decoded, before the ingest model drops int/double, min/max, scope attributes and schema
 *   URLs.
 * - {@link serializePush}: what jobmeter's push reader sends for a collection, serialized by the
 *   very serializer its OTLP exporter uses, then decoded like a received body: both sides of
 *   `--debug` go through one decoder and one formatter, so the same series prints the same line.
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import protobuf from 'protobufjs/light.js';
import type { OtlpProtocol } from '../options.ts';
import { pushSerializer } from '../otlp/push-serializer.ts';
import OTLP_SCHEMA from '../otlp/otlp-metrics.json' with { type: 'json' };
import type { OtlpEncoding } from '../otlp/types.ts';

let requestType: protobuf.Type | undefined;

/**
 * A request body, protobuf or OTLP/JSON, as one shape: protobufjs `toObject` (lowerCamelCase keys,
 * 64-bit integers as decimal strings, doubles as numbers, enums as numbers, bytes as base64; a
 * field set only when it was sent).
 * @throws when the body does not decode (the ingest has refused it already).
 */
export function decodeWire(body: Uint8Array, encoding: OtlpEncoding): unknown {
  requestType ??= protobuf.Root.fromJSON(OTLP_SCHEMA).lookupType(
    'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
  );
  const message =
    encoding === 'json'
      ? requestType.fromObject(
          camelKeys(JSON.parse(Buffer.from(body).toString('utf8'))) as Record<string, unknown>,
        )
      : requestType.decode(body);
  return requestType.toObject(message, { longs: String, enums: Number, bytes: String });
}

/** OTLP/JSON's keys in lowerCamelCase, as protobufjs reads them (the Collector takes snake_case too). */
function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
      camelKeys(v),
    ]),
  );
}

/** What the push reader's exporter sends for `resourceMetrics` over `protocol`: the body and its encoding. */
export function serializePush(
  resourceMetrics: ResourceMetrics,
  protocol: OtlpProtocol,
): { body: Uint8Array; encoding: OtlpEncoding } {
  const body = pushSerializer(protocol).serializeRequest(resourceMetrics);
  if (body === undefined) throw new Error('the OTLP serializer produced no body');
  return { body, encoding: protocol === 'http/json' ? 'json' : 'protobuf' };
}
