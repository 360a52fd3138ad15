/**
 * Issue 13 item 6, the decoding thread. It posts a chunk only when the main thread asks for the next
 * one. A port hands every message it holds to its listener in one go, and the receiving thread
 * deserialises each, so chunks posted all at once would block the main thread for the whole
 * request after all. Checked by the order of messages, not by timers: the worker handles its
 * messages in order, so a second job's first chunk comes before the first job's second chunk
 * only if that second chunk was never posted unasked. A body handed over is moved to the thread,
 * not copied (copying 20 MiB held the main thread).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { DecodeJob, DecodeMessage, NextChunk } from '../../src/ingest/decode-worker.ts';
import { DecoderPool } from '../../src/ingest/decoder-pool.ts';
import { DEFAULT_DECODE_LIMITS } from '../../src/otlp/decode-limits.ts';
import type { PackedChunk } from '../../src/ingest/packed-chunk.ts';
import type { OtlpExportRequest } from '../../src/otlp/types.ts';
import { unpackChunk } from './helpers.ts';

const LIMITS = { maxBodyBytes: 20 * 1024 * 1024, limits: DEFAULT_DECODE_LIMITS };

function gaugeRequest(points: number): Uint8Array {
  const dataPoints = Array.from({ length: points }, (_, i) => ({ asDouble: i, timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)) }));
  const body = { resourceMetrics: [{ resource: { attributes: [] }, scopeMetrics: [{ scope: { name: 's' }, metrics: [{ name: 'g', gauge: { dataPoints } }] }] }] };
  return new TextEncoder().encode(JSON.stringify(body));
}

test('the decoding thread posts one chunk per request for the next, and then done', { timeout: 30_000 }, async () => {
  const worker = new Worker(new URL('../../src/ingest/decode-worker.ts', import.meta.url));
  const inbox: DecodeMessage[] = [];
  const waiters: Array<() => void> = [];
  worker.on('message', (m: DecodeMessage) => {
    inbox.push(m);
    waiters.shift()?.();
  });
  const next = async (): Promise<DecodeMessage> => {
    if (inbox.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
    return inbox.shift()!;
  };
  try {
    worker.postMessage({ id: 1, body: gaugeRequest(30), encoding: 'json', ...LIMITS, pointsPerChunk: 10 } satisfies DecodeJob);
    const first = await next();
    assert.ok('chunk' in first && first.id === 1, 'the first chunk of job 1');

    worker.postMessage({ id: 2, body: gaugeRequest(5), encoding: 'json', ...LIMITS, pointsPerChunk: 10 } satisfies DecodeJob);
    const second = await next();
    assert.equal(second.id, 2, 'job 1 posted a chunk nobody asked for');
    assert.ok('chunk' in second);
    worker.postMessage({ id: 2, next: true } satisfies NextChunk);
    assert.deepEqual(await next(), { id: 2, done: true, bytes: gaugeRequest(5).length });
    assert.equal(inbox.length, 0);
  } finally {
    await worker.terminate();
  }
});

test('asked for each next chunk, the decoding thread hands over every point, then done', { timeout: 30_000 }, async () => {
  const worker = new Worker(new URL('../../src/ingest/decode-worker.ts', import.meta.url));
  try {
    worker.postMessage({ id: 7, body: gaugeRequest(25), encoding: 'json', ...LIMITS, pointsPerChunk: 10 } satisfies DecodeJob);
    const sizes: number[] = [];
    for (;;) {
      const [m] = (await once(worker, 'message')) as [DecodeMessage];
      if (!('chunk' in m)) {
        assert.deepEqual(m, { id: 7, done: true, bytes: gaugeRequest(25).length });
        break;
      }
      const data = unpackChunk(m.chunk).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
      sizes.push(data.type === 'gauge' ? data.points.length : -1);
      worker.postMessage({ id: 7, next: true } satisfies NextChunk);
    }
    assert.deepEqual(sizes, [10, 10, 5]);
  } finally {
    await worker.terminate();
  }
});

test('a body handed over moves to the decoding thread; one not handed over stays the caller’s', { timeout: 30_000 }, async () => {
  const pool = new DecoderPool();
  try {
    const points = (chunks: OtlpExportRequest[]): number =>
      chunks.flatMap((c) => c.resourceMetrics[0]!.scopeMetrics[0]!.metrics).reduce((n, m) => n + (m.data.type === 'gauge' ? m.data.points.length : 0), 0);
    const kept = Buffer.from(gaugeRequest(3000));
    const keptChunks: OtlpExportRequest[] = [];
    await pool.decode(kept, 'json', (c) => keptChunks.push(unpackChunk(c)));
    assert.equal(points(keptChunks), 3000);
    assert.deepEqual(kept, Buffer.from(gaugeRequest(3000)), 'a body not handed over is left as it was');

    const moved = Buffer.from(gaugeRequest(3000));
    const movedChunks: OtlpExportRequest[] = [];
    await pool.decode(moved, 'json', (c) => movedChunks.push(unpackChunk(c)), true);
    assert.equal(points(movedChunks), 3000);
    assert.equal(moved.buffer.byteLength, 0, 'its ArrayBuffer was transferred, not copied');
  } finally {
    await pool.close();
  }
});

test('an idle decoding thread is stopped, and a new one started for the next request', { timeout: 30_000 }, async () => {
  const small = gaugeRequest(10);
  const big = gaugeRequest(3000);
  const pool = new DecoderPool({ releaseAfterBytes: small.length * 10, idleMillis: 50 });
  assert.ok(big.length >= small.length * 10);
  const stopped = async (): Promise<boolean> => {
    const until = Date.now() + 10_000;
    while (pool.running && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return !pool.running;
  };
  try {
    const points: number[] = [];
    const count = (c: PackedChunk): void => {
      const data = unpackChunk(c).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
      points.push(data.type === 'gauge' ? data.points.length : -1);
    };
    await pool.decode(Buffer.from(small), 'json', count);
    assert.equal(pool.running, true, 'the thread stays for the next request a while');
    assert.ok(await stopped(), 'an idle thread is stopped');

    // A big body: the thread gives its heap back (a message it handles first), then idles and stops.
    await pool.decode(Buffer.from(big), 'json', count);
    await pool.decode(Buffer.from(small), 'json', count);
    assert.ok(await stopped(), 'an idle thread is stopped after a big body too');
    await pool.decode(Buffer.from(small), 'json', count);
    assert.equal(points.reduce((a, b) => a + b, 0), 3030, 'every point, from the first thread and the later ones');
  } finally {
    await pool.close();
  }
});
