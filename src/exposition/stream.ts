/**
 * A large exposition without stalling the host: the bytes of {@link renderBuffers}, handed out as
 * an async iterable that gives the event loop back (`setImmediate`) whenever rendering has held
 * it for `sliceMillis`. A 110 000-series scrape (≈ 15 MB) is then rendered in slices of a few
 * milliseconds, interleaved with the host's own timers and I/O, instead of one block of tens of
 * milliseconds. Each slice ends at a piece boundary (whole lines).
 *
 * Families are read lazily: they must not change until the iteration is done (the naming stage
 * builds new families for every scrape, so a later scrape never touches these).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { protobufBuffers } from './protobuf.ts';
import { renderBuffers } from './render.ts';
import type { ExpositionFormat, Family } from './types.ts';

export interface RenderStreamOptions {
  /** Target piece size in characters (bytes, for ASCII). @default 65536 */
  readonly chunkBytes?: number;
  /**
   * Longest the event loop is held between two turns, in ms (a slice may overshoot by one piece,
   * ≈ 0.3 ms for 64 KiB). `Infinity` never yields. @default 5
   */
  readonly sliceMillis?: number;
}

export const DEFAULT_SLICE_MILLIS = 5;

/**
 * @throws RangeError at the call when `chunkBytes` is not a positive number or `sliceMillis` is
 *   not a positive number.
 */
export function renderStream(format: ExpositionFormat, families: readonly Family[], options: RenderStreamOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const sliceMillis = options.sliceMillis ?? DEFAULT_SLICE_MILLIS;
  if (typeof sliceMillis !== 'number' || !(sliceMillis > 0)) {
    throw new RangeError(`sliceMillis must be a positive number, got ${String(sliceMillis)}`);
  }
  const buffers = renderBuffers(format, families, options.chunkBytes);
  return sliced(buffers, sliceMillis);
}

/** The protobuf exposition (protobuf.ts), one family a piece, sliced the same way. */
export function renderProtobufStream(families: readonly Family[], sliceMillis = DEFAULT_SLICE_MILLIS): AsyncGenerator<Buffer, void, undefined> {
  return sliced(protobufBuffers(families), sliceMillis);
}

async function* sliced(buffers: Iterator<Buffer>, sliceMillis: number): AsyncGenerator<Buffer, void, undefined> {
  // The families were most likely made in this very turn, by the last slice of a naming pass:
  // start in a turn of our own rather than add a whole slice on top of that one.
  await nextTurn();
  let start = performance.now();
  for (;;) {
    const next = buffers.next();
    if (next.done === true) return;
    // An empty piece is only a point to yield at (protobuf.ts); the consumer never sees it.
    if (next.value.length > 0) yield next.value;
    // Measured after the consumer's turn too: what it does with a piece (gzip, a socket write)
    // counts against the same slice.
    if (performance.now() - start >= sliceMillis) {
      await nextTurn();
      start = performance.now();
    }
  }
}
