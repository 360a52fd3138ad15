/**
 * Start timestamps on Prometheus 3: with `--enable-feature=created-timestamp-zero-ingestion`
 * (its name in 3.15 and 3.16), a counter that jobmeter serves with its start time — protobuf
 * `created_timestamp`, or OpenMetrics `_created` — is stored with a 0 sample at that start time
 * before its first scraped value, so `increase()` sees the counts made before the first scrape;
 * the OpenMetrics `_created` sample is read as the start, not stored as a series.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { JobmeterReader } from '../../src/jobmeter-reader.ts';
import {
  START_READING_JOBS,
  startPrometheusReadingStarts,
  type PrometheusHandle,
} from '../support/prometheus.ts';

let provider: MeterProvider;
let reader: JobmeterReader;
let prom: PrometheusHandle;
let startMs: number;

before(async () => {
  reader = new JobmeterReader({ listener: { port: 0 }, startTimestamps: true });
  provider = new MeterProvider({ readers: [reader] });
  provider.getMeter('app').createCounter('app.jobs').add(5, { queue: 'a' });
  await reader.ready;
  const family = (await reader.scrape()).find((f) => f.name === 'app_jobs_total');
  assert.ok(family?.type === 'counter' && family.columns?.created !== undefined);
  startMs = family.columns.created[0]!;
  const target = `127.0.0.1:${reader.pullAddress!.port}`;
  // The first scrape comes a few seconds after the start: the 0 sample must be at the start time.
  prom = await startPrometheusReadingStarts(target);
  await prom.waitForTargetsUp(30_000);
});

after(async () => {
  await prom?.stop();
  await provider?.shutdown();
});

/** The stored samples of `selector` over the last 10 minutes: [unix seconds, value]. */
async function samples(selector: string): Promise<Array<[number, string]>> {
  const res = await fetch(
    `${prom.url}/api/v1/query?query=${encodeURIComponent(`${selector}[10m]`)}`,
  );
  const body = (await res.json()) as {
    data: { result: Array<{ values: Array<[number, string]> }> };
  };
  assert.equal(body.data.result.length, 1, JSON.stringify(body));
  return body.data.result[0]!.values;
}

for (const job of START_READING_JOBS) {
  test(`${job}: a 0 sample at the start time, then the scraped value`, async () => {
    await prom.waitFor(`app_jobs_total{job="${job}"}`, (r) => r.length === 1);
    const values = await samples(`app_jobs_total{job="${job}"}`);
    assert.deepEqual(values[0]![1], '0', JSON.stringify(values));
    assert.ok(
      Math.abs(values[0]![0] * 1000 - startMs) <= 1,
      `the 0 sample at ${values[0]![0]}, the start ${startMs / 1000}`,
    );
    assert.equal(values[1]![1], '5');
    assert.ok(values[1]![0] * 1000 > startMs);
  });
}

test('the OpenMetrics _created sample is the start time, not a series of its own', async () => {
  const res = await prom.query('{__name__=~"app_jobs_created.*"}');
  assert.deepEqual(res, []);
});
