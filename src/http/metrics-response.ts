/**
 * One scrape, from request headers to a response body: negotiation, rendering and compression.
 * Shared by the dedicated listener and (later) the host-app plugin so both answer alike.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { acceptsGzip, negotiateFormat } from '../exposition/negotiate.ts';
import { renderJson, type JsonShape } from '../exposition/json.ts';
import { render } from '../exposition/render.ts';
import { CONTENT_TYPE, type ExpositionFormat, type Family } from '../exposition/types.ts';

const gzipAsync = promisify(gzip);
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export interface MetricsResponse {
  readonly contentType: string;
  readonly contentEncoding: 'gzip' | undefined;
  readonly body: Buffer;
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
 * Compression runs on libuv's pool, off the event loop.
 */
export async function buildMetricsResponse(
  families: readonly Family[],
  request: ScrapeRequest,
  format: 'negotiate' | ExpositionFormat,
  json: JsonView = { shape: 'generic' },
): Promise<MetricsResponse> {
  let contentType: string;
  let text: string;
  if (request.json) {
    contentType = JSON_CONTENT_TYPE;
    const extra = json.extra?.();
    text = renderJson(families, json.shape, { ...(json.prefix !== undefined ? { prefix: json.prefix } : {}), ...(extra ? { extra } : {}) });
  } else {
    const chosen = format === 'negotiate' ? negotiateFormat(request.accept) : format;
    contentType = CONTENT_TYPE[chosen];
    text = render(chosen, families);
  }
  const raw = Buffer.from(text, 'utf8');
  if (acceptsGzip(request.acceptEncoding)) {
    return { contentType, contentEncoding: 'gzip', body: await gzipAsync(raw) };
  }
  return { contentType, contentEncoding: undefined, body: raw };
}
