/**
 * The OTLP/HTTP ingest listener: `POST /v1/metrics` on its own node:http server, answering as the
 * Collector's OTLP receiver does (receiver/otlpreceiver/otlphttp.go), so any OTel SDK's OTLP/HTTP
 * exporter can point at `jobmeter serve`.
 *
 * | request                                                       | answer: status and reason (ingest-errors.ts, with its body and headers) |
 * |---------------------------------------------------------------|--------------------------------------------------------------------|
 * | GET/HEAD `/health`, `/ready` (when `health` is set)            | the main server's answers (http/health-route.ts), not counted as ingest requests |
 * | another path                                                  | 404 `not_found` (Go's ServeMux)                                    |
 * | another method on /v1/metrics                                 | 405 `method_not_allowed`                                           |
 * | refused by the gate (http/ingest-gate.ts), body unread             | 401 `unauthorized` or 403 `forbidden`                              |
 * | Content-Type neither `application/x-protobuf` nor `application/json` | 415 `unsupported_media_type`                                |
 * | more than `maxConcurrentRequests` being processed             | waits for a slot, its body held (within the bytes in flight below) |
 * | bodies in flight past their bound (below)                     | 503 `unavailable`                                                  |
 * | headers and body not in within `requestTimeoutMillis`         | 408, connection closed (Node's)                                    |
 * | a connection past `maxConnections`                            | the one holding room longest without progress (a stalled body, idle, unfinished headers) closed, counted (connection-room.ts) |
 * | body past `maxBodyBytes` (sent, or once inflated), or past the decode limits (decode-limits.ts) | 413 `too_large`                   |
 * | an unreadable body, a Content-Encoding the Collector does not take (content-encoding.ts), a body that does not decompress or decode | 400 `bad_request` |
 * | any other failure                                             | 500 `internal`                                                     |
 * | success                                                       | 200 `accepted`, ExportMetricsServiceResponse; `partial` when points were refused (`partial_success`) |
 *
 * Every answer the handler writes is reported once (`onAnswered`): jobmeter counts them as its
 * own, never in a profile's series. Node's 408 and the connections shed for room do not pass the
 * handler.
 *
 * Status and response bodies are in the request's encoding (`application/x-protobuf` or
 * `application/json`). Departures from the Collector, both asked for by the OTLP specification
 * where the Collector is silent: 413 rather than 400 for an oversized body, and `partial_success`
 * filled in. Loopback only unless `allowNonLoopback` (judged when the options are resolved), like
 * the pull listener.
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

import type { ShedReason } from '../http/connection-room.ts';
import { pathOf, sendText, startHttpServer } from '../http/http-server.ts';
import type { ServerLimits } from '../http/server-limits.ts';
import { decodeExportRequest, encodingOf } from '../otlp/codec.ts';
import { decodeLimitsFor, type DecodeLimits } from '../otlp/decode-limits.ts';
import type { OtlpEncoding, OtlpPartialSuccess } from '../otlp/types.ts';
import { DecoderPool } from './decoder-pool.ts';
import {
  BodyAborted,
  chunksLength,
  joinChunks,
  readBodyChunks,
  type BodyChunks,
} from './body-chunks.ts';
import { decodeBody, decodesOffThread, isIdentity } from './content-encoding.ts';
import type { IngestGate, IngestGateOptions } from '../http/ingest-gate.ts';
import { answerOf, Refused, refusalOf, type IngestAnswer } from './ingest-errors.ts';
import type { IngestSink } from './ingest-store.ts';
import { SparePacker } from './packed-chunk.ts';

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
 * defaults and rules, the host's loopback rule and the gate keys, each checked once there), so
 * none is defaulted or checked again here.
 */
