// jobmeter's own observable instruments no host View selects are series sets of the store
// (src/domain/storage/observed.ts), run at the store's instant: what the SDK's asynchronous
// instruments do is kept — callbacks run once per collection, a callback's observations count once
// it has returned, a failed one observes nothing and the others still run, a batch callback
// observes only its own instruments, a set observed once stays with its last value, bad values
// are dropped through the guard, cumulative and delta readers both served.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diag, DiagLogLevel, type Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { createJobmeter } from '../../src/jobmeter.ts';
import { RecordGuard } from '../../src/domain/record-guard.ts';
import { StorageRegistry } from '../../src/domain/storage/registry.ts';
import type { InstrumentSpec, ObservedKind } from '../../src/domain/types.ts';

const SCOPE = { name: 'jobmeter', version: '1.0.0' };

const spec = (name: string, kind: ObservedKind): InstrumentSpec & { kind: ObservedKind } => ({
  name,
  kind,
  unit: '{x}',
  description: name,
  attributes: [],
});

async function collect(
  store: StorageRegistry,
  temporality = AggregationTemporality.CUMULATIVE,
  producer = store.series.producer(() => temporality),
): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await producer.collect();
  return new Map(
    resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]),
  );
}

function points(m: MetricData | undefined): Array<[Attributes, number]> {
  return ((m?.dataPoints ?? []) as DataPoint<number>[]).map((p) => [p.attributes, p.value]);
}

/** Runs `body` with diag errors collected. */
async function withDiag(body: (errors: string[]) => Promise<void>): Promise<void> {
  const errors: string[] = [];
  const log = (m: string) => void errors.push(m);
  diag.setLogger(
    { error: log, warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.ERROR, suppressOverrideMessage: true },
  );
  try {
    await body(errors);
  } finally {
    diag.disable();
  }
}

describe('observed storages', () => {
  test('a gauge: a set observed once keeps its last value; kinds as the SDK reports them', async () => {
    const store = new StorageRegistry([], { scope: SCOPE });
    const g = store.observed(spec('g', 'observableGauge'));
    const c = store.observed(spec('c', 'observableCounter'));
    const u = store.observed(spec('u', 'observableUpDownCounter'));
    assert.equal(
      store.observed(spec('g', 'observableGauge')),
      g,
      'the same instrument for the same name',
    );
    let round = 0;
    g.addCallback((r) => r.observe(round === 0 ? 1 : 5, { a: round === 0 ? 'x' : 'y' }));
    c.addCallback((r) => r.observe(10 * (round + 1)));
    u.addCallback((r) => r.observe(-3 - round));
    const first = await collect(store);
    round = 1;
    const second = await collect(store);
    assert.deepEqual(points(first.get('g')), [[{ a: 'x' }, 1]]);
    assert.deepEqual(points(second.get('g')), [
      [{ a: 'x' }, 1],
      [{ a: 'y' }, 5],
    ]);
    assert.deepEqual(
      points(second.get('c')),
      [[{}, 20]],
      'a counter serves the running total it observed',
    );
    assert.deepEqual(points(second.get('u')), [[{}, -4]]);
    assert.equal(second.get('g')!.dataPointType, DataPointType.GAUGE);
    assert.equal(second.get('c')!.dataPointType, DataPointType.SUM);
    assert.equal((second.get('c') as MetricData & { isMonotonic: boolean }).isMonotonic, true);
    assert.equal((second.get('u') as MetricData & { isMonotonic: boolean }).isMonotonic, false);
  });

  test('a delta reader gets the change of an observed running total', async () => {
    const store = new StorageRegistry([], { scope: SCOPE });
    let total = 4;
    store.observed(spec('c', 'observableCounter')).addCallback((r) => r.observe(total));
    const delta = store.series.producer(() => AggregationTemporality.DELTA);
    assert.deepEqual(points((await collect(store, AggregationTemporality.DELTA, delta)).get('c')), [
      [{}, 4],
    ]);
    total = 9;
    assert.deepEqual(points((await collect(store, AggregationTemporality.DELTA, delta)).get('c')), [
      [{}, 5],
    ]);
  });

  test('a callback that throws or rejects observes nothing, the others still run, and it is reported', async () => {
    await withDiag(async (errors) => {
      const store = new StorageRegistry([], { scope: SCOPE });
      const g = store.observed(spec('g', 'observableGauge'));
      g.addCallback((r) => {
        r.observe(1, { by: 'thrower' });
        throw new Error('boom');
      });
      g.addCallback(async (r) => {
        r.observe(2, { by: 'rejecter' });
        await Promise.resolve();
        throw new Error('late boom');
      });
      g.addCallback(async (r) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        r.observe(3, { by: 'slow' });
      });
      g.addCallback((r) => r.observe(4, { by: 'plain' }));
      const m = await collect(store);
      assert.deepEqual(
        points(m.get('g')).sort((a, b) => a[1] - b[1]),
        [
          [{ by: 'slow' }, 3],
          [{ by: 'plain' }, 4],
        ],
      );
      assert.equal(errors.length, 2, errors.join('\n'));
    });
  });

  test('callbacks: added once, removed, run once per collection; a batch callback observes only its own instruments', async () => {
    const store = new StorageRegistry([], { scope: SCOPE });
    const a = store.observed(spec('a', 'observableGauge'));
    const b = store.observed(spec('b', 'observableGauge'));
    let calls = 0;
    const one = (r: { observe(v: number): void }) => {
      calls++;
      r.observe(calls);
    };
    a.addCallback(one);
    a.addCallback(one);
    const batch = (r: { observe(o: typeof a, v: number): void }) => {
      r.observe(a, 100);
      r.observe(b, 200);
    };
    store.callbacks.add(batch, [b], true);
    const first = await collect(store);
    assert.equal(calls, 1, 'the same callback added twice runs once');
    assert.deepEqual(
      points(first.get('a')),
      [[{}, 1]],
      "the batch callback's observation of an instrument it was not registered with is ignored",
    );
    assert.deepEqual(points(first.get('b')), [[{}, 200]]);
    a.removeCallback(one);
    store.callbacks.remove(batch, [b], true);
    await collect(store);
    assert.equal(calls, 1, 'a removed callback is not called');
  });

  test('a value the instrument cannot take is dropped through the guard', async () => {
    const guard = new RecordGuard();
    const drops: string[] = [];
    const drop = guard.drop.bind(guard);
    guard.drop = (instrument, reason, value) => {
      drops.push(`${instrument}:${reason}`);
      drop(instrument, reason, value);
    };
    const store = new StorageRegistry([], { scope: SCOPE, guard });
    store.observed(spec('c', 'observableCounter')).addCallback((r) => {
      r.observe(-1, { a: 'neg' });
      r.observe(NaN, { a: 'nan' });
      r.observe(2, { a: 'ok' });
    });
    store.observed(spec('g', 'observableGauge')).addCallback((r) => r.observe(-1));
    const m = await collect(store);
    assert.deepEqual(points(m.get('c')), [[{ a: 'ok' }, 2]]);
    assert.deepEqual(points(m.get('g')), [[{}, -1]], 'a gauge takes negative values');
    assert.deepEqual(drops, ['c:negative', 'c:nan']);
  });

  test('at most `limit - 1` attribute sets, then the overflow set', async () => {
    const store = new StorageRegistry([], { scope: SCOPE, observedLimit: 3 });
    store.observed(spec('g', 'observableGauge')).addCallback((r) => {
      for (let i = 0; i < 5; i++) r.observe(i, { i: String(i) });
    });
    const m = await collect(store);
    assert.deepEqual(
      points(m.get('g')).map(([a]) => a),
      [{ i: '0' }, { i: '1' }, { 'otel.metric.overflow': true }],
    );
  });
});

