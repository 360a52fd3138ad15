/**
 * One unary gRPC call of raw bytes (no .proto: the message is sent and answered as bytes), the way
 * the tests make every call they write by hand.
 */
import {
  Client,
  credentials,
  Metadata,
  type ChannelOptions,
  type ServiceError,
} from '@grpc/grpc-js';
import { EXPORT_PATH } from '../../src/ingest/grpc-listener.ts';

export interface UnaryCall {
  /** The method's path; `MetricsService/Export` unless given. */
  readonly path?: string;
  readonly metadata?: Metadata;
  /** Milliseconds the call may take; no deadline unless given. */
  readonly deadlineMs?: number;
  /** More channel options (a default compression, …). */
  readonly channel?: ChannelOptions;
}

/**
 * Calls `127.0.0.1:port` with `body` on a connection of its own: grpc-js shares one per target
 * otherwise, and after a restart of the peer it would wait out its reconnect backoff.
 */
export function unaryCall(
  port: number,
  body: Uint8Array,
  call: UnaryCall = {},
): Promise<{ response?: Buffer; error?: ServiceError }> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    ...call.channel,
  });
  const deadline = call.deadlineMs === undefined ? {} : { deadline: Date.now() + call.deadlineMs };
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      call.path ?? EXPORT_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(body),
      call.metadata ?? new Metadata(),
      deadline,
      (error, response) => {
        client.close();
        resolve(error === null ? { response: response! } : { error });
      },
    );
  });
}
