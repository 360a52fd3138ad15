/**
 * The OTLP/gRPC ingest front: `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`,
 * unary, over HTTP/2 (@grpc/grpc-js), answering as the Collector's OTLP receiver does on 4317, so
 * a Collector's `otlp` exporter, Go's `otlpmetricgrpc` or JS's `exporter-metrics-otlp-grpc` can
 * point at `jobmeter serve`. The service is declared by hand with Buffers in and out, so the
 * request's bytes go through the ingest step (ingest-step.ts) as an OTLP/HTTP protobuf body does:
 * the same decoder, slots, bytes in flight, store and limits; no .proto is loaded.
 *
 * | request                                              | answer (gRPC status)                               |
 * |------------------------------------------------------|----------------------------------------------------|
 * | another method                                       | UNIMPLEMENTED (grpc-js)                            |
 * | a message past `maxBodyBytes`, as sent or inflated   | RESOURCE_EXHAUSTED (grpc-js `grpc.max_receive_message_length`) |
 * | refused by the gate (`authorization` metadata, peer) | UNAUTHENTICATED, or PERMISSION_DENIED outside the trusted networks (the HTTP front's 401 and 403) |
 * | a message that does not decode                       | INVALID_ARGUMENT                                   |
 * | past the decode limits (decode-limits.ts)            | RESOURCE_EXHAUSTED                                 |
 * | bodies in flight past their bound (ingest-step.ts)   | UNAVAILABLE with `google.rpc.RetryInfo` (OTLP/gRPC: a server that is overloaded) |
 * | any other failure                                    | INTERNAL                                           |
 * | success                                              | OK, ExportMetricsServiceResponse; `partial_success` when points were refused |
 *
 * Each answer the handler makes is reported once (`onAnswered`), by its reason's row
 * (ingest-errors.ts): the status is the row's google.rpc code, the code space gRPC's status uses,
 * but RESOURCE_EXHAUSTED for a message too large, as gRPC answers its own size limit. grpc-js's
 * own answers (UNIMPLEMENTED, a message past the size limit) do not pass the handler.
 *
 * Connections are accepted by a net.Server of jobmeter's and handed to grpc-js; each holds at most
 * `maxConcurrentRequests` streams, is pinged every `idleTimeoutMillis` to find dead peers
 * (keepalive), and is closed after `idleTimeoutMillis` with no call. Past `maxConnections` the room
 * is kept as the HTTP listeners keep theirs (http/connection-room.ts): the connection longest
 * without progress (no byte read since it was last looked at) is closed for the newcomer, so
 * clients that hold connections without calling (silent, the HTTP/2 preface alone, a message that
 * never arrives) cost themselves, not the senders that call (test/e2e/grpc-stall-flood.test.ts).
 * Node's own `maxConnections` would close the newcomer instead, and a few hundred stalled
 * connections would lock every sender out until their idle timeout.
 */
