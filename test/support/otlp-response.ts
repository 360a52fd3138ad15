/**
 * Reads back what the ingest answers an OTLP/HTTP export with, as a client would: the
 * `ExportMetricsServiceResponse` of an accepted request and the `google.rpc.Status` of a refused
 * one, in either encoding, with the message types the ingest writes them with.
 */
import { otlpTypes } from '../../src/otlp/codec.ts';
import type { OtlpEncoding, OtlpPartialSuccess } from '../../src/otlp/types.ts';

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
