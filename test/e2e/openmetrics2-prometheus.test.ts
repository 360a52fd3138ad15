/**
 * OpenMetrics 2.0 on the pinned Prometheus 3 (`--enable-feature=openmetrics2`, with
 * `created-timestamp-zero-ingestion` and `exemplar-storage`): a jobmeter with start timestamps,
 * host exemplars, a classic and an exponential histogram and UTF-8 names
 * (`NoUTF8EscapingWithSuffixes`) is scraped with `scrape_protocols: [OpenMetricsText2.0.0]`, and
 * its listener answers in 2.0 (Prometheus picks its parser from the answer's Content-Type). Every
 * target is up; every series is stored as the protobuf scrape stores it (the native histogram
 * as one native series with `scrape_native_histograms: true`, classic buckets without) and as
 * OpenMetrics 1.0 stores it; start times are read (a 0 at the start time, as protobuf's
 * `created_timestamp` gives; and, on a second server with 3.16's `st-storage` and
 * `use-start-timestamps`, PromQL's `start_timestamp()` is the served start); exemplars are stored, on the counter, on the classic bucket their
 * value falls in, and on a native histogram; the UTF-8 names are kept with `allow-utf-8` and
 * escaped with `underscores`.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';

import { AggregationType } from '@opentelemetry/sdk-metrics';

import type { HistogramFamily } from '../../src/exposition/types.ts';
import {
  createScrapeHandler,
  scrapeRequestOf,
  writeAnswer,
  type ScrapeHandler,
} from '../../src/http/scrape-handler.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';
import { startTracing, type Tracing } from '../support/tracing.ts';

/**
 * What Prometheus 3.16 sends for `scrape_protocols: [OpenMetricsText2.0.0]` (scrape.go
 * `acceptHeader`: the protocol's header, its `escaping`, then `*` at the next lower q).
 */
const PROMETHEUS_OM2_ACCEPT =
  'application/openmetrics-text;version=2.0.0;escaping=allow-utf-8;q=0.7,*/*;q=0.6';

const N = 200;

let tracing: Tracing;
let jm: Jobmeter;
let ids: { traceId: string; spanId: string };
let server: Server;
let handler: ScrapeHandler;
let prom: PrometheusHandle;
/** Prometheus 3.16's own start-time storage: `st-storage`, read by PromQL's `start_timestamp()`. */
let promSt: PrometheusHandle;
/** One without `openmetrics2`, which still accepts `scrape_protocols: [OpenMetricsText2.0.0]`. */
let promNoFlag: PrometheusHandle;

/** A hand-made native histogram with exemplars: the SDK keeps none on an exponential histogram. */
const NATIVE_WITH_EXEMPLARS: HistogramFamily = {
  name: 'native_exemplars_seconds',
  type: 'histogram',
  help: 'A native histogram whose buckets have exemplars.',
  unit: 'seconds',
  series: [
    {
      labels: 'route="/a"',
      // Schema 0: bucket i covers (2^(i-1), 2^i]; buckets -1, 0, 1 are the classic ones up to 2.
      bounds: [0.5, 1, 2],
      counts: [1, 2, 3, 0],
      sum: 7.5,
      count: 6,
      exemplars: [
        undefined,
        { labels: 'trace_id="aaaa0001"', value: 0.75, timestamp: Date.now() / 1000 - 5 },
        { labels: 'trace_id="aaaa0002"', value: 1.5, timestamp: Date.now() / 1000 - 4 },
        undefined,
      ],
      native: {
        schema: 0,
        zeroThreshold: 0,
        zeroCount: 0,
        positiveOffset: -1,
        positiveCounts: [1, 2, 3],
        negativeOffset: 0,
        negativeCounts: [],
      },
    },
  ],
};

