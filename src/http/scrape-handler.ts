/**
 * One scrape answered, with the protections every metrics endpoint shares (the dedicated listener
 * and the host-app plugin alike):
 *
 * - Concurrent scrapes share one collection (upstream, `jobmeter.scrape()`) and, here, one
 *   rendering and one compression per variant (Content-Type x compression x JSON): a storm of N
 *   scrapes costs one collection, one render and one compression. A shared rendering lives only
 *   while it is in flight, so a later scrape never gets a stale body; each scrape that shared it
 *   holds the body's storage until its own response is done.
 * - A text or OpenMetrics rendering redoes only the series that changed since the last one of its
 *   Content-Type (exposition/render-memo.ts; the memos are dropped with the endpoint).
 * - A failure answers 500 with a short, fixed reason (`Content-Encoding` dropped, as promhttp does
 *   before writing an error), never the cause, and is counted by cause: `collection` (the
 *   jobmeter's collection rejected) or `encoding` (rendering or compression threw).
 *
 * Error policy, after promhttp's `HandlerErrorHandling`: only `HTTPErrorOnError` exists, since a
 * jobmeter collection is all or nothing and there is no partial result to continue with.
 *
 * With `selfMetrics`, the counts are served as one more family, `jobmeter_scrape_errors_total
 * {cause}` (promhttp's `promhttp_metric_handler_errors_total`), appended after the collected ones.
 * They are kept here rather than in an OTel instrument because the naming layer would otherwise
 * need a rule for them in every profile; the plugin turns it on for the native profile only, so a
 * legacy profile's surface stays exactly the original's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ExpositionFormat, Family, NumberFamily } from '../exposition/types.ts';
import { SCRAPE_ERRORS_FAMILY } from '../naming/name-claims.ts';
import { BodyStore } from './body-store.ts';
import {
  bodyOf,
  buildMetricsResponse,
  RenderMemos,
  type JsonView,
  type MetricsResponse,
  type ScrapeRequest,
  variantOf,
} from './metrics-response.ts';

export type ScrapeErrorCause = 'collection' | 'encoding';

export interface ScrapeHandlerOptions {
  /** Produces the families of one scrape; concurrent calls are expected to coalesce upstream. */
  readonly scrape: () => Promise<readonly Family[]>;
  /** `negotiate` follows `Accept`; a format forces it. */
  readonly format: 'negotiate' | ExpositionFormat;
  /** `?format=json` rendering. @default the generic shape */
  readonly json?: JsonView;
  /** Append `jobmeter_scrape_errors_total{cause}` to every scrape. @default false */
  readonly selfMetrics?: boolean;
}

export interface ScrapeAnswer extends MetricsResponse {
  /** 200 or 500 from a scrape; a route adds its refusals (401, 403) and 503. */
  readonly status: 200 | 401 | 403 | 500 | 503;
  /** Headers beyond the content ones (`WWW-Authenticate`, `Retry-After`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Releases this answer's hold on its body (see {@link MetricsResponse.done}); the writer calls it when the response is done. */
  readonly release?: () => void;
}

export interface ScrapeHandler {
  answer(request: ScrapeRequest): Promise<ScrapeAnswer>;
  /** Drops the bodies' idle storage and the kept renderings; call when the endpoint closes. */
  close(): void;
}

/** A rendering in flight and the scrapes waiting for it. */
interface Shared {
  readonly response: Promise<MetricsResponse>;
  waiters: number;
}

const FAILED: Readonly<Record<ScrapeErrorCause, string>> = {
  collection: 'metric collection failed\n',
  encoding: 'metric encoding failed\n',
};

export function createScrapeHandler(options: ScrapeHandlerOptions): ScrapeHandler {
  const errors: Record<ScrapeErrorCause, number> = { collection: 0, encoding: 0 };
  const store = new BodyStore();
  // The last text rendering per Content-Type: a scrape redoes only the series that changed.
  const memos = new RenderMemos();
  // families array (one per collection) -> variant -> its rendering while in flight.
  const rendering = new WeakMap<readonly Family[], Map<string, Shared>>();

  function failure(cause: ScrapeErrorCause): ScrapeAnswer {
    errors[cause]++;
    return fixedAnswer(500, FAILED[cause]);
  }

  /** One rendering per families array and variant, shared by the scrapes that ask at the same time. */
  function render(families: readonly Family[], request: ScrapeRequest): Promise<MetricsResponse> {
    const chosen = variantOf(request, options.format);
    // The rendering depends on the format and the escaping (UTF-8 names are escaped unless
    // `allow-utf-8`), both in the Content-Type, and on the compression.
    const variant = `${chosen.contentType}|${chosen.encoding ?? 'identity'}`;
    let byVariant = rendering.get(families);
    if (byVariant === undefined) rendering.set(families, (byVariant = new Map<string, Shared>()));
    let shared = byVariant.get(variant);
    if (shared === undefined) {
      const served = options.selfMetrics ? [...families, errorsFamily(errors)] : families;
      const variants = byVariant;
      // Only this rendering's own entry: a later one for the same variant may have taken the slot.
      const forget = (): void => {
        if (variants.get(variant) === made) variants.delete(variant);
      };
      // Sealed in the turn the body is complete: no scrape joins after its holds are counted.
      const seal = (): number => {
        forget();
        return made.waiters;
      };
      const made: Shared = {
        waiters: 0,
        response: Promise.resolve()
          .then(() => buildMetricsResponse(store, served, chosen, options.json, seal, memos))
          .finally(forget),
      };
      byVariant.set(variant, (shared = made));
    }
    shared.waiters++;
    return shared.response;
  }

  return {
    close: () => {
      store.close();
      memos.close();
    },
    async answer(request) {
      let families: readonly Family[];
      try {
        families = await options.scrape();
      } catch {
        // The cause stays server-side: a scrape answer must not leak internals.
        return failure('collection');
      }
      try {
        const response = await render(families, request);
        const done = response.done;
        if (done === undefined) return { status: 200, ...response };
        // This scrape's own hold, given back once however often its response reports done.
        let released = false;
        const release = (): void => {
          if (released) return;
          released = true;
          done();
        };
        return { status: 200, ...response, release };
      } catch {
        return failure('encoding');
      }
    },
  };
}

