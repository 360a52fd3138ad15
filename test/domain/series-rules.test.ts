// The series layer's rules for values that come from several sources (series/carry.ts,
// live.ts): cumulative reports carried over restarts and leaves, levels combined over live sources
// by a merge policy, series with no live source left out of what is read, and the series cap's
// overflow fold holding several sources. The cluster aggregate writes with them; the ingest can.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ValueType, type Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type MetricDescriptor,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { OVERFLOW_ATTRIBUTES } from '../../src/domain/bounded-attributes.ts';
import type { LabelRender } from '../../src/series/collection.ts';
import { HistogramSet } from '../../src/series/histogram.ts';
import { SUM, type LevelRule } from '../../src/series/aggregation.ts';
import { LiveSet } from '../../src/series/live.ts';
import { OpenSeriesIndex } from '../../src/series/open-index.ts';
import { SeriesStore } from '../../src/series/series-store.ts';
import { LastSent, MAX_ID_GAP, NONE, SourceTable } from '../../src/series/sources.ts';
import { SumSet } from '../../src/series/sum.ts';

const D = (name: string) =>
  ({ name, description: '', unit: '', valueType: ValueType.DOUBLE }) as MetricDescriptor;
const open =
  (limit = 100) =>
  (grow: () => void) =>
    new OpenSeriesIndex(limit, grow);
const SCOPE = { name: 'test' };

const render: LabelRender = {
  render: (a: Attributes) =>
    Object.entries(a)
      .map(([k, v]) => `${k}="${String(v)}"`)
      .join(','),
  isAscii: (s) => !/[^\x00-\x7f]/.test(s),
};

async function read(
  store: SeriesStore,
): Promise<{ metrics: MetricData[]; scraped: Record<string, number> }> {
  const { resourceMetrics } = await store.producer().collect();
  const c = await store.collect();
  const scraped: Record<string, number> = {};
  for (const g of c.series)
    for (const s of g.series)
      s.labels(render).strings.forEach(
        (l, i) => (scraped[`${s.descriptor.name}{${l}}`] = s.values[i]!),
      );
  c.done();
  return { metrics: resourceMetrics.scopeMetrics.flatMap((s) => s.metrics), scraped };
}

