/**
 * The decoding slots (`maxConcurrentRequests`) under more senders than slots: a request
 * whose body is in while every slot is taken waits for one, its body held, and gets its 200 once a
 * slot is given back — never a 503 for the slots alone; a 503 UNAVAILABLE with `Retry-After`
 * only once the bytes of bodies held in flight, `(maxConcurrentRequests + 1) × maxBodyBytes`, would
 * pass their bound. Held without timers: a slot's holder is a gzip request, whose inflating runs
 * on libuv's thread pool, and every thread of the pool is kept busy (blocked opening FIFOs nobody
 * writes to yet) until the test lets it go, so the holders keep their slots for exactly as long as
 * the test needs. When a waiting request's body is in is read from the server side (its `end`,
 * through the `http.server.request.start` diagnostics channel), then one turn lets the listener
 * put it in line (or answer it 503, were the slots alone to refuse it).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { startIngestListener } from '../../src/ingest/ingest-listener.ts';
import { resolveIngest } from '../../src/resolve-options.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { decodeStatus } from '../support/otlp-response.ts';

const JSON_TYPE = 'application/json';

function jsonRequest(name: string): string {
  return JSON.stringify({
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            scope: { name: 'daemon' },
            metrics: [{ name, gauge: { dataPoints: [{ asDouble: 1 }] } }],
          },
        ],
      },
    ],
  });
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

/** Resolves once the server has read the bodies of `count` more requests, and a turn after. */
function bodiesIn(count: number): Promise<void> {
  return new Promise((resolve) => {
    let left = count;
    const onStart = (message: unknown): void => {
      (message as { request: IncomingMessage }).request.once('end', () => {
        if (--left > 0) return;
        unsubscribe('http.server.request.start', onStart);
        setImmediate(resolve);
      });
    };
    subscribe('http.server.request.start', onStart);
  });
}

/** `count` gzip requests, each taking a slot and waiting for the held thread pool to inflate it. */
async function holdSlots(url: string, count: number): Promise<Promise<Response>[]> {
  const inside = bodiesIn(count);
  const holders = Array.from({ length: count }, (_, i) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' },
      body: gzipSync(jsonRequest(`holder${i}.depth`)),
    }),
  );
  await inside;
  return holders;
}

async function ingestedNames(store: IngestStore): Promise<string[]> {
  return (await store.collect()).resourceMetrics.scopeMetrics.flatMap((s) =>
    s.metrics.map((m) => m.descriptor.name),
  );
}

test(
  'every slot busy: a request whose body is in waits for a slot instead of a 503, and gets its 200 once the holder gives it back',
  { timeout: 60_000 },
  async () => {
    const store = new IngestStore();
    const listener = await startIngestListener({
      sink: store,
      ...resolveIngest({ port: 0, maxConcurrentRequests: 1 }),
      retryAfterSeconds: 3,
    });
    const url = `http://127.0.0.1:${listener.address.port}/v1/metrics`;
    const pool = await holdThreadPool();
    let released = false;
    try {
      const [holder] = await holdSlots(url, 1);
      const inside = bodiesIn(1);
      let answered: number | undefined;
      const waiter = fetch(url, {
        method: 'POST',
        headers: { 'content-type': JSON_TYPE },
        body: jsonRequest('waiter.depth'),
      }).then((res) => {
        answered = res.status;
        return res;
      });
      await inside;
      await turn();
      assert.equal(
        answered,
        undefined,
        'the request past the one slot was answered while the slot was held',
      );

      released = true;
      await pool.release();
      assert.equal((await holder!).status, 200);
      const waited = await waiter;
      assert.equal(waited.status, 200, await waited.clone().text());
      const names = await ingestedNames(store);
      for (const name of ['holder0.depth', 'waiter.depth'])
        assert.ok(names.includes(name), names.join(' '));
      // The slot is given back.
      assert.equal(
        (
          await fetch(url, {
            method: 'POST',
            headers: { 'content-type': JSON_TYPE },
            body: jsonRequest('after.depth'),
          })
        ).status,
        200,
      );
    } finally {
      if (!released) await pool.release();
      await listener.close();
    }
  },
);

