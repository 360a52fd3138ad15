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
 * | refused by the gate (http/gate.ts), body unread                    | 401 `unauthorized` or 403 `forbidden`                              |
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
 * A request takes a slot of the ingest step (ingest-step.ts) once its body has arrived: a body still
 * trickling in holds a connection, never a slot, and that connection is the first closed when a new
 * one needs room under `maxConnections` (connection-room.ts; bounded in time by
 * `requestTimeoutMillis`, server-limits.ts), so stalled senders cannot lock real ones out. A
 * request shed for the bytes in flight is answered 503 with `Retry-After` (as OTLP/HTTP asks of a
 * server that is overloaded), and its connection closed when its body was still arriving.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ShedReason } from '../http/connection-room.ts';
import { pathOf, sendText, startHttpServer } from '../http/http-server.ts';
import type { Gate, GateConfig } from '../http/gate.ts';
import type { ServerLimits } from '../http/server-limits.ts';
import { encodingOf } from '../otlp/codec.ts';
import { readBodyChunks } from './body-chunks.ts';
import { answerOf, Refused } from './ingest-errors.ts';
import { ingestStep, type IngestRequest, type IngestStepOptions } from './ingest-step.ts';
import type { Log } from '../common/log.ts';

const METRICS_PATH = '/v1/metrics';

/**
 * The option values are resolved ones (resolve-options.ts `resolveIngest`: the option table's
 * defaults and rules, the host's loopback rule and the gate keys, each checked once there), so
 * none is defaulted or checked again here.
 */
export interface IngestListenerOptions extends ServerLimits, IngestStepOptions {
  /** Address to bind, as resolved (held to loopback there unless opted out). */
  readonly host: string;
  /** TCP port; 0 picks a free one (read it back from `address`). */
  readonly port: number;
  /**
   * TCP port of the OTLP/gRPC front (grpc-listener.ts) on `host`, sharing this listener's gate and
   * ingest step; 0 picks a free one (read it back from `grpcAddress`). @default none (no gRPC front)
   */
  readonly grpcPort?: number | undefined;
  /** Who may send, compiled from the gate keys at resolution (http/gate.ts). */
  readonly gate: Gate;
  /**
   * Called with what every connection closed to keep room under `maxConnections` held
   * (connection-room.ts; jobmeter counts it). A throw is ignored. @default none
   */
  readonly onShed?: (reason: ShedReason) => void;
  /** Where the line opening each episode of shedding connections goes. @default none */
  readonly log?: Log;
  /**
   * Answers `/health` and `/ready` as every listener of serve does (http/health-route.ts
   * `answerHealth`); true when it answered. Ungated, like the main server's. @default none (404)
   */
  readonly health?: (request: IncomingMessage, response: ServerResponse) => boolean;
}

export interface IngestListener {
  /** The bound address (the real port when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
  /** The gRPC front's bound address; undefined without `grpcPort`. */
  readonly grpcAddress: { readonly host: string; readonly port: number } | undefined;
  /** Stops accepting, closes idle connections, lets requests in flight finish within a grace (server-limits.ts). Idempotent. */
  close(): Promise<void>;
  /**
   * Rotates the gate's token and API keys (a SIGHUP), its trusted networks kept; the next request
   * is checked against them. Returns whether a gate is in force after it.
   * @throws ConfigError for a credential that cannot be used (the running gate stays).
   */
  replaceCredentials(credentials: Pick<GateConfig, 'token' | 'apiKeys'>): boolean;
  /** What the gate in force lets through, in words, without a secret (`open (no gate configured)`). */
  gateDescription(): string;
}

/** @throws the bind's error; the options were checked when resolved. */
export async function startIngestListener(options: IngestListenerOptions): Promise<IngestListener> {
  const { host, port, maxBodyBytes } = options;
  let gate = options.gate;
  const step = ingestStep(options);

  /**
   * path → method → gate → media type → the ingest step (body, slot, decode and store) → respond:
   * each step returns or throws, and what it threw is answered at one place, by its reason's row
   * (ingest-errors.ts).
   */
  const handler = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const onPath = pathOf(request.url) === METRICS_PATH;
    if (!onPath && options.health?.(request, response) === true) return;
    const encoding = encodingOf(request.headers['content-type']);
    const gone = (): boolean => response.destroyed;
    const prepare = (): IngestRequest => {
      if (!onPath) throw new Refused('not_found');
      if (request.method !== 'POST') throw new Refused('method_not_allowed');
      // The gate before anything about the body, its type included.
      const denied = gate.check(request);
      if (denied !== undefined) throw new Refused(denied);
      if (encoding === undefined) throw new Refused('unsupported_media_type');
      return {
        encoding,
        contentEncoding: request.headers['content-encoding'],
        read: (hold) => readBodyChunks(request, maxBodyBytes, hold),
        onGone: (release) => response.once('close', release),
        gone,
        peer: request.socket.remoteAddress,
      };
    };
    await step.serve('http', gone, prepare, (outcome, bodyLeft) => {
      const said = answerOf(outcome, encoding, step.retryAfterSeconds, bodyLeft);
      sendText(response, said.status, said.contentType, said.body, said.headers);
    });
  };

  // One line per episode, not per connection: a flood closes thousands a second.
  const onShed = (reason: ShedReason, opensEpisode: boolean): void => {
    options.onShed?.(reason);
    if (opensEpisode)
      options.log?.(
        'warn',
        'OTLP ingest shedding connections holding room without progress',
        { max_connections: options.maxConnections, reason },
        `OTLP ingest: ${options.maxConnections} connections open (ingest.maxConnections): shedding those holding room without progress (first: ${reason}) so new senders get in; counted by reason in jobmeter_ingest_connections_shed_total`,
      );
  };
  const server = await startHttpServer({
    host,
    port,
    limits: options,
    handler,
    onShed,
  });
  // Loaded only where asked for: a start without gRPC loads neither node:http2 nor the front.
  const grpc =
    options.grpcPort === undefined
      ? undefined
      : await import('./grpc-listener.ts')
          .then(({ startGrpcFront }) =>
            startGrpcFront({ ...options, port: options.grpcPort!, step, gate: () => gate }),
          )
          .catch(async (err: unknown) => {
            await Promise.all([server.close(), step.close()]);
            throw err;
          });
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    await Promise.all([server.close(), grpc?.close()]);
    await step.close();
  };
  return {
    address: { host, port: server.port },
    grpcAddress: grpc && { host, port: grpc.port },
    close: () => (closing ??= close()),
    gateDescription: () => gate.description,
    replaceCredentials(credentials) {
      gate = gate.withCredentials(credentials);
      return gate.gated;
    },
  };
}
