/**
 * Request bodies as the Collector's OTLP/HTTP receiver takes them (confighttp's default
 * `compression_algorithms`): identity, `gzip`, `zstd`, `zlib` and `deflate` (both the zlib format,
 * as the Collector reads them), `snappy` (the block format, or the framing format when the body
 * starts with its stream identifier, as the Collector auto-detects), `x-snappy-framed`, and `lz4`
 * (the LZ4 frame format).
 *
 * Every decoder is bounded by `maxBytes` before it allocates the output: zlib's `maxOutputLength`;
 * snappy's varint length prefix, read first (snappy-block.ts); LZ4 as it decodes (lz4-frame.ts).
 * Past it: TooLarge (413).
 * Anything that does not decode: an OtlpDecodeError naming the encoding (400).
 *
 * zlib's decoders run on libuv's threads ({@link decodeBody}); snappy and LZ4 are JavaScript, so
 * they run where they are called: the listener hands such bodies to the decoding thread
 * ({@link decodesOffThread}), which decodes them with {@link decodeBodySync}; gzip and zstd bodies
 * too when they announce a large size, so a large inflated body is never held on the main thread.
 */
import { promisify } from 'node:util';
import {
  gunzip,
  gunzipSync,
  inflate,
  inflateSync,
  zstdDecompress,
  zstdDecompressSync,
} from 'node:zlib';
import CRC32C from 'crc-32/crc32c.js';
import { OtlpDecodeError } from '../otlp/types.ts';
import { decodeLz4Frames } from './lz4-frame.ts';
import { decodeSnappyBlock, snappyBlockLength } from './snappy-block.ts';
import { TooLarge } from './too-large.ts';
import { messageOf } from '../common/message-of.ts';

/** The Content-Encoding values accepted, as the Collector's receiver lists them. */
export const SUPPORTED_ENCODINGS = [
  'gzip',
  'zstd',
  'zlib',
  'snappy',
  'deflate',
  'lz4',
  'x-snappy-framed',
] as const;

/** zlib's decoders of one format: on libuv's threads, and on the calling thread. */
type Decoders = readonly [
  (raw: Buffer, options: Bounded) => Promise<Buffer>,
  (raw: Buffer, options: Bounded) => Buffer,
];
type Bounded = { maxOutputLength: number; chunkSize: number };
const GZIP: Decoders = [promisify(gunzip), gunzipSync];
const INFLATE: Decoders = [promisify(inflate), inflateSync];

/** zlib's formats by encoding name. */
const ZLIB = new Map<string, Decoders>([
  ['gzip', GZIP],
  ['x-gzip', GZIP],
  ['deflate', INFLATE],
  ['zlib', INFLATE],
  ['zstd', [promisify(zstdDecompress), zstdDecompressSync]],
]);

/** The formats decoded in JavaScript, by encoding name: wherever called (the listener sends them to the decoding thread). */
const IN_JS: Readonly<Record<string, (raw: Buffer, maxBytes: number) => Buffer>> = {
  snappy: (raw, maxBytes) =>
    startsWithSnappyStreamId(raw) ? snappyFramed(raw, maxBytes) : decodeSnappyBlock(raw, maxBytes),
  'x-snappy-framed': snappyFramed,
  lz4: (raw, maxBytes) => bufferOf(decodeLz4Frames(raw, maxBytes)),
};

/** Whether a `Content-Encoding` header says the body is not compressed. */
export function isIdentity(contentEncoding: string | undefined): boolean {
  const encoding = encodingName(contentEncoding);
  return encoding === '' || encoding === 'identity';
}

/** A `Content-Encoding` header as its value is compared: trimmed, in lower case ('' when absent). */
function encodingName(contentEncoding: string | undefined): string {
  return (contentEncoding ?? '').trim().toLowerCase();
}

