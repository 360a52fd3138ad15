/**
 * One scrape, from request headers to a response body: negotiation, rendering and compression.
 * Shared by the dedicated listener and the host-app plugin so both answer alike.
 *
 * The exposition is rendered in pieces (`renderStream`: whole lines, ~64 KiB each), giving the
 * event loop back every few milliseconds, and compressed as a stream (zlib runs on libuv's pool),
 * so a 110 000-series scrape (~15 MB) never holds the host's event loop for more than a slice.
 * The body is written in slices too ({@link bodyStream}), and kept in storage reused from one
 * scrape to the next rather than in fresh Buffers (see {@link Storage}).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate } from 'node:timers';
import { createGzip, createZstdCompress } from 'node:zlib';
import { chooseEncoding, contentTypeOf, negotiate, type ResponseEncoding } from '../exposition/negotiate.ts';
import { renderJson, type JsonShape } from '../exposition/json.ts';
import { escapeFamilies } from '../exposition/escape-names.ts';
import { inSlices, SLICE_MILLIS } from '../common/slices.ts';
import { renderProtobufStream, renderStream } from '../exposition/stream.ts';
import type { ExpositionFormat, Family } from '../exposition/types.ts';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export interface MetricsResponse {
  readonly contentType: string;
  readonly contentEncoding: ResponseEncoding | undefined;
  /** The body, in the pieces it was rendered (and compressed) in. */
  readonly body: readonly Buffer[];
  /** Bytes in `body` (the `Content-Length`). */
  readonly length: number;
  /**
   * For a body in reused storage: takes a hold on it and returns its release (idempotent); the
   * storage is reused once the last hold is released, so a response must hold the body until it
   * has been written or abandoned. Must be called in the microtasks that follow the response's
   * settlement (the rendering's own hold lasts until the next turn of the event loop).
   * @throws Error past that point, once the storage may have been reused.
   */
  readonly hold?: () => () => void;
}

/** A body of one piece (errors, small answers). */
export function bodyOf(text: string): Pick<MetricsResponse, 'body' | 'length'> {
  const b = Buffer.from(text, 'utf8');
  return { body: [b], length: b.length };
}

/**
 * The body as a stream for the response to pipe, giving the event loop back whenever writing has
 * held it for `sliceMillis`. Piped as it is, a body is written in one turn of the event loop as long
 * as the socket takes it: each write completes at once and the pipe's `drain` and `resume` are
 * `nextTick`s, and on loopback, with the client reading on another core, the kernel took all of a
 * 15 MB body at once (231 writes, 5–12 ms of copying plus the stream machinery, after the last
 * rendering slice in the same turn): the longest block of a socket-served scrape.
 */
export function bodyStream(body: readonly Buffer[], sliceMillis = SLICE_MILLIS): Readable {
  // The body is complete when the last rendering slice ends, and that slice may have used its
  // whole budget: writing starts in a turn of its own (inSlices). The clock runs through the
  // pipe's turn: the generator resumes when the response wants the next piece.
  return Readable.from(inSlices(body, sliceMillis), { objectMode: false });
}

/**
 * Where collected bodies live: one Buffer per body, reused by later scrapes once every response
 * that wrote it is done.
 *
 * Why not keep the rendered pieces: a 110 000-series body is ~15 MB of Buffers, i.e. of V8
 * *external* memory, alive from its first piece until its last write (~100 ms). Pieces that live
 * across two scavenges are promoted, and promoted Buffers are freed only by a mark-compact, so
 * external memory grew by up to 15 MB per scrape and V8 started incremental marking for it every
 * few scrapes (`--trace-incremental-marking`: "Start (external memory pressure)"): a mark-compact
 * (7–15 ms pause, marking steps of up to 10 ms on the event loop, ~200 ms of concurrent marking on
 * the other core) per 4–5 scrapes. The pieces are now copied as they come (a memcpy) and die
 * young, and external memory no longer starts any. Kept idle: at most {@link IDLE_MAX} bodies'
 * worth, less than the dead Buffers that used to wait for a mark-compact.
 */
interface Storage {
  bytes: Buffer;
  /** Holds on the body in it: its rendering's, until the turn after it settles, and its responses'. */
  holders: number;
  /** Bumped on every reuse, so a stale response cannot hold storage that now holds another body. */
  generation: number;
}

