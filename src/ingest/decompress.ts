/**
 * An ingest request body decompressed by its `Content-Encoding` (gzip or deflate; identity as it
 * is), never past `maxBytes` once inflated (a gzip bomb is a {@link TooLarge}, answered 413).
 */
import { promisify } from 'node:util';
import { gunzip, inflate, type ZlibOptions } from 'node:zlib';

const gunzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<Buffer, ZlibOptions, Buffer>(inflate);

/** The body inflates past the limit. */
export class TooLarge extends Error {}

/** @throws {TooLarge} past `maxBytes`; {Error} for another encoding or a corrupt body. */
export async function decompress(raw: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return raw;
  const inflateFn = encoding === 'gzip' || encoding === 'x-gzip' ? gunzipAsync : encoding === 'deflate' ? inflateAsync : undefined;
  if (inflateFn === undefined) throw new Error(`unsupported Content-Encoding: ${encoding} (supported: gzip, deflate)`);
  try {
    return await inflateFn(raw, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLarge(`decompressed request body larger than ${maxBytes} bytes`);
    throw new Error(`invalid ${encoding} body: ${err instanceof Error ? err.message : String(err)}`);
  }
}
