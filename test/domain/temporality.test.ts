// Cumulative → delta (series/temporality.ts), as the series store's delta producer serves
// it to a delta push: the deltas add back up to the totals, and a delta point says nothing about
// values outside its window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ValueType } from '@opentelemetry/api';
import { DeltaTemporalitySelector } from '@opentelemetry/exporter-metrics-otlp-http';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricDescriptor,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { createJobmeter } from '../../src/jobmeter.ts';
import { HistogramSet } from '../../src/series/histogram.ts';
import { OpenSeriesIndex } from '../../src/series/open-index.ts';
import { SeriesStore } from '../../src/series/series-store.ts';
import { SumSet } from '../../src/series/sum.ts';

const D = (name: string) =>
  ({ name, description: '', unit: '', valueType: ValueType.DOUBLE }) as MetricDescriptor;
const open = (grow: () => void) => new OpenSeriesIndex(100, grow);
const SCOPE = { name: 'test' };

async function metrics(producer: {
  collect(): Promise<{ resourceMetrics: { scopeMetrics: { metrics: MetricData[] }[] } }>;
}): Promise<MetricData[]> {
  return (await producer.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
}

test("a delta point of recorded values carries its window's min and max; a delta reader made after the records starts from the life's; the cumulative reader keeps the life's", async () => {
  const store = new SeriesStore();
  const h = new HistogramSet(D('wait'), open, {
    bounds: [1],
    exemplars: false,
    minMax: true,
    windows: true,
  });
  store.add(SCOPE, h);
  h.observe(h.seriesOf({}), 7);
  const delta = store.producer(() => AggregationTemporality.DELTA);
  h.observe(h.seriesOf({}), 0.25);
  h.observe(h.seriesOf({ queue: 'b' }), 2);
  const extremes = (ms: MetricData[]) =>
    ms.flatMap((m) =>
      (m.dataPoints as DataPoint<Histogram>[]).map((p) => [
        p.value.count,
        p.value.min,
        p.value.max,
      ]),
    );
  // The first window is the series' life: 7 was recorded before the reader was made.
  assert.deepEqual(extremes(await metrics(delta)), [
    [2, 0.25, 7],
    [1, 2, 2],
  ]);
  h.observe(h.seriesOf({}), 3);
  h.observe(h.seriesOf({}), 1);
  assert.deepEqual(extremes(await metrics(delta)), [[2, 1, 3]]);
  // A window with no record exports nothing; the next has its own extremes again.
  assert.deepEqual(extremes(await metrics(delta)), []);
  h.observe(h.seriesOf({ queue: 'b' }), 5);
  assert.deepEqual(extremes(await metrics(delta)), [[1, 5, 5]]);
  // Two delta readers keep a window each; the cumulative reader gets the life's.
  const other = store.producer(() => AggregationTemporality.DELTA);
  h.observe(h.seriesOf({}), 0.5);
  assert.deepEqual(extremes(await metrics(other)), [
    [5, 0.25, 7],
    [2, 2, 5],
  ]);
  assert.deepEqual(extremes(await metrics(delta)), [[1, 0.5, 0.5]]);
  assert.deepEqual(extremes(await metrics(store.producer())), [
    [5, 0.25, 7],
    [2, 2, 5],
  ]);
});

test("a delta point of a set that keeps no window (its extremes sources' lives') carries min and max only when its window is the series' whole life", async () => {
  const store = new SeriesStore();
  const h = new HistogramSet(D('wait'), open, { bounds: [1], exemplars: false, minMax: true });
  store.add(SCOPE, h);
  const delta = store.producer(() => AggregationTemporality.DELTA);
  h.observe(h.seriesOf({}), 0.25);
  const [first] = await metrics(delta);
  assert.deepEqual((first!.dataPoints[0] as DataPoint<Histogram>).value, {
    buckets: { boundaries: [1], counts: [1, 0] },
    sum: 0.25,
    count: 1,
    min: 0.25,
    max: 0.25,
  });
  h.observe(h.seriesOf({}), 3);
  const [second] = await metrics(delta);
  // 0.25 was recorded before this window: as the window's min it would be false.
  assert.deepEqual((second!.dataPoints[0] as DataPoint<Histogram>).value, {
    buckets: { boundaries: [1], counts: [0, 1] },
    sum: 3,
    count: 1,
  });
  // The cumulative reader still gets the life's.
  const [whole] = await metrics(store.producer());
  assert.deepEqual(
    [
      (whole!.dataPoints[0] as DataPoint<Histogram>).value.min,
      (whole!.dataPoints[0] as DataPoint<Histogram>).value.max,
    ],
    [0.25, 3],
  );
});

test('the delta points of every export add up to the cumulative totals, whatever the records and exports', async () => {
  const step = fc.oneof(
    fc.record({
      op: fc.constant('add' as const),
      key: fc.integer({ min: 0, max: 3 }),
      n: fc.integer({ min: 0, max: 5 }),
    }),
    fc.record({
      op: fc.constant('observe' as const),
      key: fc.integer({ min: 0, max: 3 }),
      v: fc.integer({ min: 0, max: 4 }),
    }),
    fc.record({ op: fc.constant('level' as const), v: fc.integer({ min: -5, max: 5 }) }),
    fc.constant({ op: 'export' as const }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
      const store = new SeriesStore();
      const c = new SumSet(D('c'), open, { monotonic: true, exemplars: false });
      const h = new HistogramSet(D('h'), open, {
        bounds: [1, 3],
        exemplars: false,
        minMax: false,
      });
      const u = new SumSet(D('u'), open, { monotonic: false, exemplars: false });
      for (const set of [c, h, u]) store.add(SCOPE, set);
      const slot = u.seriesOf({});
      const delta = store.producer(() => AggregationTemporality.DELTA);
      const added = new Map<string, number>();
      const add = (key: string, n: number) => added.set(key, (added.get(key) ?? 0) + n);
      const exportOnce = async () => {
        for (const m of await metrics(delta)) {
          assert.equal(m.aggregationTemporality, AggregationTemporality.DELTA);
          for (const p of m.dataPoints) {
            const key = `${m.descriptor.name}${JSON.stringify(p.attributes)}`;
            if (m.dataPointType === DataPointType.HISTOGRAM) {
              const v = p.value as Histogram;
              assert.ok(
                v.count > 0,
                'a histogram point is exported only when something was recorded',
              );
              v.buckets.counts.forEach((n, k) => add(`${key}[${k}]`, n));
              add(`${key}.count`, v.count);
            } else {
              assert.notEqual(p.value, 0, 'an unchanged series is not exported');
              add(key, p.value as number);
            }
          }
        }
      };
      for (const s of steps) {
        if (s.op === 'add') c.values.data[c.seriesOf({ k: s.key })]! += s.n;
        else if (s.op === 'observe') h.observe(h.seriesOf({ k: s.key }), s.v);
        else if (s.op === 'level') u.values.data[slot] = s.v;
        else await exportOnce();
      }
      await exportOnce();
      const totals = new Map<string, number>();
      for (const m of await metrics(store.producer())) {
        for (const p of m.dataPoints) {
          const key = `${m.descriptor.name}${JSON.stringify(p.attributes)}`;
          if (m.dataPointType !== DataPointType.HISTOGRAM) {
            if (p.value !== 0) totals.set(key, p.value as number);
            continue;
          }
          const v = p.value as Histogram;
          if (v.count === 0) continue;
          v.buckets.counts.forEach((n, k) => n !== 0 && totals.set(`${key}[${k}]`, n));
          totals.set(`${key}.count`, v.count);
        }
      }
      assert.deepEqual(new Map([...added].filter(([, n]) => n !== 0)), totals);
    }),
    { numRuns: 200 },
  );
});

