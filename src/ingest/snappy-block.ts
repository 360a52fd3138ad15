/**
 * The snappy block format (google/snappy format_description.txt), decoded as strictly as the Go
 * reader the Collector uses (golang/snappy decode_other.go). Written here because the pure-JS
 * package (snappyjs) accepts a block whose elements make fewer or more bytes than its length
 * prefix announces: a truncated or corrupt body then decodes to zero-padded or cut bytes instead
 * of an error. Here every literal and copy must fit both the input and the announced length, and
 * the elements must fill that length exactly. The length prefix is checked against `maxBytes`
 * before the output is allocated, so the work is bounded by the body's size and the limit.
 */
import { TooLarge } from './too-large.ts';

const TAG_LITERAL = 0;
const TAG_COPY1 = 1;
const TAG_COPY2 = 2;

/** The length a block announces (its varint prefix) and the bytes that prefix takes. */
export function snappyBlockLength(src: Uint8Array): { length: number; prefix: number } {
  let s = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    // A uint64 varint as Go's binary.Uvarint reads it: at most 10 bytes, the tenth 0 or 1.
    if (s >= src.length) throw new Error('corrupt snappy block: bad length prefix');
    const b = src[s++]!;
    if (s === 10 && b > 1) throw new Error('corrupt snappy block: bad length prefix');
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  // Past uint32 the Go reader refuses the block as too large for the format: a bad body (400).
  if (length > 0xffffffff) throw new Error('snappy block announces more than the format allows');
  return { length, prefix: s };
}

export function decodeSnappyBlock(src: Uint8Array, maxBytes: number): Buffer {
  const { length, prefix } = snappyBlockLength(src);
  let s = prefix;
  if (length > maxBytes)
    throw new TooLarge(`decompressed request body larger than ${maxBytes} bytes`);
  const dst = Buffer.allocUnsafe(length);
  let d = 0;
  while (s < src.length) {
    const tag = src[s]!;
    let n: number;
    let offset: number;
    switch (tag & 0x03) {
      case TAG_LITERAL: {
        n = tag >>> 2;
        s += 1;
        if (n >= 60) {
          // 60..63: the length minus one follows in 1..4 little-endian bytes.
          const bytes = n - 59;
          if (s + bytes > src.length) throw corrupt();
          n = 0;
          for (let i = bytes - 1; i >= 0; i--) n = n * 256 + src[s + i]!;
          s += bytes;
        }
        n += 1;
        if (n > length - d || n > src.length - s) throw corrupt();
        dst.set(src.subarray(s, s + n), d);
        d += n;
        s += n;
        continue;
      }
      case TAG_COPY1:
        if (s + 2 > src.length) throw corrupt();
        n = 4 + ((tag >>> 2) & 0x07);
        offset = ((tag & 0xe0) << 3) | src[s + 1]!;
        s += 2;
        break;
      case TAG_COPY2:
        if (s + 3 > src.length) throw corrupt();
        n = 1 + (tag >>> 2);
        offset = src[s + 1]! | (src[s + 2]! << 8);
        s += 3;
        break;
      default:
        if (s + 5 > src.length) throw corrupt();
        n = 1 + (tag >>> 2);
        offset = (src[s + 1]! | (src[s + 2]! << 8) | (src[s + 3]! << 16)) + src[s + 4]! * 0x1000000;
        s += 5;
    }
    if (offset <= 0 || offset > d || n > length - d) throw corrupt();
    if (offset >= n) {
      dst.copyWithin(d, d - offset, d - offset + n);
    } else {
      // Overlapping: the copy repeats the last `offset` bytes, so it goes byte by byte, forwards.
      for (let i = 0; i < n; i++) dst[d + i] = dst[d - offset + i]!;
    }
    d += n;
  }
  if (d !== length) throw corrupt();
  return dst;
}

function corrupt(): Error {
  return new Error('corrupt snappy block');
}
