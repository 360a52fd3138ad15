// The min and max of a delta aggregate's histogram points (cluster/aggregate.ts), held to the SDK's
// own delta reader given every record of every member: a point carries its window's min and max
// where the members' reports tell them, and none where they do not, never older ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type Histogram,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { ClusterAggregate } from '../../src/cluster/aggregate.ts';
import { JobmeterMeterProvider } from '../../src/domain/meter-provider.ts';
import { RecordGuard } from '../../src/domain/record-guard.ts';
import { viewSelection } from '../../src/views/host-views.ts';
import { mergePolicies } from '../../src/domain/merge-rules.ts';
import { ReportEncoder, type ExtremesOf } from '../../src/cluster/report-encoder.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';

/** A delta push reader's collections, without the push. */
class DeltaReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const BOUNDS = [1, 10];

/**
 * A process of the cluster: an SDK provider read by jobmeter's pull reader. With `added`, its
 * histograms' min and max are those since its previous report, read from a delta reader of the
 * same provider (as a member's store reads them: series-store.ts `addedExtremes`).
 */
function member(name: string, extremes: ExtremesOf = {}) {
  const pull = newPullReader([], { cardinalityLimit: 1000 });
  const window = new DeltaReader();
  const provider = new MeterProvider({ readers: [pull, window] });
  const wait = provider.getMeter('app').createHistogram('wait', {
    advice: { explicitBucketBoundaries: BOUNDS },
  });
  const encoder = new ReportEncoder(name, extremes);
  let seq = 0;
  return {
    wait,
    async reportTo(agg: ClusterAggregate): Promise<void> {
      const { resourceMetrics } = await pull.collect();
      const since = points((await window.collect()).resourceMetrics);
      if (extremes.added === true)
        for (const p of resourceMetrics.scopeMetrics[0]?.metrics[0]?.dataPoints ?? []) {
          const v = p.value as Histogram;
          const w = since.get(JSON.stringify(p.attributes));
          v.min = w?.min;
          v.max = w?.max;
        }
      for (const chunk of encoder.chunks(resourceMetrics, ++seq)) agg.apply(name, chunk);
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The histogram points of `rm`, by attributes. */
function points(rm: ResourceMetrics): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  for (const m of rm.scopeMetrics.flatMap((s) => s.metrics))
    if (m.dataPointType === DataPointType.HISTOGRAM)
      for (const p of m.dataPoints) out.set(JSON.stringify(p.attributes), p.value);
  return out;
}

/** Each point's count, sum, min and max. */
const figures = (ps: Map<string, Histogram>) =>
  Object.fromEntries([...ps].map(([k, v]) => [k, [v.count, v.sum, v.min, v.max]]));

const deltaAggregate = () =>
  new ClusterAggregate({
    resource: emptyResource(),
    policyFor: mergePolicies({}),
    temporality: () => AggregationTemporality.DELTA,
  });

test("members that report what each report adds: every delta point carries its window's min and max, as the SDK's delta reader given every member's records", async () => {
  const step = fc.oneof(
    fc.record({
      m: fc.integer({ min: 0, max: 2 }),
      k: fc.constantFrom('a', 'b'),
      // Eighths: sums exact whatever the order they are added in.
      v: fc.integer({ min: 0, max: 160 }).map((n) => n / 8),
    }),
    fc.constant('export' as const),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
      const agg = deltaAggregate();
      const members = [0, 1, 2].map((i) => member(`m${i}`, { added: true }));
      const reference = new DeltaReader();
      const provider = new MeterProvider({ readers: [reference] });
      const wait = provider.getMeter('app').createHistogram('wait', {
        advice: { explicitBucketBoundaries: BOUNDS },
      });
      for (const s of [...steps, 'export' as const]) {
        if (s === 'export') {
          for (const m of members) await m.reportTo(agg);
          assert.deepEqual(
            figures(points(await agg.resourceMetrics())),
            figures(points((await reference.collect()).resourceMetrics)),
          );
          continue;
        }
        members[s.m]!.wait.record(s.v, { k: s.k });
        wait.record(s.v, { k: s.k });
      }
      await Promise.all([...members.map((m) => m.shutdown()), provider.shutdown()]);
    }),
    { numRuns: 100 },
  );
});

