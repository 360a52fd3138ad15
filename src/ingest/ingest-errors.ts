/**
 * What the OTLP ingest answers each error with: the one error → answer table, as the Collector's
 * receiver has one (receiver/otlpreceiver/internal/errors/errors.go). Every step of a request
 * (ingest-listener.ts) returns or throws; {@link refusalOf} names the reason of what it threw, and
 * the reason's row says the body and headers. The HTTP status is the reason's (self-telemetry.ts
 * `INGEST_ANSWERS`, the `code` and `reason` of `jobmeter_ingest_requests_total`). Status bodies
 * are in the request's encoding; a refusal while the body is still arriving adds `Connection:
 * close`, so the rest of it is not read.
 */
import { CONTENT_TYPE, encodeStatus } from '../otlp/codec.ts';
import { DecodeLimitExceeded } from '../otlp/decode-limits.ts';
import { OtlpDecodeError, RPC_CODE, type OtlpEncoding } from '../otlp/types.ts';
import type { IngestAnswer } from '../http/self-telemetry.ts';
import { BodyUnreadable } from './body-chunks.ts';
import { TooLarge } from './too-large.ts';

export type RefusedReason = Exclude<IngestAnswer, 'accepted' | 'partial'>;

interface Row {
  /** A fixed text body and its Content-Type, whatever the request's encoding. */
  readonly text?: { readonly body: string; readonly contentType: string };
  /** The google.rpc.Status code otherwise. */
  readonly code?: number;
  /** The Status message when the error brings none. */
  readonly message?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Whether the answer carries `Retry-After` (OTLP/HTTP asks it of an overloaded server). */
  readonly retryAfter?: true;
}

const ROWS: Readonly<Record<RefusedReason, Row>> = Object.freeze({
  not_found: { text: { body: '404 page not found\n', contentType: 'text/plain; charset=utf-8' } },
  method_not_allowed: {
    text: { body: '405 method not allowed, supported: [POST]', contentType: 'text/plain' },
    headers: { allow: 'POST' },
  },
  unsupported_media_type: {
    text: {
      body: `415 unsupported media type, supported: [${CONTENT_TYPE.json}, ${CONTENT_TYPE.protobuf}]`,
      contentType: 'text/plain',
    },
  },
  // The gate's refusals are permanent to an OTLP exporter; the message is fixed, so no reason and
  // no configured token ever leaves.
  unauthorized: {
    code: RPC_CODE.UNAUTHENTICATED,
    message: 'unauthenticated: a valid bearer token is required',
    headers: { 'www-authenticate': 'Bearer', connection: 'close' },
  },
  forbidden: {
    code: RPC_CODE.PERMISSION_DENIED,
    message: 'permission denied',
    headers: { connection: 'close' },
  },
  bad_request: { code: RPC_CODE.INVALID_ARGUMENT, message: 'invalid request' },
  // 413 where the Collector answers 400: OTLP/HTTP asks it of an oversized request (docs/collector.md).
  too_large: { code: RPC_CODE.INVALID_ARGUMENT },
  unavailable: { code: RPC_CODE.UNAVAILABLE, retryAfter: true },
  internal: { code: RPC_CODE.INTERNAL, message: 'internal error' },
});

/** A request answered by its reason's row rather than ingested. */
export class Refused extends Error {
  readonly reason: RefusedReason;
  /** `message`: what the Status says; the row's own message when none is given. */
  constructor(reason: RefusedReason, message?: string) {
    super(message ?? ROWS[reason].message ?? reason);
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

/** The answer's Content-Type, body and headers (its status is the reason's). */
export function answerOf(
  refused: Refused,
  encoding: OtlpEncoding | undefined,
  retryAfterSeconds: number,
  bodyLeft: boolean,
): {
  readonly contentType: string;
  readonly body: string | Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
} {
  const row = ROWS[refused.reason];
  const headers = {
    ...row.headers,
    ...(row.retryAfter && { 'retry-after': String(retryAfterSeconds) }),
    ...(bodyLeft && { connection: 'close' }),
  };
  if (row.text !== undefined)
    return { contentType: row.text.contentType, body: row.text.body, headers };
  if (encoding === undefined)
    return { contentType: 'text/plain; charset=utf-8', body: `${refused.message}\n`, headers };
  return {
    contentType: CONTENT_TYPE[encoding],
    body: encodeStatus(row.code!, refused.message, encoding),
    headers,
  };
}