export interface IngestListenerOptions extends ServerLimits {
  /** Where decoded requests go. */
  readonly sink: IngestSink;
  /** Address to bind, as resolved (held to loopback there unless opted out). */
  readonly host: string;
  /** TCP port; 0 picks a free one (read it back from `address`). */
  readonly port: number;
  /** Who may send, compiled from the gate keys at resolution (http/ingest-gate.ts). */
  readonly gate: IngestGate;
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
   * Called once with what every request was answered (its reason: ingest-errors.ts
   * `INGEST_ANSWERS`), as the answer is written; jobmeter counts it. A throw is ignored. @default none
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
  /** What the gate in force lets through, in words, without a secret (`open (no gate configured)`). */
  gateDescription(): string;
}

/** @throws the bind's error; the options were checked when resolved. */
export async function startIngestListener(options: IngestListenerOptions): Promise<IngestListener> {
  const { host, port, maxBodyBytes, maxConcurrentRequests: maxConcurrent } = options;
  const retryAfter = options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  let gate = options.gate;

  // A sink that takes a request in parts is fed by the decoding thread; any other decodes here.
  const pool = options.sink.begin !== undefined ? new DecoderPool({ maxBodyBytes }) : undefined;
  // A body goes to the decoding thread moved (its memory handed over, not copied) unless the debug
  // printer still wants it; only then may it go as it arrived (in chunks, or compressed).
  const handOver = pool !== undefined && options.onRequest === undefined;
  const decodeLimits = decodeLimitsFor(maxBodyBytes);
  let inFlight = 0;
  // Requests whose body is in, waiting for a slot, first come first served; each is handed a slot
  // by the request that gives it back.
  const waiting: Array<(handed: boolean) => void> = [];
  const giveBackSlot = (): void => {
    const next = waiting.shift();
    if (next === undefined) inFlight--;
    else next(true);
  };
  // Bytes of bodies held by requests not yet answered; one body more than the slots, so a body
  // alone never passes it (past maxBodyBytes it is a 413).
  const bodyBudget = maxBodyBytes * (maxConcurrent + 1);
  let bodyBytes = 0;

  /** Decodes off the main thread and ingests a chunk per turn (decoder-pool.ts). */
  const ingestOffThread = async (
    body: Buffer | BodyChunks,
    encoding: OtlpEncoding,
    contentEncoding?: string,
  ): Promise<OtlpPartialSuccess> => {
    const batch = options.sink.begin!();
    await pool!.decode(body, encoding, (chunk) => batch.add(chunk), handOver, contentEncoding);
    return batch.result();
  };

  /**
   * Decodes and ingests a whole body: what the sink made of it. `hold` counts a body decompressed
   * here against the bytes in flight (it throws the 503 past them).
   */
  const ingest = async (
    chunks: BodyChunks,
    encoding: OtlpEncoding,
    contentEncoding: string | undefined,
    hold: (bytes: number) => void,
  ): Promise<OtlpPartialSuccess> => {
    // A big uncompressed body goes as the chunks it arrived in, joined on the decoding thread; a
    // snappy or LZ4 one, or one that says it inflates to a big one, compressed, inflated there.
    if (handOver && isIdentity(contentEncoding) && chunksLength(chunks) >= OFF_THREAD_BYTES)
      return ingestOffThread(chunks, encoding);
    const raw = joinChunks(chunks);
    if (handOver && decodesOffThread(contentEncoding, raw, OFF_THREAD_BYTES))
      return ingestOffThread(raw, encoding, contentEncoding);
    const body = await decodeBody(raw, contentEncoding, maxBodyBytes);
    if (!isIdentity(contentEncoding)) hold(body.length);
    const result =
      pool !== undefined && body.length >= OFF_THREAD_BYTES
        ? await ingestOffThread(body, encoding)
        : ingestHere(options.sink, body, encoding, decodeLimits);
    try {
      options.onRequest?.(body, encoding, result);
    } catch {
      // Debug output never changes the answer.
    }
    return result;
  };

  /**
   * gate → read body → slot → decode and store → respond: each step returns or throws, and what it
   * threw is answered at one place, by its reason's row (ingest-errors.ts).
   */
  const handler = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const onPath = pathOf(request.url) === METRICS_PATH;
    if (!onPath && options.health?.(request, response) === true) return;
    const encoding = encodingOf(request.headers['content-type']);

    // Received bytes count against the budget as they arrive, the slot once the body is in; both
    // are given back once, as the answer is written or when the connection goes first.
    let held = 0;
    let counted = false;
    // While waiting for a slot: its place in the line, called with whether it was handed the slot
    // (or the connection went) to stop waiting.
    let inLine: ((handed: boolean) => void) | undefined;
    const release = (): void => {
      bodyBytes -= held;
      held = 0;
      if (inLine !== undefined) {
        waiting.splice(waiting.indexOf(inLine), 1);
        inLine(false);
      }
      if (counted) giveBackSlot();
      counted = false;
    };
    response.once('close', release);
    const hold = (bytes: number): void => {
      held += bytes;
      bodyBytes += bytes;
      if (bodyBytes > bodyBudget)
        throw new Refused(
          'unavailable',
          `jobmeter is busy (request bodies past ${bodyBudget} bytes in flight); retry after ${retryAfter} s`,
        );
    };
    const takeSlot = async (): Promise<void> => {
      if (inFlight < maxConcurrent) {
        inFlight++;
        counted = true;
        return;
      }
      // Handed a slot synchronously (so a connection gone right after passes it on), resumed after.
      await new Promise<void>((resume) => {
        inLine = (handed) => {
          inLine = undefined;
          counted = handed;
          resume();
        };
        waiting.push(inLine);
      });
      if (!counted || response.destroyed)
        throw new BodyAborted('the connection closed while the request waited for a slot');
    };

    // While the body is arriving a refusal leaves the rest unread: the client may still be sending it.
    let reading = false;
    let outcome: OtlpPartialSuccess | Refused | BodyAborted;
    try {
      if (!onPath) throw new Refused('not_found');
      if (request.method !== 'POST') throw new Refused('method_not_allowed');
      // The gate before anything about the body, its type included.
      const denied = gate.check(request);
      if (denied !== undefined) throw new Refused(denied);
      if (encoding === undefined) throw new Refused('unsupported_media_type');
      reading = true;
      const chunks = await readBodyChunks(request, maxBodyBytes, hold);
      reading = false;
      await takeSlot();
      outcome = await ingest(chunks, encoding, request.headers['content-encoding'], hold);
    } catch (err) {
      outcome = err instanceof BodyAborted ? err : refusalOf(err);
    }
    release();
    // Nobody to answer: nothing written, nothing counted.
    if (response.destroyed || outcome instanceof BodyAborted) return;
    const said = answerOf(outcome, encoding, retryAfter, reading);
    try {
      options.onAnswered?.(said.answer);
    } catch {
      // Counting never changes the answer.
    }
    sendText(response, said.status, said.contentType, said.body, said.headers);
  };

  // One line per episode, not per connection: a flood closes thousands a second.
  const onShed = (reason: ShedReason, opensEpisode: boolean): void => {
    options.onShed?.(reason);
    if (opensEpisode)
      options.log?.(
        `OTLP ingest: ${options.maxConnections} connections open (ingest.maxConnections): shedding those holding room without progress (first: ${reason}) so new senders get in; counted by reason in jobmeter_ingest_connections_shed_total`,
      );
  };
  const server = await startHttpServer({
    host,
    port,
    limits: options,
    handler,
    onClosed: () => pool?.close(),
    onShed,
  });
  return {
    address: { host, port: server.port },
    close: () => server.close(),
    gateDescription: () => gate.description,
    replaceCredentials(credentials) {
      gate = gate.withCredentials(credentials);
      return gate.gated;
    },
  };
}

/**
 * A body decoded and ingested in this turn: a protobuf one's points decoded straight into columns
 * (packed-chunk.ts `PointPacker`) when the sink takes them, as the decoding thread hands them over,
 * rather than an object per point.
 */
function ingestHere(
  sink: IngestSink,
  body: Buffer,
  encoding: OtlpEncoding,
  limits: DecodeLimits,
): OtlpPartialSuccess {
  if (encoding !== 'protobuf' || sink.begin === undefined)
    return sink.ingest(decodeExportRequest(body, encoding, limits));
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
