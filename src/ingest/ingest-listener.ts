/**
 * The OTLP/HTTP ingest listener: `POST /v1/metrics` on its own fastify instance, answering as the
 * Collector's OTLP receiver does (receiver/otlpreceiver/otlphttp.go), so any OTel SDK's OTLP/HTTP
 * exporter can point at `jobmeter serve`.
 *
 * | request                                            | answer                                                                 |
 * |----------------------------------------------------|------------------------------------------------------------------------|
 * | another path                                       | 404 `text/plain` `404 page not found` (Go's ServeMux)                  |
 * | another method on /v1/metrics                      | 405 `text/plain` `405 method not allowed, supported: [POST]`, `Allow: POST` |
 * | Content-Type other than the two below              | 415 `text/plain` `415 unsupported media type, supported: [application/json, application/x-protobuf]` |
 * | more than `maxConcurrentRequests` in flight        | 503 + `Retry-After`, google.rpc.Status UNAVAILABLE                     |
 * | body past `maxBodyBytes` (sent, or once inflated)  | 413, google.rpc.Status INVALID_ARGUMENT                                |
 * | Content-Encoding the Collector does not take (content-encoding.ts) | 400, google.rpc.Status INVALID_ARGUMENT                  |
 * | a body that does not decode                        | 400, google.rpc.Status INVALID_ARGUMENT                                |
 * | success                                            | 200, ExportMetricsServiceResponse; `partial_success` when points were refused (or a warning) |
 *
 * Status and response bodies are in the request's encoding (`application/x-protobuf` or
 * `application/json`). Departures from the Collector, both asked for by the OTLP specification
 * where the Collector is silent: 413 rather than 400 for an oversized body, and `partial_success`
 * filled in. Loopback only unless `allowNonLoopback`, like the pull listener.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ConfigError } from '../config/errors.ts';
import { isLoopbackHost } from '../http/loopback.ts';
import { decodeBody } from './content-encoding.ts';
import { TooLarge } from './too-large.ts';
import { CONTENT_TYPE, decodeExportRequest, encodeExportResponse, encodeStatus, encodingOf } from '../otlp/codec.ts';
import { OtlpDecodeError, RPC_CODE, type OtlpEncoding, type OtlpPartialSuccess } from '../otlp/types.ts';
import type { IngestSink } from './ingest-store.ts';

export const DEFAULT_INGEST_HOST = '127.0.0.1';
export const DEFAULT_INGEST_PORT = 4318;
/** The Collector's `max_request_body_size` default. */
export const DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024;
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 8;
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export const METRICS_PATH = '/v1/metrics';

export interface IngestListenerOptions {
  /** Where decoded requests go. */
  readonly sink: IngestSink;
  /** Address to bind; loopback unless {@link allowNonLoopback}. @default '127.0.0.1' */
  readonly host?: string;
  /** TCP port; 0 picks a free one (read it back from `address`). @default 4318 */
  readonly port?: number;
  /** Explicit opt-in to bind a non-loopback address. @default false */
  readonly allowNonLoopback?: boolean;
  /**
   * Largest request body, as sent and once decompressed, in bytes; past it the answer is 413.
   * @default 20971520 (20 MiB, the Collector's default)
   */
  readonly maxBodyBytes?: number;
  /**
   * Requests processed at once; one more is shed with 503 and `Retry-After`, before its body is
   * read, so a burst costs neither memory nor CPU. @default 8
   */
  readonly maxConcurrentRequests?: number;
  /** `Retry-After` of a shed request, in whole seconds. @default 1 */
  readonly retryAfterSeconds?: number;
  /**
   * Called with every request that decoded — its body (decompressed) and encoding, not its headers
   * — and what the sink made of it, after the sink (`jobmeter serve --debug` prints it). The body
   * rather than the decoded request, because that model drops what a printout must show (int or
   * double, histogram min/max, scope attributes). A throw is ignored. @default none
   */
  readonly onRequest?: (body: Buffer, encoding: OtlpEncoding, result: OtlpPartialSuccess) => void;
}

export interface IngestListener {
  /** The bound address (the real port when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
  /** Stops accepting, lets requests in flight finish. Idempotent. */
  close(): Promise<void>;
}

const METHOD_NOT_ALLOWED = '405 method not allowed, supported: [POST]';
const UNSUPPORTED_MEDIA_TYPE = `415 unsupported media type, supported: [${CONTENT_TYPE.json}, ${CONTENT_TYPE.protobuf}]`;
const NOT_FOUND = '404 page not found\n';
const OTHER_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;


// Per-request state of the ingest listener, by fastify's declaration merging (optional, so no
// other fastify instance in the process is affected).
declare module 'fastify' {
  interface FastifyRequest {
    /** The request's OTLP encoding, once its Content-Type has been accepted. */
    otlpEncoding?: OtlpEncoding;
    /** Whether the request counts against `maxConcurrentRequests` (released once, on response or abort). */
    otlpCounted?: boolean;
  }
}

