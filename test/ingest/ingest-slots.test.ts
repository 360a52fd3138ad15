/**
 * The decoding slots (`maxConcurrentRequests`): a request whose body is in while every slot is
 * taken is answered 503 UNAVAILABLE with `Retry-After`, before it is decoded, and the slot's
 * request still completes. Held without timers: the slot's holder is a gzip request, whose
 * inflating runs on libuv's thread pool, and every thread of the pool is kept busy (blocked
 * opening FIFOs nobody writes to yet) until the test lets it go, so the holder keeps its slot for
 * exactly as long as the test needs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startIngestListener } from '../../src/ingest/ingest-listener.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { decodeStatus } from '../../src/otlp/codec.ts';

const JSON_TYPE = 'application/json';

function jsonRequest(name: string): string {
  return JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ scope: { name: 'daemon' }, metrics: [{ name, gauge: { dataPoints: [{ asDouble: 1 }] } }] }] }] });
}

/**
 * Keeps every thread of libuv's pool blocked (each opening a FIFO for reading, which waits for a
 * writer) until `release`; work queued meanwhile (zlib's) waits behind them.
 */
async function holdThreadPool(): Promise<{ release: () => Promise<void> }> {
  const size = Number(process.env['UV_THREADPOOL_SIZE']) || 4;
  const dir = await mkdtemp(join(tmpdir(), 'jobmeter-slots-'));
  const fifos = Array.from({ length: size }, (_, i) => join(dir, `f${i}`));
  for (const f of fifos) execFileSync('mkfifo', [f]);
  const readers: Promise<FileHandle>[] = fifos.map((f) => open(f, 'r'));
  return {
    async release() {
      for (const f of fifos) {
        // A reader not yet inside open() has no FIFO end to meet: ENXIO, try again next turn.
        for (;;) {
          try {
            closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
            break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
            await turn();
          }
        }
      }
      for (const r of readers) await (await r).close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test('every slot busy: 503 UNAVAILABLE with Retry-After before decoding; the slot holder still gets its 200', { timeout: 60_000 }, async () => {
  const store = new IngestStore();
  const listener = await startIngestListener({ sink: store, port: 0, maxConcurrentRequests: 1, retryAfterSeconds: 3 });
  const url = `http://127.0.0.1:${listener.address.port}/v1/metrics`;
  const pool = await holdThreadPool();
  let released = false;
  try {
    // The holder: its body in, it takes the one slot and waits for the pool to inflate it.
    const holder = fetch(url, { method: 'POST', headers: { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' }, body: gzipSync(jsonRequest('holder.depth')) });
    let shed: Response | undefined;
    // Until the holder's body is in, a probe may get through (and decodes on the main thread).
    for (let i = 0; i < 200 && shed === undefined; i++) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: jsonRequest('probe.depth') });
      if (res.status === 503) shed = res;
      else {
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
    }
    assert.ok(shed, 'no request was shed while the one slot was held');
    assert.equal(shed.headers.get('retry-after'), '3');
    assert.equal(shed.headers.get('content-type'), JSON_TYPE);
    assert.deepEqual(decodeStatus(new Uint8Array(await shed.arrayBuffer()), 'json'), { code: 14, message: 'jobmeter is busy (1 requests in flight); retry after 3 s' });

    released = true;
    await pool.release();
    const held = await holder;
    assert.equal(held.status, 200);
    const names = (await store.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
    assert.ok(names.includes('holder.depth'), names.join(' '));
    // The slot is given back.
    assert.equal((await fetch(url, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: jsonRequest('after.depth') })).status, 200);
  } finally {
    if (!released) await pool.release();
    await listener.close();
  }
});