before(async () => {
  tracing = startTracing();
  jm = await createJobmeter({
    listener: { port: 0 },
    processMetrics: false,
    global: false,
    hostExemplars: true,
    startTimestamps: true,
    translationStrategy: 'NoUTF8EscapingWithSuffixes',
    views: [
      {
        instrumentName: 'app.latency',
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
      },
    ],
  });
  const meter = jm.meterProvider.getMeter('app');
  const done = meter.createCounter('app.jobs.done');
  const duration = meter.createHistogram('app.job.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [1, 10, 60] },
  });
  const latency = meter.createHistogram('app.latency', { unit: 's' });
  done.add(1, { 'queue.name': 'emails' });
  ids = tracing.tracer.startActiveSpan('job', (span) => {
    done.add(2, { 'queue.name': 'emails' });
    duration.record(4.5, { 'queue.name': 'emails' });
    span.end();
    return span.spanContext();
  });
  for (let i = 0; i < N; i++) latency.record(10 ** (-3 + (4 * i) / (N - 1)), { route: '/a' });

  handler = createScrapeHandler({
    scrape: () => Promise.resolve([NATIVE_WITH_EXEMPLARS]),
    format: 'negotiate',
  });
  server = createServer((req, res) => {
    void handler.answer(scrapeRequestOf(req)).then((answer) => writeAnswer(req, res, answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const target = `127.0.0.1:${jm.pullAddress!.port}`;
  const om2 = ['OpenMetricsText2.0.0'];
  [prom, promSt, promNoFlag] = await Promise.all([
    startPrometheus({
      major: 3,
      extraArgs: [
        '--enable-feature=openmetrics2,created-timestamp-zero-ingestion,exemplar-storage',
      ],
      jobs: [
        { name: 'om2', target, scrapeProtocols: om2, scrapeNativeHistograms: true },
        { name: 'om2-classic', target, scrapeProtocols: om2 },
        {
          name: 'om2-underscores',
          target,
          scrapeProtocols: om2,
          scrapeNativeHistograms: true,
          metricNameEscapingScheme: 'underscores',
        },
        {
          name: 'proto',
          target,
          scrapeProtocols: ['PrometheusProto'],
          scrapeNativeHistograms: true,
        },
        { name: 'om1', target, scrapeProtocols: ['OpenMetricsText1.0.0'] },
        {
          name: 'om2-hand',
          target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
          scrapeProtocols: om2,
          scrapeNativeHistograms: true,
        },
      ],
    }),
    startPrometheus({
      major: 3,
      extraArgs: [
        '--enable-feature=openmetrics2,st-storage,use-start-timestamps,promql-experimental-functions',
      ],
      jobs: [
        { name: 'om2', target, scrapeProtocols: om2, metricNameEscapingScheme: 'underscores' },
        { name: 'text', target, scrapeProtocols: ['PrometheusText0.0.4'] },
      ],
    }),
    startPrometheus({ major: 3, jobs: [{ name: 'om2', target, scrapeProtocols: om2 }] }),
  ]);
  await Promise.all([prom.waitForTargetsUp(60_000), promSt.waitForTargetsUp(60_000)]);
  await sleep(1_500);
});

after(async () => {
  await prom?.stop();
  await promSt?.stop();
  await promNoFlag?.stop();
  handler?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await jm?.shutdown();
  await tracing?.stop();
});

/** A series' identity without its job: name and sorted labels. */
function keyOf(metric: Record<string, string>): string {
  const { job: _job, instance: _instance, ...rest } = metric;
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const OWN = '__name__!~"up|scrape_.+"';

/** Each series of `job` and its latest value (a native histogram's as its count and sum). */
async function stored(job: string): Promise<Map<string, unknown>> {
  const res = await fetch(
    `${prom.url}/api/v1/query?${new URLSearchParams({ query: `{job="${job}",${OWN}}` }).toString()}`,
  );
  const body = (await res.json()) as {
    data: {
      result: Array<{
        metric: Record<string, string>;
        value?: [number, string];
        histogram?: [number, { count: string; sum: string }];
      }>;
    };
  };
  return new Map(
    body.data.result.map((r) => [
      keyOf(r.metric),
      r.value !== undefined
        ? r.value[1]
        : { count: r.histogram![1].count, sum: r.histogram![1].sum },
    ]),
  );
}

/** The samples of `selector` over the last 10 minutes: floats as `[seconds, value]`, histograms' counts likewise. */
async function samples(selector: string): Promise<Array<[number, string]>> {
  const res = await fetch(
    `${prom.url}/api/v1/query?${new URLSearchParams({ query: `${selector}[10m]` }).toString()}`,
  );
  const body = (await res.json()) as {
    data: {
      result: Array<{
        values?: Array<[number, string]>;
        histograms?: Array<[number, { count: string }]>;
      }>;
    };
  };
  assert.equal(body.data.result.length, 1, JSON.stringify(body));
  const r = body.data.result[0]!;
  return r.values ?? r.histograms!.map(([t, h]) => [t, h.count]);
}

async function exemplarsOf(
  query: string,
): Promise<
  Array<{ series: Record<string, string>; labels: Record<string, string>; value: string }>
> {
  const now = Date.now() / 1000;
  const res = await fetch(
    `${prom.url}/api/v1/query_exemplars?${new URLSearchParams({ query, start: String(now - 600), end: String(now + 60) }).toString()}`,
  );
  const body = (await res.json()) as {
    status: string;
    data: Array<{
      seriesLabels: Record<string, string>;
      exemplars: Array<{ labels: Record<string, string>; value: string }>;
    }>;
  };
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data.flatMap((d) => d.exemplars.map((e) => ({ series: d.seriesLabels, ...e })));
}

/** The start time jobmeter serves for family `name` (its first series), Unix ms. */
async function startOf(name: string): Promise<number> {
  const family = (await jm.scrape()).find((f) => f.name === name);
  assert.ok(family !== undefined, name);
  const created =
    family.type === 'histogram' ? family.series[0]!.created : family.columns?.created?.[0];
  assert.ok(created !== undefined, `${name} has a start time`);
  return created;
}

test("jobmeter answers Prometheus 3.16's OpenMetrics 2.0 Accept in 2.0: st@ start times, composite histograms with native buckets", async () => {
  const res = await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
    headers: { accept: PROMETHEUS_OM2_ACCEPT },
  });
  assert.equal(
    res.headers.get('content-type'),
    'application/openmetrics-text; version=2.0.0; charset=utf-8; escaping=allow-utf-8',
  );
  const body = await res.text();
  // "sample = value [SP timestamp] [SP start-timestamp] *exemplar LF" (the spec's ABNF).
  assert.match(
    body,
    /^\{"app\.jobs\.done_total","queue\.name"="emails",otel_scope_name="app"\} 3 st@\d+(\.\d+)? # \{trace_id="[0-9a-f]{32}",span_id="[0-9a-f]{16}"\} 2 \d+(\.\d+)?$/m,
  );
  assert.match(
    body,
    /^\{"app\.latency_seconds",route="\/a",otel_scope_name="app"\} \{count:200,sum:[^,]+,schema:\d,zero_threshold:0,zero_count:0,positive_spans:\[-?\d+:\d+(,\d+:\d+)*\],positive_buckets:\[[\d,]+\],bucket:\[[^\]]+,\+Inf:200\]\} st@/m,
  );
  assert.ok(body.endsWith('# EOF\n'));
});

test('every target scraped in 2.0 is up', async () => {
  const up = await prom.query('up');
  assert.equal(up.length, 6);
  for (const s of up) assert.equal(s.value[1], '1', s.metric['job']);
});

test('scraped in 2.0 with native histograms, every series is stored as the protobuf scrape stores it, the exponential histogram as one native series', async () => {
  // Prometheus' protobuf Accept names no escaping, so jobmeter escapes names for it: the 2.0 job
  // that asks for `underscores` is its match, and the UTF-8 one holds the same series unescaped.
  const escaped = await stored('om2-underscores');
  assert.deepEqual(escaped, await stored('proto'));
  assert.equal((await stored('om2')).size, escaped.size);
  const [count] = await prom.query('histogram_count({"app.latency_seconds",job="om2"})');
  assert.equal(count?.value[1], String(N));
  assert.deepEqual(await prom.query('{"app.latency_seconds_bucket",job="om2"}'), []);
});

test('scraped in 2.0 without native histograms, every series is stored as OpenMetrics 1.0 stores it, classic buckets included', async () => {
  const classic = await stored('om2-classic');
  assert.deepEqual(classic, await stored('om1'));
  const buckets = await prom.query('{"app.latency_seconds_bucket",job="om2-classic"}');
  assert.ok(buckets.length > 10, `${buckets.length} classic buckets`);
});

test('start times are read from st@: a 0 at the start time, then the scraped value (counter, classic and native histogram)', async () => {
  const cases: Array<[string, string, string]> = [
    ['app.jobs.done_total', '{"app.jobs.done_total",job="om2"}', '3'],
    ['app.job.duration_seconds', '{"app.job.duration_seconds_count",job="om2"}', '1'],
    ['app.latency_seconds', '{"app.latency_seconds",job="om2"}', String(N)],
  ];
  for (const [family, selector, value] of cases) {
    const start = await startOf(family);
    const values = await samples(selector);
    assert.equal(values[0]![1], '0', `${selector}: ${JSON.stringify(values)}`);
    assert.ok(
      Math.abs(values[0]![0] * 1000 - start) <= 1,
      `${selector}: the 0 at ${values[0]![0]}, the start ${start / 1000}`,
    );
    assert.equal(values[1]![1], value, selector);
  }
});

test("with Prometheus' st-storage and use-start-timestamps, start_timestamp() is the start time st@ carried (text 0.0.4, which has none, gives 0)", async () => {
  const cases: Array<[string, string]> = [
    ['app.jobs.done_total', 'app_jobs_done_total'],
    ['app.job.duration_seconds', 'app_job_duration_seconds_count'],
  ];
  for (const [family, stored] of cases) {
    const start = await startOf(family);
    const byJob = new Map(
      (await promSt.query(`start_timestamp(${stored})`)).map((s) => [s.metric['job'], s.value[1]]),
    );
    // Prometheus keeps a start time in whole milliseconds (the fraction dropped), and jobmeter's
    // times, the SDK's hrTime, carry a fraction of one.
    assert.deepEqual(
      Object.fromEntries(byJob),
      { om2: String(Math.floor(start) / 1000), text: '0' },
      stored,
    );
  }
});

test("exemplars are stored: the counter's, and the classic bucket's on the bucket its value falls in", async () => {
  const counter = await exemplarsOf('{"app.jobs.done_total",job="om2"}');
  assert.deepEqual(
    counter.map((e) => [e.labels, e.value]),
    [[{ trace_id: ids.traceId, span_id: ids.spanId }, '2']],
  );
  const bucket = await exemplarsOf('{"app.job.duration_seconds_bucket",job="om2"}');
  assert.deepEqual(
    bucket.map((e) => [e.series['le'], e.labels['span_id'], e.value]),
    [['10.0', ids.spanId, '4.5']],
  );
});

test("a native histogram's exemplars are stored on it", async () => {
  const native = await exemplarsOf('native_exemplars_seconds{job="om2-hand"}');
  assert.deepEqual(native.map((e) => [e.labels['trace_id'], e.value]).sort(), [
    ['aaaa0001', '0.75'],
    ['aaaa0002', '1.5'],
  ]);
  const [count] = await prom.query('histogram_count(native_exemplars_seconds{job="om2-hand"})');
  assert.equal(count?.value[1], '6');
});

test('UTF-8 names are kept with escaping=allow-utf-8 and escaped to underscores when the job asks for it', async () => {
  const utf8 = await prom.query('{"app.jobs.done_total",job="om2"}');
  assert.deepEqual(
    utf8.map((s) => s.metric['queue.name']),
    ['emails'],
  );
  const escaped = await prom.query('app_jobs_done_total{job="om2-underscores"}');
  assert.deepEqual(
    escaped.map((s) => [s.metric['queue_name'], s.value[1]]),
    [['emails', '3']],
  );
  assert.deepEqual(await prom.query('{"app.jobs.done_total",job="om2-underscores"}'), []);
});

test('a Prometheus 3.16 without --enable-feature=openmetrics2 still asks for 2.0 when scrape_protocols names it, then refuses the answer: the target is down with its own reason', async () => {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [target] = (await promNoFlag.targets()).activeTargets;
    if (target?.health === 'down') {
      assert.match(
        target.lastError,
        /OpenMetrics 2\.0 Content-Type .* the openmetrics2 feature flag is not enabled/,
      );
      return;
    }
    assert.ok(Date.now() < deadline, `target ${JSON.stringify(target)}`);
    await sleep(500);
  }
});
