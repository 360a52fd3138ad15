/**
 * The decoding thread (decode-worker.ts) seen from the listener: one worker, started on first use,
 * decoding one request at a time (others wait their turn), its chunks handed to `onChunk` one per
 * turn of the main thread's event loop, so a scrape can run between two; a chunk is taken off the
 * worker's chunk port only then (`receiveMessageOnPort`), so one is deserialised here at a time,
 * and the worker posts at most `chunksAhead` past those taken. The next request is sent to the
 * worker once the one before is decoded, not once this thread ingested it, so the two overlap on
 * two cores; the worker decodes it after posting that one's last chunk (decode-worker.ts), so it
 * decodes one request at a time and holds at most a window of chunks of the one before.
 *
 * What a request may cost the worker is bounded by counting as it decodes (decode-limits.ts, for
 * `maxBodyBytes`): past the limits it is refused (413) and the worker goes on. The worker's heap
 * is capped too (`MAX_HEAP_MEGABYTES`), well above what the limits let decoding reach, as a backstop
 * only: Node does not promise a worker reaching it dies alone (nodejs/node#47224). A worker that
 * dies all the same has its request refused (413) and the next one gets a new worker.
 *
 * What a request cost is the worker's heap, and V8 keeps what a heap grew to: pages its GC frees go
 * to the isolate's page pool for reuse, and a stopped worker's pool is unmapped later by another
 * isolate — the main thread, which then spends hundreds of milliseconds in munmap for a max-size
 * request's ~1 GiB. So the worker gives the pages back itself, on its own thread: once no request
 * came for `releaseQuietMillis` after it decoded `releaseAfterBytes` in all since the last time (a
 * stream of middling bodies grows its heap as one big body does; not in the gaps of a steady
 * stream, whose next request would grow it again), and after `idleMillis` without work,
 * it runs a last-resort GC (which empties the pool); an idle worker is then stopped (the next
 * request starts a new one, tens of milliseconds on its own thread), its small pool left to V8.
 *
 * The worker's module is beside this one (scripts/build.ts writes it so; a bundled app bundles it as
 * an entry point of its own): a pool without it is refused at once, not at the first large body.
 *
 * A body the caller hands over is moved to the worker (its ArrayBuffer transferred, when the body
 * is the whole of it; a small Buffer may share Node's pool), not copied: copying a large body into
 * the message, and the message into the worker, would hold the main thread.
 */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MessageChannel,
  receiveMessageOnPort,
  Worker,
  type MessagePort,
} from 'node:worker_threads';
import { OPTION_DEFAULTS } from '../common/option-defaults.ts';
import type { OtlpEncoding } from '../otlp/types.ts';
import { keepSpare, ownsItsMemory } from './body-chunks.ts';
import { Refused } from './ingest-errors.ts';
import type {
  ChunkMessage,
  DecodeJob,
  DecodeMessage,
  DecodeWorkerData,
  Release,
  Released,
  Spare,
  Taken,
} from './decode-worker.ts';
import { KeyTable, type PackedChunk } from './packed-chunk.ts';

/** The worker's old-generation heap, in MiB. */
const MAX_HEAP_MEGABYTES = 1_024;
/**
 * The worker's young generation, in MiB. V8 grows it to its own ceiling (over 100 MiB) under a
 * fleet's back-to-back bodies, and keeps it: resident memory for the life of the worker, where
 * what a chunk's points make is done with long before. V8's `--max-semi-space-size` is the
 * process's and caps this too: under `jobmeter serve` (cli/node-flags.ts) the worker's young
 * generation is the main thread's size, and what outlives its scavenges is promoted (measured: a
 * full collection every ~80 ms of the decoding thread under one 110k-series body shared by every
 * sender, a sixth of its time).
 */
const MAX_YOUNG_MEGABYTES = 32;

