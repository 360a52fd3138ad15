/**
 * Exposition refusals, case by case, through a real ingest listener and pull endpoint (native
 * profile): what is refused says why in `partial_success` and is counted in
 * `jobmeter_ingest_refused_total{reason}`; what is kept is rendered as valid, unique labels.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REFUSAL_REASONS } from '../../src/ingest/ingest-report.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { checkExposition } from '../support/exposition-parser.ts';

let jm: Jobmeter;
let ingest: string;
let pull: string;

before(async () => {
  jm = await createJobmeter({ listener: { port: 0 }, ingest: { port: 0 }, processMetrics: false });
  ingest = `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`;
  pull = `http://127.0.0.1:${jm.pullAddress!.port}/metrics`;
});
after(async () => {
  await jm.shutdown();
});

const NOW = String(BigInt(Date.now()) * 1_000_000n);
const attrs = (o: Record<string, string>) =>
  Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }));
const gauge = (name: string, attributes: Record<string, string> = {}, unit = '') => ({
  name,
  unit,
  gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: NOW, attributes: attrs(attributes) }] },
});
const histogram = (
  name: string,
  point: { bounds: number[]; counts: number[]; count: number; sum: number },
  attributes: Record<string, string> = {},
) => ({
  name,
  histogram: {
    aggregationTemporality: 2,
    dataPoints: [
      {
        attributes: attrs(attributes),
        explicitBounds: point.bounds,
        bucketCounts: point.counts.map(String),
        count: String(point.count),
        sum: point.sum,
        startTimeUnixNano: '1',
        timeUnixNano: NOW,
      },
    ],
  },
});

async function send(...metrics: object[]): Promise<{ rejected: number; message: string }> {
  const body = {
    resourceMetrics: [{ resource: {}, scopeMetrics: [{ scope: { name: 'sender' }, metrics }] }],
  };
  const res = await fetch(ingest, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  const p = (
    (await res.json()) as {
      partialSuccess?: { rejectedDataPoints?: string; errorMessage?: string };
    }
  ).partialSuccess;
  return { rejected: Number(p?.rejectedDataPoints ?? 0), message: p?.errorMessage ?? '' };
}

async function scrape(): Promise<string> {
  const text = await (await fetch(pull)).text();
  assert.deepEqual(checkExposition(text, 'text'), []);
  return text;
}

describe('jobmeter_ingest_refused_total from the start', () => {
  it('serves every reason at 0 before its first refusal, so increase() sees the first one', async () => {
    const fresh = await createJobmeter({
      global: false,
      listener: { port: 0 },
      ingest: { port: 0 },
      processMetrics: false,
    });
    try {
      const url = `http://127.0.0.1:${fresh.pullAddress!.port}/metrics`;
      const refused = async (): Promise<Map<string, number>> => {
        const text = await (await fetch(url)).text();
        assert.deepEqual(checkExposition(text, 'text'), []);
        return new Map(
          [
            ...text.matchAll(/^jobmeter_ingest_refused_total\{reason="([^"]+)"[^}]*\} (\S+)$/gm),
          ].map(([, reason, value]) => [reason!, Number(value)]),
        );
      };
      assert.deepEqual(await refused(), new Map(REFUSAL_REASONS.map((r) => [r, 0])));
      const res = await fetch(`http://127.0.0.1:${fresh.ingestAddress!.port}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          resourceMetrics: [{ resource: {}, scopeMetrics: [{ metrics: [gauge('target.info')] }] }],
        }),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(
        await refused(),
        new Map(REFUSAL_REASONS.map((r) => [r, r === 'name_clash' ? 1 : 0])),
      );
    } finally {
      await fresh.shutdown();
    }
  });
});

describe('refused, with the reason and a count', () => {
  it('a name that would clash with target_info, the self-metrics, or another family', async () => {
    assert.match(
      (await send(gauge('target.info'))).message,
      /^1 data point rejected: target\.info: its exposed name target_info is taken by target_info \(1\)$/,
    );
    assert.match(
      (await send(gauge('jobmeter.scrape.errors'))).message,
      /its exposed name jobmeter_scrape_errors(_total)? is taken by the self-metric jobmeter_scrape_errors_total/,
    );
    assert.equal(
      (await send(histogram('bar', { bounds: [1], counts: [1, 0], count: 1, sum: 0.5 }))).rejected,
      0,
    );
    assert.match(
      (await send(gauge('bar.count'))).message,
      /bar\.count: its exposed name bar_count is taken by bar \(1\)/,
    );
    assert.match((await send(gauge('bar', {}, 'count'))).message, /bar: type conflict/);
    assert.match(
      (await send(gauge('jobmeter.run.finished.total'))).message,
      /its exposed name jobmeter_run_finished_total is taken by jobmeter\.run\.finished/,
    );
    const text = await scrape();
    assert.match(
      text,
      /^jobmeter_ingest_refused_total\{reason="name_clash",otel_scope_name="jobmeter",otel_scope_version="[^"]+"\} 4$/m,
    );
    assert.match(text, /^jobmeter_ingest_refused_total\{reason="type_conflict",[^}]*\} 1$/m);
    assert.doesNotMatch(text, /^# TYPE bar_count /m);
  });

  it('a name of the series Prometheus writes for every scrape (up, scrape_*)', async () => {
    // Unlabelled (no attributes, an empty scope name), `up` was stored as Prometheus' own `up`: a
    // sender set the target's up to 0 while every scrape succeeded.
    const bare = async (metric: object): Promise<string> => {
      const body = {
        resourceMetrics: [
          { resource: {}, scopeMetrics: [{ scope: { name: '' }, metrics: [metric] }] },
        ],
      };
      const res = await fetch(ingest, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200);
      return (
        ((await res.json()) as { partialSuccess?: { errorMessage?: string } }).partialSuccess
          ?.errorMessage ?? ''
      );
    };
    assert.match(
      await bare({ ...gauge('up'), gauge: { dataPoints: [{ asDouble: 0, timeUnixNano: NOW }] } }),
      /up: its exposed name up is taken by Prometheus's own per-scrape series/,
    );
    assert.match(
      await bare(gauge('scrape.samples.scraped')),
      /its exposed name scrape_samples_scraped is taken by Prometheus's own/,
    );
    assert.match(
      (await send(gauge('scrape.duration', {}, 's'))).message,
      /its exposed name scrape_duration_seconds is taken by Prometheus's own/,
    );
    assert.equal(
      (await send(gauge('up.time', {}, 's'))).rejected,
      0,
      'a name that only starts like one is kept',
    );
    const text = await scrape();
    assert.doesNotMatch(text, /^(up|scrape_samples_scraped|scrape_duration_seconds)[{ ]/m);
    assert.match(text, /^up_time_seconds\{/m);
  });

  it('a histogram whose buckets do not add up to its count, or whose sum is negative', async () => {
    assert.match(
      (await send(histogram('h.over', { bounds: [1, 2], counts: [100, 30, 5], count: 3, sum: 1 })))
        .message,
      /bucketCounts add up to 135, count is 3/,
    );
    assert.match(
      (await send(histogram('h.negative', { bounds: [1], counts: [1, 0], count: 1, sum: -4 })))
        .message,
      /negative sum/,
    );
    const text = await scrape();
    assert.doesNotMatch(text, /^h_(over|negative)/m);
    assert.match(text, /^jobmeter_ingest_refused_total\{reason="invalid_histogram",[^}]*\} 2$/m);
  });
});

describe('kept, as valid and unique labels', () => {
  it('keys that collide once sanitised are merged with ";" in key order; empty keys dropped; reserved names prefixed', async () => {
    assert.equal(
      (
        await send(
          gauge('merge.me', {
            a_b: 'second',
            'a.b': 'first',
            '': 'dropped',
            quantile: 'q',
            otel_scope_name: 'mine',
          }),
        )
      ).rejected,
      0,
    );
    assert.equal(
      (
        await send(
          histogram('with.le', { bounds: [1], counts: [0, 1], count: 1, sum: 2 }, { le: 'mine' }),
        )
      ).rejected,
      0,
    );
    const text = await scrape();
    assert.match(
      text,
      /^merge_me\{a_b="first;second",exported_otel_scope_name="mine",exported_quantile="q",otel_scope_name="sender"\} 1$/m,
    );
    assert.match(text, /^with_le_bucket\{exported_le="mine",otel_scope_name="sender",le="1"\} 0$/m);
  });
});