test("members that report their life's min and max: a delta point carries them only where the window counts all of that life (a first report), else none", async () => {
  const agg = deltaAggregate();
  const a = member('a');
  const b = member('b');
  const read = async () => figures(points(await agg.resourceMetrics()))['{}'];
  a.wait.record(0.5);
  a.wait.record(9);
  await a.reportTo(agg);
  assert.deepEqual(await read(), [2, 9.5, 0.5, 9], "a's first report: its life is the window");
  a.wait.record(3);
  await a.reportTo(agg);
  assert.deepEqual(await read(), [1, 3, undefined, undefined], 'its life (0.5, 9) is older');
  b.wait.record(4);
  b.wait.record(6);
  await a.reportTo(agg);
  await b.reportTo(agg);
  assert.deepEqual(await read(), [2, 10, 4, 6], "b's first report, a unchanged");
  a.wait.record(2);
  b.wait.record(5);
  await a.reportTo(agg);
  await b.reportTo(agg);
  assert.deepEqual(await read(), [2, 7, undefined, undefined]);
  await Promise.all([a.shutdown(), b.shutdown()]);
});

test("a member's first report to another aggregate, whose min and max would be of less than it adds, tells none: that window's point has none, the next has its own", async () => {
  const agg = deltaAggregate();
  const a = member('a', { added: true, late: true });
  const read = async () => figures(points(await agg.resourceMetrics()))['{}'];
  a.wait.record(0.5);
  await a.reportTo(agg);
  assert.deepEqual(await read(), [1, 0.5, undefined, undefined]);
  a.wait.record(3);
  await a.reportTo(agg);
  assert.deepEqual(await read(), [1, 3, 3, 3]);
  await a.shutdown();
});

test("members whose storages report what each report adds (meter-provider.ts collectWithStorages): each delta point's min and max are its window's, as the SDK's; a View's histogram, read by the SDK, tells none", async () => {
  const agg = deltaAggregate();
  const reference = new DeltaReader();
  const ref = new MeterProvider({ readers: [reference] })
    .getMeter('app')
    .createHistogram('wait', { advice: { explicitBucketBoundaries: BOUNDS } });
  const members = ['a', 'b'].map((name) => {
    const pull = newPullReader([], { cardinalityLimit: 1000 });
    const views = [{ instrumentName: 'viewed', name: 'viewed' }];
    const provider = new JobmeterMeterProvider(
      { readers: [pull], views },
      {
        guard: new RecordGuard(),
        specs: [],
        scope: { name: 'jobmeter', version: 'test' },
        cardinalityLimit: 1000,
        readsStore: (r) => r === pull,
        selection: viewSelection(views),
      },
    );
    const meter = provider.getMeter('app');
    const encoder = new ReportEncoder(name, { added: true });
    let seq = 0;
    return {
      wait: meter.createHistogram('wait', { advice: { explicitBucketBoundaries: BOUNDS } }),
      viewed: meter.createHistogram('viewed', { advice: { explicitBucketBoundaries: BOUNDS } }),
      async reportTo(): Promise<void> {
        const rm = await provider.collectWithStorages(pull);
        for (const chunk of encoder.chunks(rm, ++seq)) agg.apply(name, chunk);
      },
      shutdown: () => provider.shutdown(),
    };
  });
  const windows = [[0.5, 9], [3, 4], [], [0.25, 12]];
  for (const values of windows) {
    values.forEach((v, i) => {
      members[i % 2]!.wait.record(v);
      members[i % 2]!.viewed.record(v);
      ref.record(v);
    });
    for (const m of members) await m.reportTo();
    const rm = await agg.resourceMetrics();
    const [wait, viewed] = ['wait', 'viewed'].map((name) =>
      rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name),
    );
    assert.deepEqual(
      figures(
        points({
          ...rm,
          scopeMetrics: [{ scope: { name: 'app' }, metrics: [wait!].filter(Boolean) }],
        }),
      ),
      figures(points((await reference.collect()).resourceMetrics)),
    );
    for (const p of viewed?.dataPoints ?? []) {
      assert.equal(
        (p.value as Histogram).min,
        undefined,
        "a View's histogram: its life's min left out",
      );
      assert.equal((p.value as Histogram).max, undefined);
    }
  }
  await Promise.all(members.map((m) => m.shutdown()));
});