/** @throws {ConfigError} for a bad option (naming it); {Error} for a non-loopback host without the opt-in. */
export async function startIngestListener(options: IngestListenerOptions): Promise<IngestListener> {
  const host = options.host ?? DEFAULT_INGEST_HOST;
  const port = options.port ?? DEFAULT_INGEST_PORT;
  const maxBodyBytes = positiveInteger(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, 'ingest.maxBodyBytes');
  const maxConcurrent = positiveInteger(options.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS, 'ingest.maxConcurrentRequests');
  const retryAfter = positiveInteger(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS, 'ingest.retryAfterSeconds');
  if (!(options.allowNonLoopback ?? false) && !isLoopbackHost(host)) {
    throw new Error(
      `refusing to bind the OTLP ingest listener to non-loopback address ${host}: ` +
        `set ingest.allowNonLoopback (allow_non_loopback = true) to expose it`,
    );
  }

  const app: FastifyInstance = Fastify({ logger: false, return503OnClosing: true, bodyLimit: maxBodyBytes });
  let inFlight = 0;

  // Bodies are read raw, whatever the type: decoding (and its errors) is ours.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) => done(null, body));

  // Everything that can be answered without the body is answered here, before it is read.
  app.addHook('onRequest', async (request, reply) => {
    if (pathOf(request.url) !== METRICS_PATH) return reply.code(404).type('text/plain; charset=utf-8').send(NOT_FOUND);
    if (request.method !== 'POST') return reply.code(405).header('allow', 'POST').type('text/plain').send(METHOD_NOT_ALLOWED);
    const encoding = encodingOf(request.headers['content-type']);
    if (encoding === undefined) return reply.code(415).type('text/plain').send(UNSUPPORTED_MEDIA_TYPE);
    request.otlpEncoding = encoding;
    if (inFlight >= maxConcurrent) {
      reply.header('retry-after', String(retryAfter));
      return status(reply, 503, RPC_CODE.UNAVAILABLE, `jobmeter is busy (${maxConcurrent} requests in flight); retry after ${retryAfter} s`, encoding);
    }
    inFlight++;
    request.otlpCounted = true;
    return undefined;
  });
  const release = (request: FastifyRequest): void => {
    if (request.otlpCounted === true) {
      request.otlpCounted = false;
      inFlight--;
    }
  };
  app.addHook('onResponse', async (request) => release(request));
  app.addHook('onRequestAbort', async (request) => release(request));

  app.post(METRICS_PATH, async (request, reply) => {
    const encoding = request.otlpEncoding!;
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    let body: Buffer;
    try {
      body = await decodeBody(raw, request.headers['content-encoding'], maxBodyBytes);
    } catch (err) {
      if (err instanceof TooLarge) return status(reply, 413, RPC_CODE.INVALID_ARGUMENT, err.message, encoding);
      return status(reply, 400, RPC_CODE.INVALID_ARGUMENT, messageOf(err), encoding);
    }
    let result;
    try {
      result = options.sink.ingest(decodeExportRequest(body, encoding));
    } catch (err) {
      if (err instanceof OtlpDecodeError) return status(reply, 400, RPC_CODE.INVALID_ARGUMENT, err.message, encoding);
      throw err;
    }
    try {
      options.onRequest?.(body, encoding, result);
    } catch {
      // Debug output never changes the answer.
    }
    return reply.code(200).type(CONTENT_TYPE[encoding]).send(encodeExportResponse(result, encoding));
  });

  app.route({
    method: [...OTHER_METHODS],
    url: METRICS_PATH,
    // onRequest has answered already; this only gives fastify a route so it does not 404 first.
    handler: async (_request, reply) => reply.code(405).header('allow', 'POST').type('text/plain').send(METHOD_NOT_ALLOWED),
  });
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).type('text/plain; charset=utf-8').send(NOT_FOUND));
  app.setErrorHandler(async (err: { code?: string; statusCode?: number }, request, reply) => {
    const encoding = request.otlpEncoding ?? 'json';
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return status(reply, 413, RPC_CODE.INVALID_ARGUMENT, `request body larger than ${maxBodyBytes} bytes`, encoding);
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return status(reply, err.statusCode, RPC_CODE.INVALID_ARGUMENT, 'invalid request', encoding);
    }
    // The cause stays server-side, as on the pull listener.
    return status(reply, 500, 13, 'internal error', encoding);
  });

  await app.listen({ host, port });
  const bound = app.server.address();
  let closing: Promise<void> | undefined;
  return {
    address: { host, port: typeof bound === 'object' && bound !== null ? bound.port : port },
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}

function status(reply: FastifyReply, httpStatus: number, code: number, message: string, encoding: OtlpEncoding): FastifyReply {
  return reply.code(httpStatus).type(CONTENT_TYPE[encoding]).send(encodeStatus(code, message, encoding));
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function positiveInteger(value: number, option: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(option, value, 'a positive integer');
  return value;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
