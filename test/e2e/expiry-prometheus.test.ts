/**
 * Expiry that cannot break a counter, on the real Prometheus 3 with its created-timestamp
 * ingestion (`--enable-feature=created-timestamp-zero-ingestion`: a 0 stored at a series' start
 * time when it is newer than the series' last sample). A real `jobmeter serve` (start timestamps
 * on, a short `expiry_ms`) takes two OpenTelemetry SDK senders, one cumulative and one delta;
 * both stop until their series expire from serve and Prometheus has marked them stale, then send
 * again. Scraped in protobuf (`created_timestamp`) and OpenMetrics 1 (`_created`), `increase()`
 * over the whole run equals what each sender counted: the cumulative series comes back at its
 * sender's start time, before the samples Prometheus holds (no reset: `resets()` 0), the delta
 * one, whose total starts over, at a fresh start after them (`resets()` 1). serve's telemetry
 * counts the two expired source series.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { killChildren, START_MS } from '../cli/harness.ts';
import {
  START_READING_JOBS,
  startPrometheusReadingStarts,
  type PrometheusHandle,
} from '../support/prometheus.ts';
import { serveWithIngest } from '../support/serve.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-expiry-prometheus-');
const EXPIRY_MS = 4_000;
/** What each sender counts before its pause, and after it. */
const BEFORE = 5;
const AFTER = 7;

let prom: PrometheusHandle | undefined;
const providers: MeterProvider[] = [];
let expired: number | undefined;

/** A sender of its own (a provider, a process's worth), exporting only when flushed. */
function sender(url: string, temporality: AggregationTemporalityPreference): MeterProvider {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': `sender-${temporality}` }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url, temporalityPreference: temporality }),
        exportIntervalMillis: 3_600_000,
      }),
    ],
  });
  providers.push(provider);
  return provider;
}

before(async () => {
  const serving = await serveWithIngest(files, {
    lines: [
      `expiry_ms = ${EXPIRY_MS}`,
      '[naming]',
      'start_timestamps = true',
      '[telemetry]',
      'listen = "127.0.0.1:0"',
    ],
    args: ['--profile', 'otel'],
  });
  const [, telemetryUrl] = (await serving.child.stderrMatches(
    /serving jobmeter's own telemetry on (http:\/\/\S+\/metrics)\n/,
    START_MS,
  )) as unknown as [string, string];
  const target = `127.0.0.1:${serving.pullPort}`;
  prom = await startPrometheusReadingStarts(target);
  await prom.waitForTargetsUp(30_000);

  const url = `http://127.0.0.1:${serving.ingestPort}/v1/metrics`;
  const cumulative = sender(url, AggregationTemporalityPreference.CUMULATIVE);
  const delta = sender(url, AggregationTemporalityPreference.DELTA);
  const counters = [
    cumulative.getMeter('app').createCounter('app.jobs'),
    delta.getMeter('app').createCounter('app.tasks'),
  ];
  const send = async (n: number) => {
    for (const c of counters) c.add(n);
    await Promise.all([cumulative.forceFlush(), delta.forceFlush()]);
  };
  const both = (value: number) => (r: { value: [number, string] }[]) =>
    r.length === START_READING_JOBS.length && r.every((s) => Number(s.value[1]) === value);

  await send(BEFORE);
  await prom.waitFor('app_jobs_total', both(BEFORE));
  await prom.waitFor('app_tasks_total', both(BEFORE));
  // The senders pause: their series expire from serve (a scrape applies the expiry) and leave
  // Prometheus (a stale marker: the instant query finds nothing).
  await sleep(EXPIRY_MS);
  await prom.waitFor('{__name__=~"app_(jobs|tasks)_total"}', (r) => r.length === 0, 30_000);
  const telemetry = await (
    await fetch(telemetryUrl, { headers: { accept: 'text/plain;version=0.0.4' } })
  ).text();
  const line = /^jobmeter_ingest_series_expired_total (\S+)$/m.exec(telemetry);
  expired = line === null ? undefined : Number(line[1]);

  await send(AFTER);
  await prom.waitFor('app_jobs_total', both(BEFORE + AFTER));
  await prom.waitFor('app_tasks_total', both(AFTER));
});

after(async () => {
  await Promise.allSettled(providers.map((p) => p.shutdown()));
  await prom?.stop();
  killChildren();
});

/** The stored samples of `selector` over the run: [unix seconds, value]. */
async function samples(selector: string): Promise<Array<[number, string]>> {
  const res = await fetch(
    `${prom!.url}/api/v1/query?query=${encodeURIComponent(`${selector}[10m]`)}`,
  );
  const body = (await res.json()) as {
    data: { result: Array<{ values: Array<[number, string]> }> };
  };
  assert.equal(body.data.result.length, 1, JSON.stringify(body));
  return body.data.result[0]!.values;
}

/**
 * `fn(selector[range])` evaluated at the series' last sample, over a range that just takes in its
 * first: nothing extrapolated past the last, and before the first at most the 1 ms the range
 * starts earlier (none when the first is a 0).
 */
async function overRun(fn: string, selector: string): Promise<number> {
  const values = await samples(selector);
  const first = Math.round(values[0]![0] * 1000);
  const last = Math.round(values.at(-1)![0] * 1000);
  const query = `${fn}(${selector}[${last - first + 1}ms])`;
  const res = await fetch(
    `${prom!.url}/api/v1/query?query=${encodeURIComponent(query)}&time=${last / 1000}`,
  );
  const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
  assert.equal(body.data.result.length, 1, `${query}: ${JSON.stringify(body)}`);
  return Number(body.data.result[0]!.value[1]);
}

/** The values stored after the last one before the pause: what the series came back with. */
function comeBack(values: Array<[number, string]>): string[] {
  const lastBefore = values.findLastIndex(([, v]) => v === String(BEFORE));
  return values.slice(lastBefore + 1).map(([, v]) => v);
}

for (const job of START_READING_JOBS) {
  test(`${job}: a cumulative sender that paused past the expiry: increase() is what it counted, no reset`, async () => {
    const selector = `app_jobs_total{job="${job}"}`;
    const values = await samples(selector);
    const seen = JSON.stringify(values);
    // Its start, the sender's, long before the first scrape: a 0 there, then its totals.
    assert.equal(values[0]![1], '0', seen);
    assert.equal(comeBack(values)[0], String(BEFORE + AFTER), `no 0 between: ${seen}`);
    assert.equal(await overRun('resets', selector), 0, seen);
    assert.equal(await overRun('increase', selector), BEFORE + AFTER, seen);
  });

  test(`${job}: a delta sender that paused past the expiry: its total starts over at a fresh start, increase() is what it counted`, async () => {
    const selector = `app_tasks_total{job="${job}"}`;
    const values = await samples(selector);
    const seen = JSON.stringify(values);
    // A 0 at the fresh start, after the samples before the pause, then the new total.
    assert.deepEqual(comeBack(values).slice(0, 2), ['0', String(AFTER)], seen);
    // A delta series starts when its first point arrives: a scrape that began just before and
    // read the store just after stores the value before its 0 (a second reset), as for any
    // series made between a scrape's start and its read; increase() is right either way.
    const resets = await overRun('resets', selector);
    assert.ok(resets === 1 || (resets === 2 && values[0]![1] === String(BEFORE)), seen);
    const increase = await overRun('increase', selector);
    assert.ok(Math.abs(increase - (BEFORE + AFTER)) < 0.01, `${increase}: ${seen}`);
  });
}

test("serve's telemetry counts the expiries: both senders' source series", () => {
  assert.equal(expired, 2);
});
