/**
 * The ingest's body reader: a request body as the chunks it arrived in. Joining them into one
 * Buffer on the main thread is, for a 20 MiB body, a copy into thousands of fresh pages, long
 * enough to hold the event loop, so a body bound for the decoding thread is joined there instead
 * (decoder-pool.ts), and only the others here ({@link joinChunks}).
 *
 * A body whose Content-Length is {@link RECEIVE_WHOLE_BYTES} or more is copied as it arrives into
 * one buffer of that length. That buffer is taken only once {@link RECEIVE_WHOLE_BYTES} of the body
 * have arrived (the chunks so far copied in): a byte that arrives may cost a bounded amount of
 * memory, and a connection that announces a large body and stalls must cost what it sent, not
 * what it announced. Node's HTTP parser hands each read over as a fresh copy of up to 64 KiB from
 * malloc's heap, freed only when V8 collects it; under a storm of large bodies a young generation's
 * worth of them is dead and uncollected at any time (tens of MiB), interleaved with everything
 * else the main thread allocates there, so their pages could not be given back. So each read is
 * {@link release}d as soon as it is copied (or, past a refusal, dropped), and so is the buffer of a
 * refused body: the next read reuses the same block. A body of {@link MAPPED_FROM_BYTES}
 * or more is received into a buffer at least {@link MAPPED_BYTES} long (only its first
 * Content-Length bytes are ever touched, so only they are resident): glibc's malloc serves a large
 * block from its heap, where a freed one stays resident, once it has freed a mapped block that
 * size, but always maps one past 32 MiB itself. Not for smaller bodies: V8 counts the whole length
 * as external memory, and would collect garbage on the main thread every few such requests.
 *
 * Such a buffer, once the decoding thread has read its body, comes back ({@link keepSpare}) and
 * receives the next body: a fresh mapping's pages are faulted in as the body is copied in, and in
 * a virtual machine a fault costs far more than the copy (an 8 MiB body: 28–30 ms, against 1.3 ms
 * into a buffer already faulted in; bench/README.md, the shared-body ingest rows, whose senders'
 * bodies were a quarter of the main thread's time). Only a steady stream keeps them: at most
 * {@link MAX_SPARES}, all freed once none was taken or given back for {@link SPARE_MILLIS}, so a
 * storm's pages still go back within a second of its end. What a spare has resident counts: a body
 * that takes one holds it at once ({@link ArrivingBody.add}), and spares are kept within what the
 * ingest's bytes in flight leave ({@link trimSpares}).
 *
 * It stops reading at the first refusal: a declared Content-Length or a body past `limit` is
 * {@link TooLarge} (before any byte is read for the first), and whatever `onChunk` throws (the
 * listener's budget across requests) is passed on as it is. A request that ends early (the client
 * went) rejects with {@link BodyAborted}, one whose stream fails otherwise with {@link BodyUnreadable}.
 * Node's parser already refuses a body that does not match its Content-Length or chunked framing.
 */
import type { IncomingMessage } from 'node:http';

import { TooLarge } from './too-large.ts';

export type BodyChunks = readonly Buffer[];

/** Declared bodies from this size on are received into one buffer (see above). */
export const RECEIVE_WHOLE_BYTES = 64 * 1024;
/** Past glibc's largest mmap threshold (`DEFAULT_MMAP_THRESHOLD_MAX`, 32 MiB on 64-bit). */
const MAPPED_BYTES = 32 * 1024 * 1024 + 4096;
const MAPPED_FROM_BYTES = 4 * 1024 * 1024;
/** The ArrayBuffers bodies were received into: each holds one body only, at its start. */
const wholeBodies = new WeakSet<ArrayBufferLike>();
/**
 * Buffers bodies were received into, read and given back, for the next ones (see above), each
 * with its resident bytes: the longest body it held, whose pages stay faulted in.
 */
const spares: { readonly buffer: ArrayBuffer; readonly resident: number }[] = [];
/** The resident bytes of each buffer a body was received into, as it was handed out. */
const residentOf = new WeakMap<ArrayBufferLike, number>();
/** As many as bodies a steady stream holds at once: those queued for the decoding thread and the one it decodes. */
const MAX_SPARES = 8;
const SPARE_MILLIS = 1_000;
/** Frees the spares once none was taken or given back for {@link SPARE_MILLIS}. */
let spareTimer: NodeJS.Timeout | undefined;