/** A delta push reader's collections, without the push. */
class DeltaReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Each metric's points of one export, by name and attributes. */
function pointsOf(ms: MetricData[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of ms)
    for (const p of m.dataPoints)
      out[`${m.descriptor.name}${JSON.stringify(p.attributes)}`] = p.value as number;
  return out;
}

test("a storage's sums and gauges under delta are exported as the SDK exports them: each series recorded in the window, even when its records add up to no change, and no other", async () => {
  const step = fc.oneof(
    fc.record({
      op: fc.constantFrom('counter' as const, 'upDown' as const, 'gauge' as const),
      key: fc.integer({ min: 0, max: 2 }),
      n: fc.integer({ min: -2, max: 2 }),
    }),
    fc.constant({ op: 'export' as const }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
      // The SDK's synchronous instruments, the reference.
      const reader = new DeltaReader();
      const meter = new MeterProvider({ readers: [reader] }).getMeter('test');
      const sdk = {
        counter: meter.createCounter('counter'),
        upDown: meter.createUpDownCounter('upDown'),
        gauge: meter.createGauge('gauge'),
      };
      // The same records into sets of the store, as a storage writes them (domain/storage/).
      const store = new SeriesStore();
      const sets = {
        counter: new SumSet(D('counter'), open, {
          monotonic: true,
          exemplars: false,
          recorded: true,
        }),
        upDown: new SumSet(D('upDown'), open, {
          monotonic: false,
          exemplars: false,
          recorded: true,
        }),
        gauge: new SumSet(D('gauge'), open, {
          monotonic: false,
          exemplars: false,
          gauge: true,
          recorded: true,
        }),
      };
      for (const set of Object.values(sets)) store.add(SCOPE, set);
      const delta = store.producer(() => AggregationTemporality.DELTA);
      const exports = async () => [
        pointsOf((await reader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)),
        pointsOf(await metrics(delta)),
      ];
      for (const s of [...steps, { op: 'export' as const }]) {
        if (s.op === 'export') {
          const [want, got] = await exports();
          assert.deepEqual(got, want);
          continue;
        }
        const n = s.op === 'counter' ? Math.abs(s.n) : s.n;
        const attributes = { k: s.key };
        const set = sets[s.op];
        const at = set.seriesOf(attributes);
        if (s.op === 'gauge') {
          sdk.gauge.record(n, attributes);
          set.values.data[at] = n;
        } else {
          sdk[s.op].add(n, attributes);
          set.values.data[at]! += n;
        }
        set.records!.data[at]!++;
      }
    }),
    { numRuns: 200 },
  );
});

