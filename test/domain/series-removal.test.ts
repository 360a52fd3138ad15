// The series layer's removal (series-set.ts `remove`/`compact`, keyed-index.ts) and per-series
// start times (series-set.ts `keepStarts`): what a writer whose series expire (the ingest) needs of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValueType } from '@opentelemetry/api';
import type { MetricDescriptor, DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import { HistogramSet } from '../../src/series/histogram.ts';
import { KeyedSeriesIndex } from '../../src/series/keyed-index.ts';
import { OpenSeriesIndex } from '../../src/series/open-index.ts';
import { SeriesStore } from '../../src/series/series-store.ts';
import { SumSet } from '../../src/series/sum.ts';

const D: MetricDescriptor = { name: 'c', description: '', unit: '', valueType: ValueType.DOUBLE };
const keyed = (grow: () => void) => new KeyedSeriesIndex(grow);

function sums(hosts: string[]) {
  const store = new SeriesStore({ clock: { wallMillis: () => 1000, monotonicMillis: () => 0 } });
  const set = new SumSet(D, keyed, { monotonic: true, exemplars: false });
  store.add({ name: 's' }, set);
  for (const [i, h] of hosts.entries()) set.values.data[set.seriesOf({ h })] = i + 1;
  return { store, set };
}

test('a removed series is a hole until compact(); compacting keeps the others in order, with their figures, and says where each went', async () => {
  const { store, set } = sums(['a', 'b', 'c', 'd']);
  set.remove(1);
  set.remove(3);
  assert.equal(set.holes, 2);
  assert.equal((await store.collect()).series[0]!.series[0]!.n, 4, 'read until compacted');
  const moves = set.compact()!;
  assert.deepEqual([...moves], [0, -1, 1, -1]);
  assert.equal(set.holes, 0);
  assert.equal(set.compact(), undefined, 'nothing to compact');
  const c = (await store.collect()).series[0]!.series[0]!;
  assert.equal(c.n, 2);
  assert.deepEqual(c.attributes.slice(0, 2), [{ h: 'a' }, { h: 'c' }]);
  assert.deepEqual([...c.values], [1, 3]);
  // The keys follow: a held series is found at its new place, a removed one is made again at the end.
  assert.equal(set.seriesOf({ h: 'c' }), 1);
  assert.equal(set.seriesOf({ h: 'b' }), 2);
  assert.equal(set.values.data[2], 0, 'a series made again starts from nothing');
});

test('a compaction makes a new attributes array: a snapshot taken before reads the series it held', async () => {
  const { store, set } = sums(['a', 'b', 'c']);
  const producer = store.producer();
  const before = set.attributes;
  set.remove(0);
  set.compact();
  assert.notEqual(set.attributes, before);
  assert.deepEqual(
    before,
    [{ h: 'a' }, { h: 'b' }, { h: 'c' }],
    'the array handed out is as it was',
  );
  const points = (await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics[0]!
    .dataPoints as DataPoint<number>[];
  assert.deepEqual(
    points.map((p) => [p.attributes, p.value]),
    [
      [{ h: 'b' }, 2],
      [{ h: 'c' }, 3],
    ],
  );
});

test('histograms and gauges compact every column (buckets by stride, sums, counts, min and max)', async () => {
  const store = new SeriesStore();
  const h = new HistogramSet(D, keyed, { bounds: [1, 2], exemplars: false, minMax: true });
  const g = new SumSet(D, keyed, { monotonic: false, exemplars: false, gauge: true });
  store.add({ name: 's' }, h);
  store.add({ name: 's' }, g);
  for (const [v, host] of [
    [0.5, 'a'],
    [1.5, 'b'],
    [5, 'c'],
  ] as const) {
    h.observe(h.seriesOf({ host }), v);
    g.values.data[g.seriesOf({ host })] = v;
  }
  h.remove(0);
  g.remove(1);
  h.compact();
  g.compact();
  const [hs, gs] = (await store.collect()).series[0]!.series;
  assert.equal(hs!.n, 2);
  assert.deepEqual([...hs!.values], [0, 1, 0, 0, 0, 1]);
  assert.deepEqual([...hs!.sums], [1.5, 5]);
  assert.deepEqual([...hs!.counts], [1, 1]);
  const points = (await store.producer().collect()).resourceMetrics.scopeMetrics[0]!.metrics[0]!
    .dataPoints as DataPoint<Histogram>[];
  assert.deepEqual(
    points.map((p) => [p.attributes.host, p.value.min, p.value.max]),
    [
      ['b', 1.5, 1.5],
      ['c', 5, 5],
    ],
  );
  assert.deepEqual([...gs!.values], [0.5, 5]);
  assert.deepEqual(gs!.attributes.slice(0, 2), [{ host: 'a' }, { host: 'c' }]);
});

test("a set that keeps starts carries each series' own start time, through a compaction, into columns and points", async () => {
  const store = new SeriesStore({ clock: { wallMillis: () => 5000, monotonicMillis: () => 0 } });
  const set = new SumSet(D, keyed, { monotonic: true, exemplars: false });
  set.keepStarts();
  store.add({ name: 's' }, set);
  for (const [h, start] of [
    ['a', [10, 1]],
    ['b', [20, 2]],
    ['c', [30, 3]],
  ] as const)
    set.startAt(set.seriesOf({ h }), [start[0], start[1]]);
  set.remove(1);
  set.compact();
  assert.deepEqual(set.startOf(1), [30, 3]);
  const c = (await store.collect()).series[0]!.series[0]!;
  assert.deepEqual([...c.startSeconds!], [10, 30]);
  assert.deepEqual([...c.startNanos!], [1, 3]);
  const points = (await store.producer().collect()).resourceMetrics.scopeMetrics[0]!.metrics[0]!
    .dataPoints;
  assert.deepEqual(
    points.map((p) => p.startTime),
    [
      [10, 1],
      [30, 3],
    ],
  );
  assert.throws(
    () =>
      new SumSet(D, keyed, { monotonic: true, exemplars: false }).keepStarts() === undefined &&
      set.keepStarts(),
    /before the first series/,
  );
});

test('a set whose index never removes series refuses remove()', () => {
  const set = new SumSet(D, (grow) => new OpenSeriesIndex(10, grow), {
    monotonic: true,
    exemplars: false,
  });
  set.seriesOf({ h: 'a' });
  assert.throws(() => set.remove(0), /never removed/);
});