/** Free storage kept for the next bodies; more is dropped (the largest kept). */
const IDLE_MAX = 2;
const idle: Storage[] = [];
/** The previous body's length, plain and compressed: the size the next one most likely needs. */
/** The last body's length per compression (identity, gzip, zstd): the next one's first storage. */
const lastLength = [0, 0, 0];
const MIN_STORAGE = 64 * 1024;

function takeStorage(bytes: number): Storage {
  let best = -1;
  for (let i = 0; i < idle.length; i++) {
    const n = idle[i]!.bytes.length;
    if (n >= bytes && (best < 0 || n < idle[best]!.bytes.length)) best = i;
  }
  if (best >= 0) {
    const s = idle.splice(best, 1)[0]!;
    s.holders = 1;
    s.generation++;
    return s;
  }
  // Room to grow: scrape sizes drift between scrapes.
  return { bytes: Buffer.allocUnsafeSlow(Math.max(MIN_STORAGE, Math.ceil(bytes * 1.25))), holders: 1, generation: 0 };
}

function drop(s: Storage): void {
  if (--s.holders > 0) return;
  idle.push(s);
  if (idle.length > IDLE_MAX) {
    idle.sort((a, b) => b.bytes.length - a.bytes.length);
    idle.length = IDLE_MAX;
  }
}

/**
 * Collects `pieces`, through the compressor when asked, into storage; awaiting the pieces is what
 * gives the event loop back. The body's pieces are views of the storage, cut where the pieces ended.
 */
async function collect(pieces: AsyncIterable<Buffer> | Iterable<Buffer>, encoding: ResponseEncoding | undefined): Promise<Pick<MetricsResponse, 'body' | 'length' | 'hold'>> {
  const kind = encoding === undefined ? 0 : encoding === 'gzip' ? 1 : 2;
  let storage = takeStorage(lastLength[kind]!);
  const ends: number[] = [];
  let length = 0;
  const keep = async (source: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> => {
    for await (const piece of source) {
      if (length + piece.length > storage.bytes.length) {
        const larger = takeStorage(Math.max(2 * storage.bytes.length, length + piece.length));
        storage.bytes.copy(larger.bytes, 0, 0, length);
        drop(storage);
        storage = larger;
      }
      piece.copy(storage.bytes, length);
      length += piece.length;
      ends.push(length);
    }
  };
  try {
    if (encoding !== undefined) {
      await pipeline(Readable.from(pieces, { objectMode: false }), encoding === 'gzip' ? createGzip() : createZstdCompress(), keep);
    }
    // Straight from the renderer: a Readable in between only adds stream bookkeeping to every piece.
    else await keep(pieces);
  } catch (err) {
    drop(storage);
    throw err;
  }
  lastLength[kind] = length;
  const held = storage;
  const generation = held.generation;
  const body = ends.map((end, i) => held.bytes.subarray(i === 0 ? 0 : ends[i - 1]!, end));
  // The rendering's own hold: every response waiting for this body takes its hold in the
  // microtasks that follow, before this runs.
  setImmediate(() => drop(held));
  const hold = (): (() => void) => {
    if (held.generation !== generation || held.holders === 0) throw new Error('metrics body held after its storage was released');
    held.holders++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      drop(held);
    };
  };
  return { body, length, hold };
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
  const encoding = chooseEncoding(request.acceptEncoding);
  if (request.json) {
    contentType = JSON_CONTENT_TYPE;
    const extra = json.extra?.();
    const text = renderJson(families, json.shape, { ...(json.prefix !== undefined ? { prefix: json.prefix } : {}), ...(extra ? { extra } : {}) });
    // One piece already: nothing to collect.
    if (encoding === undefined) return { contentType, contentEncoding: undefined, ...bodyOf(text) };
    pieces = [Buffer.from(text, 'utf8')];
  } else {
    const chosen = negotiate(request.accept, format === 'negotiate' ? undefined : format);
    contentType = contentTypeOf(chosen);
    // UTF-8 names (a native translation strategy that keeps them) only to a scraper that asked.
    const served = chosen.escaping === 'allow-utf-8' ? families : escapeFamilies(families, chosen.escaping === 'values' ? 'values' : 'underscores');
    pieces = chosen.format === 'protobuf' ? renderProtobufStream(served) : renderStream(chosen.format, served);
  }
  return { contentType, contentEncoding: encoding, ...(await collect(pieces, encoding)) };
}
