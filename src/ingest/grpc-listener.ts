/**
 * The OTLP/gRPC ingest front: `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`,
 * unary, over HTTP/2, answering as the Collector's OTLP receiver does on 4317, so a Collector's
 * `otlp_grpc` exporter, Go's `otlpmetricgrpc` or JS's `exporter-metrics-otlp-grpc` can point at
 * `jobmeter serve`. The request's message goes through the ingest step (ingest-step.ts) as an
 * OTLP/HTTP protobuf body does: the same decompression, decoder, slots, bytes in flight, store and
 * limits; no .proto is loaded.
 *
 * A server of jobmeter's own on node:http2 (grpc-unary.ts reads and answers a call), not
 * @grpc/grpc-js: grpc-js's server inflates identity, deflate and gzip alone and takes no other
 * decompressor, while the Collector's reads zstd and snappy too, so an exporter set to
 * `compression: zstd` or `snappy` would be refused for good (the zstd and snappy rows of the
 * gRPC column, docs/collector.md, test/e2e/bad-requests.test.ts).
 *
 * | request                                              | answer (gRPC status)                               |
 * |------------------------------------------------------|----------------------------------------------------|
 * | another method or service                            | UNIMPLEMENTED                                      |
 * | a `grpc-encoding` not read (grpc-unary.ts MESSAGE_ENCODINGS) | UNIMPLEMENTED, `grpc-accept-encoding` naming those read |
 * | a message past `maxBodyBytes`, as sent or inflated   | RESOURCE_EXHAUSTED                                 |
 * | refused by the gate (`authorization` metadata, peer) | UNAUTHENTICATED, or PERMISSION_DENIED outside the trusted networks (the HTTP front's 401 and 403) |
 * | a message that does not decode or inflate            | INVALID_ARGUMENT                                   |
 * | past the decode limits (decode-limits.ts)            | RESOURCE_EXHAUSTED                                 |
 * | bodies in flight past their bound (ingest-step.ts)   | UNAVAILABLE with `google.rpc.RetryInfo` (OTLP/gRPC: a server that is overloaded) |
 * | no whole message, more than one, a compressed flag under `identity`, any other failure | INTERNAL |
 * | success                                              | OK, ExportMetricsServiceResponse; `partial_success` when points were refused |
 *
 * Each Export call answered is reported once (`onAnswered`), by its reason's row
 * (ingest-errors.ts): the status is the row's google.rpc code, the code space gRPC's status uses,
 * but RESOURCE_EXHAUSTED for a message too large, as gRPC answers its size limit (`GRPC_CODES`).
 * The UNIMPLEMENTED answers, and a request that is no gRPC call (HTTP 415), are not.
 *
 * Connections are accepted by a net.Server of jobmeter's and handed to the HTTP/2 server; each
 * holds at most `maxConcurrentRequests` streams (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS), is pinged
 * every `idleTimeoutMillis` and closed when a ping goes unanswered (keepalive: a dead peer), and is
 * closed (GOAWAY) after `idleTimeoutMillis` with no call. Past `maxConnections` the room is kept as
 * the HTTP listeners keep theirs (http/connection-room.ts): the connection longest without
 * progress (no byte read since it was last looked at) is closed for the newcomer, so clients that
 * hold connections without calling (silent, the HTTP/2 preface alone, a message that never
 * arrives) cost themselves, not the senders that call (test/e2e/grpc-stall-flood.test.ts). Node's
 * own `maxConnections` would close the newcomer instead, and a few hundred stalled connections
 * would lock every sender out until their idle timeout.
 */
import { once } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import {
  createServer,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createNetServer } from 'node:net';

import protobuf from 'protobufjs/minimal.js';