/** The parts of a Node request a scrape answer depends on (`?format=json` from its URL). */
export function scrapeRequestOf(request: IncomingMessage): ScrapeRequest {
  const url = request.url ?? '/';
  const q = url.indexOf('?');
  return {
    accept: request.headers.accept,
    acceptEncoding: request.headers['accept-encoding'],
    json: q !== -1 && new URLSearchParams(url.slice(q + 1)).get('format') === 'json',
  };
}

/**
 * Writes an answer on a Node response: status, content type, `Vary`, `Content-Encoding` when
 * compressed, the length up front; `HEAD` gets the headers only. A response already gone only
 * releases the body.
 */
export function writeAnswer(
  request: IncomingMessage,
  response: ServerResponse,
  answer: ScrapeAnswer,
): void {
  if (response.destroyed) {
    answer.release?.();
    return;
  }
  response.statusCode = answer.status;
  for (const [name, value] of Object.entries(answerHeaders(answer)))
    response.setHeader(name, value);
  // 'close' comes after the last write completed, or once the connection is gone: either way the
  // body's storage is no longer read.
  if (answer.release !== undefined) response.once('close', answer.release);
  if (request.method === 'HEAD') response.end();
  else if (answer.body.length === 1) response.end(answer.body[0]);
  else writeBody(response, answer.body);
}

/**
 * Bytes handed to the socket in one turn of the event loop. On loopback, with the client reading on
 * another core, the kernel takes whatever it is given in one write: a whole body at once would be
 * one block of the event loop as long as its copy. A batch is one `writev` of its pieces (corked),
 * ~1 ms of kernel copy; the next batch is written in a turn of its own.
 */
export const WRITE_BATCH_BYTES = 2 * 1024 * 1024;

/**
 * `body` written in batches of {@link WRITE_BATCH_BYTES}, each one system call rather than one per
 * piece through a stream (a piped 110k-series body took ~6 ms more: bench/README.md scrape-http);
 * a client gone mid-body stops the writing, and the storage is released by the response's 'close'.
 */
function writeBody(response: ServerResponse, body: readonly Buffer[]): void {
  let i = 0;
  const batch = (): void => {
    if (response.destroyed) return;
    response.cork();
    for (let bytes = 0; i < body.length && bytes < WRITE_BATCH_BYTES; i++) {
      bytes += body[i]!.length;
      response.write(body[i]);
    }
    if (i === body.length) response.end();
    else setImmediate(batch);
    response.uncork();
  };
  // The body is complete when the last rendering slice ends, which may have used its whole budget.
  setImmediate(batch);
}

/** An answer's headers: content type, `Vary`, `Content-Encoding` when compressed, its own, the length up front. */
export function answerHeaders(answer: ScrapeAnswer): Record<string, string | number> {
  return {
    'content-type': answer.contentType,
    vary: 'Accept, Accept-Encoding',
    ...(answer.contentEncoding !== undefined && { 'content-encoding': answer.contentEncoding }),
    ...answer.headers,
    'content-length': answer.length,
  };
}

/** A small plain-text answer with a fixed body (refusals, 503s). */
export function fixedAnswer(
  status: ScrapeAnswer['status'],
  text: string,
  headers?: Readonly<Record<string, string>>,
): ScrapeAnswer {
  return {
    status,
    contentType: 'text/plain; charset=utf-8',
    contentEncoding: undefined,
    ...bodyOf(text),
    ...(headers !== undefined ? { headers } : {}),
  };
}

function errorsFamily(errors: Readonly<Record<ScrapeErrorCause, number>>): NumberFamily {
  return {
    name: SCRAPE_ERRORS_FAMILY,
    type: 'counter',
    help: 'Scrapes of this metrics endpoint answered with an error, by cause.',
    unit: '',
    series: Object.entries(errors).map(([cause, value]) => ({ labels: `cause="${cause}"`, value })),
  };
}
