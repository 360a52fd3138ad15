/**
 * The ingest's decoding thread: decodes one OTLP request at a time, off the main
 * thread, and posts it back in chunks of at most `pointsPerChunk` data points (each a request of
 * its own, with the resource and scope of its points), so the main thread ingests a 20 MiB request
 * a chunk per turn instead of blocking for seconds. The whole body is decoded before the first
 * chunk is posted: a body that does not decode is refused whole, as before. Its number and
 * histogram points are decoded straight into the columns chunks are cut from (packed-chunk.ts
 * `PointPacker`), not into an object per point kept until the last chunk is posted.
 *
 * A body sent here compressed (snappy and LZ4, which are JavaScript, and gzip and zstd that
 * announce a large size: content-encoding.ts `decodesOffThread`) is decompressed here too, bounded
 * by `maxBodyBytes`; decoding is bounded by counting (decode-limits.ts), so what a request costs
 * this thread's heap is bounded by its limits, not by the heap limit the pool sets (a backstop
 * only: a worker reaching it may take the process down, nodejs/node#47224).
 *
 * A chunk is posted only when the main thread asks for it (`next`): a port hands every message
 * it holds to its listener in one go, and deserialising them is the receiving thread's work, so
 * posting all chunks at once would block the main thread for the whole request again.
 *
 * Messages in: `{ id, body, encoding, contentEncoding, maxBodyBytes, limits, pointsPerChunk }` (a job; its first chunk follows), then
 * `{ id, next: true }` for each further chunk; `{ release: true }` (see {@link Release}).
 * Messages out: `{ id, chunk }`… (a chunk's number and histogram points in columns, packed-chunk.ts), then `{ id, done: true, bytes }` or `{ id, error: { kind, message }, bytes }`
 * (`kind`: `decode` → 400, `too-large` → 413, `other`).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { decodeExportRequest } from '../otlp/codec.ts';
import { DecodeLimitExceeded, type DecodeLimits } from '../otlp/decode-limits.ts';
import { OtlpDecodeError, type OtlpEncoding, type OtlpExportRequest } from '../otlp/types.ts';
import { decodeBodySync } from './content-encoding.ts';
import { PointPacker, type PackedChunk, type PackedRequest } from './packed-chunk.ts';
import { TooLarge } from './too-large.ts';

export interface DecodeJob {
  readonly id: number;
  /** The body, or the chunks it arrived in (joined here, off the main thread). */
  readonly body: Uint8Array | readonly Uint8Array[];
  readonly encoding: OtlpEncoding;
  /** The body's Content-Encoding when it is still compressed (decompressed here). */
  readonly contentEncoding?: string;
  /** Largest body once decompressed. */
  readonly maxBodyBytes: number;
  readonly limits: DecodeLimits;
  readonly pointsPerChunk: number;
}

/**
 * The main thread asking the worker to give its heap back (a last-resort GC, which empties V8's
 * page pool on this thread), answered with {@link Released}; `stop`: it will be stopped after.
 */
export interface Release {
  readonly release: true;
  readonly stop?: boolean;
}

export interface Released {
  readonly released: true;
  readonly stop: boolean;
}

/** The main thread asking for job `id`'s next chunk. */
export interface NextChunk {
  readonly id: number;
  readonly next: true;
}

export type DecodeMessage =
  /** A chunk packed (packed-chunk.ts): its columns are moved, not copied. */
  | { readonly id: number; readonly chunk: PackedChunk }
  /** `bytes`: the body's size decompressed (what the pool counts towards giving the heap back). */
  | { readonly id: number; readonly done: true; readonly bytes: number }
  | { readonly id: number; readonly error: { readonly kind: 'decode' | 'too-large' | 'other'; readonly message: string }; readonly bytes: number };

type Packed = ReturnType<PointPacker['chunk']>;

/** Requests this thread decoded. */
let decoded = 0;

/**
 * The job being handed over, one chunk per `next`; one at a time (the pool sends one job at a
 * time). `ready`: the chunk after the one posted, packed while the main thread ingests that one
 * ('done' when there is none).
 */
let current: { readonly id: number; readonly chunks: Generator<Packed>; readonly bytes: number; ready: Packed | 'done' | undefined } | undefined;

function packNext(job: NonNullable<typeof current>): Packed | 'done' {
  const next = job.chunks.next();
  return next.done === true ? 'done' : next.value;
}

function post(id: number): void {
  const job = current;
  if (job === undefined || job.id !== id) return;
  const ready = job.ready ?? packNext(job);
  job.ready = undefined;
  if (ready === 'done') {
    current = undefined;
    parentPort!.postMessage({ id, done: true, bytes: job.bytes } satisfies DecodeMessage);
    return;
  }
  parentPort!.postMessage({ id, chunk: ready.packed } satisfies DecodeMessage, ready.transfer);
  job.ready = packNext(job);
}

/**
 * V8's `gc`: the worker's own when the process runs with `--expose-gc`, else got the one way a
 * worker can: exposed for a moment to a fresh context (the flag is process-wide, so it is switched
 * back off at once; it was off). Only a last-resort GC empties the page pool.
 */
const collect = ((): ((options: object) => void) => {
  const own = (globalThis as { gc?: (options: object) => void }).gc;
  if (typeof own === 'function') return own;
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as (options: object) => void;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
})();

parentPort?.on('message', (message: DecodeJob | NextChunk | Release) => {
  if ('release' in message) {
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    parentPort!.postMessage({ released: true, stop: message.stop === true } satisfies Released);
    return;
  }
  if ('next' in message) {
    post(message.id);
    return;
  }
  const packer = new PointPacker();
  let request: PackedRequest;
  const size = { bytes: 0 };
  try {
    request = packer.request(decodeJob(message, size, packer));
  } catch (err) {
    current = undefined;
    parentPort!.postMessage({ id: message.id, error: { kind: kindOf(err), message: messageOf(err) }, bytes: size.bytes } satisfies DecodeMessage);
    return;
  }
  current = { id: message.id, chunks: packer.chunks(request, message.pointsPerChunk), bytes: size.bytes, ready: undefined };
  post(message.id);
});

/** The job's request, its protobuf points decoded into `packer`; `size.bytes`: the body's size as sent, then decompressed. */
function decodeJob(job: DecodeJob, size: { bytes: number }, packer: PointPacker): OtlpExportRequest {
  const parts: readonly Uint8Array[] = Array.isArray(job.body) ? job.body : [job.body as Uint8Array];
  const sent = parts.length === 1 ? Buffer.from(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.byteLength) : Buffer.concat(parts);
  size.bytes = sent.length;
  let body: Buffer;
  try {
    body = decodeBodySync(sent, job.contentEncoding, job.maxBodyBytes);
  } catch (err) {
    // A body that does not decompress is refused as it is on the main thread: 400 naming the encoding.
    if (err instanceof TooLarge) throw err;
    throw new OtlpDecodeError(messageOf(err));
  }
  size.bytes = body.length;
  // A thread's first request decodes without the attribute memo: the pool starts a thread for a
  // lone large body and stops it after, where remembering every set would only cost (each set
  // kept past its request is work for this thread's collector); one that keeps decoding remembers.
  return decodeExportRequest(body, job.encoding, job.limits, decoded++ === 0 ? false : undefined, packer);
}


function kindOf(err: unknown): 'decode' | 'too-large' | 'other' {
  if (err instanceof TooLarge || err instanceof DecodeLimitExceeded) return 'too-large';
  return err instanceof OtlpDecodeError ? 'decode' : 'other';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
