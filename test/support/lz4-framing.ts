/**
 * LZ4 frames (lz4_Frame_format.md) as the tests write them by hand, apart from the ingest's reader:
 * one uncompressed block, with the checksums asked for, a wrong one off by one bit.
 */
import { xxHash32 } from 'js-xxhash';

export interface Lz4FrameOptions {
  /** The block's bytes; by default a valid request holding an unknown field only (field 15, varint 0). */
  data?: Buffer;
  headerChecksum?: 'wrong';
  blockChecksum?: 'right' | 'wrong';
  contentChecksum?: 'right' | 'wrong';
  /** Writes the optional content size field (covered by the header checksum). */
  contentSize?: boolean;
}

export function lz4Frame(options: Lz4FrameOptions): Buffer {
  const data = options.data ?? Buffer.from([0x78, 0x00]);
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    return b;
  };
  const checksum = (which: 'right' | 'wrong' | undefined, n: number): Buffer =>
    which === undefined ? Buffer.alloc(0) : u32(which === 'wrong' ? n ^ 1 : n);
  const flg =
    0x60 |
    (options.blockChecksum ? 0x10 : 0) |
    (options.contentSize ? 0x08 : 0) |
    (options.contentChecksum ? 0x04 : 0);
  const size = Buffer.alloc(options.contentSize ? 8 : 0);
  if (options.contentSize) size.writeBigUInt64LE(BigInt(data.length));
  const descriptor = Buffer.concat([Buffer.from([flg, 0x40]), size]);
  const hc = (xxHash32(descriptor, 0) >>> 8) & 0xff;
  return Buffer.concat([
    u32(0x184d2204),
    descriptor,
    Buffer.from([options.headerChecksum === 'wrong' ? hc ^ 1 : hc]),
    u32(0x80000000 | data.length),
    data,
    checksum(options.blockChecksum, xxHash32(data, 0)),
    u32(0),
    checksum(options.contentChecksum, xxHash32(data, 0)),
  ]);
}
