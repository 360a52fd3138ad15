// BodyStore (src/http/body-store.ts): bodies written into storage reused from one scrape to the
// next, held by every response they were rendered for, dropped when the endpoint closes; and the
// transient protobuf pieces (src/exposition/protobuf.ts) it copies as they come.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { BodyStore } from '../../src/http/body-store.ts';
import { protobufBuffers } from '../../src/exposition/protobuf.ts';
import { protobufBytes } from '../support/protobuf-exposition.ts';
import { render, renderPieces } from '../../src/exposition/render.ts';
import type { Family } from '../../src/exposition/types.ts';

const joined = (body: readonly Buffer[]): Buffer => Buffer.concat(body);

function counters(families: number, series: number, value: number): Family[] {
  return Array.from({ length: families }, (_, f) => ({
    name: `c_${f}_total`,
    type: 'counter' as const,
    help: 'c',
    unit: '',
    series: Array.from({ length: series }, (_, i) => ({
      labels: `host="h-${i}"`,
      value: value + i,
    })),
  }));
}

describe('BodyStore', () => {
  test('writes text pieces (ASCII as Latin-1, others as UTF-8) and bytes, in order, cut where they ended', async () => {
    const store = new BodyStore();
    const b = await store.write(
      [
        { text: 'a 1\n', ascii: true },
        Buffer.from('b 2\n'),
        { text: 'c{x="é"} 3\n', ascii: false },
      ],
      undefined,
    );
    assert.equal(joined(b.body).toString('utf8'), 'a 1\nb 2\nc{x="é"} 3\n');
    assert.deepEqual(
      b.body.map((p) => p.length),
      [4, 4, Buffer.byteLength('c{x="é"} 3\n')],
    );
    assert.equal(b.length, joined(b.body).length);
    b.done();
  });

  test('compressed bodies (gzip, zstd) decompress to the plain body', async () => {
    const store = new BodyStore();
    const text = 'x{a="b"} 1\n'.repeat(20_000);
    const pieces = () => [
      { text, ascii: true },
      { text, ascii: true },
    ];
    const gz = await store.write(pieces(), 'gzip');
    assert.equal(gunzipSync(joined(gz.body)).toString('latin1'), text + text);
    const zs = await store.write(pieces(), 'zstd');
    assert.equal(zstdDecompressSync(joined(zs.body)).toString('latin1'), text + text);
    gz.done();
    zs.done();
  });

  test('a small compressed body (gzip, zstd; empty, 16 KiB and one byte past) decompresses to the plain body', async () => {
    const store = new BodyStore();
    for (const length of [0, 16 * 1024, 16 * 1024 + 1]) {
      const text = 'y'.repeat(length);
      const gz = await store.write([{ text, ascii: true }], 'gzip');
      assert.equal(gunzipSync(joined(gz.body)).toString('latin1'), text, `gzip, ${length} B`);
      const zs = await store.write([{ text, ascii: true }], 'zstd');
      assert.equal(
        zstdDecompressSync(joined(zs.body)).toString('latin1'),
        text,
        `zstd, ${length} B`,
      );
      gz.done();
      zs.done();
    }
  });

  test("compressing a body of up to 16 KiB starts none of libuv's pool threads; a larger one does", async () => {
    // A fresh process: this one's pool may be running already. Threads: /proc/self/task.
    const child = (bytes: number) => `
      import { readdirSync } from 'node:fs';
      import { BodyStore } from ${JSON.stringify(new URL('../../src/http/body-store.ts', import.meta.url).href)};
      const threads = () => readdirSync('/proc/self/task').length;
      const before = threads();
      const store = new BodyStore();
      const b = await store.write([{ text: 'z{a="b"} 1\\n'.repeat(${bytes} / 11), ascii: true }], 'gzip');
      b.done();
      process.stdout.write(String(threads() - before));
    `;
    const started = async (bytes: number) =>
      Number(
        (await promisify(execFile)(process.execPath, ['--input-type=module', '-e', child(bytes)]))
          .stdout,
      );
    assert.equal(await started(16 * 1024 - 11), 0);
    assert.ok((await started(64 * 1024)) > 0, 'a 64 KiB body is compressed on the pool');
  });

  test('a compressed body larger than its staging (ASCII, UTF-8 and bytes, each past a stage) decompresses to the plain body, and only its compressed bytes are kept', async () => {
    const store = new BodyStore();
    const ascii = 'x{a="b"} 1\n'.repeat(60_000);
    const utf8 = 'é{a="ü"} 2\n'.repeat(30_000);
    const bytes = Buffer.from('y{c="d"} 3\n'.repeat(40_000), 'latin1');
    const small = 'z 4\n';
    const pieces = () => [
      { text: small, ascii: true },
      { text: ascii, ascii: true },
      bytes,
      { text: utf8, ascii: false },
      { text: small, ascii: true },
      bytes,
    ];
    const plain = Buffer.concat([
      Buffer.from(small),
      Buffer.from(ascii, 'latin1'),
      bytes,
      Buffer.from(utf8, 'utf8'),
      Buffer.from(small),
      bytes,
    ]);
    for (const encoding of ['gzip', 'zstd'] as const) {
      const b = await store.write(pieces(), encoding);
      const out =
        encoding === 'gzip' ? gunzipSync(joined(b.body)) : zstdDecompressSync(joined(b.body));
      assert.ok(out.equals(plain), `${encoding}: the plain body`);
      assert.equal(b.length, joined(b.body).length);
      b.done();
    }
    assert.ok(
      store.idleBytes < plain.length / 4,
      `idle storage ${store.idleBytes} bytes for a plain body of ${plain.length}`,
    );
  });

  test('a compressed body whose rendering throws gives its storage back, and the store writes the next one', async () => {
    const store = new BodyStore();
    function* failing(): Generator<{ text: string; ascii: boolean }> {
      yield { text: 'a 1\n'.repeat(100_000), ascii: true };
      throw new Error('render failed');
    }
    await assert.rejects(store.write(failing(), 'gzip'), /render failed/);
    const b = await store.write([{ text: 'b 2\n'.repeat(50_000), ascii: true }], 'gzip');
    assert.equal(gunzipSync(joined(b.body)).toString('latin1'), 'b 2\n'.repeat(50_000));
    b.done();
  });

  test('storage is reused only once every hold is given back, and a body larger than its storage moves whole', async () => {
    const store = new BodyStore();
    const big = 'y'.repeat(300_000);
    const first = await store.write(
      [
        { text: big, ascii: true },
        { text: big, ascii: true },
      ],
      undefined,
      () => 2,
    );
    assert.equal(joined(first.body).toString('latin1'), big + big);
    const storageOf = (b: { body: readonly Buffer[] }) => b.body[0]!.buffer;
    first.done();
    // One hold left: the next body must not land in the first one's storage.
    const second = await store.write([{ text: 'z'.repeat(1000), ascii: true }], undefined);
    assert.notEqual(storageOf(second), storageOf(first));
    assert.equal(joined(first.body).toString('latin1'), big + big, 'the held body is intact');
    first.done();
    second.done();
    const third = await store.write([{ text: 'w'.repeat(1000), ascii: true }], undefined);
    assert.ok(
      storageOf(third) === storageOf(first) || storageOf(third) === storageOf(second),
      'given back, storage is reused',
    );
    third.done();
  });

  test('a large body is written in slices: the event loop turns meanwhile', async () => {
    const families = counters(60, 2000, 3);
    const store = new BodyStore();
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    let b;
    try {
      b = await store.write(renderPieces('text', families, 16384), undefined);
    } finally {
      clearInterval(timer);
    }
    assert.equal(joined(b.body).toString('utf8'), render('text', families));
    assert.ok(turns > 0, 'a timer ran while the body was written');
    b.done();
  });

  test('after close, storage given back is not kept', async () => {
    const store = new BodyStore();
    const a = await store.write([{ text: 'a'.repeat(1000), ascii: true }], undefined);
    store.close();
    a.done();
    const b = await store.write([{ text: 'b'.repeat(1000), ascii: true }], undefined);
    assert.notEqual(b.body[0]!.buffer, a.body[0]!.buffer);
    b.done();
  });
});

describe('transient protobuf pieces', () => {
  test('copied as they come, they are the same bytes at each exposition, and their buffers are reused', () => {
    const families = counters(30, 2000, 7);
    const expected = protobufBytes(families);
    for (let round = 0; round < 2; round++) {
      const copies: Buffer[] = [];
      const buffers = new Set<ArrayBufferLike>();
      let pieces = 0;
      for (const piece of protobufBuffers(families)) {
        copies.push(Buffer.from(piece));
        if (piece.length > 0) buffers.add(piece.buffer);
        pieces++;
      }
      assert.ok(Buffer.concat(copies).equals(expected), `round ${round}: same bytes`);
      // ≈ 2.5 MB of output: fresh buffers would be one per 64 KiB.
      assert.ok(
        buffers.size < 10,
        `round ${round}: ${buffers.size} distinct buffers behind ${pieces} pieces`,
      );
    }
  });

  test('the store writes them into a body equal to the ordinary rendering', async () => {
    const families = counters(12, 3000, 1);
    const store = new BodyStore();
    const b = await store.write(protobufBuffers(families), undefined);
    assert.ok(joined(b.body).equals(protobufBytes(families)));
    b.done();
  });
});
