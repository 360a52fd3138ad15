/**
 * The ingest's body reader: a request body as the chunks it arrived in. Joining them into one
 * Buffer on the main thread is, for a 20 MiB body, a copy into thousands of fresh pages, long
 * enough to hold the event loop, so a body bound for the decoding thread is joined there instead
 * (decoder-pool.ts), and only the others here ({@link joinChunks}).
 *
 * It stops reading at the first refusal: a declared Content-Length or a body past `limit` is
 * {@link TooLarge} (before any byte is read for the first), and whatever `onChunk` throws (the
 * listener's budget across requests) is passed on as it is. A request that ends early (the client
 * went) rejects with {@link BodyAborted}. Node's parser already refuses a body that does not match
 * its Content-Length or chunked framing.
 */
import type { IncomingMessage } from 'node:http';

import { TooLarge } from './too-large.ts';

export type BodyChunks = readonly Buffer[];

/** The request ended before its body did (the client closed or reset the connection). */
export class BodyAborted extends Error {}

/**
 * @param onChunk told the size of every chunk as it arrives, before it is kept; a throw refuses the body
 * @rejects {TooLarge} past `limit`; {BodyAborted}; what `onChunk` threw
 */
export function readBodyChunks(request: IncomingMessage, limit: number, onChunk: (bytes: number) => void): Promise<BodyChunks> {
  return new Promise((resolve, reject) => {
    if (Number(request.headers['content-length']) > limit) {
      reject(new TooLarge(`request body larger than ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = (err: unknown): void => {
      request.removeListener('data', onData).removeListener('end', onEnd).removeListener('error', stop).removeListener('close', onClose);
      if (err === undefined) return;
      // What is left of a refused body is read and dropped until the connection closes.
      request.resume();
      reject(err);
    };
    function onData(chunk: Buffer): void {
      received += chunk.length;
      if (received > limit) {
        stop(new TooLarge(`request body larger than ${limit} bytes`));
        return;
      }
      try {
        onChunk(chunk.length);
      } catch (err) {
        stop(err);
        return;
      }
      chunks.push(chunk);
    }
    function onEnd(): void {
      stop(undefined);
      resolve(chunks);
    }
    function onClose(): void {
      stop(new BodyAborted('request body not complete: the connection closed'));
    }
    request.on('data', onData).on('end', onEnd).on('error', stop).on('close', onClose);
  });
}

export function chunksLength(chunks: BodyChunks): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/** The chunks copied into one Buffer of its own (never a view of a read buffer). */
export function joinChunks(chunks: BodyChunks): Buffer {
  return Buffer.concat(chunks as Buffer[]);
}
