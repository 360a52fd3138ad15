/**
 * The exposition's bytes in the pieces of `renderPieces`, written as the body store writes them
 * (http/body-store.ts): an all-ASCII piece as Latin-1, any other as UTF-8. Joined, they are
 * `Buffer.from(render(format, families))` exactly when every piece's `ascii` mark is true to its text.
 */
import { renderPieces } from '../../src/exposition/render.ts';
import type { RenderFamily } from '../../src/exposition/render-model.ts';
import type { Piece } from '../../src/exposition/samples.ts';
import type { ExpositionFormat } from '../../src/exposition/types.ts';

/** A piece's bytes as the body store writes them. */
export const pieceBytes = (piece: Piece): Buffer =>
  Buffer.from(piece.text, piece.ascii ? 'latin1' : 'utf8');

export function* renderBuffers(
  format: ExpositionFormat,
  families: readonly RenderFamily[],
  chunkBytes = 65536,
): Generator<Buffer, void, undefined> {
  for (const piece of renderPieces(format, families, chunkBytes)) yield pieceBytes(piece);
}
