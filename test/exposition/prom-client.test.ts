// Cross-check against prom-client: for an equivalent counter + histogram, prom-client's text
// output equals renderPrometheusText's byte for byte, after undoing prom-client's two layout
// habits (a blank line between families, and `le` written first instead of last).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import type { Family, HistogramSeries, NumberSeries } from '../../src/exposition/types.ts';
import { labelPairs } from './fixtures.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';

/** prom-client's layout → ours: drop blank lines, move a leading `le="…"` to the end of the labels. */
function normalizePromClient(text: string): string {
  return text
    .split('\n')
    .filter((line, i, all) => line !== '' || i === all.length - 1)
    .map((line) => line.replace(/^(\w+_bucket)\{(le="[^"]*"),(.+)\} /, '$1{$3,$2} '))
    .join('\n');
}

test('prom-client and renderPrometheusText agree on a counter and a histogram', async () => {
  const registry = new Registry();
  const buckets = [0.005, 0.1, 1, 2.5, 10, 1e6];
  const counter = new Counter({
    name: 'jobs_total',
    help: 'Jobs run,\nby "task" \\ kind.',
    labelNames: ['task', 'kind'],
    registers: [registry],
  });
  const histogram = new Histogram({
    name: 'job_duration_seconds',
    help: 'Job duration.',
    labelNames: ['task'],
    buckets,
    registers: [registry],
  });

  const tasks = ['backup', 'say "hi"\\now\nplease', 'caf\u00e9 \u{1F680}', ''];
  const observations = [0.5, 0.25, 3, 0.001, 12, 2e6, 1];
  const counterSeries: NumberSeries[] = [];
  const histogramSeries: HistogramSeries[] = [];
  tasks.forEach((task, t) => {
    counter.inc({ task, kind: 'cron' }, t + 1.5);
    counterSeries.push({
      labels: labelPairs(['task', 'kind'], [task, 'cron']),
      value: t + 1.5,
    });
    const counts = new Array<number>(buckets.length + 1).fill(0);
    let sum = 0;
    for (const x of observations.slice(t)) {
      histogram.observe({ task }, x);
      const k = buckets.findIndex((b) => x <= b);
      counts[k < 0 ? buckets.length : k]!++;
      sum += x;
    }
    histogramSeries.push({
      labels: labelPairs(['task'], [task]),
      bounds: buckets,
      counts,
      sum,
      count: observations.length - t,
    });
  });
  const families: Family[] = [
    {
      name: 'jobs_total',
      type: 'counter',
      help: 'Jobs run,\nby "task" \\ kind.',
      unit: '',
      series: counterSeries,
    },
    {
      name: 'job_duration_seconds',
      type: 'histogram',
      help: 'Job duration.',
      unit: 'seconds',
      series: histogramSeries,
    },
  ];

  const theirs = normalizePromClient(await registry.metrics());
  assert.equal(renderPrometheusText(families), theirs);
  // The normalization above must not be what makes them equal: the raw outputs differ.
  assert.notEqual(renderPrometheusText(families), await registry.metrics());
});
