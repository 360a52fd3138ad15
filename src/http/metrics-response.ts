/**
 * One scrape, from request headers to a response body: negotiation, rendering and compression.
 * Shared by the dedicated listener and the host-app plugin so both answer alike.
 *
 * The exposition is rendered in pieces (`renderStream`: whole lines, ~64 KiB each), giving the
 * event loop back every few milliseconds, and compressed as a stream (zlib runs on libuv's pool),
 * so a 110 000-series scrape (~15 MB) never holds the host's event loop for more than a slice.
 * The body is kept as those pieces, never joined into one string or Buffer, and written in slices
 * too ({@link bodyStream}).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import { acceptsGzip, negotiateFormat } from '../exposition/negotiate.ts';
import { renderJson, type JsonShape } from '../exposition/json.ts';
import { DEFAULT_SLICE_MILLIS, renderStream } from '../exposition/stream.ts';
import { CONTENT_TYPE, type ExpositionFormat, type Family } from '../exposition/types.ts';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export interface MetricsResponse {
  readonly contentType: string;
  readonly contentEncoding: 'gzip' | undefined;
  /** The body, in the pieces it was rendered (and compressed) in. */
  readonly body: readonly Buffer[];
  /** Bytes in `body` (the `Content-Length`). */
  readonly length: number;
}

/** A body of one piece (errors, small answers). */
export function bodyOf(text: string): Pick<MetricsResponse, 'body' | 'length'> {
  const b = Buffer.from(text, 'utf8');
  return { body: [b], length: b.length };
}

/**
 * The body as a stream for the response to pipe, giving the event loop back whenever writing has
 * held it for `sliceMillis`. Piped as it is, a body is written in one turn of the event loop as
 * long as the socket takes it: each write completes at once and the pipe's `drain` and `resume`
 * are `nextTick`s. On loopback, with the client reading on the other core, the kernel took a whole
 * 15 MB body at once (231 writes, 9–12 ms in the writes plus the stream machinery, right after the
 * last rendering slice, in the same turn): the longest block of a socket-served scrape
 * (bench/event-loop.ts, "over a socket").
 */
export function bodyStream(body: readonly Buffer[], sliceMillis = DEFAULT_SLICE_MILLIS): Readable {
  return Readable.from(sliced(body, sliceMillis), { objectMode: false });
}

async function* sliced(body: readonly Buffer[], sliceMillis: number): AsyncGenerator<Buffer, void, undefined> {
  // The body is complete when the last rendering slice ends, and that slice may have used its
  // whole budget: start writing in a turn of its own.
  await nextTurn();
  let start = performance.now();
  for (const piece of body) {
    yield piece;
    // Measured after the pipe's turn: the generator resumes when the response wants the next
    // piece, after the previous one was written.
    if (performance.now() - start >= sliceMillis) {
      await nextTurn();
      start = performance.now();
    }
  }
}

/** Collects `pieces`, through gzip when asked; awaiting the pieces is what gives the event loop back. */
async function collect(pieces: AsyncIterable<Buffer> | Iterable<Buffer>, gzip: boolean): Promise<Pick<MetricsResponse, 'body' | 'length'>> {
  const body: Buffer[] = [];
  let length = 0;
  const keep = async (source: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> => {
    for await (const piece of source) {
      body.push(piece);
      length += piece.length;
    }
  };
  if (gzip) await pipeline(Readable.from(pieces, { objectMode: false }), createGzip(), keep);
  // Straight from the renderer: a Readable in between only adds stream bookkeeping to every piece.
  else await keep(pieces);
  return { body, length };
}

export interface ScrapeRequest {
  readonly accept: string | undefined;
  readonly acceptEncoding: string | undefined;
  /** `?format=json` asked for the JSON view. */
  readonly json?: boolean;
}

/** How this endpoint renders `?format=json`. */
export interface JsonView {
  readonly shape: JsonShape;
  readonly prefix?: string;
  /** Extra top-level members (wasmrun's `sessions` array in open mode); undefined adds none. */
  readonly extra?: () => Record<string, unknown> | undefined;
}

/**
 * `format` forces a format when the profile (or the operator) wants one regardless of `Accept`.
 * Rendering gives the event loop back between slices; compression runs on libuv's pool.
 */
export async function buildMetricsResponse(
  families: readonly Family[],
  request: ScrapeRequest,
  format: 'negotiate' | ExpositionFormat,
  json: JsonView = { shape: 'generic' },
): Promise<MetricsResponse> {
  let contentType: string;
  let pieces: AsyncIterable<Buffer> | Iterable<Buffer>;
  const gzip = acceptsGzip(request.acceptEncoding);
  if (request.json) {
    contentType = JSON_CONTENT_TYPE;
    const extra = json.extra?.();
    const text = renderJson(families, json.shape, { ...(json.prefix !== undefined ? { prefix: json.prefix } : {}), ...(extra ? { extra } : {}) });
    // One piece already: nothing to collect.
    if (!gzip) return { contentType, contentEncoding: undefined, ...bodyOf(text) };
    pieces = [Buffer.from(text, 'utf8')];
  } else {
    const chosen = format === 'negotiate' ? negotiateFormat(request.accept) : format;
    contentType = CONTENT_TYPE[chosen];
    pieces = renderStream(chosen, families);
  }
  return { contentType, contentEncoding: gzip ? 'gzip' : undefined, ...(await collect(pieces, gzip)) };
}
