/**
 * A big request is decoded off the main thread and ingested a chunk per turn, so
 * scrapes run between chunks instead of waiting seconds. Checked by what happens, not by timers
 * (bench/ measures the delays): the sink receives the request in chunks of at most 2000 points,
 * the main thread's event loop turns between two chunks, and every point arrives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startIngestListener } from '../../src/ingest/ingest-listener.ts';
import { resolveIngest } from '../../src/resolve-options.ts';
import { IngestStore, type IngestBatch, type IngestSink } from '../../src/ingest/ingest-store.ts';
import type { PackedChunk } from '../../src/ingest/packed-chunk.ts';
import type { OtlpExportRequest } from '../../src/otlp/types.ts';
import { otlpMetricsSchema } from '../support/otlp-receiver.ts';

const POINTS = 60_000;
/** A time the store's window accepts (stream-rules.ts). */
const NOW = String(BigInt(Date.now()) * 1_000_000n);

function bigRequest(): Buffer {
  const { request } = otlpMetricsSchema();
  const dataPoints = Array.from({ length: POINTS }, (_, i) => ({
    asDouble: i,
    timeUnixNano: NOW,
    attributes: [{ key: 'id', value: { stringValue: `p${i}` } }],
  }));
  const body = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'big' } }] },
        scopeMetrics: [
          { scope: { name: 'big' }, metrics: [{ name: 'big.gauge', gauge: { dataPoints } }] },
        ],
      },
    ],
  };
  return Buffer.from(request.encode(request.fromObject(body)).finish());
}

test(
  'a big request reaches the store in chunks, with event-loop turns between them, and whole',
  { timeout: 120_000 },
  async () => {
    const store = new IngestStore({ maxSeriesPerInstrument: POINTS, maxSeries: POINTS });
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const chunks: Array<{ points: number; turn: number }> = [];
    const sink: IngestSink = {
      ingest: (r) => store.ingest(r),
      begin(): IngestBatch {
        const batch = store.begin();
        return {
          add(part: OtlpExportRequest | PackedChunk) {
            // Decoded off the main thread, a part comes packed: its points in columns, one key each.
            assert.ok('keys' in part, 'a packed part');
            const points = part.keys.length;
            chunks.push({ points, turn: turns });
            batch.add(part);
          },
          result: () => batch.result(),
        };
      },
    };
    const listener = await startIngestListener({ sink, ...resolveIngest({ port: 0 }) });
    try {
      const res = await fetch(`http://127.0.0.1:${listener.address.port}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: bigRequest(),
      });
      assert.equal(res.status, 200);
      assert.equal((await res.arrayBuffer()).byteLength, 0, 'full success');
    } finally {
      ticking = false;
      await listener.close();
    }
    assert.equal(store.seriesCount, POINTS);
    assert.equal(
      chunks.reduce((n, c) => n + c.points, 0),
      POINTS,
    );
    assert.ok(chunks.length >= POINTS / 2000, `${chunks.length} chunks`);
    for (const c of chunks) assert.ok(c.points <= 2000, `a chunk of ${c.points} points`);
    for (let i = 1; i < chunks.length; i++)
      assert.ok(
        chunks[i]!.turn > chunks[i - 1]!.turn,
        `no turn of the event loop between chunks ${i - 1} and ${i}`,
      );
  },
);