export interface DecoderPoolOptions {
  /** Largest body, decompressed; the decode limits are those for it (decode-limits.ts). @default 20971520 */
  readonly maxBodyBytes?: number;
  /** Data points per chunk handed to the main thread. @default 2000 */
  readonly pointsPerChunk?: number;
  /** Chunks the worker posts ahead of those handed to `onChunk`: a request of that many or fewer is posted whole, freeing the worker for the next. @default 16 */
  readonly chunksAhead?: number;
  /** Once it decoded this many bytes since it last gave its heap back, the worker gives it back when no request came for `releaseQuietMillis`. @default 4194304 (4 MiB) */
  readonly releaseAfterBytes?: number;
  /**
   * How long without a request before a worker that decoded `releaseAfterBytes` gives its heap
   * back: not in the gaps of a steady stream of requests, whose next one would grow it again at
   * once (each giving back is two full collections of the worker's heap). @default 100
   */
  readonly releaseQuietMillis?: number;
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
  /**
   * Once decoded: the port its chunks wait on, how many were posted, how many in all (once every
   * one was), how many were taken; `failed`: settled already, the rest taken only to be dropped.
   */
  decoded?: {
    readonly port: MessagePort;
    /** The keys the port's worker named (packed-chunk.ts `KeyWire`): one per worker, as its port. */
    readonly keys: KeyTable;
    readonly bytes: number;
    posted: number;
    chunks?: number;
    taken: number;
    failed?: Error;
  };
}