/** A reader the test collects from by hand: one collection, one export. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

test(
  '12 senders of the official OTLP exporter against 8 busy slots: every export succeeds, none refused',
  { timeout: 60_000 },
  async () => {
    const SENDERS = 12;
    const store = new IngestStore();
    // A 503 would name an hour in Retry-After, past the exporter's timeout: the export would fail.
    const listener = await startIngestListener({
      sink: store,
      ...resolveIngest({ port: 0, maxConcurrentRequests: 8 }),
      retryAfterSeconds: 3600,
    });
    const url = `http://127.0.0.1:${listener.address.port}/v1/metrics`;
    const pool = await holdThreadPool();
    let released = false;
    const providers: MeterProvider[] = [];
    try {
      const holders = await holdSlots(url, 8);
      const inside = bodiesIn(SENDERS);
      const exports = Array.from({ length: SENDERS }, async (_, k) => {
        const reader = new CollectingReader();
        const provider = new MeterProvider({
          resource: resourceFromAttributes({
            'service.name': 'fleet',
            'service.instance.id': `sender-${k}`,
          }),
          readers: [reader],
        });
        providers.push(provider);
        const counter = provider.getMeter('fleet-app').createCounter('fleet.requests');
        for (let i = 0; i < 50; i++) counter.add(k + 1, { route: `/r/${i}` });
        const { resourceMetrics } = await reader.collect();
        const exporter = new OTLPMetricExporter({ url, timeoutMillis: 50_000 });
        const result = await new Promise<ExportResult>((resolve) =>
          exporter.export(resourceMetrics, resolve),
        );
        await exporter.shutdown();
        return result;
      });
      await inside;
      await turn();

      released = true;
      await pool.release();
      for (const h of holders) assert.equal((await h).status, 200);
      const results = await Promise.all(exports);
      assert.deepEqual(
        results.map((r) => (r.code === ExportResultCode.SUCCESS ? 'ok' : String(r.error))),
        Array.from({ length: SENDERS }, () => 'ok'),
      );
      const { resourceMetrics } = await store.collect();
      const points = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .filter((m) => m.descriptor.name === 'fleet.requests')
        .flatMap((m) => m.dataPoints as DataPoint<number>[]);
      // The senders' streams of a series add up (the resource is not part of the output series).
      const everySender = (SENDERS * (SENDERS + 1)) / 2;
      assert.deepEqual(
        points.map((p) => p.value),
        Array.from({ length: 50 }, () => everySender),
        "every sender's points ingested",
      );
    } finally {
      if (!released) await pool.release();
      for (const p of providers) await p.shutdown();
      await listener.close();
    }
  },
);

test(
  'the bytes in flight still bound the waiting: past them a request is shed with 503 and Retry-After',
  { timeout: 60_000 },
  async () => {
    const MAX_BODY = 64 * 1024;
    const store = new IngestStore();
    const answered: string[] = [];
    const listener = await startIngestListener({
      sink: store,
      ...resolveIngest({ port: 0, maxBodyBytes: MAX_BODY, maxConcurrentRequests: 1 }),
      retryAfterSeconds: 3,
      onAnswered: (a) => answered.push(a),
    });
    const url = `http://127.0.0.1:${listener.address.port}/v1/metrics`;
    const pool = await holdThreadPool();
    let released = false;
    try {
      const [holder] = await holdSlots(url, 1);
      // Budget (1 + 1) × 64 KiB: two waiting bodies of 3/8 of it each fit, a third does not.
      const padded = (name: string): string =>
        jsonRequest(name) + ' '.repeat((MAX_BODY * 3) / 4 - jsonRequest(name).length);
      const waiting: Promise<Response>[] = [];
      for (const name of ['first.depth', 'second.depth']) {
        const inside = bodiesIn(1);
        waiting.push(
          fetch(url, {
            method: 'POST',
            headers: { 'content-type': JSON_TYPE },
            body: padded(name),
          }),
        );
        await inside;
      }
      const shed = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': JSON_TYPE },
        body: padded('third.depth'),
      });
      assert.equal(shed.status, 503);
      assert.equal(shed.headers.get('retry-after'), '3');
      assert.deepEqual(decodeStatus(new Uint8Array(await shed.arrayBuffer()), 'json'), {
        code: 14,
        message: `jobmeter is busy (request bodies past ${2 * MAX_BODY} bytes in flight); retry after 3 s`,
      });

      released = true;
      await pool.release();
      assert.equal((await holder!).status, 200);
      for (const w of waiting) assert.equal((await w).status, 200);
      const names = await ingestedNames(store);
      for (const name of ['first.depth', 'second.depth'])
        assert.ok(names.includes(name), names.join(' '));
      assert.ok(!names.includes('third.depth'), names.join(' '));
      // Each answer reported once, for counting: the shed one as it was written, before the others.
      assert.deepEqual(answered, ['unavailable', 'accepted', 'accepted', 'accepted']);
    } finally {
      if (!released) await pool.release();
      await listener.close();
    }
  },
);
