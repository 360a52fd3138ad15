/**
 * Reads back what the ingest answers an OTLP/HTTP export with, as a client would: the
 * `ExportMetricsServiceResponse` of an accepted request and the `google.rpc.Status` of a refused
 * one, in either encoding. The types come from the descriptor the ingest writes them with.
 */
import protobuf from 'protobufjs/light.js';
import { OTLP_SCHEMA } from '../../src/otlp/schema.ts';
import type { OtlpEncoding, OtlpPartialSuccess } from '../../src/otlp/types.ts';

let types: { response: protobuf.Type; status: protobuf.Type } | undefined;

function otlpTypes(): { response: protobuf.Type; status: protobuf.Type } {
  if (types === undefined) {
    const root = protobuf.Root.fromJSON(OTLP_SCHEMA);
    types = {
      response: root.lookupType(
        'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
      ),
      status: root.lookupType('google.rpc.Status'),
    };
  }
  return types;
}

/** Decodes a `google.rpc.Status` body. */
export function decodeStatus(
  body: Uint8Array,
  encoding: OtlpEncoding,
): { code: number; message: string } {
  if (encoding === 'json') {
    const o = JSON.parse(Buffer.from(body).toString('utf8')) as { code?: number; message?: string };
    return { code: o.code ?? 0, message: o.message ?? '' };
  }
  const { status } = otlpTypes();
  const o = status.toObject(status.decode(body), { defaults: true }) as {
    code: number;
    message: string;
  };
  return { code: o.code, message: o.message };
}

/** Decodes an `ExportMetricsServiceResponse` body. */
export function decodeExportResponse(
  body: Uint8Array,
  encoding: OtlpEncoding,
): OtlpPartialSuccess | undefined {
  let o: { partialSuccess?: { rejectedDataPoints?: string | number; errorMessage?: string } };
  if (encoding === 'json') {
    o = JSON.parse(Buffer.from(body).toString('utf8')) as typeof o;
  } else {
    const { response } = otlpTypes();
    o = response.toObject(response.decode(body), { longs: String });
  }
  if (o.partialSuccess === undefined) return undefined;
  return {
    rejectedDataPoints: Number(o.partialSuccess.rejectedDataPoints ?? 0),
    errorMessage: o.partialSuccess.errorMessage ?? '',
  };
}
