/**
 * The OTLP/HTTP ingest listener: `POST /v1/metrics` on its own node:http server, answering as the
 * Collector's OTLP receiver does (receiver/otlpreceiver/otlphttp.go), so any OTel SDK's OTLP/HTTP
 * exporter can point at `jobmeter serve`.
 *
 * | request                                            | answer                                                                 |
 * |----------------------------------------------------|------------------------------------------------------------------------|
 * | GET/HEAD `/health`, `/ready` (when `health` is set) | the main server's answers (http/health-route.ts), not counted as ingest requests |
 * | another path                                       | 404 `text/plain` `404 page not found` (Go's ServeMux)                  |
 * | another method on /v1/metrics                      | 405 `text/plain` `405 method not allowed, supported: [POST]`, `Allow: POST` |
 * | refused by the gate (ingest-gate.ts), body unread  | 401 (`WWW-Authenticate: Bearer`) google.rpc.Status UNAUTHENTICATED, or 403 PERMISSION_DENIED; `Connection: close` |
 * | Content-Type other than the two below              | 415 `text/plain` `415 unsupported media type, supported: [application/json, application/x-protobuf]` |
 * | more than `maxConcurrentRequests` being processed  | waits for a slot, its body held (within the bytes in flight below)      |
 * | bodies in flight past their bound (below)          | 503 + `Retry-After`, google.rpc.Status UNAVAILABLE (`Connection: close` when shed as it arrives) |
 * | headers and body not in within `requestTimeoutMillis` | 408, connection closed (Node's)                                     |
 * | a connection past `maxConnections`                 | the one holding room longest without progress (a stalled body, idle, unfinished headers) closed, counted (connection-room.ts) |
 * | body past `maxBodyBytes` (sent, or once inflated)  | 413, google.rpc.Status INVALID_ARGUMENT (`Connection: close` when refused as sent) |
 * | Content-Encoding the Collector does not take (content-encoding.ts) | 400, google.rpc.Status INVALID_ARGUMENT                  |
 * | a body that would decode past the decode limits (decode-limits.ts) | 413, google.rpc.Status INVALID_ARGUMENT              |
 * | a body that does not decode                        | 400, google.rpc.Status INVALID_ARGUMENT                                |
 * | success                                            | 200, ExportMetricsServiceResponse; `partial_success` when points were refused (or a warning) |
 *
 * Each answer's status is its reason's (self-telemetry.ts `INGEST_ANSWERS`), and every answer the
 * handler writes is reported once (`onAnswered`): jobmeter counts them as its own, never in a
 * profile's series. Node's 408 and the connections shed for room do not pass the handler.
 *
 * Status and response bodies are in the request's encoding (`application/x-protobuf` or
 * `application/json`). Departures from the Collector, both asked for by the OTLP specification
 * where the Collector is silent: 413 rather than 400 for an oversized body, and `partial_success`
 * filled in. Loopback only unless `allowNonLoopback`, like the pull listener.
 *
 * A request takes one of the `maxConcurrentRequests` slots once its body has arrived, for as long
 * as it is decoded and ingested: a body still trickling in holds a connection, never a slot, and
 * that connection is the first closed when a new one needs room under `maxConnections`
 * (connection-room.ts; bounded in time by `requestTimeoutMillis`, server-limits.ts), so stalled
 * senders cannot lock real ones out. A request whose body is in while every slot is taken waits for one, in
 * arrival order, as the Collector's receiver lets a sender wait rather than turning it away: what
 * bounds the waiting is the bytes of bodies held (being received, waiting or processed), at most
 * `(maxConcurrentRequests + 1) × maxBodyBytes`, as sent and once decompressed here. Only a request
 * whose body would pass that is shed, with 503 and `Retry-After` (as OTLP/HTTP asks of a server
 * that is overloaded), as it arrives (and its connection closed) or once decompressed, so many fast
 * senders, or many small bombs, cannot fill memory. A request's bytes and slot (or its place in
 * the line) are given back when its response is done or its connection is gone.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { assertBindAllowed } from '../common/loopback.ts';
import { positiveInteger } from '../common/option-rules.ts';
import type { ShedReason } from '../http/connection-room.ts';
import { pathOf, sendText, startHttpServer } from '../http/http-server.ts';
import { INGEST_ANSWERS, type IngestAnswer } from '../http/self-telemetry.ts';
import type { ServerLimits } from '../http/server-limits.ts';
import { CONTENT_TYPE, decodeExportRequest, encodeExportResponse, encodeStatus, encodingOf } from '../otlp/codec.ts';
import { DecodeLimitExceeded, decodeLimitsFor, type DecodeLimits } from '../otlp/decode-limits.ts';
import { OtlpDecodeError, RPC_CODE, type OtlpEncoding, type OtlpPartialSuccess } from '../otlp/types.ts';
import { DecodeFailed, DecoderPool } from './decoder-pool.ts';
import { BodyAborted, chunksLength, joinChunks, readBodyChunks, type BodyChunks } from './body-chunks.ts';
import { decodeBody, decodesOffThread, isIdentity } from './content-encoding.ts';
import { compileIngestGate, type GateRefusal, type IngestGateOptions } from './ingest-gate.ts';
import type { IngestSink } from './ingest-store.ts';
import { SparePacker } from './packed-chunk.ts';
import { TooLarge } from './too-large.ts';
import { messageOf } from '../common/message-of.ts';

export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export const METRICS_PATH = '/v1/metrics';

/**
 * Decompressed bodies from this size on are decoded on the decoding thread and ingested in chunks
 * (decoder-pool.ts); smaller ones decode on the main thread in about a millisecond, cheaper than
 * the round trip (within the decode limits for this size: a few MiB at most). Snappy and LZ4
 * bodies, whose decompression is JavaScript, go to the decoding thread whatever their size, and
 * gzip and zstd ones that announce this size or more (content-encoding.ts), so the main thread
 * never holds them inflated.
 */
