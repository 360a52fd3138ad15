/**
 * The ingest step every transport's front (ingest-listener.ts for OTLP/HTTP, grpc-listener.ts for
 * OTLP/gRPC) hands a request's body to once its own checks passed: bytes held against the budget
 * as they arrive → a slot → decode and store → what the sink made of it, or the refusal it is
 * answered with (ingest-errors.ts). One step for both fronts, so their requests share the slots,
 * the bytes in flight, the decoding thread and the store.
 *
 * A request takes one of the `maxConcurrentRequests` slots once its body has arrived, for as long
 * as it is decoded and ingested: a body still trickling in holds a connection, never a slot. A
 * request whose body is in while every slot is taken waits for one, in arrival order, as the
 * Collector's receiver lets a sender wait rather than turning it away: what bounds the waiting is
 * the bytes of bodies held (being received, waiting or processed), at most
 * `(maxConcurrentRequests + 1) × maxBodyBytes`, as sent and once decompressed here. Only a request
 * whose body would pass that is shed (`unavailable`, with a retry delay), as it arrives or once
 * decompressed, so many fast senders, or many small bombs, cannot fill memory. A request's bytes
 * and slot (or its place in the line) are given back when it is answered or its sender is gone.
 */
import type { Answered, IngestProtocol } from '../http/self-telemetry.ts';
import { decodeExportRequest } from '../otlp/codec.ts';
import { decodeLimitsFor, type DecodeLimits } from '../otlp/decode-limits.ts';
import type { OtlpEncoding, OtlpPartialSuccess } from '../otlp/types.ts';
import { BodyAborted, joinChunks, trimSpares, type BodyChunks } from './body-chunks.ts';
import { decodeBody, decodesOffThread, isIdentity } from './content-encoding.ts';
import { DecoderPool } from './decoder-pool.ts';
import { answerReason, Refused, refusalOf } from './ingest-errors.ts';
import type { IngestSink } from './ingest-store.ts';
import { SparePacker } from './packed-chunk.ts';

export const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * Decompressed bodies from this size on are decoded on the decoding thread and ingested in chunks
 * (decoder-pool.ts); smaller ones decode on the main thread in about a millisecond, cheaper than
 * the round trip (within the decode limits for this size: a few MiB at most). Snappy and LZ4
 * bodies, whose decompression is JavaScript, go to the decoding thread whatever their size, and
 * gzip and zstd ones that announce this size or more (content-encoding.ts), so the main thread
 * never holds them inflated.
 */
export const OFF_THREAD_BYTES = 256 * 1024;

/** The option values are resolved ones (resolve-options.ts `resolveIngest`). */
export interface IngestStepOptions {
  /** Where decoded requests go. */
  readonly sink: IngestSink;
  /** Largest request body, as sent and once decompressed, in bytes; past it `too_large`. */
  readonly maxBodyBytes: number;
  /**
   * Requests processed (decoded and ingested) at once; one more waits for a slot once its body is
   * in, its body counted against the bytes in flight, `(maxConcurrentRequests + 1) × maxBodyBytes`,
   * past which a request is shed (`unavailable`).
   */
  readonly maxConcurrentRequests: number;
  /** The retry delay a shed request is told, in whole seconds. @default 1 */
  readonly retryAfterSeconds?: number;
  /**
   * Called with every request that decoded — its body (decompressed) and encoding, not its headers
   * — and what the sink made of it, after the sink (`jobmeter serve --debug` prints it). The body
   * rather than the decoded request, because that model drops what a printout must show (int or
   * double, histogram min/max, scope attributes). A throw is ignored. @default none
   */
  readonly onRequest?: (body: Buffer, encoding: OtlpEncoding, result: OtlpPartialSuccess) => void;
  /**
   * Called once with what every request a front answered was answered (its reason: ingest-errors.ts
   * `INGEST_ANSWERS`), as the answer is written; jobmeter counts it. A throw is ignored. @default none
   */
  readonly onAnswered?: Answered;
}

