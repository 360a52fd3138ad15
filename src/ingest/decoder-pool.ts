/**
 * The decoding thread (decode-worker.ts) seen from the listener: one worker, started on first use,
 * decoding one request at a time (others wait their turn), its chunks handed to `onChunk` as they
 * arrive — one per turn of the main thread's event loop, so a scrape can run between two. The next
 * chunk is asked for once one is handled, so at most one is ever waiting to be deserialised here.
 *
 * What a request may cost the worker is bounded by counting as it decodes (decode-limits.ts, for
 * `maxBodyBytes`): past the limits it is refused (413) and the worker goes on. The worker's heap
 * is capped too (`maxHeapMegabytes`), well above what the limits let decoding reach, as a backstop
 * only: Node does not promise a worker reaching it dies alone (nodejs/node#47224). A worker that
 * dies all the same has its request refused (413) and the next one gets a new worker.
 *
 * What a request cost is the worker's heap, and V8 keeps what a heap grew to: pages its GC frees go
 * to the isolate's page pool for reuse, and a stopped worker's pool is unmapped later by another
 * isolate — the main thread, which then spends hundreds of milliseconds in munmap for a max-size
 * request's ~1 GiB. So the worker gives the pages back itself, on its own thread: once no request
 * waits after it decoded `releaseAfterBytes` in all since the last time (a stream of middling bodies
 * grows its heap as one big body does), and after `idleMillis` without work,
 * it runs a last-resort GC (which empties the pool); an idle worker is then stopped (the next
 * request starts a new one, tens of milliseconds on its own thread), its small pool left to V8.
 *
 * A body the caller hands over is moved to the worker (its ArrayBuffer transferred, when the body
 * is the whole of it; a small Buffer may share Node's pool), not copied: copying a large body into
 * the message, and the message into the worker, would hold the main thread.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { OPTION_DEFAULTS } from '../common/option-defaults.ts';
import { decodeLimitsFor } from '../otlp/decode-limits.ts';
import type { OtlpEncoding } from '../otlp/types.ts';
import { ownsItsMemory } from './body-chunks.ts';
import type { DecodeJob, DecodeMessage, NextChunk, Release, Released } from './decode-worker.ts';
import type { PackedChunk } from './packed-chunk.ts';

/** Why a request was not decoded: `decode` → 400, `too-large` → 413 (past the decode limits or `maxBodyBytes`, or the worker died), `other` → 500. */
export class DecodeFailed extends Error {
  readonly kind: 'decode' | 'too-large' | 'other';
  constructor(kind: 'decode' | 'too-large' | 'other', message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface DecoderPoolOptions {
  /** Largest body, decompressed; the decode limits are those for it (decode-limits.ts). @default 20971520 */
  readonly maxBodyBytes?: number;
  /** Data points per chunk handed to the main thread. @default 2000 */
  readonly pointsPerChunk?: number;
  /** The worker's old-generation heap, in MiB. @default 1024 */
  readonly maxHeapMegabytes?: number;
  /**
   * The worker's young generation, in MiB. V8 grows it to its own ceiling (over 100 MiB) under a
   * fleet's back-to-back bodies, and keeps it: resident memory for the life of the worker, where
   * what a chunk's points make is done with long before. @default 32
   */
  readonly maxYoungMegabytes?: number;
  /** Once it decoded this many bytes since it last gave its heap back, the worker gives it back when no request waits. @default 4194304 (4 MiB) */
  readonly releaseAfterBytes?: number;
  /** A worker without work this long gives its heap back and is stopped. @default 1000 */
  readonly idleMillis?: number;
}

interface Pending {
  readonly job: DecodeJob;
  /** Whether the body may be moved to the worker (the caller is done with it). */
  readonly handOver: boolean;
  readonly onChunk: (chunk: PackedChunk) => void;
  resolve(): void;
  reject(err: Error): void;
}

const WORKER_URL = new URL(`./decode-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

export class DecoderPool {
  readonly #options: Required<DecoderPoolOptions>;
  #worker: Worker | undefined;
  #nextId = 0;
  #current: Pending | undefined;
  readonly #queue: Pending[] = [];
  #closed = false;
  /** Messages from the worker not handled yet: one per turn (a port delivers a backlog in one go). */
  readonly #inbox: DecodeMessage[] = [];
  #draining = false;
  #idleTimer: NodeJS.Timeout | undefined;
  /** Bytes the worker decoded since it last gave its heap back. */
  #decodedBytes = 0;

  constructor(options: DecoderPoolOptions = {}) {
    this.#options = { maxBodyBytes: OPTION_DEFAULTS.ingest.maxBodyBytes, pointsPerChunk: 2_000, maxHeapMegabytes: 1_024, maxYoungMegabytes: 32, releaseAfterBytes: 4 * 1024 * 1024, idleMillis: 1_000, ...options };
  }

  /** Whether a worker is running (started on first use, stopped when idle). */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /**
   * Decodes `body` (or the chunks it arrived in, joined by the worker; compressed as
   * `contentEncoding` says, decompressed by the worker); resolves once every chunk went to
   * `onChunk`. With `handOver`, the caller is done with `body`: its memory moves to the worker and
   * `body` is left empty.
   */
  decode(
    body: Buffer | readonly Buffer[],
    encoding: OtlpEncoding,
    onChunk: (chunk: PackedChunk) => void,
    handOver = false,
    contentEncoding?: string,
  ): Promise<void> {
    if (this.#closed) return Promise.reject(new DecodeFailed('other', 'the ingest is closing'));
    return new Promise((resolve, reject) => {
      const job: DecodeJob = {
        id: this.#nextId++,
        body,
        encoding,
        ...(contentEncoding === undefined ? {} : { contentEncoding }),
        maxBodyBytes: this.#options.maxBodyBytes,
        limits: decodeLimitsFor(this.#options.maxBodyBytes),
        pointsPerChunk: this.#options.pointsPerChunk,
      };
      this.#queue.push({ job, handOver, onChunk, resolve, reject });
      this.#next();
    });
  }

  /** Stops the worker; requests not finished are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const p of this.#queue.splice(0)) p.reject(new DecodeFailed('other', 'the ingest is closing'));
    this.#current?.reject(new DecodeFailed('other', 'the ingest is closing'));
    this.#current = undefined;
    await this.#retire();
  }

  #next(): void {
    if (this.#current !== undefined || this.#closed) return;
    const pending = this.#queue.shift();
    if (pending === undefined) {
      this.#whenIdle();
      return;
    }
    clearTimeout(this.#idleTimer);
    this.#current = pending;
    const { body } = pending.job;
    const transfer = pending.handOver ? (Array.isArray(body) ? body : [body]).filter(ownsItsMemory).map((b) => b.buffer as ArrayBuffer) : [];
    this.#workerFor().postMessage(pending.job, transfer);
  }

  /** Nothing to decode: the worker gives its heap back now if its bodies since the last time may have grown it; when still idle after `idleMillis`, gives it back and stops. */
  #whenIdle(): void {
    const worker = this.#worker;
    if (worker === undefined) return;
    if (this.#decodedBytes >= this.#options.releaseAfterBytes) {
      this.#decodedBytes = 0;
      worker.postMessage({ release: true } satisfies Release);
    }
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#worker !== worker || this.#current !== undefined) return;
      worker.postMessage({ release: true, stop: true } satisfies Release);
    }, this.#options.idleMillis).unref();
  }

  /** The worker gave its heap back; one asked to stop is stopped unless work came meanwhile. */
  #released(worker: Worker, message: Released): void {
    if (message.stop && this.#worker === worker && this.#current === undefined && this.#queue.length === 0) void this.#retire();
  }

  async #retire(): Promise<void> {
    clearTimeout(this.#idleTimer);
    const worker = this.#worker;
    this.#worker = undefined;
    this.#decodedBytes = 0;
    await worker?.terminate();
  }

  #workerFor(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: this.#options.maxHeapMegabytes, maxYoungGenerationSizeMb: this.#options.maxYoungMegabytes } });
    worker.unref();
    worker.on('message', (message: DecodeMessage | Released) => {
      if ('released' in message) {
        this.#released(worker, message);
        return;
      }
      this.#inbox.push(message);
      if (!this.#draining) {
        this.#draining = true;
        setImmediate(() => this.#drain());
      }
    });
    const failed = (why: string): void => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#decodedBytes = 0;
      const current = this.#current;
      this.#current = undefined;
      current?.reject(new DecodeFailed('too-large', `the request could not be decoded within the decoder's ${this.#options.maxHeapMegabytes} MiB (${why})`));
      this.#next();
    };
    worker.on('error', (err) => failed(err.message));
    worker.on('exit', (code) => failed(`exit ${code}`));
    this.#worker = worker;
    return worker;
  }

  #drain(): void {
    const message = this.#inbox.shift();
    if (message !== undefined) this.#onMessage(message);
    if (this.#inbox.length > 0) setImmediate(() => this.#drain());
    else this.#draining = false;
  }

  #onMessage(message: DecodeMessage): void {
    const current = this.#current;
    if (current === undefined || current.job.id !== message.id) return;
    if (!('chunk' in message)) this.#decodedBytes += message.bytes;
    if ('chunk' in message) {
      try {
        current.onChunk(message.chunk);
      } catch (err) {
        this.#finish(() => current.reject(err instanceof Error ? err : new Error(String(err))));
        return;
      }
      this.#worker?.postMessage({ id: message.id, next: true } satisfies NextChunk);
      return;
    }
    if ('error' in message) this.#finish(() => current.reject(new DecodeFailed(message.error.kind, message.error.message)));
    else this.#finish(() => current.resolve());
  }

  #finish(settle: () => void): void {
    this.#current = undefined;
    settle();
    this.#next();
  }
}
