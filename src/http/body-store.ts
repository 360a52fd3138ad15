/**
 * Where an endpoint's response bodies live: storage owned by one metrics endpoint (a listener, a
 * plugin registration, a node:http handler), reused from one scrape to the next and dropped when
 * the endpoint closes. A body is written into storage as it is rendered and handed out with its
 * release (`done`); the storage is reused once every response that writes it has called it.
 *
 * Why storage and not the rendered pieces: a large body made of fresh Buffers is that much V8
 * *external* memory per scrape, alive from its first piece to its last write. Buffers that outlive
 * a scavenge are freed only by a mark-compact, and external memory grown that way makes V8 start
 * one (`--trace-incremental-marking`: "external memory pressure"), whose pauses and marking steps
 * land on the event loop. Written into reused storage, a scrape allocates no external memory once
 * the endpoint has served one of that size.
 *
 * A compressed body's plain text is never whole in storage: it goes to the compressor through two
 * small staging buffers, one filled while the other is compressed, each reused once the
 * compressor has read it (its write callback). Only the compressed bytes are kept whole, so the
 * endpoint does not hold a plain copy of every body it compressed (idle, from one scrape to the
 * next), nor outgrow and drop storage of the body's size while writing it.
 *
 * The pieces given to {@link BodyStore.write} are transient: each is copied before the next is
 * asked for (protobuf.ts reuses its buffers on that promise), except bytes their source lends
 * ({@link LentBytes}: a render memo's kept bytes), which the body references until its last hold
 * is given back, so an identity body from a memo is not one more copy of the body.
 */
import type { Transform } from 'node:stream';
// A namespace, not named imports: a Node without zstd (below the floor, common/node-support.ts) must
// link this module, so the library's import can say which Node it needs (refuseUnsupportedNode).
/** node:zlib, loaded when a body is first compressed (a pull-only host that asks for none never loads it: test/package/pull-host-modules.test.ts). */
const zlib = () => process.getBuiltinModule('node:zlib');
import type { ResponseEncoding } from '../exposition/negotiate.ts';
import type { Lending } from '../exposition/render-memo.ts';
import type { Piece } from '../exposition/samples.ts';
import { inSlices } from '../common/slices.ts';

/** A body in storage, and how to give the storage back. */
export interface StoredBody {
  /** The body, as views of the storage cut where its pieces ended. */
  readonly body: readonly Buffer[];
  /** Bytes in `body`. */
  readonly length: number;
  /**
   * Gives one hold on the storage back; the storage is reused once every hold is given back.
   * Each response writing the body calls it exactly once, when written or abandoned.
   */
  readonly done: () => void;
}

/** Free storage kept for the next bodies: one plain and one compressed, the largest kept. */
const IDLE_MAX = 2;
/** The smallest storage made: small bodies share nothing, but do not make many small ones. */
const MIN_STORAGE = 64 * 1024;
/** Bytes of plain text handed to the compressor at a time (each of the two staging buffers). */
const STAGE_BYTES = 128 * 1024;
/**
 * A compressed body of at most this much plain text is compressed in one call on the event loop
 * (~0.25 ms for gzip at 16 KiB here): at that size the hop to libuv's pool costs more than the
 * work, and a host whose endpoint is small never starts the pool's four threads (~0.9 MiB of
 * resident memory, the `startup` row of bench/README.md).
 */
const ONE_CALL_BYTES = 16 * 1024;

/**
 * Pieces a body may reference instead of copying them: their source leaves them unchanged until
 * `release`, which the store calls once, when the body's last hold is given back (or it failed).
 */
export type LentBytes = Lending['lent'];

interface Storage {
  bytes: Buffer;
  /** Where the next byte goes. */
  length: number;
  /** The body's parts in order: where a piece copied into storage ended, or a lent piece. */
  ends: (number | Buffer)[];
}

/** A staging buffer of a compressed body's plain text (see {@link BodyStore}). */
interface Stage {
  bytes: Buffer;
  /** Bytes staged. */
  length: number;
  /** Settles once the compressor has read what was last written from it. */
  read: Promise<void> | undefined;
}

export class BodyStore {
  readonly #idle: Buffer[] = [];
  /** Staging buffers kept for the next compressed body. */
  readonly #stages: Buffer[] = [];
  /** The last body's length per compression (identity, gzip, zstd): the next one's first size. */
  readonly #lastLength = [0, 0, 0];
  #closed = false;

