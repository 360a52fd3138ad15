/**
 * Native histograms on Prometheus 3: a host's histogram given base-2 exponential
 * aggregation by a View (plain SDK provider, JobmeterReader) is scraped over protobuf with
 * `scrape_native_histograms: true` and stored as one native histogram series, whose
 * `histogram_quantile(0.99, …)` lands within one bucket of the known distribution's p99; a text
 * scrape of the same target stores classic buckets whose quantile lands within the same error.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { JobmeterReader } from '../../src/jobmeter-reader.ts';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';

const N = 2000;
/** Log-uniform over 1 ms … 10 s: value i is 10^(-3 + 4i/(N-1)), so the p99 is 10^(-3 + 4·0.99). */
const P99 = 10 ** (-3 + 4 * 0.99);

let provider: MeterProvider;
let reader: JobmeterReader;
let prom: PrometheusHandle;
let scale: number;

before(async () => {
  reader = new JobmeterReader({ listener: { port: 0 } });
  provider = new MeterProvider({
    views: [
      { instrumentName: 'latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
    ],
    readers: [reader],
  });
  const h = provider
    .getMeter('app')
    .createHistogram('latency', { unit: 's', description: 'Request latency.' });
  for (let i = 0; i < N; i++) h.record(10 ** (-3 + (4 * i) / (N - 1)), { route: '/a' });
  await reader.ready;
  const families = await reader.scrape();
  const series = families.find((f) => f.name === 'latency_seconds');
  assert.ok(series?.type === 'histogram' && series.series[0]!.native !== undefined);
  scale = series.series[0]!.native.schema;
  const target = `127.0.0.1:${reader.pullAddress!.port}`;
  prom = await startPrometheus({
    major: 3,
    jobs: [
      {
        name: 'native',
        target,
        scrapeProtocols: ['PrometheusProto'],
        scrapeNativeHistograms: true,
      },
      {
        name: 'text',
        target,
        scrapeProtocols: ['PrometheusText0.0.4'],
        scrapeNativeHistograms: true,
      },
    ],
  });
  await prom.waitForTargetsUp(30_000);
});

after(async () => {
  await prom?.stop();
  await provider?.shutdown();
});

/** The bucket error of schema `s`: a bucket's upper bound over its lower one, less 1. */
const bucketError = (s: number): number => 2 ** (2 ** -s) - 1;

test('Prometheus 3 stores the protobuf scrape as a native histogram, and its p99 is within a bucket', async () => {
  const count = await prom.waitFor(
    'histogram_count(latency_seconds{job="native"})',
    (r) => r.length === 1,
  );
  assert.equal(Number(count[0]!.value[1]), N);
  // Native only: the classic buckets the same protobuf carries are not stored beside it.
  assert.deepEqual(await prom.query('latency_seconds_bucket{job="native"}'), []);
  const [q] = await prom.query('histogram_quantile(0.99, latency_seconds{job="native"})');
  const got = Number(q!.value[1]);
  assert.ok(
    Math.abs(got / P99 - 1) <= bucketError(scale),
    `p99 ${got}, expected ${P99} within ${bucketError(scale)} (schema ${scale})`,
  );
});

test('the text scrape of the same target stores classic buckets with the same error bound', async () => {
  const [q] = await prom.waitFor(
    'histogram_quantile(0.99, latency_seconds_bucket{job="text"})',
    (r) => r.length === 1,
  );
  const got = Number(q!.value[1]);
  assert.ok(
    Math.abs(got / P99 - 1) <= bucketError(scale),
    `p99 ${got}, expected ${P99} within ${bucketError(scale)} (schema ${scale})`,
  );
  // Text has no native form: no native sample for that job.
  assert.deepEqual(await prom.query('histogram_count(latency_seconds{job="text"})'), []);
});
