/**
 * UTF-8 names on Prometheus 3: the native profile under
 * `NoUTF8EscapingWithSuffixes` is stored with OTel's dotted names and attribute keys by a
 * Prometheus 3 scraping with its default `escaping=allow-utf-8`, and with escaped names by one that
 * asks for `underscores` or scrapes protobuf (whose Accept names no escaping).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { JobmeterReader } from '../../src/jobmeter-reader.ts';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';

let provider: MeterProvider;
let prom: PrometheusHandle;

before(async () => {
  const reader = new JobmeterReader({
    listener: { port: 0 },
    translationStrategy: 'NoUTF8EscapingWithSuffixes',
  });
  provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('app');
  meter
    .createCounter('http.server.requests', { unit: '{request}' })
    .add(3, { 'http.method': 'GET' });
  meter
    .createHistogram('http.server.duration', {
      unit: 's',
      advice: { explicitBucketBoundaries: [1] },
    })
    .record(0.5, { 'http.method': 'GET' });
  await reader.ready;
  const target = `127.0.0.1:${reader.pullAddress!.port}`;
  prom = await startPrometheus({
    major: 3,
    jobs: [
      { name: 'utf8', target },
      { name: 'underscores', target, metricNameEscapingScheme: 'underscores' },
      { name: 'proto', target, scrapeProtocols: ['PrometheusProto'] },
    ],
  });
  await prom.waitForTargetsUp(30_000);
});

after(async () => {
  await prom?.stop();
  await provider?.shutdown();
});

test('allow-utf-8 (Prometheus 3 default): stored under the dotted names and keys', async () => {
  const [s] = await prom.waitFor(
    '{"http.server.requests_total", job="utf8"}',
    (r) => r.length === 1,
  );
  assert.equal(s!.metric['http.method'], 'GET');
  assert.equal(s!.value[1], '3');
  const [b] = await prom.query('{"http.server.duration_seconds_bucket", job="utf8", le="1.0"}');
  assert.equal(b?.value[1], '1');
  assert.deepEqual(await prom.query('http_server_requests_total{job="utf8"}'), []);
});

for (const job of ['underscores', 'proto']) {
  test(`${job}: stored under escaped names`, async () => {
    const [s] = await prom.waitFor(
      `http_server_requests_total{job="${job}"}`,
      (r) => r.length === 1,
    );
    assert.equal(s!.metric['http_method'], 'GET');
    assert.equal(s!.value[1], '3');
    assert.deepEqual(await prom.query(`{"http.server.requests_total", job="${job}"}`), []);
  });
}