  /**
   * Writes `pieces` (rendered text as {@link Piece}s, or bytes) into storage, giving the event
   * loop back between pieces whenever the work has held it for a slice; with `encoding`, the
   * storage holds the compressed body, the plain text staged on its way to the compressor.
   * @param holds how many responses will write the body (each calls `done` once), or a function
   *   called once, in the turn the body is complete, that says how many joined by then.
   * @param lent pieces referenced rather than copied (identity bodies only).
   */
  async write(
    pieces: Iterable<Piece | Uint8Array>,
    encoding: ResponseEncoding | undefined,
    holds: number | (() => number) = 1,
    lent?: LentBytes,
  ): Promise<StoredBody> {
    if (encoding !== undefined) {
      // Nothing of a compressed body is lent: the lease goes back once it is written.
      try {
        return this.#stored(await this.#compressed(pieces, encoding), holds, undefined);
      } finally {
        lent?.release();
      }
    }
    const plain = this.#take(this.#lastLength[0]!);
    try {
      // Taken in slices (common/slices.ts), the first in a turn of its own: the families were most
      // likely made in this very turn, by the last slice of a naming pass.
      for await (const piece of inSlices(pieces)) {
        if (
          lent !== undefined &&
          piece instanceof Uint8Array &&
          piece.length > 0 &&
          lent.lent(piece)
        )
          plain.ends.push(Buffer.from(piece.buffer, piece.byteOffset, piece.length));
        else this.#append(plain, piece);
      }
    } catch (err) {
      lent?.release();
      this.#give(plain.bytes);
      throw err;
    }
    this.#lastLength[0] = plain.length;
    return this.#stored(plain, holds, lent);
  }