/**
 * Whether a compressed body is best inflated and decoded off the main thread: snappy and LZ4
 * (inflated in JavaScript) always; gzip and zstd when they announce `bytes` or more inflated — a
 * gzip member's ISIZE, a zstd frame's Frame_Content_Size. The announcement only routes the body;
 * it is inflated within `max_body_bytes` wherever it goes.
 */
export function decodesOffThread(
  contentEncoding: string | undefined,
  raw: Uint8Array,
  bytes: number,
): boolean {
  const encoding = encodingName(contentEncoding);
  if (Object.hasOwn(IN_JS, encoding)) return true;
  if (encoding === 'gzip' || encoding === 'x-gzip') return gzipAnnounced(raw) >= bytes;
  if (encoding === 'zstd') return zstdAnnounced(raw) >= bytes;
  return false;
}

/** The last gzip member's ISIZE (its size inflated, modulo 2^32), or 0. */
function gzipAnnounced(raw: Uint8Array): number {
  if (raw.length < 18 || raw[0] !== 0x1f || raw[1] !== 0x8b) return 0;
  const at = raw.length - 4;
  return (raw[at]! | (raw[at + 1]! << 8) | (raw[at + 2]! << 16) | (raw[at + 3]! << 24)) >>> 0;
}

/** The first zstd frame's Frame_Content_Size (RFC 8878 3.1.1.1), or 0 when it has none. */
function zstdAnnounced(raw: Uint8Array): number {
  if (raw.length < 6 || raw[0] !== 0x28 || raw[1] !== 0xb5 || raw[2] !== 0x2f || raw[3] !== 0xfd)
    return 0;
  const descriptor = raw[4]!;
  const fcsFlag = descriptor >>> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0) return 0;
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]!;
  if (at + fcsBytes > raw.length) return 0;
  let size = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + raw[at + i]!;
  return fcsBytes === 2 ? size + 256 : size;
}

/** `raw` decoded as its `Content-Encoding` says, at most `maxBytes` long; zlib's formats on libuv's threads. */
export async function decodeBody(
  raw: Buffer,
  contentEncoding: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  const encoding = encodingName(contentEncoding);
  const zlib = ZLIB.get(encoding);
  if (zlib === undefined) return decodeBodySync(raw, contentEncoding, maxBytes);
  try {
    return await zlib[0](raw, { maxOutputLength: maxBytes, chunkSize: ZLIB_CHUNK_BYTES });
  } catch (err) {
    throw decodeError(encoding, err, maxBytes);
  }
}

/** {@link decodeBody} on the calling thread (the decoding thread's). */
export function decodeBodySync(
  raw: Buffer,
  contentEncoding: string | undefined,
  maxBytes: number,
): Buffer {
  if (isIdentity(contentEncoding)) return raw;
  const encoding = encodingName(contentEncoding);
  try {
    const zlib = ZLIB.get(encoding);
    if (zlib !== undefined)
      return zlib[1](raw, { maxOutputLength: maxBytes, chunkSize: ZLIB_CHUNK_BYTES });
    if (Object.hasOwn(IN_JS, encoding)) return IN_JS[encoding]!(raw, maxBytes);
  } catch (err) {
    throw decodeError(encoding, err, maxBytes);
  }
  throw new OtlpDecodeError(
    `unsupported Content-Encoding: ${encoding} (supported: ${SUPPORTED_ENCODINGS.join(', ')})`,
  );
}

/** What a decoder threw, as the ingest answers it: past `maxBytes` (zlib's `maxOutputLength` too) TooLarge, else undecodable. */
function decodeError(encoding: string, err: unknown, maxBytes: number): Error {
  if (err instanceof TooLarge) return err;
  if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return tooLarge(maxBytes);
  return new OtlpDecodeError(`invalid ${encoding} body: ${messageOf(err)}`);
}

function tooLarge(maxBytes: number): TooLarge {
  return new TooLarge(`decompressed request body larger than ${maxBytes} bytes`);
}