const WORKER_URL = new URL(
  `./decode-worker${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

export class DecoderPool {
  readonly #options: Required<DecoderPoolOptions>;
  #worker: Worker | undefined;
  /** The worker's chunk port, this side. */
  #chunks: MessagePort | undefined;
  #nextId = 0;
  /** Sent to the worker, in order: the first being ingested once decoded, the next being decoded. */
  readonly #sent: Pending[] = [];
  readonly #queue: Pending[] = [];
  #closed = false;
  /** Whether a turn that hands the first sent request's next chunk over is scheduled. */
  #pumping = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #releaseTimer: NodeJS.Timeout | undefined;
  #releases = 0;
  /** Bytes the worker decoded since it last gave its heap back. */
  #decodedBytes = 0;

  /** @throws when the worker's module is not beside this one: a bundle that left it out. */
  constructor(options: DecoderPoolOptions = {}) {
    if (!existsSync(WORKER_URL))
      throw new Error(
        `jobmeter's OTLP ingest decodes in a worker, ${fileURLToPath(WORKER_URL)}, which is missing: bundle jobmeter/dist/src/decode-worker.js as an entry point of its own beside the app's (docs/host-apps.md, "Bundlers")`,
      );
    this.#options = {
      maxBodyBytes: OPTION_DEFAULTS.ingest.maxBodyBytes,
      pointsPerChunk: 2_000,
      chunksAhead: 16,
      releaseAfterBytes: 4 * 1024 * 1024,
      releaseQuietMillis: 100,
      idleMillis: 1_000,
      ...options,
    };
  }

  /** Times a worker gave its heap back (and was not stopped). */
  get releases(): number {
    return this.#releases;
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
    if (this.#closed) return Promise.reject(new Error('the ingest is closing'));
    return new Promise((resolve, reject) => {
      const job: DecodeJob = {
        id: this.#nextId++,
        body,
        encoding,
        ...(contentEncoding === undefined ? {} : { contentEncoding }),
        maxBodyBytes: this.#options.maxBodyBytes,
        pointsPerChunk: this.#options.pointsPerChunk,
        chunksAhead: this.#options.chunksAhead,
      };
      this.#queue.push({ job, handOver, onChunk, resolve, reject });
      this.#next();
    });
  }

  /** Stops the worker; requests not finished are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const p of [...this.#sent.splice(0), ...this.#queue.splice(0)])
      p.reject(new Error('the ingest is closing'));
    await this.#retire();
  }

  /**
   * Sends the next request to the worker when none is there, or the one there is decoded: a body
   * handed over cannot be sent again, so a worker that dies loses only the request it decodes
   * (and the rest of one whose chunks it was still posting).
   */
  #next(): void {
    if (this.#closed || this.#queue.length === 0) {
      if (this.#sent.length === 0) this.#whenIdle();
      return;
    }
    const sent = this.#sent;
    if (sent.length >= 2 || (sent.length === 1 && sent[0]!.decoded === undefined)) return;
    const pending = this.#queue.shift()!;
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#releaseTimer);
    sent.push(pending);
    const { body } = pending.job;
    const transfer = pending.handOver
      ? (body instanceof Uint8Array ? [body] : body)
          .filter(ownsItsMemory)
          .map((b) => b.buffer as ArrayBuffer)
      : [];
    this.#workerFor().postMessage(pending.job, transfer);
  }

  /**
   * Nothing to decode: the worker gives its heap back after `releaseQuietMillis` more without work
   * if its bodies since the last time may have grown it; when still idle after `idleMillis`, gives
   * it back and stops.
   */
  #whenIdle(): void {
    const worker = this.#worker;
    if (worker === undefined) return;
    clearTimeout(this.#releaseTimer);
    if (this.#decodedBytes >= this.#options.releaseAfterBytes) {
      this.#releaseTimer = setTimeout(() => {
        if (!this.#idle(worker)) return;
        this.#decodedBytes = 0;
        worker.postMessage({ release: true } satisfies Release);
      }, this.#options.releaseQuietMillis).unref();
    }
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (!this.#idle(worker)) return;
      worker.postMessage({ release: true, stop: true } satisfies Release);
    }, this.#options.idleMillis).unref();
  }

  /** The worker gave its heap back; one asked to stop is stopped unless work came meanwhile. */
  #released(worker: Worker, message: Released): void {
    if (!message.stop) this.#releases++;
    if (message.stop && this.#idle(worker)) void this.#retire();
  }

  /** Whether `worker` is the pool's and has nothing sent or waiting. */
  #idle(worker: Worker): boolean {
    return this.#worker === worker && this.#sent.length === 0 && this.#queue.length === 0;
  }

  async #retire(): Promise<void> {
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#releaseTimer);
    const worker = this.#worker;
    this.#worker = undefined;
    this.#chunks?.close();
    this.#chunks = undefined;
    this.#decodedBytes = 0;
    await worker?.terminate();
  }

  #workerFor(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const { port1, port2 } = new MessageChannel();
    const keys = new KeyTable();
    const worker = new Worker(WORKER_URL, {
      workerData: { chunks: port2 } satisfies DecodeWorkerData,
      transferList: [port2],
      resourceLimits: {
        maxOldGenerationSizeMb: MAX_HEAP_MEGABYTES,
        maxYoungGenerationSizeMb: MAX_YOUNG_MEGABYTES,
      },
    });
    worker.unref();
    worker.on('message', (message: DecodeMessage | Released | Spare) => {
      if ('released' in message) this.#released(worker, message);
      else if ('spare' in message) this.#spare(message);
      else this.#onMessage(message, port1, keys);
    });
    const failed = (why: string): void => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#chunks = undefined;
      this.#decodedBytes = 0;
      // A request whose chunks were all posted has them on the port still; the others are lost.
      const lost = new Refused(
        'too_large',
        `the request could not be decoded within the decoder's ${MAX_HEAP_MEGABYTES} MiB (${why})`,
      );
      for (let i = this.#sent.length - 1; i >= 0; i--) {
        const p = this.#sent[i]!;
        if (p.decoded?.chunks !== undefined) continue;
        this.#sent.splice(i, 1);
        if (p.decoded?.failed === undefined) p.reject(lost);
      }
      if (this.#sent[0]?.decoded !== undefined) this.#schedule();
      if (this.#sent.length === 0) port1.close();
      this.#next();
    };
    worker.on('error', (err: Error) => failed(err.message));
    worker.on('exit', (code) => failed(`exit ${code}`));
    this.#worker = worker;
    this.#chunks = port1;
    return worker;
  }

  /** The worker gave a job's body back: kept for the next body, as the buffer it was moved from. */
  #spare({ id, spare }: Spare): void {
    const body = this.#sent.find((p) => p.job.id === id)?.job.body;
    keepSpare(spare, (body instanceof Uint8Array ? body : body?.[0])?.buffer);
  }

  /** The worker posted chunks of a request (they wait on `port`), all of them, or could not decode it. */
  #onMessage(message: DecodeMessage, port: MessagePort, keys: KeyTable): void {
    const at = this.#sent.findIndex((p) => p.job.id === message.id);
    if (at < 0) return;
    const pending = this.#sent[at]!;
    if ('error' in message) {
      this.#sent.splice(at, 1);
      this.#decodedBytes += message.bytes;
      pending.reject(new Refused(message.error.reason, message.error.message));
      this.#next();
      return;
    }
    const first = pending.decoded === undefined;
    const decoded = (pending.decoded ??= {
      port,
      keys,
      bytes: message.bytes,
      posted: 0,
      taken: 0,
    });
    if ('done' in message) decoded.chunks = decoded.posted = message.chunks;
    else decoded.posted = message.posted;
    if (at === 0) this.#schedule();
    if (first) this.#next();
  }

  #schedule(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    setImmediate(() => {
      this.#pumping = false;
      this.#pump();
    });
  }

  /**
   * Hands the first sent request's next chunk over (one per turn), telling the worker how many
   * were taken every half window; settles it after its last. One that failed has the chunks
   * posted for it taken and dropped, so the worker goes on to the next.
   */
  #pump(): void {
    const pending = this.#sent[0];
    const decoded = pending?.decoded;
    if (pending === undefined || decoded === undefined) return;
    if (decoded.taken < decoded.posted) {
      const received = receiveMessageOnPort(decoded.port);
      if (received === undefined) {
        // Posted before it was announced, so here unless the port was closed (the pool closing).
        this.#fail(pending, new Error('the decoded request was lost'));
        this.#finish(pending);
        return;
      }
      decoded.taken++;
      // Read even when dropped: the keys it names are named for the chunks after it.
      const chunk = decoded.keys.receive((received.message as ChunkMessage).chunk);
      if (decoded.failed === undefined) {
        try {
          pending.onChunk(chunk);
        } catch (err) {
          this.#fail(pending, err instanceof Error ? err : new Error(String(err)));
        }
      }
      if (
        decoded.chunks === undefined &&
        decoded.taken % Math.max(1, this.#options.chunksAhead >> 1) === 0
      ) {
        this.#worker?.postMessage({ id: pending.job.id, taken: decoded.taken } satisfies Taken);
      }
    }
    if (decoded.taken === decoded.chunks) this.#finish(pending);
    else if (decoded.taken < decoded.posted) this.#schedule();
  }

  /** Settles `pending` with `err` now; the chunks still coming for it are dropped. */
  #fail(pending: Pending, err: Error): void {
    if (pending.decoded!.failed !== undefined) return;
    pending.decoded!.failed = err;
    pending.reject(err);
  }

  /** `pending` (the first sent) is done: settled, the next request sent, the one after it handed over next turn. */
  #finish(pending: Pending): void {
    const decoded = pending.decoded!;
    this.#sent.shift();
    this.#decodedBytes += decoded.bytes;
    if (decoded.port !== this.#chunks && !this.#sent.some((p) => p.decoded?.port === decoded.port))
      decoded.port.close();
    if (decoded.failed === undefined) pending.resolve();
    this.#next();
    if (this.#sent[0]?.decoded !== undefined) this.#schedule();
  }
}