export const OFF_THREAD_BYTES = 256 * 1024;

/**
 * The option values are resolved ones (resolve-options.ts `resolveIngest`: the option table's
 * defaults and rules, each checked once there), so none is defaulted or checked again here.
 */
export interface IngestListenerOptions extends ServerLimits, IngestGateOptions {
  /** Where decoded requests go. */
  readonly sink: IngestSink;
  /** Address to bind; loopback unless {@link allowNonLoopback}. */
  readonly host: string;
  /** TCP port; 0 picks a free one (read it back from `address`). */
  readonly port: number;
  /** Explicit opt-in to bind a non-loopback address. */
  readonly allowNonLoopback: boolean;
  /** Largest request body, as sent and once decompressed, in bytes; past it the answer is 413. */
  readonly maxBodyBytes: number;
  /**
   * Requests processed (decoded and ingested) at once; one more waits for a slot once its body is
   * in, its body counted against the bytes in flight, `(maxConcurrentRequests + 1) × maxBodyBytes`,
   * past which a request is shed with 503 and `Retry-After`.
   */
  readonly maxConcurrentRequests: number;
  /** `Retry-After` of a shed request, in whole seconds. @default 1 */
  readonly retryAfterSeconds?: number;
  /**
   * Called with every request that decoded — its body (decompressed) and encoding, not its headers
   * — and what the sink made of it, after the sink (`jobmeter serve --debug` prints it). The body
   * rather than the decoded request, because that model drops what a printout must show (int or
   * double, histogram min/max, scope attributes). A throw is ignored. @default none
   */
  readonly onRequest?: (body: Buffer, encoding: OtlpEncoding, result: OtlpPartialSuccess) => void;
  /**
   * Called once with what every request was answered (self-telemetry.ts `INGEST_ANSWERS`: its
   * status and reason), as the answer is written; jobmeter counts it. A throw is ignored. @default none
   */
  readonly onAnswered?: (answer: IngestAnswer) => void;
  /**
   * Called with what every connection closed to keep room under `maxConnections` held
   * (connection-room.ts; jobmeter counts it). A throw is ignored. @default none
   */
  readonly onShed?: (reason: ShedReason) => void;
  /** Where the line opening each episode of shedding connections goes. @default none */
  readonly log?: (line: string) => void;
  /**
   * Answers `/health` and `/ready` as every listener of serve does (http/health-route.ts
   * `answerHealth`); true when it answered. Ungated, like the main server's. @default none (404)
   */
  readonly health?: (request: IncomingMessage, response: ServerResponse) => boolean;
}

