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
 * | more than `maxConcurrentRequests` being processed  | 503 + `Retry-After`, google.rpc.Status UNAVAILABLE (once its body is in) |
 * | headers and body not in within `requestTimeoutMillis` | 408, connection closed (Node's)                                     |
 * | body past `maxBodyBytes` (sent, or once inflated)  | 413, google.rpc.Status INVALID_ARGUMENT                                |
 * | Content-Encoding the Collector does not take (content-encoding.ts) | 400, google.rpc.Status INVALID_ARGUMENT                  |
 * | a body that does not decode                        | 400, google.rpc.Status INVALID_ARGUMENT                                |
 * | success                                            | 200, ExportMetricsServiceResponse; `partial_success` when points were refused (or a warning) |
 *
 * Status and response bodies are in the request's encoding (`application/x-protobuf` or
 * `application/json`). Departures from the Collector, both asked for by the OTLP specification
 * where the Collector is silent: 413 rather than 400 for an oversized body, and `partial_success`
 * filled in. Loopback only unless `allowNonLoopback`, like the pull listener.
 *
 * A request takes one of the `maxConcurrentRequests` slots once its body has arrived, for as long
 * as it is decoded and ingested: a body still trickling in holds a connection (bounded by
 * `maxConnections` and `requestTimeoutMillis`, server-limits.ts), never a slot, so stalled senders
 * cannot lock real ones out. The bytes of bodies held (being received or processed) are bounded
 * too, by `(maxConcurrentRequests + 1) × maxBodyBytes`: a request whose body would pass that is shed with
 * 503 as it arrives, so many fast senders cannot fill memory either.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Transform } from 'node:stream';
import { assertBindAllowed } from '../common/loopback.ts';
import { OPTION_DEFAULTS } from '../common/option-defaults.ts';
import { port as checkPort, positiveInteger } from '../common/option-rules.ts';
import { applyConnectionCap, closeServer, fastifyLimitOptions, resolveServerLimits, type ServerLimits } from '../http/server-limits.ts';
import { CONTENT_TYPE, decodeExportRequest, encodeExportResponse, encodeStatus, encodingOf } from '../otlp/codec.ts';
import { OtlpDecodeError, RPC_CODE, type OtlpEncoding, type OtlpPartialSuccess } from '../otlp/types.ts';
import { DecodeFailed, DecoderPool } from './decoder-pool.ts';
import { chunksLength, joinChunks, readBodyChunks, type BodyChunks } from './body-chunks.ts';
import { decodeBody, isIdentity } from './content-encoding.ts';
import type { IngestSink } from './ingest-store.ts';
import { TooLarge } from './too-large.ts';

export const DEFAULT_INGEST_HOST = OPTION_DEFAULTS.ingest.host;
export const DEFAULT_INGEST_PORT = OPTION_DEFAULTS.ingest.port;
export const DEFAULT_MAX_BODY_BYTES = OPTION_DEFAULTS.ingest.maxBodyBytes;
export const DEFAULT_MAX_CONCURRENT_REQUESTS = OPTION_DEFAULTS.ingest.maxConcurrentRequests;
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export const METRICS_PATH = '/v1/metrics';

/**
 * Decompressed bodies from this size on are decoded on the decoding thread and ingested in chunks
 * (decoder-pool.ts); smaller ones decode on the main thread in about a millisecond, cheaper than
 * the round trip.
 */
export const OFF_THREAD_BYTES = 256 * 1024;

export interface IngestListenerOptions extends Partial<ServerLimits> {
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
   * Requests processed (decoded and ingested) at once; one more is shed with 503 and
   * `Retry-After` once its body is in, before it is decoded. @default 8
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
  /** Stops accepting, closes idle connections, lets requests in flight finish within a grace (server-limits.ts). Idempotent. */
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
    /** Whether the request holds one of the `maxConcurrentRequests` slots (released once, on response or abort). */
    otlpCounted?: boolean;
    /** Body bytes this request has received so far, counted against the listener's body budget until it ends. */
    otlpBodyBytes?: number;
  }
}