  /**
   * `pieces` compressed (zlib runs on libuv's pool, beside the rendering) into storage: the plain
   * text staged in two small buffers taken in turn, one written to the compressor while the other
   * fills; a buffer is filled again only once the compressor's callback said it was read. A body
   * that ends within {@link ONE_CALL_BYTES} of its first stage is compressed in one call instead.
   */
  async #compressed(
    pieces: Iterable<Piece | Uint8Array>,
    encoding: ResponseEncoding,
  ): Promise<Storage> {
    const kind = encoding === 'gzip' ? 1 : 2;
    const packed = this.#take(this.#lastLength[kind]!);
    let zip: Transform | undefined;
    let ended: Promise<void> | undefined;
    /** The compressor, made when the first stage is sent (a small body never sends one). */
    const compressor = (): Transform => {
      if (zip !== undefined) return zip;
      const made = (zip = encoding === 'gzip' ? zlib().createGzip() : zlib().createZstdCompress());
      ended = new Promise<void>((resolve, reject) => {
        made.on('data', (chunk: Buffer) => this.#append(packed, chunk));
        made.once('end', resolve);
        made.once('error', reject);
      });
      // Awaited at the end; a failure before then must not count as unhandled.
      ended.catch(() => {});
      return made;
    };
    const stages: Stage[] = [this.#stage(), this.#stage()];
    let stage = stages[0]!;
    let turn = 0;
    const send = async (): Promise<void> => {
      if (stage.length === 0) return;
      const s = stage;
      const z = compressor();
      s.read = new Promise<void>((resolve) =>
        z.write(s.bytes.subarray(0, s.length), () => resolve()),
      );
      s.length = 0;
      stage = stages[(turn ^= 1)]!;
      await stage.read;
    };
    try {
      for await (const piece of inSlices(pieces)) {
        if (piece instanceof Uint8Array) {
          // Bytes go in parts, as much as the stage has room for.
          for (let from = 0; from < piece.length;) {
            if (stage.length === stage.bytes.length) await send();
            const n = Math.min(piece.length - from, stage.bytes.length - stage.length);
            stage.bytes.set(piece.subarray(from, from + n), stage.length);
            stage.length += n;
            from += n;
          }
          continue;
        }
        const { text, ascii } = piece;
        if (text.length === 0) continue;
        const n = ascii ? text.length : Buffer.byteLength(text, 'utf8');
        if (stage.length + n <= stage.bytes.length) {
          stage.length += stage.bytes.write(text, stage.length, n, ascii ? 'latin1' : 'utf8');
          continue;
        }
        await send();
        if (n <= stage.bytes.length) {
          stage.length = stage.bytes.write(text, 0, n, ascii ? 'latin1' : 'utf8');
        } else if (ascii) {
          // Latin-1: one byte per character, so the text goes in parts of the stage's size.
          for (let from = 0; from < n;) {
            if (stage.length === stage.bytes.length) await send();
            const k = Math.min(n - from, stage.bytes.length - stage.length);
            stage.length += stage.bytes.write(
              text.substring(from, from + k),
              stage.length,
              k,
              'latin1',
            );
            from += k;
          }
        } else {
          // UTF-8 text larger than a stage: this stage grows to hold it.
          stage.bytes = Buffer.allocUnsafeSlow(n);
          stage.length = stage.bytes.write(text, 0, n, 'utf8');
        }
      }
      if (zip === undefined && stage.length <= ONE_CALL_BYTES) {
        const plain = stage.bytes.subarray(0, stage.length);
        this.#append(
          packed,
          encoding === 'gzip' ? zlib().gzipSync(plain) : zlib().zstdCompressSync(plain),
        );
      } else {
        await send();
        compressor().end();
        await ended;
      }
    } catch (err) {
      // A stage the compressor may still read is not reused.
      zip?.destroy();
      this.#give(packed.bytes);
      throw err;
    }
    for (const s of stages) this.#giveStage(s);
    this.#lastLength[kind] = packed.length;
    return packed;
  }

  /** Bytes of the idle storage kept for the next bodies. */
  get idleBytes(): number {
    let bytes = 0;
    for (const b of this.#idle) bytes += b.length;
    return bytes;
  }

  /** Drops the idle storage and keeps none from now on (bodies in flight are dropped when done). */
  close(): void {
    this.#closed = true;
    this.#idle.length = 0;
    this.#stages.length = 0;
  }

  /** An idle staging buffer, or a new one. */
  #stage(): Stage {
    return {
      bytes: this.#stages.pop() ?? Buffer.allocUnsafeSlow(STAGE_BYTES),
      length: 0,
      read: undefined,
    };
  }

  /** Keeps a stage's buffer for the next compressed body (two at most; one grown past its size is dropped). */
  #giveStage(stage: Stage): void {
    if (this.#closed || this.#stages.length >= 2 || stage.bytes.length !== STAGE_BYTES) return;
    this.#stages.push(stage.bytes);
  }

  #stored(s: Storage, holds: number | (() => number), lent: LentBytes | undefined): StoredBody {
    const { bytes, ends } = s;
    let left = typeof holds === 'number' ? holds : holds();
    const body: Buffer[] = [];
    let from = 0;
    let length = 0;
    for (const end of ends) {
      const part = typeof end === 'number' ? bytes.subarray(from, (from = end)) : end;
      body.push(part);
      length += part.length;
    }
    if (left <= 0) lent?.release();
    return {
      body,
      length,
      done: () => {
        if (left <= 0) return;
        if (--left > 0) return;
        this.#give(bytes);
        lent?.release();
      },
    };
  }

  #append(s: Storage, piece: Piece | Uint8Array): void {
    if (piece instanceof Uint8Array) {
      if (piece.length === 0) return;
      this.#room(s, piece.length);
      s.bytes.set(piece, s.length);
      s.length += piece.length;
    } else {
      const { text, ascii } = piece;
      if (text.length === 0) return;
      // Latin-1 writes an ASCII rope straight into the storage, one byte per character.
      const n = ascii ? text.length : Buffer.byteLength(text, 'utf8');
      this.#room(s, n);
      s.length += s.bytes.write(text, s.length, n, ascii ? 'latin1' : 'utf8');
    }
    s.ends.push(s.length);
  }

  /**
   * Makes room for `n` more bytes, moving the body into larger storage when needed. The storage
   * outgrown is not kept idle: smaller than what replaced it, it would only hold memory (the idle
   * storage is for the next plain and compressed bodies).
   */
  #room(s: Storage, n: number): void {
    if (s.length + n <= s.bytes.length) return;
    const larger = this.#take(Math.max(2 * s.bytes.length, s.length + n)).bytes;
    s.bytes.copy(larger, 0, 0, s.length);
    s.bytes = larger;
  }

  /** The smallest idle storage of at least `bytes`, or new storage with room to grow. */
  #take(bytes: number): Storage {
    let best = -1;
    for (let i = 0; i < this.#idle.length; i++) {
      const n = this.#idle[i]!.length;
      if (n >= bytes && (best < 0 || n < this.#idle[best]!.length)) best = i;
    }
    // Scrape sizes drift between scrapes: new storage is a quarter larger than asked.
    const taken =
      best >= 0
        ? this.#idle.splice(best, 1)[0]!
        : Buffer.allocUnsafeSlow(Math.max(MIN_STORAGE, Math.ceil(bytes * 1.25)));
    return { bytes: taken, length: 0, ends: [] };
  }

  #give(bytes: Buffer): void {
    if (this.#closed) return;
    const idle = this.#idle;
    idle.push(bytes);
    if (idle.length > IDLE_MAX) {
      idle.sort((a, b) => b.length - a.length);
      idle.length = IDLE_MAX;
    }
  }
}