test("a reader's temporality is per instrument type: OTel's delta preference reads a host's up-down counter cumulative, its counters and histograms delta", async () => {
  const reader = new (class extends MetricReader {
    protected override async onShutdown(): Promise<void> {}
    protected override async onForceFlush(): Promise<void> {}
  })({ aggregationTemporalitySelector: DeltaTemporalitySelector });
  const jm = await createJobmeter({ listener: false, global: false, readers: [reader] });
  try {
    const meter = jm.meterProvider.getMeter('host');
    const active = meter.createUpDownCounter('active');
    const jobs = meter.createCounter('jobs');
    const retries = meter.createCounter('retries', { valueType: ValueType.INT });
    const wait = meter.createHistogram('wait');
    const read = async () => {
      const { resourceMetrics } = await reader.collect();
      const host = resourceMetrics.scopeMetrics.find((s) => s.scope.name === 'host')!.metrics;
      return Object.fromEntries(
        host.map((m) => [
          m.descriptor.name,
          [
            m.aggregationTemporality,
            m.descriptor.valueType,
            ...m.dataPoints.map((p) => {
              const v = p.value as number | Histogram;
              return typeof v === 'number' ? v : v.count;
            }),
          ],
        ]),
      );
    };
    active.add(5);
    jobs.add(5);
    retries.add(1.7);
    wait.record(3);
    wait.record(9);
    await read();
    active.add(1);
    jobs.add(1);
    retries.add(1.7);
    wait.record(4);
    const { DELTA, CUMULATIVE } = AggregationTemporality;
    assert.deepEqual(await read(), {
      active: [CUMULATIVE, ValueType.DOUBLE, 6],
      jobs: [DELTA, ValueType.DOUBLE, 1],
      // An integer-valued counter records each value's integer part, as the SDK does.
      retries: [DELTA, ValueType.INT, 1],
      wait: [DELTA, ValueType.DOUBLE, 1],
    });
  } finally {
    await jm.shutdown();
  }
});
