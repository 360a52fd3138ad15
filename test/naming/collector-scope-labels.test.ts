// The Collector scenario of the bench (bench/ingest-server.mjs) runs jobmeter's default naming on
// the ground that it serves the lines the real Collector's `prometheus` exporter serves: the same
// body pushed to both, each series carries its scope's name and version as labels.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { createJobmeter } from '../../src/index.ts';
import { startPrometheusCollector } from '../support/collector.ts';

const BODY = {
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fleet' } }] },
      scopeMetrics: [
        {
          scope: { name: 'fleet-app', version: '1.0.0' },
          metrics: [
            {
              name: 'jobs',
              sum: {
                aggregationTemporality: 2,
                isMonotonic: true,
                dataPoints: [
                  {
                    asInt: '5',
                    timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                    attributes: [{ key: 'queue', value: { stringValue: 'emails' } }],
                  },
                ],
              },
            },
          ],
        },
      ],
    },
  ],
};

async function post(url: string): Promise<void> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(BODY),
  });
  assert.equal(r.status, 200, await r.text());
}

/** The labels of the `jobs_total` sample `url` serves, by name (polled until it is there). */
async function jobsLabels(url: string): Promise<Map<string, string>> {
  for (let i = 0; i < 100; i++) {
    const text = await (await fetch(url)).text();
    const line = text.split('\n').find((l) => l.startsWith('jobs_total{'));
    if (line !== undefined) {
      const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
      return new Map([...labels.matchAll(/([\w.]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never served jobs_total`);
}

const collector = await startPrometheusCollector();
const jm = await createJobmeter({
  listener: { host: '127.0.0.1', port: 0 },
  ingest: { host: '127.0.0.1', port: 0, stateDir: false },
  processMetrics: false,
  global: false,
});
after(async () => {
  await jm.shutdown();
  await collector.stop();
});

it("puts the scope's name and version on an ingested series, as the Collector's prometheus exporter does", async () => {
  await post(`http://127.0.0.1:${collector.ports.otlp}/v1/metrics`);
  await post(`http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`);
  const theirs = await jobsLabels(`http://127.0.0.1:${collector.ports.prom}/metrics`);
  const ours = await jobsLabels(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`);
  for (const labels of [theirs, ours]) {
    assert.equal(labels.get('otel_scope_name'), 'fleet-app');
    assert.equal(labels.get('otel_scope_version'), '1.0.0');
    assert.equal(labels.get('queue'), 'emails');
  }
});