test('a sum carried from cumulative reports adds, per source, the last value of every run between restarts', () => {
  // A source's life: runs between restarts, each a first value and increments (its reports are cumulative).
  const run = fc.record({
    first: fc.nat({ max: 1000 }),
    steps: fc.array(fc.nat({ max: 1000 }), { maxLength: 5 }),
  });
  fc.assert(
    fc.property(
      fc.array(fc.array(run, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
      (sources) => {
        const values = new Float64Array(1);
        let expected = 0;
        const streams = sources.map((runs) => {
          const reports: number[] = [];
          for (const { first, steps } of runs) {
            // A restart reports less than the run before ended on (from 0, anything is a new start).
            const before = reports.at(-1) ?? 0;
            let v = before === 0 ? first : first % before;
            reports.push(v);
            for (const d of steps) reports.push((v += d));
            expected += v;
          }
          return reports;
        });
        // The sources' reports interleaved; a source that stops reporting keeps what it added.
        const last = streams.map(() => NaN);
        let previous = 0;
        for (let step = 0, more = true; more; step++) {
          more = false;
          streams.forEach((reports, s) => {
            if (step >= reports.length) return;
            more = true;
            values[0]! += SUM.since(last[s], reports[step]!);
            last[s] = reports[step]!;
            assert.ok(values[0]! >= previous, 'never decreases');
            previous = values[0]!;
          });
        }
        assert.equal(values[0], expected);
      },
    ),
  );
});

test("a source's counter: a first report and a report below the last are added whole; a `max` counter keeps the largest ever", () => {
  const carried = new SumSet(D('jobs'), open(), { monotonic: true, exemplars: false });
  const largest = new SumSet(D('age'), open(), { monotonic: true, exemplars: false });
  const t = new SourceTable([carried, largest]);
  assert.ok(t.describe(0, 0, {}));
  assert.ok(t.describe(1, 1, {}));
  for (const v of [5, 8, 2]) t.number(0, v, false);
  assert.equal(carried.values.data[0], 10, '5, +3, then 2 after the restart');
  for (const v of [4, 9, 3]) t.number(1, v, true);
  assert.equal(largest.values.data[0], 9);
});

test('a histogram carried from rows: counts, sum and buckets add what is new, a smaller count is a restart added whole, min/max the extremes known', async () => {
  const store = new SeriesStore();
  const h = new HistogramSet(D('wait'), open(), {
    bounds: [1, 10],
    exemplars: false,
    minMax: true,
  });
  store.add(SCOPE, h);
  // Sources 0 and 1 report series x, source 2 series y.
  const t = new SourceTable([h]);
  for (const [id, q] of [
    [0, 'x'],
    [1, 'x'],
    [2, 'y'],
  ] as const)
    assert.ok(t.describe(id, 0, { q }));
  const row = (count: number, sum: number, min: number, max: number, ...buckets: number[]) => [
    count,
    sum,
    min,
    max,
    ...buckets,
  ];
  const a1 = row(2, 3, 0.5, 2.5, 1, 1, 0);
  const a2 = row(3, 23, 0.5, 20, 1, 1, 1);
  const b1 = row(1, 0.2, 0.2, 0.2, 1, 0, 0);
  t.row(0, a1);
  t.row(1, b1);
  t.row(0, a2);
  // a restarted: one observation since, bigger than any before.
  const a3 = row(1, 50, 50, 50, 0, 0, 1);
  t.row(0, a3);
  let { metrics } = await read(store);
  let p = metrics[0]!.dataPoints[0]!.value as {
    buckets: { counts: number[] };
    count: number;
    sum: number;
    min?: number;
    max?: number;
  };
  assert.deepEqual(p.buckets.counts, [2, 1, 2]);
  assert.equal(p.count, 5);
  assert.ok(Math.abs(p.sum - 73.2) < 1e-9, String(p.sum));
  assert.equal(p.min, 0.2);
  assert.equal(p.max, 50);
  // A series whose sources know no min or max gives none.
  t.row(2, row(2, 4, NaN, NaN, 0, 2, 0));
  ({ metrics } = await read(store));
  p = metrics[0]!.dataPoints[1]!.value as typeof p;
  assert.equal(p.count, 2);
  assert.equal('min' in p, false);
  assert.equal('max' in p, false);
});

for (const combine of ['sum', 'max'] as LevelRule[]) {
  test(`levels of live sources combine by ${combine}; a withdrawn or released source leaves, a series with none is not read`, async () => {
    const store = new SeriesStore();
    const g = new LiveSet(D('heap'), open(), { gauge: true, combine });
    store.add(SCOPE, g);
    const x = g.seriesOf({ q: 'x' });
    const y = g.seriesOf({ q: 'y' });
    const z = g.seriesOf({ q: 'z' });
    const ax = g.source(x);
    const bx = g.source(x);
    const ay = g.source(y);
    const by = g.source(y);
    g.source(z);
    g.set(ax, 100);
    g.set(bx, 50);
    g.set(ay, 3);
    g.set(by, 7);
    const both = (p: number, q: number) => (combine === 'sum' ? p + q : Math.max(p, q));
    let { metrics, scraped } = await read(store);
    assert.deepEqual(
      scraped,
      { 'heap{q="x"}': both(100, 50), 'heap{q="y"}': both(3, 7) },
      'z: no value yet, not read',
    );
    assert.equal(metrics[0]!.dataPointType, DataPointType.GAUGE);
    assert.deepEqual(
      metrics[0]!.dataPoints.map((pt) => pt.attributes),
      [{ q: 'x' }, { q: 'y' }],
    );
    g.withdraw(by);
    g.release(ax);
    ({ scraped } = await read(store));
    assert.deepEqual(scraped, { 'heap{q="x"}': 50, 'heap{q="y"}': 3 });
    // Withdrawn, then reported again.
    g.set(by, 8);
    g.release(bx);
    ({ metrics, scraped } = await read(store));
    assert.deepEqual(
      scraped,
      { 'heap{q="y"}': both(3, 8) },
      'x: no live source, left out of the scrape',
    );
    assert.deepEqual(
      metrics[0]!.dataPoints.map((pt) => [pt.attributes, pt.value]),
      [[{ q: 'y' }, both(3, 8)]],
      'and of the MetricData',
    );
    // Released slots are reused: memory follows the live sources.
    assert.deepEqual([g.source(x), g.source(x)].sort(), [ax, bx].sort());
  });
}

test("an up-down counter's series past the cap fold into the overflow series, every live source of it counted", async () => {
  const store = new SeriesStore();
  const u = new LiveSet(D('busy'), open(3), { gauge: false, combine: 'sum' });
  store.add(SCOPE, u);
  const slots: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = u.source(u.seriesOf({ k: `v${i}` }));
    u.set(s, i + 1);
    slots.push(s);
  }
  const { metrics, scraped } = await read(store);
  assert.equal(u.size, 3, 'two series, then the overflow one');
  assert.equal(metrics[0]!.dataPointType, DataPointType.SUM);
  assert.equal((metrics[0] as { isMonotonic: boolean }).isMonotonic, false);
  assert.deepEqual(metrics[0]!.dataPoints.at(-1)!.attributes, OVERFLOW_ATTRIBUTES);
  assert.equal(metrics[0]!.dataPoints.at(-1)!.value, 3 + 4 + 5);
  assert.equal(
    Object.values(scraped).reduce((a, b) => a + b, 0),
    15,
  );
  u.release(slots[3]!);
  assert.equal((await read(store)).metrics[0]!.dataPoints.at(-1)!.value, 3 + 5);
});

test('an up-down counter read by a delta producer exports what changed; one with no live source exports nothing', async () => {
  const store = new SeriesStore();
  const u = new LiveSet(D('inflight'), open(), { gauge: false, combine: 'sum' });
  const c = new SumSet(D('jobs'), open(), { monotonic: true, exemplars: false });
  store.add(SCOPE, u);
  store.add(SCOPE, c);
  const delta = store.producer(AggregationTemporality.DELTA);
  const s = u.source(u.seriesOf({}));
  u.set(s, 4);
  const t = new SourceTable([c]);
  assert.ok(t.describe(0, 0, {}));
  t.number(0, 2, false);
  const first = (await delta.collect()).resourceMetrics.scopeMetrics[0]!.metrics;
  assert.deepEqual(
    first.map((m) => [m.descriptor.name, m.dataPoints[0]!.value]),
    [
      ['inflight', 4],
      ['jobs', 2],
    ],
  );
  u.set(s, 1);
  const second = (await delta.collect()).resourceMetrics.scopeMetrics[0]!.metrics;
  assert.deepEqual(
    second.map((m) => [m.descriptor.name, m.dataPoints[0]!.value]),
    [['inflight', -3]],
  );
  u.release(s);
  assert.deepEqual((await delta.collect()).resourceMetrics.scopeMetrics, []);
});

test("a producer's source table carries its counters and rows, sets its levels, and refuses an id far past its others", async () => {
  const store = new SeriesStore();
  const c = new SumSet(D('runs'), open(), { monotonic: true, exemplars: false });
  const g = new LiveSet(D('busy'), open(), { gauge: true, combine: 'sum' });
  const h = new HistogramSet(D('took'), open(), { bounds: [1], exemplars: false, minMax: true });
  const sets = [c, g, h];
  for (const set of sets) store.add(SCOPE, set);
  const a = new SourceTable(sets);
  const b = new SourceTable(sets);
  for (const t of [a, b]) {
    assert.ok(t.describe(0, 0, { q: 'x' }));
    assert.ok(t.describe(1, 1, { q: 'x' }));
    assert.ok(t.describe(2, 2, { q: 'x' }));
  }
  a.number(0, 5, false);
  a.number(0, 8, false);
  b.number(0, 4, false);
  a.number(1, 3, false);
  b.number(1, 4, false);
  a.row(2, Float64Array.of(2, 3, 1, 2, 1, 1));
  a.row(2, Float64Array.of(3, 7, 1, 4, 1, 2));
  let { scraped } = await read(store);
  assert.equal(scraped['runs{q="x"}'], 12, 'a: 5 then 8 (3 new); b: 4');
  assert.equal(scraped['busy{q="x"}'], 7);
  assert.equal(h.counts.data[0], 3, "the row's count carried: 2, then 1 new");
  assert.equal(h.sums.data[0], 7);
  // Described again: a counter starts over (its next report is whole), a level leaves.
  assert.ok(a.describe(0, 0, { q: 'x' }));
  a.number(0, 2, false);
  assert.ok(a.describe(1, 1, { q: 'x' }));
  ({ scraped } = await read(store));
  assert.equal(scraped['runs{q="x"}'], 14);
  assert.equal(scraped['busy{q="x"}'], 4, "a's level described again: gone until reported");
  a.number(1, 3, false);
  ({ scraped } = await read(store));
  assert.equal(scraped['busy{q="x"}'], 7);
  a.withdraw(1);
  ({ scraped } = await read(store));
  assert.equal(scraped['busy{q="x"}'], 4, "a's level withdrawn");
  // A retired producer's counters stay; its levels leave.
  b.retire();
  a.number(1, 1, false);
  ({ scraped } = await read(store));
  assert.equal(scraped['runs{q="x"}'], 14);
  assert.equal(scraped['busy{q="x"}'], 1);
  assert.equal(b.setOf(0), NONE, 'retired: no source feeds a set');
  // Ids are dense (3 known here): one past the gap is refused and nothing is allocated for it.
  assert.equal(a.describe(4 + MAX_ID_GAP, 0, { q: 'y' }), false);
  assert.equal(a.setOf(4 + MAX_ID_GAP), NONE);
  assert.ok(a.describe(3 + MAX_ID_GAP, 0, { q: 'y' }));
  assert.equal(a.setOf(3 + MAX_ID_GAP), 0);
  assert.equal(a.setOf(3), NONE, 'an id skipped on the way feeds no set');
  assert.equal(a.describe(-1, 0, { q: 'y' }), false);
  assert.equal(a.describe(1.5, 0, { q: 'y' }), false);
});

test('what a producer last sent: a value or a histogram count and sum goes again only when it changed, or once forgotten', () => {
  const sent = new LastSent();
  assert.equal(sent.number(0, 0), true, 'nothing sent yet: even 0 goes');
  assert.equal(sent.number(0, 0), false);
  assert.equal(sent.number(0, 2), true);
  sent.forget(0);
  assert.equal(sent.number(0, 2), true, 'forgotten: sent again');
  assert.equal(sent.number(40, 1), true, 'an id past the columns grows them');
  assert.equal(sent.number(40, 1), false);
  assert.equal(sent.histogram(1, 3, 5), true);
  assert.equal(sent.histogram(1, 3, 5), false);
  assert.equal(sent.histogram(1, 3, 6), true, 'the same count with another sum changed');
  assert.equal(sent.histogram(1, 4, 6), true);
});
