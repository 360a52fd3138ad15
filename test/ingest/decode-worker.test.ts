/**
 * The decoding thread. It posts a decoded request's chunks to a port without a
 * listener and is free for the next request; the pool takes one chunk per turn off that port (a
 * port with a listener hands every message it holds over in one go, and deserialising them all
 * would block the main thread for the whole request after all). Checked by the order of chunks and
 * turns, not by timers. A body handed over is moved to the thread, not copied (copying 20 MiB
 * would hold the main thread).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import {
  MessageChannel,
  receiveMessageOnPort,
  Worker,
  type MessagePort,
} from 'node:worker_threads';
import type {
  ChunkMessage,
  DecodeJob,
  DecodeMessage,
  DecodeWorkerData,
  Taken,
} from '../../src/ingest/decode-worker.ts';
import { DecoderPool } from '../../src/ingest/decoder-pool.ts';
import { Refused } from '../../src/ingest/ingest-errors.ts';
import { KeyTable, type PackedChunk } from '../../src/ingest/packed-chunk.ts';
import type { OtlpExportRequest } from '../../src/otlp/types.ts';
import { unpackChunk } from './helpers.ts';

const LIMITS = { maxBodyBytes: 20 * 1024 * 1024 };

function gaugeRequest(points: number): Uint8Array {
  const dataPoints = Array.from({ length: points }, (_, i) => ({
    asDouble: i,
    timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)),
  }));
  const body = {
    resourceMetrics: [
      {
        resource: { attributes: [] },
        scopeMetrics: [{ scope: { name: 's' }, metrics: [{ name: 'g', gauge: { dataPoints } }] }],
      },
    ],
  };
  return new TextEncoder().encode(JSON.stringify(body));
}

function startWorker(): { worker: Worker; chunks: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('../../src/ingest/decode-worker.ts', import.meta.url), {
    workerData: { chunks: port2 } satisfies DecodeWorkerData,
    transferList: [port2],
  });
  return { worker, chunks: port1 };
}

/** Every chunk waiting on `port`, taken off it in order. */
function takeAll(port: MessagePort): ChunkMessage[] {
  const out: ChunkMessage[] = [];
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port))
    out.push(m.message as ChunkMessage);
  return out;
}

test(
  'the decoding thread posts a request’s chunks to its chunk port, then done with their count, and takes the next request',
  { timeout: 30_000 },
  async () => {
    const { worker, chunks } = startWorker();
    try {
      worker.postMessage({
        id: 1,
        body: gaugeRequest(25),
        encoding: 'json',
        ...LIMITS,
        pointsPerChunk: 10,
        chunksAhead: 16,
      } satisfies DecodeJob);
      worker.postMessage({
        id: 2,
        body: new TextEncoder().encode('not json'),
        encoding: 'json',
        ...LIMITS,
        pointsPerChunk: 10,
        chunksAhead: 16,
      } satisfies DecodeJob);
      worker.postMessage({
        id: 3,
        body: gaugeRequest(5),
        encoding: 'json',
        ...LIMITS,
        pointsPerChunk: 10,
        chunksAhead: 16,
      } satisfies DecodeJob);
      const [first] = (await once(worker, 'message')) as [DecodeMessage];
      assert.deepEqual(first, { id: 1, done: true, bytes: gaugeRequest(25).length, chunks: 3 });
      const [second] = (await once(worker, 'message')) as [DecodeMessage];
      assert.ok(
        'error' in second && second.id === 2 && second.error.reason === 'bad_request',
        JSON.stringify(second),
      );
      const [third] = (await once(worker, 'message')) as [DecodeMessage];
      assert.deepEqual(third, { id: 3, done: true, bytes: gaugeRequest(5).length, chunks: 1 });
      const keys = new KeyTable();
      const taken = takeAll(chunks).map(({ id, chunk }) => {
        const data = unpackChunk(keys.receive(chunk)).resourceMetrics[0]!.scopeMetrics[0]!
          .metrics[0]!.data;
        return `${id}:${data.type === 'gauge' ? data.points.length : -1}`;
      });
      assert.deepEqual(
        taken,
        ['1:10', '1:10', '1:5', '3:5'],
        'every point, in order; none from the request that failed',
      );
    } finally {
      chunks.close();
      await worker.terminate();
    }
  },
);

test(
  'the decoding thread posts at most chunksAhead past those taken, and the next request waits for the rest',
  { timeout: 30_000 },
  async () => {
    const { worker, chunks } = startWorker();
    const LIMITED = { ...LIMITS, pointsPerChunk: 5, chunksAhead: 2 };
    try {
      worker.postMessage({
        id: 1,
        body: gaugeRequest(25),
        encoding: 'json',
        ...LIMITED,
      } satisfies DecodeJob);
      const bytes = gaugeRequest(25).length;
      assert.deepEqual(((await once(worker, 'message')) as [DecodeMessage])[0], {
        id: 1,
        posted: 2,
        bytes,
      });
      worker.postMessage({
        id: 2,
        body: gaugeRequest(3),
        encoding: 'json',
        ...LIMITED,
      } satisfies DecodeJob);
      const ids = (): number[] => takeAll(chunks).map((m) => m.id);
      assert.deepEqual(ids(), [1, 1]);
      worker.postMessage({ id: 1, taken: 2 } satisfies Taken);
      assert.deepEqual(
        ((await once(worker, 'message')) as [DecodeMessage])[0],
        { id: 1, posted: 4, bytes },
        'two more, not the whole request',
      );
      assert.deepEqual(ids(), [1, 1]);
      worker.postMessage({ id: 1, taken: 4 } satisfies Taken);
      assert.deepEqual(((await once(worker, 'message')) as [DecodeMessage])[0], {
        id: 1,
        done: true,
        bytes,
        chunks: 5,
      });
      assert.deepEqual(
        ((await once(worker, 'message')) as [DecodeMessage])[0],
        { id: 2, done: true, bytes: gaugeRequest(3).length, chunks: 1 },
        'the second request after the first’s last chunk',
      );
      assert.deepEqual(ids(), [1, 2]);
    } finally {
      chunks.close();
      await worker.terminate();
    }
  },
);

