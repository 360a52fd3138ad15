/**
 * One scrape, from request headers to a response body: negotiation, rendering and compression.
 * Shared by the dedicated listener and (later) the host-app plugin so both answer alike.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { acceptsGzip, negotiateFormat } from '../exposition/negotiate.ts';
import { render } from '../exposition/render.ts';
import { CONTENT_TYPE, type ExpositionFormat, type Family } from '../exposition/types.ts';

const gzipAsync = promisify(gzip);

export interface MetricsResponse {
  readonly contentType: string;
  readonly contentEncoding: 'gzip' | undefined;
  readonly body: Buffer;
}

export interface ScrapeRequest {
  readonly accept: string | undefined;
  readonly acceptEncoding: string | undefined;
}

/**
 * `format` forces a format when the profile (or the operator) wants one regardless of `Accept`.
 * Compression runs on libuv's pool, off the event loop.
 */
export async function buildMetricsResponse(
  families: readonly Family[],
  request: ScrapeRequest,
  format: 'negotiate' | ExpositionFormat,
): Promise<MetricsResponse> {
  const chosen = format === 'negotiate' ? negotiateFormat(request.accept) : format;
  const text = render(chosen, families);
  const raw = Buffer.from(text, 'utf8');
  if (acceptsGzip(request.acceptEncoding)) {
    return { contentType: CONTENT_TYPE[chosen], contentEncoding: 'gzip', body: await gzipAsync(raw) };
  }
  return { contentType: CONTENT_TYPE[chosen], contentEncoding: undefined, body: raw };
}
