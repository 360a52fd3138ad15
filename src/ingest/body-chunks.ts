/**
 * The ingest's body reader (a fastify content-type parser): the request body as the chunks it
 * arrived in. fastify's own `parseAs: 'buffer'` joins them into one Buffer on the main thread —
 * for a 20 MiB body a copy into thousands of fresh pages, long enough to hold the event loop — so
 * a body bound for the decoding thread is joined there instead (decoder-pool.ts), and only the
 * others here ({@link joinChunks}).
 *
 * Its limits and answers are fastify's, as with `parseAs`: a Content-Length or a body past
 * `limit` is FST_ERR_CTP_BODY_TOO_LARGE (413), a body that is not as long as its Content-Length
 * FST_ERR_CTP_INVALID_CONTENT_LENGTH (400), a stream error 400 unless it carries its own status.
 */
import { errorCodes, type FastifyRequest } from 'fastify';

export type BodyChunks = readonly Buffer[];

export function readBodyChunks(limit: number) {
  return (request: FastifyRequest, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: BodyChunks) => void): void => {
    const declared = Number(request.headers['content-length']);
    if (declared > limit) {
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = (): void => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    function onData(chunk: Buffer | string): void {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += bytes.length;
      if (received > limit) {
        stop();
        done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
        return;
      }
      chunks.push(bytes);
    }
    function onEnd(err?: Error & { statusCode?: number }): void {
      stop();
      if (err != null) {
        if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
        done(err);
        return;
      }
      if (!Number.isNaN(declared) && received !== declared) {
        done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      done(null, chunks);
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  };
}

export function chunksLength(chunks: BodyChunks): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/** The chunks copied into one Buffer of its own (as fastify's `parseAs` does: never a view of a read buffer). */
export function joinChunks(chunks: BodyChunks): Buffer {
  return Buffer.concat(chunks as Buffer[]);
}
