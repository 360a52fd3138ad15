/**
 * The LZ4 frame format (lz4_Frame_format.md), decoded with the output bounded. Written here because
 * the pure-JS package (lz4js) decodes blocks without bounds: a small corrupt or hostile body makes
 * it loop for minutes writing past its buffer. This decoder stops at the first byte past
 * `maxBytes` (TooLarge) and at the first inconsistency (Error), so its work is bounded by the
 * body's size and the limit. Concatenated and skippable frames are read as the Go reader does,
 * and so are its xxHash32 checks: the header checksum, and the block and content checksums a frame
 * says it carries; any wrong one makes the body corrupt.
 */
import { xxHash32 } from 'js-xxhash';
import { TooLarge } from './too-large.ts';

const MAGIC = 0x184d2204;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE = 0x184d2a50;
const FLG_VERSION = 0xc0;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;
const BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];
const UNCOMPRESSED = 0x80000000;

export function decodeLz4Frames(src: Uint8Array, maxBytes: number): Uint8Array {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const out = new Growable(maxBytes);
  let s = 0;
  const need = (n: number): void => {
    if (s + n > src.length) throw new Error('truncated lz4 frame');
  };
  do {
    need(4);
    const magic = view.getUint32(s, true);
    s += 4;
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE) {
      need(4);
      s += 4 + view.getUint32(s, true);
      if (s > src.length) throw new Error('truncated lz4 skippable frame');
      continue;
    }
    if (magic !== MAGIC) throw new Error('not an lz4 frame (bad magic number)');
    need(2);
    const descriptor = s;
    const flg = src[s++]!;
    const bd = src[s++]!;
    if ((flg & FLG_VERSION) !== 0x40) throw new Error('unsupported lz4 frame version');
    const blockMax = BLOCK_MAX[(bd >> 4) & 7]!;
    if (blockMax === 0) throw new Error('invalid lz4 block maximum size');
    s += (flg & FLG_CONTENT_SIZE ? 8 : 0) + (flg & FLG_DICT_ID ? 4 : 0);
    need(1);
    if (src[s] !== ((xxHash32(src.subarray(descriptor, s), 0) >>> 8) & 0xff))
      throw new Error('lz4 frame header checksum mismatch');
    s += 1;
    const content = out.length;
    for (;;) {
      need(4);
      const word = view.getUint32(s, true);
      s += 4;
      if (word === 0) break;
      const size = (word & ~UNCOMPRESSED) >>> 0;
      if (size > blockMax) throw new Error('lz4 block larger than its frame allows');
      need(size);
      // A block's checksum is of its bytes as sent: checked before they are decoded.
      if (flg & FLG_BLOCK_CHECKSUM) {
        need(size + 4);
        if (xxHash32(src.subarray(s, s + size), 0) !== view.getUint32(s + size, true))
          throw new Error('lz4 block checksum mismatch');
      }
      if (word & UNCOMPRESSED) out.append(src.subarray(s, s + size));
      else decodeBlock(src, s, s + size, out);
      s += size + (flg & FLG_BLOCK_CHECKSUM ? 4 : 0);
    }
    if (flg & FLG_CONTENT_CHECKSUM) {
      need(4);
      if (xxHash32(out.bytes().subarray(content), 0) !== view.getUint32(s, true))
        throw new Error('lz4 content checksum mismatch');
      s += 4;
    }
  } while (s < src.length);
  return out.bytes();
}

/** One LZ4 block (lz4_Block_format.md) from `src[start, end)` onto `out`. */
function decodeBlock(src: Uint8Array, start: number, end: number, out: Growable): void {
  let s = start;
  /** A length's continuation bytes: added up while they are 255. */
  const extra = (): number => {
    let sum = 0;
    let b: number;
    do {
      if (s >= end) throw new Error('corrupt lz4 block: truncated length');
      b = src[s++]!;
      sum += b;
    } while (b === 255);
    return sum;
  };
  for (;;) {
    if (s >= end) throw new Error('corrupt lz4 block: ends after a match');
    const token = src[s++]!;
    let literals = token >>> 4;
    if (literals === 15) literals += extra();
    if (s + literals > end) throw new Error('corrupt lz4 block: literals past its end');
    out.append(src.subarray(s, s + literals));
    s += literals;
    if (s === end) return; // the last sequence has literals only
    if (s + 2 > end) throw new Error('corrupt lz4 block: truncated match');
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    let length = token & 15;
    if (length === 15) length += extra();
    out.copyMatch(offset, length + 4);
  }
}

/** The output, doubled as needed, never past `max` bytes. */
class Growable {
  private buf = new Uint8Array(64 << 10);
  private n = 0;
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }

  private reserve(extra: number): void {
    if (this.n + extra > this.max)
      throw new TooLarge(`decompressed request body larger than ${this.max} bytes`);
    if (this.n + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.min(this.max, Math.max(this.buf.length * 2, this.n + extra)));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.n);
    this.n += bytes.length;
  }

  /** Copies `length` bytes from `offset` back; they may overlap what is being written. */
  copyMatch(offset: number, length: number): void {
    if (offset === 0 || offset > this.n)
      throw new Error('corrupt lz4 block: match offset out of range');
    this.reserve(length);
    const b = this.buf;
    let from = this.n - offset;
    for (let i = 0; i < length; i++) b[this.n++] = b[from++]!;
  }

  get length(): number {
    return this.n;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
}
