/**
 * Prometheus 3 (the pinned 3.x, with its zstd scrape feature on: `Accept-Encoding: zstd,gzip`, which
 * jobmeter answers in zstd) scraping jobmeter's native profile in the protobuf exposition
 * (`scrape_protocols: [PrometheusProto]`) stores the same series, values and types as it does
 * from text 0.0.4, and the protobuf job's metadata carries the units (which text cannot).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runDemo } from '../../src/demo/scenarios.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';
import { canonicalBound } from '../support/series-diff.ts';

const SCRAPE_SERIES = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
]);

let jm: Jobmeter;
let prom: PrometheusHandle;

before(async () => {
  jm = await createJobmeter({
    listener: { port: 0 },
    processMetrics: false,
    global: false,
    serviceName: 'pb',
  });
  runDemo(jm, 'otel');
  const target = `127.0.0.1:${jm.pullAddress!.port}`;
  prom = await startPrometheus({
    major: 3,
    extraArgs: ['--enable-feature=zstd-scrape'],
    jobs: [
      { name: 'proto', target, scrapeProtocols: ['PrometheusProto'] },
      { name: 'text', target, scrapeProtocols: ['PrometheusText0.0.4'] },
    ],
  });
  await prom.waitForTargetsUp(30_000);
});

after(async () => {
  await prom?.stop();
  await jm?.shutdown();
});

async function stored(job: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of await prom.query(`{job="${job}"}`)) {
    const { __name__: name, job: _job, instance: _instance, ...labels } = s.metric;
    if (SCRAPE_SERIES.has(name!)) continue;
    const le = labels['le'];
    if (le !== undefined) labels['le'] = canonicalBound(le);
    out.set(
      `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`,
      s.value[1],
    );
  }
  return out;
}

test('the protobuf scrape stores what the text scrape stores', async () => {
  const proto = await stored('proto');
  const text = await stored('text');
  assert.ok(text.size > 50, `${text.size} series`);
  assert.deepEqual([...proto].sort(), [...text].sort());
});

test('the protobuf job was scraped in protobuf: its metadata has units, text has none', async () => {
  const res = await fetch(
    `${prom.url}/api/v1/targets/metadata?metric=jobmeter_run_duration_seconds`,
  );
  const body = (await res.json()) as {
    data: Array<{ target: { job: string }; type: string; unit: string }>;
  };
  const byJob = Object.fromEntries(
    body.data.map((m) => [m.target.job, { type: m.type, unit: m.unit }]),
  );
  assert.deepEqual(byJob, {
    proto: { type: 'histogram', unit: 'seconds' },
    text: { type: 'histogram', unit: '' },
  });
});
