/**
 * One scrape, from request headers to a response body: negotiation, rendering and compression.
 * Shared by the dedicated listener and the host-app plugin so both answer alike.
 *
 * The exposition is rendered in pieces (whole lines, ~64 KiB each) written into the endpoint's
 * storage (body-store.ts), which gives the event loop back between slices and compresses as a
 * stream (zlib runs on libuv's pool), so a large scrape never holds the host's event loop for more
 * than a slice. The body is written to the socket in slices too ({@link bodyStream}).
 */
import { Readable } from 'node:stream';
import { inSlices, SLICE_MILLIS } from '../common/slices.ts';
import {
  chooseEncoding,
  contentTypeOf,
  negotiate,
  type ResponseEncoding,
} from '../exposition/negotiate.ts';
import type { JsonShape } from '../exposition/json.ts';
import { escapeFamilies } from '../exposition/escape-names.ts';
import { renderPieces } from '../exposition/render.ts';
import { RenderMemo } from '../exposition/render-memo.ts';
import type { Piece } from '../exposition/samples.ts';
import type { ExpositionFormat, Family } from '../exposition/types.ts';
import type { BodyStore, LentBytes } from './body-store.ts';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export interface MetricsResponse {
  readonly contentType: string;
  readonly contentEncoding: ResponseEncoding | undefined;
  /** The body, in the pieces it was rendered (and compressed) in. */
  readonly body: readonly Buffer[];
  /** Bytes in `body` (the `Content-Length`). */
  readonly length: number;
  /**
   * For a body in its endpoint's storage: gives one hold on it back (see body-store.ts); each
   * response the body was rendered for calls its own once written or abandoned.
   */
  readonly done?: () => void;
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
 * `nextTick`s, and on loopback, with the client reading on another core, the kernel takes a whole
 * large body at once: one block as long as all the writes together.
 */
export function bodyStream(body: readonly Buffer[], sliceMillis = SLICE_MILLIS): Readable {
  // The body is complete when the last rendering slice ends, and that slice may have used its
  // whole budget: writing starts in a turn of its own (inSlices). The clock runs through the
  // pipe's turn: the generator resumes when the response wants the next piece.
  return Readable.from(inSlices(body, sliceMillis), { objectMode: false });
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

/** Content-Types an endpoint keeps a memo for: a scraper rarely asks for more than one or two. */
const MAX_MEMOS = 3;

/**
 * An endpoint's memos of its last text renderings (exposition/render-memo.ts), one per
 * Content-Type (format x escaping), shared by identity and compressed bodies (compression comes
 * after the plain bytes). At most {@link MAX_MEMOS}, the least recently used dropped first: each
 * holds one or two bodies' bytes, which identity bodies reference instead of copying.
 */
export class RenderMemos {
  readonly #byType = new Map<string, RenderMemo>();

  /** The memo of `contentType`, made on first use. */
  for(contentType: string, format: 'text' | 'openmetrics'): RenderMemo {
    let memo = this.#byType.get(contentType);
    if (memo !== undefined) this.#byType.delete(contentType);
    else {
      memo = new RenderMemo(format);
      for (const [type, old] of this.#byType) {
        if (this.#byType.size < MAX_MEMOS) break;
        old.close();
        this.#byType.delete(type);
      }
    }
    this.#byType.set(contentType, memo);
    return memo;
  }

  /** Drops every memo (the endpoint closes). */
  close(): void {
    for (const memo of this.#byType.values()) memo.close();
    this.#byType.clear();
  }
}

/**
 * `format` forces a format when the profile (or the operator) wants one regardless of `Accept`.
 * Rendering gives the event loop back between slices; compression runs on libuv's pool. The body
 * is written into `store` for `holds` responses (see {@link BodyStore.write}). With `memos`, text
 * and OpenMetrics bodies redo only what changed since the last scrape of the same Content-Type.
 */
export async function buildMetricsResponse(
  store: BodyStore,
  families: readonly Family[],
  request: ScrapeRequest,
  format: 'negotiate' | ExpositionFormat,
  json: JsonView = { shape: 'generic' },
  holds: number | (() => number) = 1,
  memos?: RenderMemos,
): Promise<MetricsResponse> {
  let contentType: string;
  let pieces: Iterable<Piece | Uint8Array>;
  let lent: LentBytes | undefined;
  const encoding = chooseEncoding(request.acceptEncoding);
  if (request.json) {
    contentType = JSON_CONTENT_TYPE;
    // The JSON, protobuf and OpenMetrics 2.0 writers load with the first scrape that asks for
    // them: most endpoints are only ever scraped as text, and every module loaded costs startup
    // time and memory.
    const { renderJson } = await import('../exposition/json.ts');
    const text = renderJson(families, json.shape, json.prefix, json.extra?.());
    // One piece already: nothing to collect.
    if (encoding === undefined) return { contentType, contentEncoding: undefined, ...bodyOf(text) };
    pieces = [Buffer.from(text, 'utf8')];
  } else {
    const chosen = negotiate(request.accept, format === 'negotiate' ? undefined : format);
    contentType = contentTypeOf(chosen);
    // UTF-8 names (a native translation strategy that keeps them) only to a scraper that asked.
    const served =
      chosen.escaping === 'allow-utf-8'
        ? families
        : escapeFamilies(families, chosen.escaping === 'values' ? 'values' : 'underscores');
    // The store copies each piece before asking for the next: protobuf may reuse its buffers.
    if (chosen.format === 'protobuf')
      pieces = (await import('../exposition/protobuf.ts')).protobufBuffers(served, true);
    // Rendered whole at each scrape (no memo): only a scraper that names version=2.0.0 gets it.
    else if (chosen.format === 'openmetrics2')
      pieces = (await import('../exposition/openmetrics2.ts')).openMetrics2Pieces(served);
    else if (memos === undefined) pieces = renderPieces(chosen.format, served);
    else if (encoding !== undefined) pieces = memos.for(contentType, chosen.format).pieces(served);
    // An identity body references the memo's kept bytes rather than copying them.
    else ({ pieces, lent } = memos.for(contentType, chosen.format).lending(served));
  }
  return {
    contentType,
    contentEncoding: encoding,
    ...(await store.write(pieces, encoding, holds, lent)),
  };
}