export interface IngestListener {
  /** The bound address (the real port when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
  /** Stops accepting, closes idle connections, lets requests in flight finish within a grace (server-limits.ts). Idempotent. */
  close(): Promise<void>;
  /**
   * Rotates the gate's token and API keys (a SIGHUP), its trusted networks kept; the next request
   * is checked against them. Returns whether a gate is in force after it.
   * @throws ConfigError for a credential that cannot be used (the running gate stays).
   */
  replaceCredentials(credentials: Pick<IngestGateOptions, 'token' | 'apiKeys'>): boolean;
}

const METHOD_NOT_ALLOWED = '405 method not allowed, supported: [POST]';
const UNSUPPORTED_MEDIA_TYPE = `415 unsupported media type, supported: [${CONTENT_TYPE.json}, ${CONTENT_TYPE.protobuf}]`;
const NOT_FOUND = '404 page not found\n';

/** @throws {ConfigError} for a non-loopback host without the opt-in, or a credential the gate cannot use (naming it). */
export async function startIngestListener(options: IngestListenerOptions): Promise<IngestListener> {
  const { host, port, maxBodyBytes, maxConcurrentRequests: maxConcurrent } = options;
  const retryAfter = positiveInteger(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS, 'ingest.retryAfterSeconds');
  const limits: ServerLimits = { requestTimeoutMillis: options.requestTimeoutMillis, idleTimeoutMillis: options.idleTimeoutMillis, maxConnections: options.maxConnections };
  assertBindAllowed(host, options.allowNonLoopback, 'OTLP ingest listener', 'ingest.host', 'ingest.allowNonLoopback (allow_non_loopback = true)');
  let gate = compileIngestGate(options);

  // A sink that takes a request in parts is fed by the decoding thread; any other decodes here.
  const pool = options.sink.begin !== undefined ? new DecoderPool({ maxBodyBytes }) : undefined;
  const decodeLimits = decodeLimitsFor(maxBodyBytes);
  let inFlight = 0;
  // Requests whose body is in, waiting for a slot, first come first served; each is handed a slot
  // by the request that gives it back.
  const waiting: Array<() => void> = [];
  const giveBackSlot = (): void => {
    const next = waiting.shift();
    if (next === undefined) inFlight--;
    else next();
  };
  // Bytes of bodies held by requests not yet answered; one body more than the slots, so a body
  // alone never passes it (past maxBodyBytes it is a 413).
  const bodyBudget = maxBodyBytes * (maxConcurrent + 1);
  let bodyBytes = 0;
  const busy = (what: string): Refusal =>
    new Refusal('unavailable', RPC_CODE.UNAVAILABLE, `jobmeter is busy (${what}); retry after ${retryAfter} s`, { 'retry-after': String(retryAfter) });

  /** Decodes off the main thread and ingests a chunk per turn (decoder-pool.ts). */
  const ingestOffThread = async (body: Buffer | BodyChunks, encoding: OtlpEncoding, handOver: boolean, contentEncoding?: string): Promise<OtlpPartialSuccess | Refusal> => {
    const batch = options.sink.begin!();
    try {
      await pool!.decode(body, encoding, (chunk) => batch.add(chunk), handOver, contentEncoding);
    } catch (err) {
      if (!(err instanceof DecodeFailed) || err.kind === 'other') throw err;
      return new Refusal(err.kind === 'too-large' ? 'too_large' : 'bad_request', RPC_CODE.INVALID_ARGUMENT, err.message);
    }
    return batch.result();
  };

  /**
   * Decodes and ingests a whole body; what the sink made of it, or the refusal. `hold` counts a
   * body decompressed here against the bytes in flight (it throws the 503 past them).
   */
  const ingest = async (
    chunks: BodyChunks,
    encoding: OtlpEncoding,
    contentEncoding: string | undefined,
    hold: (bytes: number) => void,
  ): Promise<OtlpPartialSuccess | Refusal> => {
    // A big uncompressed body goes as the chunks it arrived in, joined on the decoding thread; a
    // snappy or LZ4 one, or one that says it inflates to a big one, compressed, inflated there.
    if (pool !== undefined && options.onRequest === undefined && isIdentity(contentEncoding) && chunksLength(chunks) >= OFF_THREAD_BYTES) {
      return ingestOffThread(chunks, encoding, true);
    }
    const raw = joinChunks(chunks);
    if (pool !== undefined && options.onRequest === undefined && decodesOffThread(contentEncoding, raw, OFF_THREAD_BYTES)) {
      return ingestOffThread(raw, encoding, true, contentEncoding);
    }
    let body: Buffer;
    try {
      body = await decodeBody(raw, contentEncoding, maxBodyBytes);
    } catch (err) {
      if (err instanceof TooLarge) return new Refusal('too_large', RPC_CODE.INVALID_ARGUMENT, err.message);
      return new Refusal('bad_request', RPC_CODE.INVALID_ARGUMENT, messageOf(err));
    }
    if (!isIdentity(contentEncoding)) {
      try {
        hold(body.length);
      } catch (err) {
        if (err instanceof Refusal) return err;
        throw err;
      }
    }
    let result: OtlpPartialSuccess | Refusal;
    if (pool !== undefined && body.length >= OFF_THREAD_BYTES) {
      // The body moves to the decoding thread unless the debug printer still wants it.
      result = await ingestOffThread(body, encoding, options.onRequest === undefined);
    } else {
      try {
        result = ingestHere(options.sink, body, encoding, decodeLimits);
      } catch (err) {
        if (err instanceof DecodeLimitExceeded) return new Refusal('too_large', RPC_CODE.INVALID_ARGUMENT, err.message);
        if (err instanceof OtlpDecodeError) return new Refusal('bad_request', RPC_CODE.INVALID_ARGUMENT, err.message);
        throw err;
      }
    }
    if (!(result instanceof Refusal)) {
      try {
        options.onRequest?.(body, encoding, result);
      } catch {
        // Debug output never changes the answer.
      }
    }
    return result;
  };

  /** Every answer is written here, its status the one its reason has, and counted once. */
  const reply = (response: ServerResponse, answered: IngestAnswer, contentType: string, body: string | Uint8Array, headers?: Readonly<Record<string, string>>): void => {
    try {
      options.onAnswered?.(answered);
    } catch {
      // Counting never changes the answer.
    }
    sendText(response, INGEST_ANSWERS[answered], contentType, body, headers);
  };
  const answer = (response: ServerResponse, refusal: Refusal, encoding: OtlpEncoding, headers: Readonly<Record<string, string>> = {}): void =>
    reply(response, refusal.answer, CONTENT_TYPE[encoding], encodeStatus(refusal.code, refusal.message, encoding), { ...refusal.headers, ...headers });
  /** A gate refusal in the request's encoding (a text line when it has none). */
  const refuseAtGate = (response: ServerResponse, refusal: GateRefusal, encoding: OtlpEncoding | undefined): void =>
    encoding === undefined
      ? reply(response, refusal.reason, 'text/plain; charset=utf-8', `${refusal.message}\n`, refusal.headers)
      : reply(response, refusal.reason, CONTENT_TYPE[encoding], encodeStatus(refusal.code, refusal.message, encoding), refusal.headers);

  const handler = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    // Everything that can be answered without the body is answered before it is read.
    if (pathOf(request.url) !== METRICS_PATH) {
      if (options.health?.(request, response) === true) return;
      return reply(response, 'not_found', 'text/plain; charset=utf-8', NOT_FOUND);
    }
    if (request.method !== 'POST') return reply(response, 'method_not_allowed', 'text/plain', METHOD_NOT_ALLOWED, { allow: 'POST' });
    const encoding = encodingOf(request.headers['content-type']);
    // The gate before anything about the body, its type included.
    const denied = gate.check(request);
    if (denied !== undefined) return refuseAtGate(response, denied, encoding);
    if (encoding === undefined) return reply(response, 'unsupported_media_type', 'text/plain', UNSUPPORTED_MEDIA_TYPE);

    // Received bytes count against the budget as they arrive, the slot once the body is in; both
    // are given back once, as the answer is written or when the connection goes first.
    let held = 0;
    let counted = false;
    // While waiting for a slot: its place in the line, and how to stop waiting.
    let inLine: (() => void) | undefined;
    let stopWaiting: (() => void) | undefined;
    const release = (): void => {
      bodyBytes -= held;
      held = 0;
      if (inLine !== undefined) waiting.splice(waiting.indexOf(inLine), 1);
      inLine = undefined;
      stopWaiting?.();
      if (counted) giveBackSlot();
      counted = false;
    };
    response.once('close', release);
    const hold = (bytes: number): void => {
      held += bytes;
      bodyBytes += bytes;
      if (bodyBytes > bodyBudget) throw busy(`request bodies past ${bodyBudget} bytes in flight`);
    };
    let chunks: BodyChunks;
    try {
      chunks = await readBodyChunks(request, maxBodyBytes, hold);
    } catch (err) {
      release();
      if (err instanceof BodyAborted || response.destroyed) return;
      const refusal =
        err instanceof Refusal ? err
        : err instanceof TooLarge ? new Refusal('too_large', RPC_CODE.INVALID_ARGUMENT, err.message)
        : new Refusal('bad_request', RPC_CODE.INVALID_ARGUMENT, 'invalid request');
      // The rest of the body is not read: the client may still be sending it.
      return answer(response, refusal, encoding, { connection: 'close' });
    }
    if (inFlight < maxConcurrent) {
      inFlight++;
      counted = true;
    } else {
      // Handed a slot synchronously (so a connection gone right after passes it on), resumed after.
      await new Promise<void>((resume) => {
        stopWaiting = resume;
        inLine = () => {
          inLine = undefined;
          counted = true;
          resume();
        };
        waiting.push(inLine);
      });
      stopWaiting = undefined;
      if (!counted || response.destroyed) return release();
    }
    let result: OtlpPartialSuccess | Refusal;
    try {
      result = await ingest(chunks, encoding, request.headers['content-encoding'], hold);
    } catch {
      // The cause stays server-side, as on the pull listener.
      result = new Refusal('internal', 13, 'internal error');
    }
    release();
    if (response.destroyed) return;
    if (result instanceof Refusal) return answer(response, result, encoding);
    reply(response, result.rejectedDataPoints > 0 ? 'partial' : 'accepted', CONTENT_TYPE[encoding], encodeExportResponse(result, encoding));
  };

  // One line per episode, not per connection: a flood closes thousands a second.
  const onShed = (reason: ShedReason, opensEpisode: boolean): void => {
    options.onShed?.(reason);
    if (opensEpisode)
      options.log?.(
        `OTLP ingest: ${limits.maxConnections} connections open (ingest.maxConnections): shedding those holding room without progress (first: ${reason}) so new senders get in; counted by reason in jobmeter_ingest_connections_shed_total`,
      );
  };
  const server = await startHttpServer({ host, port, limits, handler, onClosed: () => pool?.close(), onShed });
  return {
    address: { host, port: server.port },
    close: () => server.close(),
    replaceCredentials(credentials) {
      gate = compileIngestGate({ ...credentials, ...(options.trustedCidrs !== undefined && { trustedCidrs: options.trustedCidrs }) });
      return gate.gated;
    },
  };
}

