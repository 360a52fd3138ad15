/**
 * Request bodies in every Content-Encoding the Collector's receiver takes (src/ingest/content-encoding.ts):
 * each decodes, each is bounded before it allocates past the limit, a corrupt body names its
 * encoding, an unknown encoding lists the supported ones. (The Collector's own encoders are in
 * test/e2e/collector-sender.test.ts.)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import fc from 'fast-check';
import lz4 from 'lz4js';
import snappy from 'snappyjs';
import { decodeBody, SUPPORTED_ENCODINGS } from '../../src/ingest/content-encoding.ts';
import { decodeSnappyBlock } from '../../src/ingest/snappy-block.ts';
import { TooLarge } from '../../src/ingest/too-large.ts';
import { lz4Frame } from '../support/lz4-framing.ts';
import { chunk, mask, STREAM_ID, withCrc } from '../support/snappy-framing.ts';

const BODY = Buffer.from('jobmeter.run.finished '.repeat(2000));

/** A snappy framed stream with one uncompressed chunk whose CRC-32C is known: "123456789" → 0xE3069283. */
function framedKnownVector(crc = 0xe3069283): Buffer {
  const masked = Buffer.alloc(4);
  masked.writeUInt32LE(mask(crc));
  return Buffer.concat([STREAM_ID, chunk(0x01, Buffer.concat([masked, Buffer.from('123456789')]))]);
}

const ENCODERS: Record<string, (b: Buffer) => Buffer> = {
  gzip: (b) => gzipSync(b),
  deflate: (b) => deflateSync(b),
  zlib: (b) => deflateSync(b),
  zstd: (b) => zstdCompressSync(b),
  snappy: (b) => Buffer.from(snappy.compress(new Uint8Array(b))),
  lz4: (b) => Buffer.from(lz4.compress(new Uint8Array(b))),
};

