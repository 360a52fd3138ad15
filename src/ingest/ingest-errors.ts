/**
 * What the OTLP ingest answers, by reason: the one table of reason, HTTP status and what is said,
 * as the Collector's receiver has one (receiver/otlpreceiver/internal/errors/errors.go). Every
 * step of a request (ingest-listener.ts) returns or throws; {@link refusalOf} names the reason of
 * what it threw, and the reason's row says the status, body and headers. The same rows label
 * `jobmeter_ingest_requests_total` (`code` and `reason`, http/self-telemetry.ts). Status bodies
 * are in the request's encoding; a refusal while the body is still arriving adds `Connection:
 * close`, so the rest of it is not read.
 */
import { CONTENT_TYPE, encodeExportResponse, encodeStatus } from '../otlp/codec.ts';
import { DecodeLimitExceeded } from '../otlp/decode-limits.ts';
import {
  OtlpDecodeError,
  RPC_CODE,
  type OtlpEncoding,
  type OtlpPartialSuccess,
} from '../otlp/types.ts';
import { BodyUnreadable } from './body-chunks.ts';
import { TooLarge } from './too-large.ts';

interface Answer {
  readonly status: number;
  /** A fixed text body and its Content-Type (`type`), whatever the request's encoding. */
  readonly text?: string;
  readonly type?: string;
  /** The google.rpc.Status code otherwise. */
  readonly code?: number;
  /** The Status message when the error brings none. */
  readonly message?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Whether the answer carries `Retry-After` (OTLP/HTTP asks it of an overloaded server). */
  readonly retryAfter?: true;
}

/**
 * Every answer of the listener. A 200 is `partial` when points were refused (`partial_success`).
 * Requests Node itself answers (408 past `requestTimeoutMillis`) and connections shed for room
 * (`jobmeter_ingest_connections_shed_total`) never reach it.
 */
const ANSWERS = {
  accepted: { status: 200 },
  partial: { status: 200 },
  bad_request: { status: 400, code: RPC_CODE.INVALID_ARGUMENT, message: 'invalid request' },
  // The gate's refusals are permanent to an OTLP exporter; the message is fixed, so no reason and
  // no configured token ever leaves.
  unauthorized: {
    status: 401,
    code: RPC_CODE.UNAUTHENTICATED,
    message: 'unauthenticated: a valid bearer token is required',
    headers: { 'www-authenticate': 'Bearer', connection: 'close' },
  },
  forbidden: {
    status: 403,
    code: RPC_CODE.PERMISSION_DENIED,
    message: 'permission denied',
    headers: { connection: 'close' },
  },
  not_found: { status: 404, text: '404 page not found\n', type: 'text/plain; charset=utf-8' },
  method_not_allowed: {
    status: 405,
    text: '405 method not allowed, supported: [POST]',
    type: 'text/plain',
    headers: { allow: 'POST' },
  },
  // 413 where the Collector answers 400: OTLP/HTTP asks it of an oversized request (docs/collector.md).
  too_large: { status: 413, code: RPC_CODE.INVALID_ARGUMENT },
  unsupported_media_type: {
    status: 415,
    text: `415 unsupported media type, supported: [${CONTENT_TYPE.json}, ${CONTENT_TYPE.protobuf}]`,
    type: 'text/plain',
  },
  internal: { status: 500, code: RPC_CODE.INTERNAL, message: 'internal error' },
  unavailable: { status: 503, code: RPC_CODE.UNAVAILABLE, retryAfter: true },
} satisfies Record<string, Answer>;

export type IngestAnswer = keyof typeof ANSWERS;
export type RefusedReason = Exclude<IngestAnswer, 'accepted' | 'partial'>;
export const INGEST_ANSWERS: Readonly<Record<IngestAnswer, Answer>> = Object.freeze(ANSWERS);

/**
 * The gRPC status code of each answer the OTLP/gRPC front gives (grpc-listener.ts): a refusal's
 * google.rpc code, which is gRPC's status code space, but RESOURCE_EXHAUSTED for a message too
 * large, as gRPC answers its own size limit; OK for an accepted or partial one. The rows with a
 * fixed text answer (a path, a method, a media type) are HTTP's alone. Here rather than in the
 * front so the ingest's telemetry names its series without loading the gRPC front.
 */
export const GRPC_CODES: Readonly<Partial<Record<IngestAnswer, number>>> = Object.freeze(
  Object.fromEntries(
    Object.entries(INGEST_ANSWERS)
      .filter(([, row]) => !('text' in row))
      .map(([reason, row]) => [
        reason,
        reason === 'too_large' ? RPC_CODE.RESOURCE_EXHAUSTED : (row.code ?? RPC_CODE.OK),
      ]),
  ),
);

/** The HTTP status of each answer of the OTLP/HTTP front (ingest-listener.ts). */
export const HTTP_CODES: Readonly<Record<IngestAnswer, number>> = Object.freeze(
  Object.fromEntries(Object.entries(INGEST_ANSWERS).map(([reason, row]) => [reason, row.status])),
) as Record<IngestAnswer, number>;

/** A request answered by its reason's row rather than ingested. */
export class Refused extends Error {
  readonly reason: RefusedReason;
  /** `message`: what the Status says; the row's own message when none is given. */
  constructor(reason: RefusedReason, message?: string) {
    super(message ?? INGEST_ANSWERS[reason].message ?? reason);
    this.reason = reason;
  }
}

/**
 * What a step threw, as the refusal it is answered with: a too-large body 413, a body that does not
 * decode (or decompress) 400, anything else 500 with its cause kept server-side.
 */
export function refusalOf(err: unknown): Refused {
  if (err instanceof Refused) return err;
  if (err instanceof BodyUnreadable) return new Refused('bad_request');
  if (err instanceof TooLarge || err instanceof DecodeLimitExceeded)
    return new Refused('too_large', err.message);
  if (err instanceof OtlpDecodeError) return new Refused('bad_request', err.message);
  return new Refused('internal');
}

/** The reason `outcome` is answered by: its refusal's, or `partial` when points were refused. */
export function answerReason(outcome: OtlpPartialSuccess | Refused): IngestAnswer {
  if (outcome instanceof Refused) return outcome.reason;
  return outcome.rejectedDataPoints > 0 ? 'partial' : 'accepted';
}

/** What `outcome` is answered over OTLP/HTTP: its reason's row's status, Content-Type, body and headers. */
export function answerOf(
  outcome: OtlpPartialSuccess | Refused,
  encoding: OtlpEncoding | undefined,
  retryAfterSeconds: number,
  bodyLeft: boolean,
) {
  if (!(outcome instanceof Refused)) {
    // Accepted only once its Content-Type named an encoding.
    const body = encodeExportResponse(outcome, encoding!);
    const { status } = INGEST_ANSWERS[answerReason(outcome)];
    return { status, contentType: CONTENT_TYPE[encoding!], body, headers: {} };
  }
  const row = INGEST_ANSWERS[outcome.reason];
  const said = {
    status: row.status,
    headers: {
      ...row.headers,
      ...(row.retryAfter && { 'retry-after': String(retryAfterSeconds) }),
      ...(bodyLeft && { connection: 'close' }),
    },
  };
  if (row.text !== undefined) return { ...said, contentType: row.type!, body: row.text };
  if (encoding === undefined)
    return { ...said, contentType: 'text/plain; charset=utf-8', body: `${outcome.message}\n` };
  const body = encodeStatus(row.code!, outcome.message, encoding);
  return { ...said, contentType: CONTENT_TYPE[encoding], body };
}
