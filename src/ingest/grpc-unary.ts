/**
 * A unary gRPC call on an HTTP/2 stream, as the gRPC protocol over HTTP/2 writes it
 * (grpc/grpc doc/PROTOCOL-HTTP2.md): the request is one length-prefixed message (a compressed
 * flag byte, a 4-byte big-endian length, the bytes), the answer the response message and the
 * `grpc-status` trailer, or a status alone in one HEADERS frame (Trailers-Only).
 *
 * The message is read as it arrives: its length prefix is checked against the size limit before
 * any of it is kept, and every chunk is told to `hold` before it is kept, so a message costs the
 * bytes its sender sent, never the length it announced; from 64 KiB in, it is copied into one
 * buffer of its length as an HTTP body is (body-chunks.ts ArrivingBody), which moves to the
 * decoding thread whole. It is not decompressed here: the ingest
 * step inflates it as it inflates an HTTP body of the same encoding (content-encoding.ts), within
 * the same limit, on the decoding thread where the body is large or the decoder JavaScript.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';

import { ArrivingBody, BodyAborted, type BodyChunks } from './body-chunks.ts';
import { Refused } from './ingest-errors.ts';
import { TooLarge } from './too-large.ts';

/**
 * The message encodings read, as the Collector's gRPC receiver reads them (grpc-go's gzip, the
 * zstd and snappy its configgrpc registers), and deflate, which the gRPC protocol names too. Each
 * is the HTTP content coding of the same name (content-encoding.ts): snappy's framing format,
 * which grpc-go's snappy writes, is told from the block format by its stream identifier.
 */
export const MESSAGE_ENCODINGS: readonly string[] = ['gzip', 'deflate', 'zstd', 'snappy'];
/** The headers every answer starts with (a gRPC answer is HTTP 200 whatever its status). */
const HEADERS = {
  ':status': 200,
  'content-type': 'application/grpc',
  'grpc-accept-encoding': ['identity', ...MESSAGE_ENCODINGS].join(','),
};

const PREFIX_BYTES = 5;

/** One call's message as received: its bytes as sent, and whether they are compressed. */
export interface ReceivedMessage {
  readonly chunks: BodyChunks;
  readonly compressed: boolean;
}

/**
 * Reads the call's one message, telling `hold` each chunk's size before it is kept.
 * @rejects {TooLarge} when its prefix announces more than `maxBytes`; {BodyAborted} when the
 *   stream is reset or closed first; a Refused (`internal`) when the call carries no whole message,
 *   more than one, or a compressed flag the call's encoding cannot mean; what `hold` threw
 */
export function readMessage(
  stream: ServerHttp2Stream,
  maxBytes: number,
  identity: boolean,
  hold: (bytes: number) => void,
): Promise<ReceivedMessage> {
  return new Promise((resolve, reject) => {
    const prefix = Buffer.alloc(PREFIX_BYTES);
    let prefixRead = 0;
    let compressed = false;
    /** The message, once its prefix is read. */
    let body: ArrivingBody | undefined;
    const stop = (err?: unknown): void => {
      stream.off('data', onData).off('end', onEnd).off('close', onClose);
      if (err === undefined) return;
      body?.drop();
      // What is left of a refused message is read and dropped.
      stream.on('data', discard);
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    function onData(data: Buffer): void {
      try {
        let at = 0;
        while (at < data.length) {
          if (body !== undefined && body.received === body.length)
            throw new Refused('internal', 'a unary call carries one message; this one sent more');
          if (body === undefined) {
            const taken = data.copy(prefix, prefixRead, at, at + PREFIX_BYTES - prefixRead);
            prefixRead += taken;
            at += taken;
            if (prefixRead === PREFIX_BYTES) {
              compressed = prefix[0] === 1;
              body = new ArrivingBody(messageLength(prefix, maxBytes, identity), false);
            }
            continue;
          }
          const part = data.subarray(at, at + body.length - body.received);
          body.add(part, hold);
          at += part.length;
        }
      } catch (err) {
        stop(err);
      }
    }
    function onEnd(): void {
      if (body === undefined || body.received < body.length)
        stop(new Refused('internal', 'the call ended before its message was whole'));
      else {
        stop();
        resolve({ chunks: body.chunks(), compressed });
      }
    }
    function onClose(): void {
      stop(new BodyAborted('the call was cancelled before its message was whole'));
    }
    stream.on('data', onData).once('end', onEnd).once('close', onClose);
  });
}

/** The length a whole prefix announces. @throws what refuses it */
function messageLength(prefix: Buffer, maxBytes: number, identity: boolean): number {
  const flag = prefix[0]!;
  if (flag > 1) throw new Refused('internal', `compressed flag ${flag}: neither 0 nor 1`);
  // As grpc-go refuses it: the flag says compressed, the call names no compression.
  if (flag === 1 && identity)
    throw new Refused('internal', 'compressed flag set with identity or no grpc-encoding');
  const length = prefix.readUInt32BE(1);
  if (length > maxBytes)
    throw new TooLarge(`received message larger than max (${length} vs ${maxBytes})`);
  return length;
}

const discard = (): void => {};

/** The call, still open (ingest-step.ts `serve` answers no caller gone), answered OK with `message` (uncompressed). */
export function answerMessage(stream: ServerHttp2Stream, message: Uint8Array): void {
  stream.respond(HEADERS, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.writeUInt32BE(message.length, 1);
  stream.end(Buffer.concat([prefix, message]));
}

/**
 * The call answered with a status alone (Trailers-Only), its message percent-encoded and
 * `details`, a serialized google.rpc.Status, in `grpc-status-details-bin`.
 */
export function answerStatus(
  stream: ServerHttp2Stream,
  code: number,
  message: string,
  details?: Uint8Array,
): void {
  if (stream.closed || stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      ...HEADERS,
      'grpc-status': String(code),
      'grpc-message': percentEncoded(message),
      ...(details !== undefined && {
        'grpc-status-details-bin': Buffer.from(details).toString('base64'),
      }),
    },
    { endStream: true },
  );
  // A message still arriving is read and dropped; its sender ends or resets the stream.
  stream.on('data', discard);
}

/** `grpc-message`'s encoding: bytes outside printable ASCII, and `%`, as `%XX` (UTF-8). */
function percentEncoded(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text))
    encoded +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).padStart(2, '0')}`;
  return encoded;
}

/** Whether a request is a gRPC call (its Content-Type `application/grpc`, `+proto` or other). */
export function isGrpcCall(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'] ?? '';
  return headers[':method'] === 'POST' && /^application\/grpc(?:[+;]|$)/.test(type);
}