/** One request as a front hands it over: its body still to read. */
export interface IngestRequest {
  readonly encoding: OtlpEncoding;
  /** Its `Content-Encoding`: the body as `read` gives it (undefined: not compressed). */
  readonly contentEncoding: string | undefined;
  /**
   * Reads the body, telling `hold` each chunk's size as it arrives, before it is kept (a throw
   * refuses the body). @rejects {BodyAborted} when the sender went; what refuses it otherwise
   */
  read(hold: (bytes: number) => void): Promise<BodyChunks>;
  /** Calls `release` once the sender is gone (its connection closed, its call cancelled). */
  onGone(release: () => void): void;
  /** Whether the sender is gone. */
  gone(): boolean;
  /** The sender's address (its TCP peer), which the sink is told with the request (senders.ts). */
  readonly peer: string | undefined;
}

/** What a request came to: what the sink made of it, its refusal, or its sender gone. */
export interface IngestOutcome {
  readonly outcome: OtlpPartialSuccess | Refused | BodyAborted;
  /** Whether it was refused while its body was still arriving (the rest of it left unread). */
  readonly bodyLeft: boolean;
  /** The bytes of its body read, as `read` gave them. */
  readonly bytes: number;
}

export interface IngestStep {
  /**
   * One request of a front, from its arrival to its answer: `prepare` (the front's own checks,
   * each throwing its refusal, then the request) → budget → read → slot → decode and store, each
   * step returning or throwing; what it came to (what it threw: ingest-errors.ts `refusalOf`)
   * told to `onAnswered` and handed to `answer`, unless its sender is `gone` or went first.
   */
  serve(
    protocol: IngestProtocol,
    gone: () => boolean,
    prepare: () => IngestRequest,
    answer: (outcome: OtlpPartialSuccess | Refused, bodyLeft: boolean) => void,
  ): Promise<void>;
  /** The retry delay a shed request is told, in whole seconds. */
  readonly retryAfterSeconds: number;
  /** Stops the decoding thread (once every front is closed). */
  close(): Promise<void>;
}