import { keepRoom, type OnShed } from '../http/connection-room.ts';
import type { Gate } from '../http/gate.ts';
import { CLOSE_GRACE_MILLIS, type ServerLimits } from '../http/server-limits.ts';
import { encodeExportResponse, otlpTypes } from '../otlp/codec.ts';
import { RPC_CODE } from '../otlp/types.ts';
import { GRPC_CODES, INGEST_ANSWERS, Refused } from './ingest-errors.ts';
import {
  answerMessage,
  answerStatus,
  isGrpcCall,
  MESSAGE_ENCODINGS,
  readMessage,
} from './grpc-unary.ts';
import type { IngestRequest, IngestStep } from './ingest-step.ts';
import { withinMillis } from '../common/within-millis.ts';

export const EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

/** How long a keepalive ping may go unanswered before its connection is closed. */
const PING_TIMEOUT_MILLIS = 20_000;
/**
 * HTTP/2 flow-control windows, a stream's and the connection's. At HTTP/2's 64 KiB a sender of an
 * 8 MiB message waits for a WINDOW_UPDATE 128 times, each a turn of both processes; the
 * ingest-grpc-points rows of bench/README.md (4 senders of one 110k-series body) measure what the
 * larger windows give. What a connection may send unread stays bounded: the call's reader takes
 * every chunk as it comes and counts it against the bytes in flight (grpc-unary.ts), so at most
 * the connection's window waits in Node's buffers.
 */
const STREAM_WINDOW_BYTES = 1 << 20;
const CONNECTION_WINDOW_BYTES = 2 << 20;

export interface GrpcFrontOptions extends ServerLimits {
  readonly host: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  readonly step: IngestStep;
  /** The gate in force (it may be rotated between calls). */
  readonly gate: () => Gate;
  /** Largest message, as sent and once inflated; past it RESOURCE_EXHAUSTED. */
  readonly maxBodyBytes: number;
  /** Streams one connection may have open at once. */
  readonly maxConcurrentRequests: number;
  /** Told of each connection closed to keep room (as the HTTP front's). */
  readonly onShed?: OnShed;
}

export interface GrpcFront {
  readonly port: number;
  close(): Promise<void>;
}

