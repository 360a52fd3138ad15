/**
 * The ingest's decoding thread: decodes OTLP requests one at a time, off the main thread, and
 * hands each over in chunks of at most `pointsPerChunk` data points (each a request of its own,
 * with the resource and scope of its points), so the main thread ingests a 20 MiB request a chunk
 * per turn instead of blocking for seconds. The whole body is decoded before the first chunk is
 * posted: a body that does not decode is refused whole. Its number and histogram points are
 * decoded straight into the columns chunks are cut from (packed-chunk.ts `PointPacker`), not into
 * an object per point.
 *
 * A body sent here compressed (snappy and LZ4, which are JavaScript, and gzip and zstd that
 * announce a large size: content-encoding.ts `decodesOffThread`) is decompressed here too, bounded
 * by `maxBodyBytes`; decoding is bounded by counting (decode-limits.ts), so what a request costs
 * this thread's heap is bounded by its limits, not by the heap limit the pool sets (a backstop
 * only: a worker reaching it may take the process down, nodejs/node#47224).
 *
 * A decoded request's chunks go to the port the worker was started with (`workerData.chunks`),
 * up to `chunksAhead` more than the main thread said it took, each batch announced on the parent
 * port: a request of that many chunks or fewer is posted whole, and the thread is free for the next
 * while the main thread ingests this one; a larger one is not held twice (columns here, chunks
 * there), and the next waits for it. The chunk port has no listener: the main thread takes one
 * message per turn from it (`receiveMessageOnPort`), since a port with a listener hands every
 * message it holds over in one go, and deserialising them all would block the main thread for the
 * whole request again.
 *
 * Messages in: `{ id, body, encoding, contentEncoding, maxBodyBytes, pointsPerChunk, chunksAhead }`
 * (a job), `{ id, taken }` (the main thread took that many of job `id`'s chunks), `{ release: true }`
 * (see {@link Release}). Out, on the chunk port: `{ id, chunk }`… (a chunk's number and histogram
 * points in columns, packed-chunk.ts); on the parent port: `{ id, posted, bytes }` (chunks posted
 * so far), then `{ id, done: true, bytes, chunks }`, or instead `{ id, error: { reason, message }, bytes }`
 * (the refusal it is answered with, ingest-errors.ts `refusalOf`; no chunk was posted); before
 * either, `{ id, spare }` (the body's buffer, {@link giveBack}).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { decodeExportRequest } from '../otlp/codec.ts';
import { decodeLimitsFor } from '../otlp/decode-limits.ts';
import type { OtlpEncoding, OtlpExportRequest } from '../otlp/types.ts';
import { RECEIVE_WHOLE_BYTES } from './body-chunks.ts';
import { decodeBodySync } from './content-encoding.ts';
import { refusalOf, type RefusedReason } from './ingest-errors.ts';
import {
  KeyWire,
  SparePacker,
  type PackedRequest,
  type PointPacker,
  type WireChunk,
} from './packed-chunk.ts';

export interface DecodeJob {
  readonly id: number;
  /** The body, or the chunks it arrived in (joined here, off the main thread). */
  readonly body: Uint8Array | readonly Uint8Array[];
  readonly encoding: OtlpEncoding;
  /** The body's Content-Encoding when it is still compressed (decompressed here). */
  readonly contentEncoding?: string;
  /** Largest body once decompressed; the decode limits are those for it (decode-limits.ts). */
  readonly maxBodyBytes: number;
  readonly pointsPerChunk: number;
  /** Chunks posted ahead of those the main thread took. */
  readonly chunksAhead: number;
}