export function ingestStep(options: IngestStepOptions): IngestStep {
  const { maxBodyBytes, maxConcurrentRequests: maxConcurrent } = options;
  const retryAfter = options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;

  // A sink that takes a request in parts is fed by the decoding thread; any other decodes here.
  const pool = options.sink.begin !== undefined ? new DecoderPool({ maxBodyBytes }) : undefined;
  // A body goes to the decoding thread moved (its memory handed over, not copied) unless the debug
  // printer still wants it; only then may it go as it arrived (in chunks, or compressed).
  const handOver = pool !== undefined && options.onRequest === undefined;
  const decodeLimits = decodeLimitsFor(maxBodyBytes);
  let inFlight = 0;
  // Requests whose body is in, waiting for a slot, first come first served; each is handed a slot
  // by the request that gives it back.
  const waiting: Array<(handed: boolean) => void> = [];
  const giveBackSlot = (): void => {
    const next = waiting.shift();
    if (next === undefined) inFlight--;
    else next(true);
  };
  // Bytes of bodies held by requests not yet answered; one body more than the slots, so a body
  // alone never passes it (past maxBodyBytes it is too large).
  const bodyBudget = maxBodyBytes * (maxConcurrent + 1);
  let bodyBytes = 0;

  /** Decodes off the main thread and ingests a chunk per turn (decoder-pool.ts). */
  const ingestOffThread = async (
    body: Buffer | BodyChunks,
    { encoding, peer }: IngestRequest,
    contentEncoding?: string,
  ): Promise<OtlpPartialSuccess> => {
    const batch = options.sink.begin!(peer);
    await pool!.decode(body, encoding, (chunk) => batch.add(chunk), handOver, contentEncoding);
    return batch.result();
  };

  /**
   * Decodes and ingests `request`'s whole body, `chunks`: what the sink made of it. `hold` counts a
   * body decompressed here against the bytes in flight (it throws the refusal past them).
   */
  const ingest = async (
    chunks: BodyChunks,
    request: IngestRequest,
    hold: (bytes: number) => void,
  ): Promise<OtlpPartialSuccess> => {
    const { encoding, contentEncoding } = request;
    // A big uncompressed body goes as the chunks it arrived in, joined on the decoding thread; a
    // snappy or LZ4 one, or one that says it inflates to a big one, compressed, inflated there.
    const length = chunks.reduce((n, c) => n + c.length, 0);
    if (handOver && isIdentity(contentEncoding) && length >= OFF_THREAD_BYTES)
      return ingestOffThread(chunks, request);
    const raw = joinChunks(chunks);
    if (handOver && decodesOffThread(contentEncoding, raw, OFF_THREAD_BYTES))
      return ingestOffThread(raw, request, contentEncoding);
    const body = await decodeBody(raw, contentEncoding, maxBodyBytes);
    if (!isIdentity(contentEncoding)) hold(body.length);
    const result =
      pool !== undefined && body.length >= OFF_THREAD_BYTES
        ? await ingestOffThread(body, request)
        : ingestHere(options.sink, body, request, decodeLimits);
    try {
      options.onRequest?.(body, encoding, result);
    } catch {
      // Debug output never changes the answer.
    }
    return result;
  };

  const run = async (request: IngestRequest): Promise<IngestOutcome> => {
    // Received bytes count against the budget as they arrive, the slot once the body is in; both
    // are given back once, as the answer is made or when the sender goes first.
    let held = 0;
    let counted = false;
    // While waiting for a slot: its place in the line, called with whether it was handed the slot
    // (or the sender went) to stop waiting.
    let inLine: ((handed: boolean) => void) | undefined;
    const release = (): void => {
      bodyBytes -= held;
      held = 0;
      if (inLine !== undefined) {
        waiting.splice(waiting.indexOf(inLine), 1);
        inLine(false);
      }
      if (counted) giveBackSlot();
      counted = false;
    };
    request.onGone(release);
    const hold = (bytes: number): void => {
      held += bytes;
      bodyBytes += bytes;
      if (bodyBytes > bodyBudget)
        throw new Refused(
          'unavailable',
          `jobmeter is busy (request bodies past ${bodyBudget} bytes in flight); retry after ${retryAfter} s`,
        );
      trimSpares(bodyBudget - bodyBytes);
    };
    const takeSlot = async (): Promise<void> => {
      if (inFlight < maxConcurrent) {
        inFlight++;
        counted = true;
        return;
      }
      // Handed a slot synchronously (so a sender gone right after passes it on), resumed after.
      await new Promise<void>((resume) => {
        inLine = (handed) => {
          inLine = undefined;
          counted = handed;
          resume();
        };
        waiting.push(inLine);
      });
      if (!counted || request.gone())
        throw new BodyAborted('the sender went while the request waited for a slot');
    };

    // While the body is arriving a refusal leaves the rest unread: the client may still be sending it.
    let reading = true;
    let read = 0;
    let outcome: IngestOutcome['outcome'];
    try {
      const chunks = await request.read((bytes) => {
        read += bytes;
        hold(bytes);
      });
      reading = false;
      await takeSlot();
      outcome = await ingest(chunks, request, hold);
    } catch (err) {
      outcome = err instanceof BodyAborted ? err : refusalOf(err);
    }
    release();
    return { outcome, bodyLeft: reading, bytes: read };
  };

  const serve: IngestStep['serve'] = async (protocol, gone, prepare, answer) => {
    const started = performance.now();
    const { outcome, bodyLeft, bytes } = await Promise.resolve()
      .then(() => run(prepare()))
      .catch((err: unknown) => ({ outcome: refusalOf(err), bodyLeft: false, bytes: 0 }));
    // Nobody to answer: nothing written, nothing counted.
    if (gone() || outcome instanceof BodyAborted) return;
    try {
      const seconds = (performance.now() - started) / 1000;
      options.onAnswered?.(answerReason(outcome), protocol, seconds, bytes);
    } catch {
      // Counting never changes the answer.
    }
    answer(outcome, bodyLeft);
  };

  return { serve, retryAfterSeconds: retryAfter, close: async () => pool?.close() };
}

/**
 * A body decoded and ingested in this turn: a protobuf one's points decoded straight into columns
 * (packed-chunk.ts `PointPacker`) when the sink takes them, as the decoding thread hands them over,
 * rather than an object per point.
 */
function ingestHere(
  sink: IngestSink,
  body: Buffer,
  { encoding, peer }: IngestRequest,
  limits: DecodeLimits,
): OtlpPartialSuccess {
  if (encoding !== 'protobuf' || sink.begin === undefined)
    return sink.ingest(decodeExportRequest(body, encoding, limits), peer);
  const packer = packers.take();
  try {
    const request = packer.request(decodeExportRequest(body, encoding, limits, undefined, packer));
    const batch = sink.begin(peer);
    batch.add(packer.chunk(request).packed);
    return batch.result();
  } finally {
    packers.giveBack(packer);
  }
}

/** The main thread's packer (one request decodes here at a time: synchronously). */
const packers = new SparePacker();