/** @throws the bind's error. */
export async function startGrpcFront(options: GrpcFrontOptions): Promise<GrpcFront> {
  const { step, idleTimeoutMillis } = options;
  const server = createServer({
    settings: {
      maxConcurrentStreams: options.maxConcurrentRequests,
      initialWindowSize: STREAM_WINDOW_BYTES,
    },
  });

  /** An Export call, through the gate and the ingest step, answered as its outcome's gRPC status. */
  const onExport = (
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    messageEncoding: string,
  ): void => {
    const gone = (): boolean => stream.closed || stream.destroyed;
    const prepare = (): IngestRequest => {
      const peer = stream.session?.socket?.remoteAddress;
      const denied = options.gate().check({
        socket: { remoteAddress: peer },
        headers: { authorization: headers.authorization },
      });
      if (denied !== undefined) throw new Refused(denied);
      const request: { -readonly [K in keyof IngestRequest]: IngestRequest[K] } = {
        encoding: 'protobuf',
        // Known once the message's flag is read; the step reads it after `read`.
        contentEncoding: undefined,
        read: async (hold) => {
          const { chunks, compressed } = await readMessage(
            stream,
            options.maxBodyBytes,
            messageEncoding === 'identity',
            hold,
          );
          if (compressed) request.contentEncoding = messageEncoding;
          return chunks;
        },
        onGone: (release) => stream.once('close', release),
        gone,
        peer,
      };
      return request;
    };
    step
      .serve('grpc', gone, prepare, (outcome) => {
        if (!(outcome instanceof Refused))
          return answerMessage(stream, encodeExportResponse(outcome, 'protobuf'));
        // Its row's google.rpc code, RESOURCE_EXHAUSTED for a message too large; a shed one carries
        // `google.rpc.RetryInfo` in `grpc-status-details-bin`, which the Collector's and Go's
        // exporters wait for before retrying.
        const code = GRPC_CODES[outcome.reason]!;
        const { message, reason } = outcome;
        const retry = INGEST_ANSWERS[reason].retryAfter;
        const details = retry && retryStatus(code, message, step.retryAfterSeconds);
        answerStatus(stream, code, message, details);
      })
      .catch(() => stream.destroy());
  };

  server.on('stream', (stream, headers) => {
    // A stream reset or failed is closed: the call's reader and `onGone` hear of it.
    stream.on('error', () => {});
    if (!isGrpcCall(headers)) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const path = headers[':path'];
    if (path !== EXPORT_PATH) {
      answerStatus(stream, RPC_CODE.UNIMPLEMENTED, `unknown method ${path}`);
      return;
    }
    const messageEncoding = String(headers['grpc-encoding'] ?? 'identity')
      .trim()
      .toLowerCase();
    if (messageEncoding !== 'identity' && !MESSAGE_ENCODINGS.includes(messageEncoding)) {
      answerStatus(
        stream,
        RPC_CODE.UNIMPLEMENTED,
        `grpc-encoding "${messageEncoding}" is not read (read: identity, ${MESSAGE_ENCODINGS.join(', ')})`,
      );
      return;
    }
    onExport(stream, headers, messageEncoding);
  });

  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    session.on('error', () => {});
    keepAlive(session, idleTimeoutMillis);
    session.once('close', () => sessions.delete(session));
  });

  const listener = createNetServer((socket) => server.emit('connection', socket));
  // The room reads only 'connection' events and each socket's bytes, which a net.Server has as an
  // http.Server does; with no 'request' event here, every connection is ranked by progress alone.
  // (Not on the HTTP/2 server: a 'request' listener there turns on its compatibility API.)
  keepRoom(listener as unknown as HttpServer, options.maxConnections, options.onShed);
  // Rejects with the listener's 'error' (address in use, permission) if it comes first.
  await once(listener.listen(options.port, options.host), 'listening');
  const { port } = listener.address() as { port: number };

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    listener.close();
    // Calls in flight get the close grace the HTTP front gives, then what is left is cut.
    const ended = [...sessions].map((session) => {
      session.close();
      return new Promise((resolve) => session.once('close', resolve));
    });
    await withinMillis(Promise.all(ended), CLOSE_GRACE_MILLIS);
    for (const session of sessions) session.destroy();
  };
  return { port, close: () => (closing ??= close()) };
}

/**
 * Pings `session` every `idleMillis` (closed when a ping goes unanswered: a dead peer) and closes
 * it gracefully once it has had no call for `idleMillis`.
 */
function keepAlive(session: ServerHttp2Session, idleMillis: number): void {
  let calls = 0;
  let idle: NodeJS.Timeout | undefined;
  const waitIdle = (): void => {
    idle = setTimeout(() => session.close(), idleMillis).unref();
  };
  session.on('stream', (stream: ServerHttp2Stream) => {
    calls++;
    clearTimeout(idle);
    stream.once('close', () => {
      if (--calls === 0 && !session.closed) waitIdle();
    });
  });
  const pings = setInterval(() => {
    // Destroyed by the last ping's timeout, due in the same turn: 'close' comes after.
    if (session.destroyed) return;
    const unanswered = setTimeout(
      () => session.destroy(),
      Math.min(PING_TIMEOUT_MILLIS, idleMillis),
    ).unref();
    const sent = session.ping((err) => {
      clearTimeout(unanswered);
      if (err !== null) session.destroy();
    });
    if (!sent) clearTimeout(unanswered);
  }, idleMillis).unref();
  session.once('close', () => {
    clearInterval(pings);
    clearTimeout(idle);
  });
  waitIdle();
}

/** A google.rpc.Status with one `google.rpc.RetryInfo` detail (its `retry_delay`, in seconds). */
function retryStatus(code: number, message: string, seconds: number): Uint8Array {
  // RetryInfo { retry_delay: Duration { seconds } }, which the descriptor has no type for.
  const delay = protobuf.Writer.create().uint32(8).int64(seconds).finish();
  const value = protobuf.Writer.create().uint32(10).bytes(delay).finish();
  const details = [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value }];
  const { status } = otlpTypes();
  return status.encode(status.fromObject({ code, message, details })).finish();
}
