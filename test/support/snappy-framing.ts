/**
 * The snappy framing format (google/snappy framing_format.txt) as the tests write it, apart from
 * the ingest's reader: the stream identifier, chunks, and the masked CRC-32C worked out bit by bit.
 */
import snappy from 'snappyjs';

export const STREAM_ID = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);

export function maskedCrc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0x82f63b78 ^ (crc >>> 1) : crc >>> 1;
  }
  return mask((crc ^ 0xffffffff) >>> 0);
}

/** The framing format's mask of a CRC-32C: rotated right by 15 bits, plus a constant. */
export function mask(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** A chunk: its type, its body's length (3 bytes, little-endian), its body. */
export function chunk(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header[0] = type;
  header.writeUIntLE(body.length, 1, 3);
  return Buffer.concat([header, body]);
}

/** A data chunk's body: the masked CRC-32C of `data`, then `payload` (`data` itself, or its block). */
export function withCrc(data: Buffer, payload: Buffer = data): Buffer {
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(maskedCrc32c(data));
  return Buffer.concat([crc, payload]);
}

/** `raw` as a framed stream of compressed chunks of 64 KiB each. */
export function snappyFramed(raw: Buffer): Buffer {
  const parts: Buffer[] = [STREAM_ID];
  for (let at = 0; at < raw.length; at += 65536) {
    const data = raw.subarray(at, at + 65536);
    parts.push(chunk(0x00, withCrc(data, Buffer.from(snappy.compress(new Uint8Array(data))))));
  }
  return Buffer.concat(parts);
}
