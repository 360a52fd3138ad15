// A scrape body of many pieces goes to the socket in batches (src/http/scrape-handler.ts
// writeBody): each batch one write of several pieces, none much larger than WRITE_BATCH_BYTES, so
// a large body is neither one system call per piece nor one block of the event loop as long as
// the copy of the whole body; what arrives is the body, whole and in order.
import assert from 'node:assert/strict';
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import {
  WRITE_BATCH_BYTES,
  writeAnswer,
  type ScrapeAnswer,
} from '../../src/http/scrape-handler.ts';

const PIECE = 128 * 1024;
const PIECES = 48;

test('a large body is written in batches of several pieces, each bounded, and arrives whole', async () => {
  const body = Array.from({ length: PIECES }, (_, k) => Buffer.alloc(PIECE, 65 + (k % 26)));
  const length = PIECE * PIECES;
  /** Bytes of each write the server's socket made (one `writev` of a batch is one entry). */
  const writes: number[] = [];
  let released = 0;
  const server = createServer((req, res) => {
    const answer: ScrapeAnswer = {
      status: 200,
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      contentEncoding: undefined,
      body,
      length,
      release: () => released++,
    };
    writeAnswer(req, res, answer);
  });
  server.on('connection', (socket: Socket) => {
    const s = socket as Socket & {
      _write(chunk: Buffer, enc: string, cb: () => void): void;
      _writev(chunks: { chunk: Buffer }[], cb: () => void): void;
    };
    const write = s._write.bind(s);
    const writev = s._writev.bind(s);
    s._write = (chunk, enc, cb) => (writes.push(chunk.length), write(chunk, enc, cb));
    s._writev = (chunks, cb) => (
      writes.push(chunks.reduce((n, c) => n + Buffer.byteLength(c.chunk), 0)),
      writev(chunks, cb)
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const received = await new Promise<Buffer>((resolve, reject) =>
      get(`http://127.0.0.1:${port}/metrics`, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      }).on('error', reject),
    );
    assert.ok(received.equals(Buffer.concat(body)), 'the body arrives whole and in order');
    const bodyWrites = writes.filter((n) => n >= PIECE);
    assert.ok(
      bodyWrites.length < PIECES / 4,
      `${bodyWrites.length} writes for ${PIECES} pieces: batched`,
    );
    assert.ok(
      bodyWrites.length >= Math.floor(length / (WRITE_BATCH_BYTES + PIECE)),
      `${bodyWrites.length} writes: not the whole body at once`,
    );
    for (const n of writes)
      assert.ok(n <= WRITE_BATCH_BYTES + PIECE + 1024, `a write of ${n} bytes: bounded by a batch`);
    await new Promise((r) => setImmediate(r));
    assert.equal(released, 1, 'the body is released once written');
  } finally {
    server.close();
  }
});