/** A request answered with a google.rpc.Status rather than ingested; its HTTP status is its reason's. */
class Refusal extends Error {
  readonly answer: Exclude<IngestAnswer, 'accepted' | 'partial'>;
  /** The google.rpc.Status code. */
  readonly code: number;
  readonly headers: Readonly<Record<string, string>>;
  constructor(answer: Refusal['answer'], code: number, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.answer = answer;
    this.code = code;
    this.headers = headers;
  }
}

/**
 * A body decoded and ingested in this turn: a protobuf one's points decoded straight into columns
 * (packed-chunk.ts `PointPacker`) when the sink takes them, as the decoding thread hands them over,
 * rather than an object per point.
 */
function ingestHere(sink: IngestSink, body: Buffer, encoding: OtlpEncoding, limits: DecodeLimits): OtlpPartialSuccess {
  if (encoding !== 'protobuf' || sink.begin === undefined) return sink.ingest(decodeExportRequest(body, encoding, limits));
  const packer = packers.take();
  try {
    const request = packer.request(decodeExportRequest(body, encoding, limits, undefined, packer));
    const batch = sink.begin();
    batch.add(packer.chunk(request).packed);
    return batch.result();
  } finally {
    packers.giveBack(packer);
  }
}

/** The main thread's packer (one request decodes here at a time: synchronously). */
const packers = new SparePacker();