describe("jobmeter's provider", () => {
  test("a declared observable is the store's unless a host View selects it; either way served", async () => {
    const instruments: InstrumentSpec[] = [
      {
        name: 'app.depth',
        kind: 'observableGauge',
        unit: '{job}',
        description: 'Depth.',
        attributes: [{ key: 'queue', cap: 4 }],
      },
      {
        name: 'app.seen',
        kind: 'observableCounter',
        unit: '{job}',
        description: 'Seen.',
        attributes: [],
      },
    ];
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      otelScopeInfo: false,
      global: false,
      instruments,
      views: [{ instrumentName: 'app.seen', name: 'app.seen.renamed' }],
    });
    try {
      jm.observe('app.depth', () => [{ value: 3, attributes: { queue: 'q1' } }]);
      jm.observe('app.seen', () => 7);
      const text = (await jm.scrape()).flatMap((f) =>
        f.series.map((s) => `${f.name}{${s.labels}}`),
      );
      assert.ok(text.includes('app_depth{queue="q1"}'), text.join('\n'));
      // The View renames the one it selects: that instrument is the SDK's.
      assert.ok(
        text.some((l) => l.startsWith('app_seen_renamed_total{')),
        text.join('\n'),
      );
      assert.ok(!text.some((l) => l.startsWith('app_seen_total{')), text.join('\n'));
    } finally {
      await jm.shutdown();
    }
  });
});

describe("the scrape's collection", () => {
  test('an SDK instrument made after scrapes that needed none is served; after shutdown a scrape is refused as the reader refuses it', async () => {
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      otelScopeInfo: false,
      global: false,
    });
    const names = async () => (await jm.scrape()).map((f) => f.name);
    try {
      assert.ok(
        (await names()).includes('jobmeter_build_info'),
        'own observables are served with no SDK instrument',
      );
      // A host's observable instrument is the SDK's.
      jm.meterProvider
        .getMeter('host')
        .createObservableGauge('host.pool.size')
        .addCallback((r) => r.observe(4));
      assert.ok((await names()).includes('host_pool_size'));
    } finally {
      await jm.shutdown();
    }
    await assert.rejects(jm.scrape(), /shutdown/);
    // One whose collections never needed the SDK: refused alike.
    const bare = await createJobmeter({
      listener: false,
      processMetrics: false,
      otelScopeInfo: false,
      global: false,
    });
    await bare.scrape();
    await bare.shutdown();
    await assert.rejects(bare.scrape(), /shutdown/);
  });
});