import type { Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';

import {
  Metadata,
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';

import { keepRoom, type OnShed } from '../http/connection-room.ts';
import type { IngestGate } from '../http/ingest-gate.ts';
import { CLOSE_GRACE_MILLIS, type ServerLimits } from '../http/server-limits.ts';
import { encodeExportResponse } from '../otlp/codec.ts';
import type { OtlpPartialSuccess } from '../otlp/types.ts';
import { BodyAborted } from './body-chunks.ts';
import { INGEST_ANSWERS, Refused, refusalOf, type IngestAnswer } from './ingest-errors.ts';
import { GRPC_CODES } from './grpc-codes.ts';
import type { AnsweredRequest, IngestStep } from './ingest-step.ts';

export const EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

const bytes = (b: Buffer): Buffer => b;
/** The service, its messages left as bytes: the ingest step decodes the request. */
const METRICS_SERVICE: ServiceDefinition = {
  Export: {
    path: EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
};

export interface GrpcFrontOptions extends ServerLimits {
  readonly host: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  readonly step: IngestStep;
  /** The gate in force (it may be rotated between calls). */
  readonly gate: () => IngestGate;
  /** Largest message, as sent and once inflated; past it RESOURCE_EXHAUSTED. */
  readonly maxBodyBytes: number;
  /** Streams one connection may have open at once. */
  readonly maxConcurrentRequests: number;
  /** What every call the handler answered was answered (its reason), and the call. A throw is ignored. */
  readonly onAnswered?: (answer: IngestAnswer, request: AnsweredRequest) => void;
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
  const server = new Server({
    'grpc.max_receive_message_length': options.maxBodyBytes,
    'grpc.max_concurrent_streams': options.maxConcurrentRequests,
    'grpc.keepalive_time_ms': idleTimeoutMillis,
    'grpc.keepalive_timeout_ms': Math.min(20_000, idleTimeoutMillis),
    'grpc.max_connection_idle_ms': idleTimeoutMillis,
  });

  /** The call's outcome, and the bytes of its message taken (none when refused before). */
  const exportCall = async (
    call: ServerUnaryCall<Buffer, Buffer>,
  ): Promise<{ outcome: Said; bytes: number }> => {
    const peer = peerAddress(call.getPeer());
    const denied = options.gate().check({
      socket: { remoteAddress: peer },
      headers: { authorization: metadataText(call.metadata, 'authorization') },
    });
    if (denied !== undefined) return { outcome: new Refused(denied), bytes: 0 };
    return step.run({
      encoding: 'protobuf',
      // grpc-js inflated it (within the size limit).
      contentEncoding: undefined,
      read: (hold) => {
        hold(call.request.length);
        return Promise.resolve([call.request]);
      },
      onGone: (release) => call.once('cancelled', release),
      gone: () => call.cancelled,
      peer,
    });
  };

  server.addService(METRICS_SERVICE, {
    Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      const started = performance.now();
      exportCall(call)
        .catch((err: unknown) => ({ outcome: refusalOf(err), bytes: 0 }))
        .then(({ outcome, bytes }) => {
          // Nobody to answer: nothing sent, nothing counted.
          if (call.cancelled || outcome instanceof BodyAborted) return;
          const answer = outcome instanceof Refused ? outcome.reason : acceptedAs(outcome);
          try {
            options.onAnswered?.(answer, {
              protocol: 'grpc',
              seconds: (performance.now() - started) / 1000,
              bytes,
            });
          } catch {
            // Counting never changes the answer.
          }
          if (outcome instanceof Refused) callback(statusOf(outcome, step.retryAfterSeconds));
          else callback(null, encodeExportResponse(outcome, 'protobuf'));
        }, callback);
    },
  });

  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const listener = createServer((socket) => injector.injectConnection(socket));
  // The room reads only 'connection' events and each socket's bytes, which a net.Server has as an
  // http.Server does; with no 'request' event here, every connection is ranked by progress alone.
  keepRoom(listener as unknown as HttpServer, options.maxConnections, options.onShed);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port, options.host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const { port } = listener.address() as { port: number };

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    listener.close();
    // Calls in flight get the close grace the HTTP front gives, then what is left is cut.
    injector.drain(CLOSE_GRACE_MILLIS);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        injector.destroy();
        resolve();
      }, CLOSE_GRACE_MILLIS);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    injector.destroy();
  };
  return { port, close: () => (closing ??= close()) };
}

type Said = OtlpPartialSuccess | Refused | BodyAborted;

/** An ingested request's answer (ingest-errors.ts `answerOf` says the same of an HTTP one). */
function acceptedAs(result: OtlpPartialSuccess): IngestAnswer {
  return result.rejectedDataPoints > 0 ? 'partial' : 'accepted';
}

/**
 * A refusal as the gRPC status it is answered with: its row's google.rpc code, RESOURCE_EXHAUSTED
 * for a message too large; a shed one carries `google.rpc.RetryInfo` in `grpc-status-details-bin`,
 * which the Collector's and Go's exporters wait for before retrying.
 */
function statusOf(refused: Refused, retryAfterSeconds: number) {
  const row = INGEST_ANSWERS[refused.reason];
  const code = GRPC_CODES[refused.reason]!;
  const metadata = new Metadata();
  if (row.retryAfter)
    metadata.set('grpc-status-details-bin', retryStatus(code, refused.message, retryAfterSeconds));
  return { code, details: refused.message, metadata };
}

/** A google.rpc.Status with one `google.rpc.RetryInfo` detail (its `retry_delay`, in seconds). */
function retryStatus(code: number, message: string, seconds: number): Buffer {
  const delay = protobuf.Writer.create().uint32(8).int64(seconds).finish();
  const retryInfo = protobuf.Writer.create().uint32(10).bytes(delay).finish();
  const any = protobuf.Writer.create()
    .uint32(10)
    .string('type.googleapis.com/google.rpc.RetryInfo')
    .uint32(18)
    .bytes(retryInfo)
    .finish();
  const status = protobuf.Writer.create().uint32(8).int32(code).uint32(18).string(message);
  return Buffer.from(status.uint32(26).bytes(any).finish());
}

/** grpc-js's peer (`address:port`) as the address alone, as the gate reads a socket's. */
function peerAddress(peer: string): string {
  const at = peer.lastIndexOf(':');
  return at < 0 ? peer : peer.slice(0, at);
}

function metadataText(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}
