// A histogram with a negative bucket bound (an ingested OTLP histogram may have one): OpenMetrics
// says its sum is then not a counter and MUST be left out, and a `_count` comes only with a `_sum`.
// The strict parser (the official Python client's) refuses the whole scrape otherwise; the
// property test of the ingest (test/ingest/exposition-property.test.ts) found it by chance.
// Text 0.0.4 has no such rule and keeps both.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import type { Family } from '../../src/exposition/types.ts';
import { startOpenMetricsParser, type OpenMetricsParser } from '../support/openmetrics-python.ts';

let parser: OpenMetricsParser;
before(async () => {
  parser = await startOpenMetricsParser();
});
after(async () => {
  await parser.close();
});

const FAMILIES: Family[] = [
  {
    name: 'temperature_delta',
    type: 'histogram',
    help: 'Change.',
    unit: '',
    series: [
      { labels: 'room="a"', bounds: [-5, 0, 5], counts: [1, 2, 3, 4], sum: 12.5, count: 10 },
      { labels: 'room="b"', bounds: [-5, 0, 5], counts: [0, 0, 1, 0], sum: 0.5, count: 1 },
    ],
  },
  {
    name: 'latency',
    type: 'histogram',
    help: 'Latency.',
    unit: '',
    series: [{ labels: '', bounds: [0.1, 1], counts: [1, 1, 0], sum: 0.6, count: 2 }],
  },
];

test('OpenMetrics: no _sum or _count for a histogram with a negative bucket; the strict parser accepts it', async () => {
  const body = renderOpenMetrics(FAMILIES);
  assert.doesNotMatch(body, /^temperature_delta_(sum|count)/m);
  assert.match(
    body,
    /^temperature_delta_bucket\{room="a",le="\+Inf"\} 10$/m,
    'the +Inf bucket holds the count',
  );
  assert.match(body, /^latency_sum 0\.6$/m, 'a histogram without negative buckets keeps its sum');
  assert.match(body, /^latency_count 2$/m);
  assert.deepEqual(await parser.check(body), { families: 2 });
});

test('text 0.0.4 keeps _sum and _count', () => {
  const body = renderPrometheusText(FAMILIES);
  assert.match(body, /^temperature_delta_sum\{room="a"\} 12\.5$/m);
  assert.match(body, /^temperature_delta_count\{room="a"\} 10$/m);
});