/** @throws {ConfigError} for a bad option (naming it), a non-loopback host without the opt-in included. */
export async function startIngestListener(options: IngestListenerOptions): Promise<IngestListener> {
  const host = options.host ?? DEFAULT_INGEST_HOST;
  const port = checkPort(options.port ?? DEFAULT_INGEST_PORT, 'ingest.port');
  const maxBodyBytes = positiveInteger(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, 'ingest.maxBodyBytes');
  const maxConcurrent = positiveInteger(options.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS, 'ingest.maxConcurrentRequests');
  const retryAfter = positiveInteger(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS, 'ingest.retryAfterSeconds');
  const limits = resolveServerLimits(options, 'ingest');
  assertBindAllowed(host, options.allowNonLoopback ?? false, 'OTLP ingest listener', 'ingest.host', 'ingest.allowNonLoopback (allow_non_loopback = true)');

  const app: FastifyInstance = Fastify({ logger: false, return503OnClosing: true, bodyLimit: maxBodyBytes, ...fastifyLimitOptions(limits) });
  applyConnectionCap(app.server, limits);
  // A sink that takes a request in parts is fed by the decoding thread; any other decodes here.
  const pool = options.sink.begin !== undefined ? new DecoderPool() : undefined;
  app.addHook('onClose', async () => pool?.close());
  let inFlight = 0;
  // Bytes of bodies held by requests not yet answered; one body more than the slots, so a body
  // alone never passes it (past maxBodyBytes it is a 413).
  const bodyBudget = maxBodyBytes * (maxConcurrent + 1);
  let bodyBytes = 0;

  // Bodies are read raw, whatever the type: decoding (and its errors) is ours.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', readBodyChunks(maxBodyBytes));

  // Everything that can be answered without the body is answered here, before it is read.
  app.addHook('onRequest', async (request, reply) => {
    if (pathOf(request.url) !== METRICS_PATH) return reply.code(404).type('text/plain; charset=utf-8').send(NOT_FOUND);
    if (request.method !== 'POST') return reply.code(405).header('allow', 'POST').type('text/plain').send(METHOD_NOT_ALLOWED);
    const encoding = encodingOf(request.headers['content-type']);
    if (encoding === undefined) return reply.code(415).type('text/plain').send(UNSUPPORTED_MEDIA_TYPE);
    request.otlpEncoding = encoding;
    return undefined;
  });
  // Received bytes are counted as they arrive; past the budget the request is shed (503).
  app.addHook('preParsing', async (request, _reply, payload) => {
    request.otlpBodyBytes = 0;
    return payload.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          request.otlpBodyBytes! += chunk.length;
          bodyBytes += chunk.length;
          if (bodyBytes > bodyBudget) callback(new Busy());
          else callback(null, chunk);
        },
      }),
    );
  });
  // The slot: taken once the body is in (fastify has parsed it), held until the answer is sent.
  app.addHook('preValidation', async (request, reply) => {
    if (inFlight >= maxConcurrent) {
      reply.header('retry-after', String(retryAfter));
      return status(reply, 503, RPC_CODE.UNAVAILABLE, `jobmeter is busy (${maxConcurrent} requests in flight); retry after ${retryAfter} s`, request.otlpEncoding ?? 'json');
    }
    inFlight++;
    request.otlpCounted = true;
    return undefined;
  });
  const release = (request: FastifyRequest): void => {
    bodyBytes -= request.otlpBodyBytes ?? 0;
    request.otlpBodyBytes = 0;
    if (request.otlpCounted === true) {
      request.otlpCounted = false;
      inFlight--;
    }
  };
  app.addHook('onResponse', async (request) => release(request));
  app.addHook('onRequestAbort', async (request) => release(request));

  /** Decodes off the main thread and ingests a chunk per turn (decoder-pool.ts); a reply when refused. */
  const ingestOffThread = async (body: Buffer | BodyChunks, encoding: OtlpEncoding, reply: FastifyReply, handOver: boolean): Promise<OtlpPartialSuccess | FastifyReply> => {
    const batch = options.sink.begin!();
    try {
      await pool!.decode(body, encoding, (chunk) => batch.add(chunk), handOver);
    } catch (err) {
      if (!(err instanceof DecodeFailed) || err.kind === 'other') throw err;
      return status(reply, err.kind === 'too-large' ? 413 : 400, RPC_CODE.INVALID_ARGUMENT, err.message, encoding);
    }
    return batch.result();
  };

  app.post(METRICS_PATH, async (request, reply) => {
    const encoding = request.otlpEncoding!;
    const chunks: BodyChunks = Array.isArray(request.body) ? (request.body as BodyChunks) : [];
    const contentEncoding = request.headers['content-encoding'];
    let result: OtlpPartialSuccess | FastifyReply;
    if (pool !== undefined && options.onRequest === undefined && isIdentity(contentEncoding) && chunksLength(chunks) >= OFF_THREAD_BYTES) {
      // A big uncompressed body goes as the chunks it arrived in, joined on the decoding thread.
      result = await ingestOffThread(chunks, encoding, reply, true);
    } else {
      let body: Buffer;
      try {
        body = await decodeBody(joinChunks(chunks), contentEncoding, maxBodyBytes);
      } catch (err) {
        if (err instanceof TooLarge) return status(reply, 413, RPC_CODE.INVALID_ARGUMENT, err.message, encoding);
        return status(reply, 400, RPC_CODE.INVALID_ARGUMENT, messageOf(err), encoding);
      }
      if (pool !== undefined && body.length >= OFF_THREAD_BYTES) {
        // The body moves to the decoding thread unless the debug printer still wants it.
        result = await ingestOffThread(body, encoding, reply, options.onRequest === undefined);
      } else {
        try {
          result = options.sink.ingest(decodeExportRequest(body, encoding));
        } catch (err) {
          if (err instanceof OtlpDecodeError) return status(reply, 400, RPC_CODE.INVALID_ARGUMENT, err.message, encoding);
          throw err;
        }
      }
      if (!isReply(result)) {
        try {
          options.onRequest?.(body, encoding, result);
        } catch {
          // Debug output never changes the answer.
        }
      }
    }
    if (isReply(result)) return result;
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
    if (err instanceof Busy) {
      reply.header('retry-after', String(retryAfter));
      return status(reply, 503, RPC_CODE.UNAVAILABLE, `jobmeter is busy (request bodies past ${bodyBudget} bytes in flight); retry after ${retryAfter} s`, encoding);
    }
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
      closing ??= closeServer(app.server, () => app.close());
      return closing;
    },
  };
}

function status(reply: FastifyReply, httpStatus: number, code: number, message: string, encoding: OtlpEncoding): FastifyReply {
  return reply.code(httpStatus).type(CONTENT_TYPE[encoding]).send(encodeStatus(code, message, encoding));
}

/** The listener's body budget is spent. */
class Busy extends Error {}

function isReply(x: OtlpPartialSuccess | FastifyReply): x is FastifyReply {
  return typeof (x as FastifyReply).send === 'function';
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
