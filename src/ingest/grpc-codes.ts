/**
 * The gRPC status code of each answer the OTLP/gRPC front gives (grpc-listener.ts), read off the
 * rows of ingest-errors.ts: a refusal's google.rpc code, which is gRPC's status code space, but
 * RESOURCE_EXHAUSTED for a message too large, as gRPC answers its own size limit; OK for an
 * accepted or partial one. The rows with a fixed text answer (a path, a method, a media type) are
 * HTTP's alone. Apart from grpc-listener.ts so the ingest's telemetry names its series without
 * loading the gRPC front.
 */
import { RPC_CODE } from '../otlp/types.ts';
import { INGEST_ANSWERS, type IngestAnswer } from './ingest-errors.ts';

const OK = 0;
/** What a gRPC server answers for a method or a message encoding it lacks: no ingest answer's row. */
export const UNIMPLEMENTED = 12;

export const GRPC_CODES: Readonly<Partial<Record<IngestAnswer, number>>> = Object.freeze(
  Object.fromEntries(
    Object.entries(INGEST_ANSWERS)
      .filter(([, row]) => !('text' in row))
      .map(([reason, row]) => [
        reason,
        reason === 'too_large' ? RPC_CODE.RESOURCE_EXHAUSTED : 'code' in row ? row.code : OK,
      ]),
  ),
);

/** The HTTP status of each answer of the OTLP/HTTP front (ingest-listener.ts). */
export const HTTP_CODES: Readonly<Record<IngestAnswer, number>> = Object.freeze(
  Object.fromEntries(Object.entries(INGEST_ANSWERS).map(([reason, row]) => [reason, row.status])),
) as Record<IngestAnswer, number>;
