/**
 * Issue 13 items 2, 3 and 4: no ingested point can break the exposition. fast-check generates
 * arbitrary OTLP/JSON requests — names and attribute keys that collide once sanitised, empty and
 * reserved keys (`le`, `quantile`, `__name__`, `otel_scope_*`), names that clash with other
 * families and with jobmeter's own (`target_info`, `bar_count` beside a histogram `bar`),
 * inconsistent histograms, odd values — and sends them to a real ingest listener; after each
 * request the pull endpoint's text and OpenMetrics scrapes must pass the strict parser
 * (test/support) and `promtool check metrics`. Whatever is refused is refused with a reason in
 * `partial_success`, and the ingest keeps answering 200.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { checkExposition } from '../support/exposition-parser.ts';
import { checkMetrics } from '../support/promtool.ts';

// One jobmeter per generated request, so a counterexample stands on its own.
let jm: Jobmeter;
let ingestUrl: string;
let pullUrl: string;

async function fresh(): Promise<void> {
  jm = await createJobmeter({ listener: { port: 0 }, ingest: { port: 0 } });
  ingestUrl = `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`;
  pullUrl = `http://127.0.0.1:${jm.pullAddress!.port}/metrics`;
}

const NAMES = [
  'bar', 'bar.count', 'bar_count', 'bar.sum', 'bar_bucket', 'bar.total', 'bar_total', 'bar.created', 'target.info', 'target_info', 'target',
  'jobmeter.scrape.errors', 'jobmeter.ingest.refused', 'jobmeter_ingest_refused_total', 'process.uptime', 'process_uptime_seconds',
  'a.b', 'a_b', 'a-b', '0lead', 'é', 'x', 'foo.info',
];
const KEYS = ['a.b', 'a_b', 'a-b', 'a__b', '', 'le', 'quantile', '__name__', '__x', 'otel_scope_name', 'otel_scope_version', 'otel.scope.name', 'job', 'instance', '0k', 'k', 'é'];
const UNITS = ['', 's', 'ms', 'By', '1', '{x}', 'a b', 'total', 'count'];

const key = fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 }));
const value = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('"', '\\', '\n', '\ud800', 'x'.repeat(300)), fc.integer());
const attributes = fc.array(fc.tuple(key, value), { maxLength: 5 }).map((kvs) =>
  kvs.map(([k, v]) => ({ key: k, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } })),
);
const double = fc.oneof(fc.double(), fc.constantFrom('NaN', 'Infinity', '-Infinity'), fc.integer({ min: -5, max: 100 }));
const time = fc.integer({ min: 1, max: 1000 }).map((s) => String(BigInt(1_700_000_000 + s) * 1_000_000_000n));

const numberPoint = fc.record({ attributes, asDouble: double, timeUnixNano: time, startTimeUnixNano: fc.constant('1000') });
const histogramPoint = fc
  .record({
    attributes,
    bounds: fc.array(fc.oneof(fc.integer({ min: -10, max: 10 }), fc.double({ noNaN: true })), { maxLength: 4 }),
    counts: fc.array(fc.nat(20), { maxLength: 5 }),
    extra: fc.integer({ min: -3, max: 3 }),
    sum: double,
    timeUnixNano: time,
  })
  .map(({ attributes, bounds, counts, extra, sum, timeUnixNano }) => ({
    attributes,
    explicitBounds: bounds,
    bucketCounts: counts.map(String),
    count: String(Math.max(0, counts.reduce((a, b) => a + b, 0) + extra)),
    sum,
    timeUnixNano,
    startTimeUnixNano: '1000',
  }));

const metric = fc.record({
  name: fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 8 })),
  unit: fc.constantFrom(...UNITS),
  description: fc.string({ maxLength: 8 }),
  data: fc.oneof(
    fc.record({ gauge: fc.record({ dataPoints: fc.array(numberPoint, { minLength: 1, maxLength: 3 }) }) }),
    fc.record({
      sum: fc.record({ dataPoints: fc.array(numberPoint, { minLength: 1, maxLength: 3 }), isMonotonic: fc.boolean(), aggregationTemporality: fc.constantFrom(1, 2) }),
    }),
    fc.record({ histogram: fc.record({ dataPoints: fc.array(histogramPoint, { minLength: 1, maxLength: 2 }), aggregationTemporality: fc.constantFrom(1, 2) }) }),
  ),
});

const request = fc.record({
  scope: fc.oneof(fc.constantFrom('daemon', '', 'otel_scope_name', 'a"b\n'), fc.string({ maxLength: 6 })),
  metrics: fc.array(metric, { minLength: 1, maxLength: 4 }),
});

async function scrape(accept: string): Promise<string> {
  const res = await fetch(pullUrl, { headers: { accept } });
  assert.equal(res.status, 200);
  return res.text();
}

test('no OTLP request can make a scrape fail a strict parser or promtool', { timeout: 170_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(request, async ({ scope, metrics }) => {
      await fresh();
      try {
        await check(scope, metrics);
      } finally {
        await jm.shutdown();
      }
    }),
    { numRuns: Number(process.env.RUNS ?? 100) },
  );
});

async function check(scope: string, metrics: readonly { name: string; unit: string; description: string; data: object }[]): Promise<void> {
      const body = {
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz' } }] },
            scopeMetrics: [{ scope: { name: scope }, metrics: metrics.map(({ name, unit, description, data }) => ({ name, unit, description, ...data })) }],
          },
        ],
      };
      const res = await fetch(ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const answer = await res.text();
      assert.equal(res.status, 200, answer);
      const partial = (JSON.parse(answer) as { partialSuccess?: { rejectedDataPoints?: string; errorMessage?: string } }).partialSuccess;
      if (partial?.rejectedDataPoints !== undefined) assert.ok((partial.errorMessage ?? '') !== '', 'a refusal says why');

      const text = await scrape('text/plain;version=0.0.4');
      const textProblems = checkExposition(text, 'text');
      assert.deepEqual(textProblems, [], `${textProblems.join('\n')}\n${text}`);
      const promtool = await checkMetrics(text);
      assert.notEqual(promtool.code, 1, `promtool: ${promtool.output}\n${text}`);
      const om = await scrape('application/openmetrics-text;version=1.0.0');
      const omProblems = checkExposition(om, 'openmetrics');
      assert.deepEqual(omProblems, [], `${omProblems.join('\n')}\n${om}`);
}