/** The main thread took `taken` of job `id`'s chunks. */
export interface Taken {
  readonly id: number;
  readonly taken: number;
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

/** A decoded job's body's buffer, moved back to the main thread. */
export interface Spare {
  readonly id: number;
  readonly spare: ArrayBuffer;
}

/** A chunk packed (packed-chunk.ts), on the chunk port: its columns are moved, not copied; its keys named by id. */
export interface ChunkMessage {
  readonly id: number;
  readonly chunk: WireChunk;
}

/** What the worker starts with: the port its chunks go to. */
export interface DecodeWorkerData {
  readonly chunks: MessagePort;
}

export type DecodeMessage =
  /** `bytes`: the body's size decompressed (what the pool counts towards giving the heap back); `posted`: chunks posted so far. */
  | { readonly id: number; readonly posted: number; readonly bytes: number }
  /** Every chunk posted: `chunks` in all. */
  | { readonly id: number; readonly done: true; readonly bytes: number; readonly chunks: number }
  | {
      readonly id: number;
      readonly error: { readonly reason: RefusedReason; readonly message: string };
      readonly bytes: number;
    };

/** Requests this thread decoded. */
let decoded = 0;
/** The packer of the request whose chunks are posted (one at a time). */
const packers = new SparePacker();
/** Which keys the main thread holds, by id: every chunk goes through it, in the order posted. */
const keyWire = new KeyWire();

const chunkPort = (workerData as DecodeWorkerData | undefined)?.chunks;

type Packed = ReturnType<PointPacker['chunk']>;

/** The job whose chunks are being posted: `ready`, the next one, packed ahead ('done' when there is none). */
let current:
  | {
      readonly id: number;
      readonly packer: PointPacker;
      readonly chunks: Generator<Packed>;
      readonly bytes: number;
      readonly ahead: number;
      posted: number;
      allowed: number;
      ready: Packed | 'done' | undefined;
    }
  | undefined;
/** Jobs that came while one's chunks were still being posted. */
const waiting: DecodeJob[] = [];

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

parentPort?.on('message', (message: DecodeJob | Taken | Release) => {
  if ('release' in message) {
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    parentPort!.postMessage({ released: true, stop: message.stop === true } satisfies Released);
    return;
  }
  if ('taken' in message) {
    if (current?.id !== message.id) return;
    current.allowed = Math.max(current.allowed, message.taken + current.ahead);
    postMore();
    return;
  }
  waiting.push(message);
  if (current === undefined) startNext();
});

/** Decodes the jobs waiting until one has chunks left to post. */
function startNext(): void {
  while (current === undefined && waiting.length > 0) {
    const job = waiting.shift()!;
    const packer = packers.take();
    let request: PackedRequest;
    const size = { bytes: 0 };
    try {
      request = packer.request(decodeJob(job, size, packer));
    } catch (err) {
      giveBack(job);
      packers.giveBack(packer);
      const { reason, message } = refusalOf(err);
      parentPort!.postMessage({
        id: job.id,
        error: { reason, message },
        bytes: size.bytes,
      } satisfies DecodeMessage);
      continue;
    }
    giveBack(job);
    current = {
      id: job.id,
      packer,
      chunks: packer.chunks(request, job.pointsPerChunk),
      bytes: size.bytes,
      ahead: job.chunksAhead,
      posted: 0,
      allowed: job.chunksAhead,
      ready: undefined,
    };
    postMore();
  }
}

/**
 * The job's body, a buffer of its own, moved back to the main thread once decoded, to receive
 * the next body there (body-chunks.ts `keepSpare`): nothing decoded from it refers to its bytes.
 */
function giveBack(job: DecodeJob): void {
  const parts: readonly Uint8Array[] = Array.isArray(job.body) ? job.body : [job.body];
  const body = parts.length === 1 ? parts[0] : undefined;
  if (
    body instanceof Uint8Array &&
    body.buffer instanceof ArrayBuffer &&
    body.byteOffset === 0 &&
    body.length >= RECEIVE_WHOLE_BYTES
  )
    parentPort!.postMessage({ id: job.id, spare: body.buffer } satisfies Spare, [body.buffer]);
}

/** Posts the current job's chunks up to what it is allowed; when none is left, says done and starts the next job. */
function postMore(): void {
  const job = current!;
  const before = job.posted;
  for (;;) {
    if (job.ready === undefined) {
      const next = job.chunks.next();
      job.ready = next.done === true ? 'done' : next.value;
    }
    if (job.ready === 'done') {
      current = undefined;
      packers.giveBack(job.packer);
      parentPort!.postMessage({
        id: job.id,
        done: true,
        bytes: job.bytes,
        chunks: job.posted,
      } satisfies DecodeMessage);
      startNext();
      return;
    }
    if (job.posted >= job.allowed) break;
    chunkPort!.postMessage(
      { id: job.id, chunk: keyWire.encode(job.ready.packed) } satisfies ChunkMessage,
      job.ready.transfer,
    );
    job.ready = undefined;
    job.posted++;
  }
  if (job.posted > before)
    parentPort!.postMessage({
      id: job.id,
      posted: job.posted,
      bytes: job.bytes,
    } satisfies DecodeMessage);
}

/** The job's request, its protobuf points decoded into `packer`; `size.bytes`: the body's size as sent, then decompressed. */
function decodeJob(
  job: DecodeJob,
  size: { bytes: number },
  packer: PointPacker,
): OtlpExportRequest {
  const parts: readonly Uint8Array[] = Array.isArray(job.body) ? job.body : [job.body];
  const sent =
    parts.length === 1
      ? Buffer.from(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.byteLength)
      : Buffer.concat(parts);
  size.bytes = sent.length;
  const body = decodeBodySync(sent, job.contentEncoding, job.maxBodyBytes);
  size.bytes = body.length;
  // A thread's first request decodes without the attribute memo: the pool starts a thread for a
  // lone large body and stops it after, where remembering every set would only cost (each set
  // kept past its request is work for this thread's collector); one that keeps decoding remembers.
  return decodeExportRequest(
    body,
    job.encoding,
    decodeLimitsFor(job.maxBodyBytes),
    decoded++ === 0 ? false : undefined,
    packer,
  );
}