test(
  'a request larger than the window goes through the pool whole, a window at a time',
  { timeout: 30_000 },
  async () => {
    const pool = new DecoderPool({ pointsPerChunk: 5, chunksAhead: 4 });
    try {
      const sizes: number[] = [];
      const take = (c: PackedChunk): void => {
        const data = unpackChunk(c).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
        sizes.push(data.type === 'gauge' ? data.points.length : -1);
      };
      await Promise.all([
        pool.decode(Buffer.from(gaugeRequest(93)), 'json', take),
        pool.decode(Buffer.from(gaugeRequest(7)), 'json', take),
      ]);
      assert.deepEqual(sizes, [...Array(18).fill(5), 3, 5, 2]);
    } finally {
      await pool.close();
    }
  },
);

test(
  'the pool hands chunks over one per turn, request after request in the order they came, a bad one refused alone',
  { timeout: 30_000 },
  async () => {
    const pool = new DecoderPool({ pointsPerChunk: 10 });
    try {
      const seen: string[] = [];
      const take =
        (tag: string) =>
        (c: PackedChunk): void => {
          const data = unpackChunk(c).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
          seen.push(`${tag}:${data.type === 'gauge' ? data.points.length : -1}`);
          setImmediate(() => seen.push('turn'));
        };
      const results = await Promise.allSettled([
        pool.decode(Buffer.from(gaugeRequest(25)), 'json', take('a')),
        pool.decode(Buffer.from('{"resourceMetrics": [}'), 'json', take('b')),
        pool.decode(Buffer.from(gaugeRequest(12)), 'json', take('c')),
        pool.decode(Buffer.from(gaugeRequest(3)), 'json', take('d')),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
      );
      const refused = (results[1] as PromiseRejectedResult).reason;
      assert.ok(refused instanceof Refused && refused.reason === 'bad_request', String(refused));
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(seen, [
        'a:10',
        'turn',
        'a:10',
        'turn',
        'a:5',
        'turn',
        'c:10',
        'turn',
        'c:2',
        'turn',
        'd:3',
        'turn',
      ]);
    } finally {
      await pool.close();
    }
  },
);

test(
  'a body handed over moves to the decoding thread; one not handed over stays the caller’s',
  { timeout: 30_000 },
  async () => {
    const pool = new DecoderPool();
    try {
      const points = (chunks: OtlpExportRequest[]): number =>
        chunks
          .flatMap((c) => c.resourceMetrics[0]!.scopeMetrics[0]!.metrics)
          .reduce((n, m) => n + (m.data.type === 'gauge' ? m.data.points.length : 0), 0);
      const kept = Buffer.from(gaugeRequest(3000));
      const keptChunks: OtlpExportRequest[] = [];
      await pool.decode(kept, 'json', (c) => keptChunks.push(unpackChunk(c)));
      assert.equal(points(keptChunks), 3000);
      assert.deepEqual(
        kept,
        Buffer.from(gaugeRequest(3000)),
        'a body not handed over is left as it was',
      );

      const moved = Buffer.from(gaugeRequest(3000));
      const movedChunks: OtlpExportRequest[] = [];
      await pool.decode(moved, 'json', (c) => movedChunks.push(unpackChunk(c)), true);
      assert.equal(points(movedChunks), 3000);
      assert.equal(moved.buffer.byteLength, 0, 'its ArrayBuffer was transferred, not copied');
    } finally {
      await pool.close();
    }
  },
);

test(
  'a decoding thread gives its heap back after a pause, not between the requests of a steady stream',
  { timeout: 30_000 },
  async () => {
    const body = gaugeRequest(200);
    const pool = new DecoderPool({
      releaseAfterBytes: body.length,
      releaseQuietMillis: 200,
      idleMillis: 60_000,
    });
    try {
      // Each request sent as the one before is answered: no turn of the event loop between them.
      for (let i = 0; i < 20; i++) await pool.decode(Buffer.from(body), 'json', () => {});
      assert.equal(pool.releases, 0, 'none while the requests kept coming');
      const until = Date.now() + 10_000;
      while (pool.releases === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.equal(pool.releases, 1, 'once, after the pause');
    } finally {
      await pool.close();
    }
  },
);

test(
  'an idle decoding thread is stopped, and a new one started for the next request',
  { timeout: 30_000 },
  async () => {
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
      assert.equal(
        points.reduce((a, b) => a + b, 0),
        3030,
        'every point, from the first thread and the later ones',
      );
    } finally {
      await pool.close();
    }
  },
);
