/**
 * A large exposition without stalling the host: the bytes of {@link renderBuffers}, handed out as
 * an async iterable in slices (common/slices.ts): the event loop is given back (`setImmediate`)
 * whenever rendering has held it for `sliceMillis`. A 110 000-series scrape (≈ 15 MB) is then
 * rendered in slices of a few milliseconds, interleaved with the host's own timers and I/O,
 * instead of one block of tens of milliseconds. Each slice ends at a piece boundary (whole lines).
 *
 * Families are read lazily: they must not change until the iteration is done (the naming stage
 * builds new families for every scrape, so a later scrape never touches these).
 */
import { inSlices, SLICE_MILLIS } from '../common/slices.ts';
import { protobufBuffers } from './protobuf.ts';
import { renderBuffers } from './render.ts';
import type { RenderFamily } from './render-model.ts';
import type { ExpositionFormat } from './types.ts';

export interface RenderStreamOptions {
  /** Target piece size in characters (bytes, for ASCII). @default 65536 */
  readonly chunkBytes?: number;
  /**
   * Longest the event loop is held between two turns, in ms (a slice may overshoot by one piece,
   * ≈ 0.3 ms for 64 KiB). `Infinity` never yields. @default SLICE_MILLIS
   */
  readonly sliceMillis?: number;
}

/**
 * @throws RangeError at the call when `chunkBytes` is not a positive number or `sliceMillis` is
 *   not a positive number.
 */
export function renderStream(format: ExpositionFormat, families: readonly RenderFamily[], options: RenderStreamOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const sliceMillis = options.sliceMillis ?? SLICE_MILLIS;
  if (typeof sliceMillis !== 'number' || !(sliceMillis > 0)) {
    throw new RangeError(`sliceMillis must be a positive number, got ${String(sliceMillis)}`);
  }
  const buffers = renderBuffers(format, families, options.chunkBytes);
  return sliced(buffers, sliceMillis);
}

/** The protobuf exposition (protobuf.ts), one family a piece, sliced the same way. */
export function renderProtobufStream(families: readonly RenderFamily[], sliceMillis = SLICE_MILLIS): AsyncGenerator<Buffer, void, undefined> {
  return sliced(protobufBuffers(families), sliceMillis);
}

/**
 * The families were most likely made in this very turn, by the last slice of a naming pass: the
 * first piece comes in a turn of its own (inSlices) rather than add a whole slice on top of that one.
 */
function sliced(buffers: Iterable<Buffer>, sliceMillis: number): AsyncGenerator<Buffer, void, undefined> {
  // An empty piece is only a point to yield at (protobuf.ts); the consumer never sees it.
  return inSlices(buffers, sliceMillis, isEmpty);
}

function isEmpty(piece: Buffer): boolean {
  return piece.length === 0;
}
