/**
 * Format dispatch for the HTTP layer: one call to render a whole exposition, or a generator of
 * pieces so a large scrape can yield to the event loop between pieces.
 */
import type { RenderFamily } from './render-model.ts';
import type { ExpositionFormat } from './types.ts';
import { OPENMETRICS_DIALECT } from './openmetrics.ts';
import { TEXT_DIALECT } from './text.ts';
import { checkChunkBytes, familyPieces, renderWhole, type Dialect, type Piece } from './samples.ts';

/** The writer of each format around the shared sample loops (samples.ts). */
export const DIALECTS: Readonly<Record<ExpositionFormat, Dialect>> = {
  openmetrics: OPENMETRICS_DIALECT,
  text: TEXT_DIALECT,
};

/** Renders `families` in `format` as one string. */
export function render(format: ExpositionFormat, families: readonly RenderFamily[]): string {
  return renderWhole(families, DIALECTS[format]);
}

/**
 * Renders `families` in `format` as pieces of roughly `chunkBytes` characters each (a piece ends
 * after the first series that reaches the size, so it is whole lines and may overshoot by one
 * series; for ASCII output characters are bytes). Joined, the pieces' texts equal {@link render}'s
 * result. Families are read lazily, so they must not change until the generator is done. Each
 * piece says whether it is all ASCII (every family in it marked `ascii` by the naming stage, and
 * its metadata lines checked: then its Latin-1 bytes are its UTF-8 bytes), for a writer that
 * encodes them itself.
 *
 * @param chunkBytes target piece size; must be > 0; `Infinity` gives one piece. @default 65536
 * @throws RangeError when `chunkBytes` is not a positive number (at the call, not on `next()`).
 */
export function renderPieces(
  format: ExpositionFormat,
  families: readonly RenderFamily[],
  chunkBytes = 65536,
): Generator<Piece, void, undefined> {
  checkChunkBytes(chunkBytes);
  return familyPieces(families, chunkBytes, DIALECTS[format]);
}