/**
 * Output per step of a zlib decoder. Async, each step's output is handed to the main thread and
 * copied there, so zlib's default (16 KiB) makes a 20 MiB body over a thousand of them, ~100 ms
 * of the main thread's CPU; a step of 1 MiB, a few ms. On the decoding thread, each step's output
 * is a block of its own: at 16 KiB, below malloc's mmap threshold (bin.ts), a 19 MiB body left
 * ~20 MiB of freed blocks resident in that thread's malloc arena, which outlives the thread; at
 * 1 MiB each is mapped and unmapped whole.
 */
const ZLIB_CHUNK_BYTES = 1024 * 1024;

// The snappy framing format (google/snappy framing_format.txt). No maintained npm package reads
// it without a native build, so it is read here: chunks of type (1 byte) + length (3 bytes, LE);
// data chunks carry a masked CRC-32C of their uncompressed bytes, checked as the Collector does,
// and chunk sizes are limited as its Go reader limits them.
const STREAM_ID = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);
const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
const CHUNK_PADDING = 0xfe;
/** Bytes a chunk holds at most, and a chunk's body at most (a block's worst case + its checksum), as the Go reader limits them. */
const BLOCK_MAX = 65536;
const CHUNK_MAX = 32 + BLOCK_MAX + Math.floor(BLOCK_MAX / 6) + 4;
const CHUNK_STREAM_ID = 0xff;

function startsWithSnappyStreamId(raw: Buffer): boolean {
  return raw.length >= STREAM_ID.length && raw.subarray(0, STREAM_ID.length).equals(STREAM_ID);
}

function snappyFramed(raw: Buffer, maxBytes: number): Buffer {
  if (raw.length === 0) return raw; // no chunk at all: an empty stream, as the Go reader takes it
  if (!startsWithSnappyStreamId(raw))
    throw new Error('snappy framed stream without its stream identifier');
  const parts: Buffer[] = [];
  let total = 0;
  let i = 0;
  while (i < raw.length) {
    if (i + 4 > raw.length) throw new Error('truncated snappy chunk header');
    const type = raw[i]!;
    const length = raw.readUIntLE(i + 1, 3);
    if (length > CHUNK_MAX)
      throw new Error(`snappy chunk of ${length} bytes, more than the format's ${CHUNK_MAX}`);
    const body = raw.subarray(i + 4, i + 4 + length);
    if (body.length !== length) throw new Error('truncated snappy chunk');
    i += 4 + length;
    if (type === CHUNK_STREAM_ID) {
      if (!body.equals(STREAM_ID.subarray(4))) throw new Error('bad snappy stream identifier');
      continue;
    }
    if (type === CHUNK_COMPRESSED || type === CHUNK_UNCOMPRESSED) {
      if (length < 4) throw new Error('snappy data chunk shorter than its checksum');
      const payload = body.subarray(4);
      // Checked before anything is decoded or copied: a chunk holds at most BLOCK_MAX bytes.
      const holds = type === CHUNK_COMPRESSED ? snappyBlockLength(payload).length : payload.length;
      if (holds > BLOCK_MAX)
        throw new Error(`snappy chunk holding ${holds} bytes, more than the format's ${BLOCK_MAX}`);
      const data =
        type === CHUNK_COMPRESSED
          ? decodeSnappyBlock(payload, maxBytes - total)
          : Buffer.from(payload);
      if (maskedCrc32c(data) !== body.readUInt32LE(0))
        throw new Error('snappy chunk checksum mismatch');
      total += data.length;
      if (total > maxBytes) throw tooLarge(maxBytes);
      parts.push(data);
      continue;
    }
    // 0x80–0xfe: skippable (padding included); 0x02–0x7f: reserved, unskippable.
    if (type < 0x80 && type !== CHUNK_PADDING)
      throw new Error(`reserved unskippable snappy chunk type 0x${type.toString(16)}`);
  }
  return Buffer.concat(parts, total);
}

/** The masked CRC-32C of the framing format (crc-32's slice-by-16 Castagnoli CRC). */
function maskedCrc32c(data: Uint8Array): number {
  const crc = CRC32C.buf(data) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
