/**
 * One scrape, from request headers to a response body: negotiation, rendering and compression.
 * Shared by the dedicated listener and the host-app plugin so both answer alike.
 *
 * The exposition is rendered in pieces (whole lines, ~64 KiB each) written into the endpoint's
 * storage (body-store.ts), which gives the event loop back between slices and compresses as a
 * stream (zlib runs on libuv's pool), so a large scrape never holds the host's event loop for more
 * than a slice. The body is written to the socket in slices too (scrape-handler.ts `writeBody`,
 * the plugin's {@link bodyStream}).
 */
import type { Readable } from 'node:stream';
import { inSlices, SLICE_MILLIS } from '../common/slices.ts';
import {
  chooseEncoding,
  contentTypeOf,
  negotiate,
  type Negotiated,
  type ResponseEncoding,
} from '../exposition/negotiate.ts';
import type { JsonShape } from '../exposition/json.ts';
import { escapeFamilies } from '../exposition/escape-names.ts';
import { renderPieces } from '../exposition/render.ts';
import { RenderMemo } from '../exposition/render-memo.ts';
import type { RenderFamily } from '../exposition/render-model.ts';
import { seriesCount, type Piece } from '../exposition/samples.ts';
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
  return process
    .getBuiltinModule('node:stream')
    .Readable.from(inSlices(body, sliceMillis), { objectMode: false });
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
 * Series up to which an endpoint's first rendering of a Content-Type is plain, its memo made at the
 * second. A memo pays off from its second rendering only (the first has nothing kept to reuse), and
 * its code is compiled at its first use: a host's first scrape after it starts, about a hundred
 * series of its own, is answered ~3 ms sooner without it. Above this many series the memo starts at
 * once, so a large exposition is not rendered whole one more time at the second scrape; at or below
 * it, that one more rendering is well under a millisecond. A small type asked for once (a person's
 * curl in another format) keeps no bytes at all.
 */
const PLAIN_FIRST_SERIES = 1000;

/**
 * An endpoint's memos of its last text renderings (exposition/render-memo.ts), one per
 * Content-Type (format x escaping), shared by identity and compressed bodies (compression comes
 * after the plain bytes). At most {@link MAX_MEMOS}, the least recently used dropped first: each
 * holds one or two bodies' bytes, which identity bodies reference instead of copying. A type
 * rendered once plainly ({@link PLAIN_FIRST_SERIES}) has an entry without a memo.
 */
export class RenderMemos {
  readonly #byType = new Map<string, RenderMemo | undefined>();

  /**
   * The memo to render `families` with as `contentType`, made on first use; undefined for the first
   * rendering of the type when `families` are few: render them plainly.
   */
  for(
    contentType: string,
    format: 'text' | 'openmetrics',
    families: readonly RenderFamily[],
  ): RenderMemo | undefined {
    const asked = this.#byType.has(contentType);
    let memo = this.#byType.get(contentType);
    if (asked) this.#byType.delete(contentType);
    else
      for (const [type, old] of this.#byType) {
        if (this.#byType.size < MAX_MEMOS) break;
        old?.close();
        this.#byType.delete(type);
      }
    if (memo === undefined && (asked || !fewSeries(families))) memo = new RenderMemo(format);
    this.#byType.set(contentType, memo);
    return memo;
  }

  /** The memo kept for `contentType`, if there is one (neither made nor counted as a use). */
  memo(contentType: string): RenderMemo | undefined {
    return this.#byType.get(contentType);
  }

  /** Drops every memo (the endpoint closes). */
  close(): void {
    for (const memo of this.#byType.values()) memo?.close();
    this.#byType.clear();
  }
}

/** Whether `families` hold at most {@link PLAIN_FIRST_SERIES} series (counted until past it). */
function fewSeries(families: readonly RenderFamily[]): boolean {
  let n = 0;
  for (const f of families) if ((n += seriesCount(f)) > PLAIN_FIRST_SERIES) return false;
  return true;
}

/**
 * What one scrape is answered in: its Content-Type, the format and escaping behind it (none for
 * the JSON view), and its compression. Negotiated once per scrape ({@link variantOf}); the
 * rendering follows it as it is.
 */
export type ScrapeVariant = ReturnType<typeof variantOf>;

/** The variant `request` is answered in; `format` forces a format regardless of `Accept`. */
export function variantOf(request: ScrapeRequest, format: 'negotiate' | ExpositionFormat) {
  const encoding = chooseEncoding(request.acceptEncoding);
  if (request.json)
    return {
      contentType: JSON_CONTENT_TYPE,
      negotiated: undefined as Negotiated | undefined,
      encoding,
    };
  const negotiated = negotiate(request.accept, format === 'negotiate' ? undefined : format);
  return { contentType: contentTypeOf(negotiated), negotiated, encoding };
}

/**
 * The body of `variant` (see {@link variantOf}). Rendering gives the event loop back between
 * slices; compression runs on libuv's pool. The body is written into `store` for `holds` responses
 * (see {@link BodyStore.write}). With `memos`, text and OpenMetrics bodies redo only what changed
 * since the last scrape of the same Content-Type.
 */
export async function buildMetricsResponse(
  store: BodyStore,
  families: readonly Family[],
  variant: ScrapeVariant,
  json: JsonView = { shape: 'generic' },
  holds: number | (() => number) = 1,
  memos?: RenderMemos,
): Promise<MetricsResponse> {
  const { contentType, negotiated: chosen, encoding } = variant;
  let pieces: Iterable<Piece | Uint8Array>;
  let lent: LentBytes | undefined;
  if (chosen === undefined) {
    // The JSON, protobuf and OpenMetrics 2.0 writers load with the first scrape that asks for
    // them: most endpoints are only ever scraped as text, and every module loaded costs startup
    // time and memory.
    const { renderJson } = await import('../exposition/json.ts');
    const text = renderJson(families, json.shape, json.prefix, json.extra?.());
    // One piece already: nothing to collect.
    if (encoding === undefined) return { contentType, contentEncoding: undefined, ...bodyOf(text) };
    pieces = [Buffer.from(text, 'utf8')];
  } else {
    // UTF-8 names (a native translation strategy that keeps them) only to a scraper that asked.
    const served =
      chosen.escaping === 'allow-utf-8'
        ? families
        : escapeFamilies(families, chosen.escaping === 'values' ? 'values' : 'underscores');
    // The store copies each piece before asking for the next: protobuf may reuse its buffers.
    if (chosen.format === 'protobuf')
      pieces = (await import('../exposition/protobuf.ts')).protobufBuffers(served);
    // Rendered whole at each scrape (no memo): only a scraper that names version=2.0.0 gets it.
    else if (chosen.format === 'openmetrics2')
      pieces = (await import('../exposition/openmetrics2.ts')).openMetrics2Pieces(served);
    else {
      const memo = memos?.for(contentType, chosen.format, served);
      if (memo === undefined) pieces = renderPieces(chosen.format, served);
      else if (encoding !== undefined) pieces = memo.pieces(served);
      // An identity body references the memo's kept bytes rather than copying them.
      else ({ pieces, lent } = memo.lending(served));
    }
  }
  return {
    contentType,
    contentEncoding: encoding,
    ...(await store.write(pieces, encoding, holds, lent)),
  };
}