describe('decodeBody', () => {
  for (const [encoding, encode] of Object.entries(ENCODERS)) {
    it(`${encoding}: decodes, and refuses past the limit`, async () => {
      const raw = encode(BODY);
      assert.deepEqual(await decodeBody(raw, encoding, BODY.length), BODY);
      assert.deepEqual(
        await decodeBody(raw, ` ${encoding.toUpperCase()} `, BODY.length),
        BODY,
        'case and spaces',
      );
      await assert.rejects(decodeBody(raw, encoding, BODY.length - 1), TooLarge);
    });

    it(`${encoding}: a corrupt body is an error naming the encoding`, async () => {
      const raw = encode(BODY);
      // Fixed garbage, so the case is the same on every run (random bytes once decoded as snappy).
      const garbage = createHash('sha512').update(encoding).digest();
      const corrupt = Buffer.concat([raw.subarray(0, 8), garbage]);
      await assert.rejects(
        decodeBody(corrupt, encoding, 1 << 20),
        (err: Error) =>
          !(err instanceof TooLarge) && err.message.includes(`invalid ${encoding} body`),
      );
    });
  }

  it('identity and no header pass the body through', async () => {
    assert.equal(await decodeBody(BODY, undefined, 1), BODY);
    assert.equal(await decodeBody(BODY, 'identity', 1), BODY);
  });

  it('snappy framing, as x-snappy-framed and auto-detected under snappy; the checksum is checked', async () => {
    for (const encoding of ['x-snappy-framed', 'snappy']) {
      assert.equal((await decodeBody(framedKnownVector(), encoding, 100)).toString(), '123456789');
    }
    await assert.rejects(
      decodeBody(framedKnownVector(0xe3069284), 'x-snappy-framed', 100),
      /checksum mismatch/,
    );
    await assert.rejects(decodeBody(framedKnownVector(), 'x-snappy-framed', 8), TooLarge);
    await assert.rejects(
      decodeBody(Buffer.from('not framed'), 'x-snappy-framed', 100),
      /stream identifier/,
    );
    // An empty stream is no chunk at all, as the Go reader takes it.
    assert.equal((await decodeBody(Buffer.alloc(0), 'x-snappy-framed', 100)).length, 0);
  });

  it('snappy framing: chunks past the format sizes are refused, as the Go reader refuses them', async () => {
    const full = Buffer.alloc(65536, 0x61);
    const over = Buffer.alloc(65537, 0x61);
    const ok = Buffer.concat([
      STREAM_ID,
      chunk(0x01, withCrc(full)),
      chunk(0x00, withCrc(full, Buffer.from(snappy.compress(new Uint8Array(full))))),
      chunk(0xfe, Buffer.alloc(76494)),
    ]);
    assert.equal(
      (await decodeBody(ok, 'x-snappy-framed', 1 << 20)).length,
      2 * 65536,
      'at the sizes: taken',
    );
    const cases: Array<[string, Buffer]> = [
      [
        'an uncompressed chunk of 65,537 bytes',
        Buffer.concat([STREAM_ID, chunk(0x01, withCrc(over))]),
      ],
      [
        'a compressed chunk that makes 65,537 bytes',
        Buffer.concat([
          STREAM_ID,
          chunk(0x00, withCrc(over, Buffer.from(snappy.compress(new Uint8Array(over))))),
        ]),
      ],
      [
        'a padding chunk of 76,495 bytes',
        Buffer.concat([STREAM_ID, chunk(0xfe, Buffer.alloc(76495))]),
      ],
    ];
    for (const [what, body] of cases) {
      await assert.rejects(
        decodeBody(body, 'x-snappy-framed', 1 << 20),
        (err: Error) =>
          !(err instanceof TooLarge) &&
          /invalid x-snappy-framed body: snappy chunk .* more than the format's/.test(err.message),
        what,
      );
    }
  });

  it('snappy: a block whose elements do not make exactly the announced length is refused', async () => {
    const hello = Buffer.from('hello');
    const literal = (bytes: Buffer): Buffer =>
      Buffer.concat([Buffer.from([(bytes.length - 1) << 2]), bytes]);
    const cases: Array<[string, Buffer]> = [
      ['fewer bytes than announced', Buffer.concat([Buffer.from([10]), literal(hello)])],
      ['more bytes than announced', Buffer.concat([Buffer.from([3]), literal(hello)])],
      ['a literal past the input', Buffer.concat([Buffer.from([5, 9 << 2]), hello])],
      [
        'a copy from before the start',
        Buffer.concat([Buffer.from([9]), literal(hello), Buffer.from([0x01, 6])]),
      ],
      [
        'a copy with offset 0',
        Buffer.concat([Buffer.from([9]), literal(hello), Buffer.from([0x01, 0])]),
      ],
      [
        'a copy past the announced length',
        Buffer.concat([Buffer.from([9]), literal(hello), Buffer.from([(7 << 2) | 0x02, 5, 0])]),
      ],
      [
        'a copy tag cut short',
        Buffer.concat([Buffer.from([9]), literal(hello), Buffer.from([0x03, 5, 0])]),
      ],
      [
        'a length prefix of more than 10 bytes',
        Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0]),
      ],
      [
        'a length prefix past 64 bits',
        Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]),
      ],
      ['a length prefix cut short', Buffer.from([0x80])],
    ];
    for (const [what, block] of cases) {
      await assert.rejects(
        decodeBody(block, 'snappy', 1 << 20),
        (err: Error) =>
          !(err instanceof TooLarge) && /invalid snappy body: corrupt/.test(err.message),
        what,
      );
    }
    // The same shapes, well formed: a literal, then an overlapping copy (offset 1) and a 4-byte-offset copy.
    const ok = Buffer.concat([
      Buffer.from([12]),
      literal(hello),
      Buffer.from([(2 << 2) | 0x02, 1, 0]),
      Buffer.from([(3 << 2) | 0x03, 8, 0, 0, 0]),
    ]);
    assert.equal((await decodeBody(ok, 'snappy', 100)).toString(), 'helloooohell');
    // Length prefixes as Go's binary.Uvarint reads them: padded with continuation bytes, up to 10.
    assert.equal(
      (await decodeBody(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0]), 'snappy', 100)).length,
      0,
    );
    assert.equal(
      (
        await decodeBody(Buffer.from([0x81, 0x80, 0x80, 0x80, 0x80, 0, 0, 0x61]), 'snappy', 100)
      ).toString(),
      'a',
    );
    // 2^32 - 1 is the format's largest length (past the limit: 413); past it, a bad body (400).
    await assert.rejects(
      decodeBody(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0]), 'snappy', 1 << 20),
      TooLarge,
    );
    await assert.rejects(
      decodeBody(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f, 0]), 'snappy', 1 << 20),
      /invalid snappy body: snappy block announces more than the format allows/,
    );
  });

  it('snappy: any input decodes back from the reference encoder; every cut of its block is refused', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 3000 }),
          fc.string({ maxLength: 3000 }).map((t) => new Uint8Array(Buffer.from(t.repeat(3)))),
        ),
        (input) => {
          const block = Buffer.from(snappy.compress(input));
          assert.deepEqual(decodeSnappyBlock(block, input.length), Buffer.from(input));
          if (input.length > 0)
            assert.throws(() => decodeSnappyBlock(block, input.length - 1), TooLarge);
          for (let cut = 0; cut < block.length; cut += Math.max(1, block.length >> 4)) {
            assert.throws(
              () => decodeSnappyBlock(block.subarray(0, cut), input.length),
              (err: Error) => !(err instanceof TooLarge),
              `cut at ${cut} of ${block.length}`,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a snappy block announcing more than the limit is refused before it is decoded', async () => {
    // A varint length prefix of 2^30 and nothing else.
    await assert.rejects(
      decodeBody(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04]), 'snappy', 1 << 20),
      TooLarge,
    );
  });

  it('an lz4 block whose match runs past the limit is refused as it decodes', async () => {
    // Frame header (version 1, 64 KiB blocks, header checksum 0xc0), one block: 1 literal 'a', then
    // a match at offset 1 whose length runs on through 0xff bytes (255 output bytes per input byte), then 'b'.
    const run = Buffer.alloc(240, 0xff);
    const block = Buffer.concat([
      Buffer.from([0x1f, 0x61, 0x01, 0x00]),
      run,
      Buffer.from([0x00, 0x10, 0x62]),
    ]);
    const size = Buffer.alloc(4);
    size.writeUInt32LE(block.length);
    const frame = Buffer.concat([
      Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x40, 0x40, 0xc0]),
      size,
      block,
      Buffer.alloc(4),
    ]);
    const decoded = await decodeBody(frame, 'lz4', 1 << 20);
    assert.equal(decoded.length, 1 + 4 + 15 + 255 * 240 + 1);
    assert.equal(decoded.toString('latin1'), `${'a'.repeat(decoded.length - 1)}b`);
    await assert.rejects(decodeBody(frame, 'lz4', 1000), TooLarge);
  });

  it('lz4: the header checksum, and the block and content checksums a frame carries, are checked', async () => {
    const data = Buffer.from('jobmeter.run.finished');
    for (const contentSize of [false, true]) {
      const right = lz4Frame({
        data,
        blockChecksum: 'right',
        contentChecksum: 'right',
        contentSize,
      });
      assert.deepEqual(await decodeBody(right, 'lz4', 100), data, `contentSize ${contentSize}`);
      for (const [what, wrong] of [
        ['header', lz4Frame({ data, headerChecksum: 'wrong', contentSize })],
        ['block', lz4Frame({ data, blockChecksum: 'wrong', contentSize })],
        ['content', lz4Frame({ data, contentChecksum: 'wrong', contentSize })],
      ] as const) {
        await assert.rejects(
          decodeBody(wrong, 'lz4', 100),
          new RegExp(
            `invalid lz4 body: lz4 ${what === 'header' ? 'frame header' : what} checksum mismatch`,
          ),
          `${what}, contentSize ${contentSize}`,
        );
      }
    }
    // Two frames: the content checksum covers its own frame's bytes only.
    const two = Buffer.concat([
      lz4Frame({ data, contentChecksum: 'right' }),
      lz4Frame({ data: Buffer.from('!'), contentChecksum: 'right' }),
    ]);
    assert.equal((await decodeBody(two, 'lz4', 100)).toString(), 'jobmeter.run.finished!');
    // lz4js's frames carry a header checksum (byte 6): a flipped bit in it is refused.
    const encoded = Buffer.from(lz4.compress(new Uint8Array(BODY)));
    encoded[6]! ^= 1;
    await assert.rejects(decodeBody(encoded, 'lz4', BODY.length), /frame header checksum mismatch/);
  });

  it('an unknown encoding lists every supported one', async () => {
    await assert.rejects(
      decodeBody(BODY, 'br', 1 << 20),
      (err: Error) =>
        SUPPORTED_ENCODINGS.every((e) => err.message.includes(e)) &&
        err.message.startsWith('unsupported Content-Encoding: br'),
    );
  });
});
