/**
 * The Collector as a sender (the release pinned in test/peers/versions.env): its `otlp_http`
 * exporter forwards to jobmeter's ingest with each `compression` it offers — none, gzip, zstd,
 * zlib, deflate, snappy, x-snappy-framed, lz4 — and jobmeter's pull endpoint shows the same series
 * as when the same data is pushed to it directly.
 *
 * The data: jobmeter's demo scenario pushed with canonical naming (what a daemon's own SDK sends),
 * twice from two identical jobmeters: one through the Collector, one straight to a second ingest.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runDemo } from '../../src/demo/scenarios.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { ProfileName } from '../../src/options.ts';
import { startCollector } from '../support/collector.ts';
import { diffSeries, seriesTable } from '../support/series-diff.ts';

const COMPRESSIONS = [
  'none',
  'gzip',
  'zstd',
  'zlib',
  'deflate',
  'snappy',
  'x-snappy-framed',
  'lz4',
] as const;
const PROFILE: ProfileName = 'crewshipd';
const TEXT_004 = 'text/plain;version=0.0.4';

/** A jobmeter serving the ingested data only (no process metrics, nothing recorded itself). */
async function receiver(): Promise<Jobmeter> {
  return createJobmeter({
    profile: PROFILE,
    serviceName: 'receiver',
    listener: { port: 0 },
    ingest: { port: 0 },
    processMetrics: false,
    hostname: 'host-1',
  });
}

/** The sender: the demo pushed once (shutdown flushes) with canonical names, as a daemon's SDK would. */
async function sendDemo(endpoint: string): Promise<void> {
  const jm = await createJobmeter({
    profile: PROFILE,
    serviceName: 'daemon',
    listener: false,
    processMetrics: false,
    global: false,
    otlp: { endpoint, intervalMillis: 3_600_000, naming: 'canonical' },
  });
  runDemo(jm, PROFILE);
  await jm.shutdown();
}

async function pulled(jm: Jobmeter): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
    headers: { accept: TEXT_004 },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  return res.text();
}

const ingestUrl = (jm: Jobmeter): string => `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`;

let direct: Jobmeter;
let directSeries: ReturnType<typeof seriesTable>;
before(async () => {
  direct = await receiver();
  await sendDemo(ingestUrl(direct));
  directSeries = seriesTable(await pulled(direct));
  assert.ok(directSeries.values.size > 20, 'the direct push reached the pull endpoint');
});
after(async () => {
  await direct?.shutdown();
});

describe('the real Collector forwarding to jobmeter serve (otlp_http exporter)', () => {
  for (const compression of COMPRESSIONS) {
    it(`compression: ${compression}`, async () => {
      const viaCollector = await receiver();
      try {
        const collector = await startCollector({
          ports: ['otlp'],
          config: (p) => ({
            receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
            exporters: {
              otlp_http: {
                metrics_endpoint: ingestUrl(viaCollector),
                compression,
                retry_on_failure: { enabled: false },
                sending_queue: { enabled: false },
              },
            },
            service: { pipelines: { metrics: { receivers: ['otlp'], exporters: ['otlp_http'] } } },
          }),
        });
        try {
          // Without a queue, the Collector answers the sender once otlp_http has delivered.
          await sendDemo(`http://127.0.0.1:${collector.ports.otlp}/v1/metrics`);
        } finally {
          await collector.stop();
        }
        const logs = collector.logs();
        assert.doesNotMatch(logs, /Exporting failed|error/i, logs);
        const diff = diffSeries(directSeries, seriesTable(await pulled(viaCollector)));
        assert.deepEqual(
          diff,
          { onlyLeft: [], onlyRight: [], values: [], types: [] },
          JSON.stringify(diff, null, 2),
        );
      } finally {
        await viaCollector.shutdown();
      }
    });
  }
});