/** The request ended before its body did (the client closed or reset the connection). */
export class BodyAborted extends Error {}
/** One for every body cut short: a flood of stalled bodies ends one per connection closed, and its stack is never read. */
const ABORTED = new BodyAborted('request body not complete: the connection closed');

/** The request's stream failed before its body was in (the listener answers 400, ingest-errors.ts). */
export class BodyUnreadable extends Error {}

/**
 * @param onChunk told the bytes each chunk makes the body hold ({@link ArrivingBody.add}), before it is kept; a throw refuses the body
 * @rejects {TooLarge} past `limit`; {BodyAborted}; {BodyUnreadable}; what `onChunk` threw
 */
export function readBodyChunks(
  request: IncomingMessage,
  limit: number,
  onChunk: (bytes: number) => void,
): Promise<BodyChunks> {
  return new Promise((resolve, reject) => {
    if (Number(request.headers['content-length']) > limit) {
      reject(new TooLarge(`request body larger than ${limit} bytes`));
      return;
    }
    // Node's parser refuses a body longer or shorter than its Content-Length, so it fills its buffer.
    const body = new ArrivingBody(Number(request.headers['content-length']), true);
    const stop = (err: unknown): void => {
      request
        .removeListener('data', onData)
        .removeListener('end', onEnd)
        .removeListener('error', onError)
        .removeListener('close', onClose);
      if (err === undefined) return;
      body.drop();
      // What is left of a refused body is read and dropped until the connection closes.
      request.on('data', release).resume();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    function onData(chunk: Buffer): void {
      try {
        if (body.received + chunk.length > limit)
          throw new TooLarge(`request body larger than ${limit} bytes`);
        body.add(chunk, onChunk);
      } catch (err) {
        stop(err);
      }
    }
    function onEnd(): void {
      stop(undefined);
      resolve(body.chunks());
    }
    function onClose(): void {
      stop(ABORTED);
    }
    function onError(err: Error): void {
      stop(new BodyUnreadable('invalid request', { cause: err }));
    }
    request.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/**
 * A body of a known `length` (NaN: not declared) as it arrives: its chunks, until
 * {@link RECEIVE_WHOLE_BYTES} of it are in and it is at least that long; from then on one buffer
 * of its length (see above), the chunks so far copied in. `ownCopies`: each chunk is a copy of its
 * own (HTTP/1's reads), {@link release}d once copied in; otherwise (HTTP/2's slices of shared reads)
 * copying lets the shared memory go when V8 collects it, and the one buffer moves to the decoding
 * thread whole, where the slices would be copied to it one by one.
 */
export class ArrivingBody {
  readonly length: number;
  readonly #ownCopies: boolean;
  readonly #chunks: Buffer[] = [];
  #whole: Buffer | undefined;
  #received = 0;
  /** The bytes held so far: those received, or a spare's resident ones when more. */
  #held = 0;

  constructor(length: number, ownCopies: boolean) {
    this.length = length;
    this.#ownCopies = ownCopies;
  }

  /** The bytes added so far. */
  get received(): number {
    return this.#received;
  }

  /**
   * Keeps `chunk`, once `hold` was told the bytes it makes the body hold: its length, or, when it
   * is the one the body takes a spare for, what that spare has resident (its pages, faulted in by
   * a longer body, are the body's memory at once). A throw keeps nothing.
   */
  add(chunk: Buffer, hold: (bytes: number) => void): void {
    const at = this.#received;
    const takes =
      this.#whole === undefined &&
      at + chunk.length >= RECEIVE_WHOLE_BYTES &&
      this.length >= RECEIVE_WHOLE_BYTES &&
      at + chunk.length <= this.length;
    const spare = takes ? spareFor(this.length) : -1;
    const holds = Math.max(at + chunk.length, spare >= 0 ? spares[spare]!.resident : 0);
    if (holds > this.#held) hold(holds - this.#held);
    this.#held = Math.max(this.#held, holds);
    this.#received += chunk.length;
    const whole = this.#whole;
    if (whole !== undefined && this.#received <= whole.length) {
      chunk.copy(whole, at);
      if (this.#ownCopies) release(chunk);
      return;
    }
    this.#chunks.push(chunk);
    if (takes) {
      const into = (this.#whole = wholeBody(this.length, spare));
      let to = 0;
      for (const c of this.#chunks) {
        to += c.copy(into, to);
        if (this.#ownCopies) release(c);
      }
      this.#chunks.length = 0;
    }
  }

  /** What arrived: the one buffer, when the whole body is in it; else the chunks. */
  chunks(): BodyChunks {
    const whole = this.#whole;
    return whole !== undefined && this.#received === whole.length ? [whole] : this.#chunks;
  }

  /**
   * The body is refused: its buffer, nobody else's yet, is freed now, not when V8 next collects
   * it (a storm sheds dozens, each holding up to a 20 MiB body's pages).
   */
  drop(): void {
    (this.#whole?.buffer as ArrayBuffer | undefined)?.transfer(0);
  }
}

/**
 * The chunks as one Buffer of its own (never a view of a read buffer): the one chunk when it is
 * that already, else a copy, and then the chunks are {@link release}d: they are the reader's, used up.
 */
export function joinChunks(chunks: BodyChunks): Buffer {
  if (chunks.length === 1 && ownsItsMemory(chunks[0]!)) return chunks[0]!;
  const joined = Buffer.concat(chunks);
  for (const c of chunks) release(c);
  return joined;
}

/**
 * Frees a read's memory now rather than at V8's next collection of it: a detached ArrayBuffer
 * frees its bytes at once. Only a chunk that is the whole of its ArrayBuffer, as each of Node's
 * HTTP parser is (node_http_parser.cc, on_body: `Buffer::Copy`); a slice of memory shared with
 * others (HTTP/2's reads, Node's Buffer pool) is left to the collector.
 */
function release(chunk: Buffer): void {
  if (ownsItsMemory(chunk) && !wholeBodies.has(chunk.buffer))
    (chunk.buffer as ArrayBuffer).transfer(0);
}

/**
 * Whether `bytes` has its ArrayBuffer to itself — the whole of it, or a body received into one —
 * so it may be moved to another thread (a small Buffer may share Node's pool).
 */
export function ownsItsMemory(bytes: Uint8Array): boolean {
  return (
    bytes.byteOffset === 0 &&
    bytes.buffer instanceof ArrayBuffer &&
    (bytes.buffer.byteLength === bytes.byteLength || wholeBodies.has(bytes.buffer))
  );
}

/** Where the smallest spare a body of `length` fits in is, or -1. */
function spareFor(length: number): number {
  let at = -1;
  for (let i = 0; i < spares.length; i++) {
    const size = spares[i]!.buffer.byteLength;
    if (size >= length && (at < 0 || size < spares[at]!.buffer.byteLength)) at = i;
  }
  return at;
}

/** A buffer for a body of `length`: the spare at `spare` ({@link spareFor}), else a new one. */
function wholeBody(length: number, spare: number): Buffer {
  const taken = spare >= 0 ? spares.splice(spare, 1)[0] : undefined;
  if (taken !== undefined) spareTimer?.refresh();
  const buffer =
    taken !== undefined
      ? Buffer.from(taken.buffer)
      : Buffer.allocUnsafeSlow(
          length >= MAPPED_FROM_BYTES ? Math.max(length, MAPPED_BYTES) : length,
        );
  wholeBodies.add(buffer.buffer);
  residentOf.set(buffer.buffer, Math.max(length, taken?.resident ?? 0));
  return buffer.subarray(0, length);
}

/**
 * Frees spares, largest first, until they have at most `room` bytes resident: the ingest keeps
 * what bodies hold and what spares hold within its bytes in flight (ingest-step.ts), so a storm
 * peaks where it did without them.
 */
export function trimSpares(room: number): void {
  let resident = 0;
  for (const s of spares) resident += s.resident;
  if (resident <= room) return;
  spares.sort((a, b) => a.resident - b.resident);
  while (resident > room) {
    const s = spares.pop()!;
    resident -= s.resident;
    s.buffer.transfer(0);
  }
}

/**
 * A buffer a body was received into, read and done with (`buffer`: its ArrayBuffer moved back from
 * the decoding thread; `was`: the one that moved there), kept for the next body (see above); freed
 * at once past {@link MAX_SPARES}, or when it was not a body's moved there: a body the caller kept
 * went as a copy of its whole ArrayBuffer, every page of it written, more than its resident count.
 */
export function keepSpare(buffer: ArrayBuffer, was: ArrayBufferLike | undefined): void {
  const resident = was?.byteLength === 0 ? residentOf.get(was) : undefined;
  if (resident === undefined || spares.length >= MAX_SPARES) {
    buffer.transfer(0);
    return;
  }
  spares.push({ buffer, resident });
  if (spareTimer === undefined) {
    spareTimer = setTimeout(() => {
      for (const b of spares.splice(0)) b.buffer.transfer(0);
    }, SPARE_MILLIS);
    spareTimer.unref();
  } else spareTimer.refresh();
}
