// jobmeter's synchronous storages: the same series, values and bounds as the SDK instruments with
// jobmeter's views, read through a MetricProducer (cumulative and delta), with memory bounded under
// churn.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  MAX_SERIES_PER_INSTRUMENT,
  MAX_VALUE_LENGTH,
} from '../../src/domain/bounded-attributes.ts';
import { DOMAIN_INSTRUMENTS, RUN_DURATION, RUN_FINISHED } from '../../src/domain/catalog.ts';
import { createRecorder } from '../../src/domain/recorder.ts';
import { RAW_KEYS_PER_INSTRUMENT } from '../../src/domain/storage/spec-index.ts';
import { StorageRegistry } from '../../src/domain/storage/registry.ts';
import type { InstrumentSpec } from '../../src/domain/types.ts';
import { otelProfile } from '../../src/naming/profiles/otel.ts';
import { resolveProfile } from '../../src/naming/profiles/index.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';
import { buildViews } from '../../src/jobmeter-views.ts';
import { JobmeterMeterProvider } from '../../src/domain/meter-provider.ts';
import { RecordGuard } from '../../src/domain/record-guard.ts';

const SCOPE = { name: 'jobmeter', version: '1.0.0' };

function counterSpec(
  name: string,
  attributes: InstrumentSpec['attributes'],
  kind: InstrumentSpec['kind'] = 'counter',
): InstrumentSpec {
  return { name, kind, unit: '{x}', description: name, attributes };
}

/** `specs` recorded by jobmeter's provider (its storages, `own`), or by the SDK with their views. */
function storagesOrViews(
  specs: readonly InstrumentSpec[],
  reader: ReturnType<typeof newPullReader>,
  own: boolean,
): JobmeterMeterProvider | MeterProvider {
  return own
    ? new JobmeterMeterProvider(
        { readers: [reader] },
        {
          guard: new RecordGuard(),
          specs,
          scope: SCOPE,
        },
      )
    : new MeterProvider({ views: buildViews(specs), readers: [reader] });
}

async function metrics(
  store: StorageRegistry,
  temporality = AggregationTemporality.CUMULATIVE,
): Promise<MetricData[]> {
  const { resourceMetrics } = await store.series.producer(() => temporality).collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
}

function points(m: MetricData | undefined): Array<[Attributes, number]> {
  return ((m?.dataPoints ?? []) as DataPoint<number>[]).map((p) => [p.attributes, p.value]);
}

describe("jobmeter's synchronous storages", () => {
  test('a counter: series in first-record order, bounded like the views (allow-list, closed vocabulary, cap)', async () => {
    const spec = counterSpec('c', [
      { key: 'outcome', values: ['success', 'failure'] },
      { key: 'task', cap: 2 },
    ]);
    const store = new StorageRegistry([spec], { scope: SCOPE });
    const c = store.counter('c');
    c.add(1, { outcome: 'success', task: 'a', 'job.id': 'x1' });
    c.add(2, { outcome: 'exploded', task: 'a' });
    c.add(3, { outcome: 'success', task: 'b' });
    c.add(4, { outcome: 'success', task: 'c' }); // past the cap
    c.add(5, { outcome: 'success', task: 'a' });
    c.add(-1, { outcome: 'success', task: 'a' }); // a counter ignores negative values, as the SDK's
    c.add(6, { outcome: 'failure' }); // task absent: the attribute is left out, not `other`
    const [m] = await metrics(store);
    assert.equal(m!.dataPointType, DataPointType.SUM);
    assert.equal((m as { isMonotonic: boolean }).isMonotonic, true);
    assert.equal(m!.aggregationTemporality, AggregationTemporality.CUMULATIVE);
    assert.deepEqual(points(m), [
      [{ outcome: 'success', task: 'a' }, 6],
      [{ outcome: 'other', task: 'a' }, 2],
      [{ outcome: 'success', task: 'b' }, 3],
      [{ outcome: 'success', task: 'other' }, 4],
      [{ outcome: 'failure' }, 6],
    ]);
    assert.deepEqual(m!.descriptor, {
      name: 'c',
      description: 'c',
      unit: '{x}',
      valueType: 1,
      type: 'COUNTER',
      advice: {},
    });
  });

  test('values are cut and stringified as the views do; numbers and strings of one label share a series', async () => {
    const store = new StorageRegistry(
      [
        counterSpec('c', [
          { key: 'a', cap: 10 },
          { key: 'b', cap: 10 },
        ]),
      ],
      { scope: SCOPE },
    );
    const c = store.counter('c');
    c.add(1, { a: 42, b: 'x'.repeat(10_000) });
    c.add(1, { a: '42', b: 'x'.repeat(MAX_VALUE_LENGTH - 1) + '…' });
    c.add(1, { a: true, b: ['p', 'q'] });
    const [m] = await metrics(store);
    const p = points(m);
    assert.equal(p.length, 2);
    assert.equal(p[0]![0].a, '42');
    assert.equal(String(p[0]![0].b).length, MAX_VALUE_LENGTH);
    assert.equal(p[0]![1], 2);
    assert.deepEqual(p[1], [{ a: 'true', b: '["p","q"]' }, 1]);
  });

  test('a single capped attribute: the first `cap` values, then other; a literal "other" is one of the values', async () => {
    const store = new StorageRegistry([counterSpec('c', [{ key: 'r', cap: 3 }])], { scope: SCOPE });
    const c = store.counter('c');
    for (const r of ['a', 'other', 'b', 'c', 'd', 'a', 'e']) c.add(1, { r });
    assert.deepEqual(points((await metrics(store))[0]), [
      [{ r: 'a' }, 2],
      [{ r: 'other' }, 4],
      [{ r: 'b' }, 1],
    ]);
  });

  test('churn: 200 000 distinct values into a capped attribute keep the series and the remembered keys bounded', async () => {
    const store = new StorageRegistry(
      [
        counterSpec('c', [
          { key: 'task', cap: 5 },
          { key: 'kind', values: ['x'] },
        ]),
      ],
      { scope: SCOPE },
    );
    const c = store.counter('c');
    for (let i = 0; i < 200_000; i++) c.add(1, { task: `t${i}`, kind: 'x' });
    const p = points((await metrics(store))[0]);
    assert.equal(p.length, 6);
    assert.deepEqual(p[5], [{ task: 'other', kind: 'x' }, 200_000 - 5]);
    assert.ok(RAW_KEYS_PER_INSTRUMENT <= 1024);
    assert.equal(store.storage('c', 'counter')!.size, 6, 'series held');
  });

  test('past MAX_SERIES_PER_INSTRUMENT sets go to one overflow series (otel.metric.overflow)', async () => {
    const store = new StorageRegistry(
      [
        counterSpec('c', [
          { key: 'a', cap: 200 },
          { key: 'b', cap: 200 },
        ]),
      ],
      { scope: SCOPE },
    );
    const c = store.counter('c');
    const n = MAX_SERIES_PER_INSTRUMENT + 50;
    for (let i = 0; i < n; i++) c.add(1, { a: `a${i % 200}`, b: `b${Math.floor(i / 200)}` });
    c.add(1, { a: 'a0', b: 'b0' }); // an existing series still gets its own
    const p = points((await metrics(store))[0]);
    assert.equal(p.length, MAX_SERIES_PER_INSTRUMENT + 1);
    assert.deepEqual(p.at(-1), [{ 'otel.metric.overflow': true }, 50]);
    assert.equal(p[0]![1], 2);
  });

  test('a set that leaves a declared attribute out is a series of its own, not the overflow, while the vocabularies bound the sets', async () => {
    const store = new StorageRegistry([counterSpec('c', [{ key: 'a', cap: 2 }])], {
      scope: SCOPE,
    });
    const c = store.counter('c');
    for (const a of [{ a: 'x' }, { a: 'y' }, { a: 'z' }, {}]) c.add(1, a);
    const p = points((await metrics(store))[0]);
    assert.deepEqual(p, [
      [{ a: 'x' }, 1],
      [{ a: 'y' }, 1],
      [{ a: 'other' }, 1],
      [{}, 1],
    ]);
  });

  test('a histogram: le buckets (a value equal to a bound lands in its bucket), sum, count; NaN, infinities and negatives are dropped', async () => {
    const spec: InstrumentSpec = {
      name: 'h',
      kind: 'histogram',
      unit: 's',
      description: 'h',
      buckets: [1, 5],
      attributes: [{ key: 'q', cap: 4 }],
    };
    const store = new StorageRegistry([spec], { scope: SCOPE });
    const h = store.histogram('h');
    for (const v of [0, 1, 1.5, 5, 7, Infinity, -1, NaN]) h.record(v, { q: 'a' });
    h.record(NaN, { q: 'b' }); // dropped before its series is looked up: no series
    const [m] = await metrics(store);
    assert.equal(m!.dataPointType, DataPointType.HISTOGRAM);
    assert.equal(m!.dataPoints.length, 1);
    const [a] = m!.dataPoints;
    assert.deepEqual(a!.value.buckets, { boundaries: [1, 5], counts: [2, 2, 1] });
    assert.equal(a!.value.count, 5);
    assert.equal(a!.value.sum, 14.5);
  });

  test('an up-down counter takes negative values; a gauge keeps the last one', async () => {
    const store = new StorageRegistry(
      [
        counterSpec('u', [], 'upDownCounter'),
        {
          name: 'g',
          kind: 'gauge',
          unit: '1',
          description: 'g',
          attributes: [{ key: 'k', cap: 2 }],
        },
      ],
      { scope: SCOPE },
    );
    store.counter('u').add(3);
    store.counter('u').add(-5);
    store.gauge('g').record(1, { k: 'a' });
    store.gauge('g').record(7, { k: 'a' });
    const [u, g] = await metrics(store);
    assert.deepEqual(points(u), [[{}, -2]]);
    assert.equal((u as { isMonotonic: boolean }).isMonotonic, false);
    assert.equal(g!.dataPointType, DataPointType.GAUGE);
    assert.deepEqual(points(g), [[{ k: 'a' }, 7]]);
  });

  test('bound handles write to their series', async () => {
    const store = new StorageRegistry(
      [counterSpec('c', [{ key: 'a', cap: 4 }]), { ...RUN_DURATION, name: 'h' }],
      { scope: SCOPE },
    );
    const bound = store.counter('c').bind({ a: 'x' });
    for (let i = 0; i < 10; i++) bound.add(1);
    bound.add(-3);
    store
      .histogram('h')
      .bind({ task: 't', kind: 'k', runner: 'r', outcome: 'success' })
      .record(0.3);
    const [c, h] = await metrics(store);
    assert.deepEqual(points(c), [[{ a: 'x' }, 10]]);
    assert.equal((h!.dataPoints[0] as DataPoint<Histogram>).value.count, 1);
  });

  test('the points keep one attributes object per series across collections (the naming cache hits)', async () => {
    const store = new StorageRegistry([RUN_FINISHED], { scope: SCOPE });
    store
      .counter(RUN_FINISHED.name)
      .add(1, { task: 't', kind: 'k', runner: 'r', outcome: 'success' });
    const first = (await metrics(store))[0]!.dataPoints[0]!.attributes;
    store
      .counter(RUN_FINISHED.name)
      .add(1, { task: 't', kind: 'k', runner: 'r', outcome: 'success' });
    assert.equal((await metrics(store))[0]!.dataPoints[0]!.attributes, first);
  });

  test('delta: each export carries what changed since the previous one, in contiguous intervals', async () => {
    let now = 1_000_000;
    const spec: InstrumentSpec = {
      name: 'h',
      kind: 'histogram',
      unit: 's',
      description: 'h',
      buckets: [1],
      attributes: [],
    };
    const store = new StorageRegistry([counterSpec('c', [{ key: 'a', cap: 4 }]), spec], {
      scope: SCOPE,
      clock: { wallMillis: () => now, monotonicMillis: () => now },
    });
    const producer = store.series.producer(() => AggregationTemporality.DELTA);
    const collect = async () =>
      (await producer.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    store.counter('c').add(5, { a: 'x' });
    store.histogram('h').record(0.5);
    now += 1000;
    const [c1, h1] = await collect();
    assert.equal(c1!.aggregationTemporality, AggregationTemporality.DELTA);
    assert.deepEqual(points(c1), [[{ a: 'x' }, 5]]);
    assert.deepEqual((h1!.dataPoints[0] as DataPoint<Histogram>).value.buckets.counts, [1, 0]);
    store.counter('c').add(2, { a: 'x' });
    store.counter('c').add(1, { a: 'y' });
    now += 1000;
    const [c2, h2] = await collect();
    assert.deepEqual(points(c2), [
      [{ a: 'x' }, 2],
      [{ a: 'y' }, 1],
    ]);
    assert.equal(h2, undefined, 'an unchanged histogram is not exported');
    assert.deepEqual(c2!.dataPoints[0]!.startTime, c1!.dataPoints[0]!.endTime);
    store.histogram('h').record(3);
    const [h3] = await collect();
    assert.deepEqual((h3!.dataPoints[0] as DataPoint<Histogram>).value, {
      buckets: { boundaries: [1], counts: [0, 1] },
      sum: 3,
      count: 1,
    });
    // A cumulative producer of the same store still sees the totals.
    assert.deepEqual(points((await metrics(store))[0]), [
      [{ a: 'x' }, 7],
      [{ a: 'y' }, 1],
    ]);
  });

  test('asking for an undeclared or wrong-kind instrument throws, naming it', () => {
    const store = new StorageRegistry([counterSpec('c', [])], { scope: SCOPE });
    assert.throws(() => store.histogram('c'), /"c" is not declared as a histogram/);
    assert.throws(() => store.counter('nope'), /"nope" is not declared/);
  });
});

// The recorder over jobmeter's storages renders exactly what it renders over the SDK with
// jobmeter's views: same families, series, order and values, whatever the recording sequence.
describe("jobmeter's storages ≡ SDK instruments with views", () => {
  type Op =
    | {
        kind: 'run';
        task: string;
        kindName: string;
        runner: string;
        outcome: string;
        seconds: number;
        truncated: boolean;
      }
    | { kind: 'start'; task: string; finish: string | undefined }
    | { kind: 'reject'; reason: string }
    | { kind: 'runnerError'; runner: string; error: string }
    | { kind: 'session' };

  const word = (n: number) => fc.integer({ min: 0, max: n }).map((i) => `w${i}`);
  const outcome = fc.constantFrom('success', 'failure', 'cancelled', 'timeout', 'exploded');
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('run' as const),
      task: word(600),
      kindName: word(20),
      runner: word(20),
      outcome,
      seconds: fc.double({ min: 0, max: 5000, noNaN: true }),
      truncated: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('start' as const),
      task: word(30),
      finish: fc.option(outcome, { nil: undefined }),
    }),
    fc.record({ kind: fc.constant('reject' as const), reason: word(40) }),
    fc.record({ kind: fc.constant('runnerError' as const), runner: word(20), error: word(40) }),
    fc.record({ kind: fc.constant('session' as const) }),
  );

  async function render(
    profileName: 'otel' | 'rm' | 'solti',
    ops: readonly Op[],
    ownStorage: boolean,
  ): Promise<unknown> {
    const profile =
      profileName === 'otel' ? otelProfile(false) : resolveProfile(profileName, false);
    const overrides = profile.kind === 'table' ? (profile.buckets ?? {}) : {};
    const specs = DOMAIN_INSTRUMENTS.map((s) =>
      overrides[s.name] ? { ...s, buckets: overrides[s.name] } : s,
    );
    const reader = newPullReader([]);
    // jobmeter's provider (its storages) against a plain SDK provider with the profile's Views
    // (jobmeterViews).
    const provider = storagesOrViews(specs, reader, ownStorage);
    const recorder = createRecorder(provider.getMeter(SCOPE.name, SCOPE.version), {
      now: () => 1_700_000_000_000,
    });
    for (const o of ops) {
      try {
        if (o.kind === 'run')
          recorder.recordRun({
            task: o.task,
            kind: o.kindName,
            runner: o.runner,
            outcome: o.outcome as 'success',
            durationSeconds: o.seconds,
            outputTruncated: o.truncated,
          });
        else if (o.kind === 'start') {
          const h = recorder.startRun({ task: o.task });
          if (o.finish !== undefined) h.finish(o.finish as 'success');
        } else if (o.kind === 'reject') recorder.reject(o.reason);
        else if (o.kind === 'runnerError') recorder.runnerError(o.runner, o.error);
        else recorder.sessionCreated();
      } catch (err) {
        // An outcome outside the vocabulary throws at the call, whichever engine records.
        if (!(err instanceof TypeError)) throw err;
      }
    }
    const namer = createNamer(profile, { hostname: 'h' });
    const families = namer.toFamilies((await reader.collect()).resourceMetrics);
    await provider.shutdown();
    // Durations are timed by startRun: only their count is deterministic.
    return families.map((f) => ({
      ...f,
      series: f.series.map((s) =>
        'counts' in s && f.name.includes('duration')
          ? { labels: s.labels, count: s.count }
          : { ...s, prefix: undefined },
      ),
    }));
  }

  for (const profileName of ['otel', 'rm', 'solti'] as const) {
    test(`${profileName}: same families for any recording sequence`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 300 }), async (ops) => {
          assert.deepEqual(
            await render(profileName, ops, true),
            await render(profileName, ops, false),
          );
        }),
        { numRuns: 25 },
      );
    });
  }
});

// Through createJobmeter: declared synchronous instruments are recorded by jobmeter's storages,
// rendered by the pull path like the domain's own, and asked for by name and kind.
describe('declared instruments on a jobmeter', () => {
  test('jm.counter / jm.histogram / jm.gauge record; a wrong name or kind throws', async () => {
    const { createJobmeter } = await import('../../src/jobmeter.ts');
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      otelScopeInfo: false,
      instruments: [
        {
          name: 'app.jobs',
          kind: 'counter',
          unit: '{job}',
          description: 'Jobs.',
          attributes: [{ key: 'queue', cap: 2 }],
        },
        {
          name: 'app.wait',
          kind: 'histogram',
          unit: 's',
          description: 'Wait.',
          buckets: [1],
          attributes: [],
        },
        { name: 'app.depth', kind: 'gauge', unit: '{job}', description: 'Depth.', attributes: [] },
        {
          name: 'app.lag',
          kind: 'observableGauge',
          unit: 's',
          description: 'Lag.',
          attributes: [],
        },
      ],
    });
    try {
      assert.equal(jm.counter('app.jobs'), jm.counter('app.jobs'), 'one handle per name');
      jm.counter('app.jobs').add(2, { queue: 'a' });
      jm.counter('app.jobs').bind({ queue: 'b' }).add(1);
      jm.counter('app.jobs').add(5, { queue: 'c' }); // past the cap
      jm.histogram('app.wait').record(0.5);
      jm.gauge('app.depth').record(7);
      const byName = new Map((await jm.scrape()).map((f) => [f.name, f]));
      assert.deepEqual(
        byName.get('app_jobs_total')!.series.map((s) => [s.labels, (s as { value: number }).value]),
        [
          ['queue="a"', 2],
          ['queue="b"', 1],
          ['queue="other"', 5],
        ],
      );
      assert.equal((byName.get('app_wait_seconds')!.series[0] as { count: number }).count, 1);
      assert.equal((byName.get('app_depth')!.series[0] as { value: number }).value, 7);
      // Each is a compile error too (declared-names.test.ts); run, it throws.
      assert.throws(
        // @ts-expect-error a name not declared
        () => jm.counter('app.nope'),
        /"app.nope": no counter or upDownCounter instrument of that name declared/,
      );
      // @ts-expect-error declared as a counter
      assert.throws(() => jm.histogram('app.jobs'), /"app.jobs": no histogram instrument/);
      // @ts-expect-error declared as an observable
      assert.throws(() => jm.gauge('app.lag'), /"app.lag": no gauge instrument/);
    } finally {
      await jm.shutdown();
    }
  });
  test('a collection: the figures of its instant, as columns, equal to the MetricData a reader gets at that instant', async () => {
    const specs: InstrumentSpec[] = [
      counterSpec('c', [{ key: 'host', cap: 10 }]),
      {
        name: 'g',
        kind: 'gauge',
        unit: '1',
        description: 'g',
        attributes: [{ key: 'host', cap: 10 }],
      },
      {
        name: 'h',
        kind: 'histogram',
        unit: 's',
        description: 'h',
        buckets: [1, 10],
        attributes: [{ key: 'host', cap: 10 }],
      },
    ];
    const store = new StorageRegistry(specs, {
      scope: SCOPE,
      clock: { wallMillis: () => 1_700_000_000_000, monotonicMillis: () => 0 },
    });
    store.counter('c').add(1, { host: 'a' });
    store.gauge('g').record(7, { host: 'a' });
    store.histogram('h').record(0.5, { host: 'a' });
    store.histogram('h').record(5, { host: 'b' });
    const collection = await store.series.collect();
    const made = await metrics(store);
    // Records after the collection must not show: the columns are its snapshot.
    store.counter('c').add(100, { host: 'a' });
    store.counter('c').add(1, { host: 'z' });
    store.histogram('h').record(0.5, { host: 'a' });
    const [c, g, h] = collection.series[0]!.series;
    const columnPoints = (s: typeof c) =>
      Array.from({ length: s!.n }, (_, i) => [s!.attributes[i], s!.values[i]]);
    assert.deepEqual(columnPoints(c), [[{ host: 'a' }, 1]]);
    assert.deepEqual(columnPoints(g), [[{ host: 'a' }, 7]]);
    assert.deepEqual(Array.from(h!.values), [1, 0, 0, 0, 1, 0]);
    assert.deepEqual(
      [Array.from(h!.sums), Array.from(h!.counts)],
      [
        [0.5, 5],
        [1, 1],
      ],
    );
    assert.deepEqual(
      columnPoints(c),
      points(made[0]),
      'the same series and figures as the MetricData',
    );
    assert.deepEqual(columnPoints(g), points(made[1]));
    const hp = made[2]!.dataPoints as DataPoint<Histogram>[];
    assert.deepEqual(
      hp.map((p) => [p.value.buckets.counts, p.value.sum, p.value.count]),
      [
        [[1, 0, 0], 0.5, 1],
        [[0, 1, 0], 5, 1],
      ],
    );
    assert.deepEqual(
      [c!.startTime, g!.startTime, h!.startTime],
      [made[0]!.dataPoints[0]!.startTime, made[1]!.dataPoints[0]!.startTime, hp[0]!.startTime],
    );
    collection.done();
  });
});

test('bound series keep recording into their storage after it grew (its figures move to a larger column): counter, histogram and gauge', async () => {
  const store = new StorageRegistry(
    [
      counterSpec('c', [{ key: 'k', cap: 1000 }]),
      {
        name: 'h',
        kind: 'histogram',
        unit: 's',
        description: 'h',
        buckets: [1],
        attributes: [{ key: 'k', cap: 1000 }],
      },
      { ...counterSpec('g', [{ key: 'k', cap: 1000 }]), kind: 'gauge' },
    ],
    { scope: SCOPE },
  );
  const counter = store.counter('c').bind({ k: 'first' });
  const histogram = store.histogram('h').bind({ k: 'first' });
  const gauge = store.gauge('g').bind({ k: 'first' });
  counter.add(1);
  histogram.record(0.5);
  gauge.record(1);
  for (let i = 0; i < 500; i++) {
    store.counter('c').add(1, { k: `k${i}` });
    store.histogram('h').record(2, { k: `k${i}` });
    store.gauge('g').record(2, { k: `k${i}` });
  }
  counter.add(5);
  histogram.record(3);
  gauge.record(7);
  // A value the gauge refuses leaves its last one.
  gauge.record(Number.NaN);
  const [c, h, g] = await metrics(store);
  assert.equal(g!.dataPoints.length, 501);
  assert.deepEqual(points(g).slice(0, 2), [
    [{ k: 'first' }, 7],
    [{ k: 'k0' }, 2],
  ]);
  assert.equal(c!.dataPoints.length, 501);
  assert.deepEqual(points(c).slice(0, 2), [
    [{ k: 'first' }, 6],
    [{ k: 'k0' }, 1],
  ]);
  const first = h!.dataPoints[0] as DataPoint<Histogram>;
  assert.deepEqual(
    [first.value.buckets.counts, first.value.sum, first.value.count],
    [[1, 1], 3.5, 2],
  );
  assert.equal(h!.dataPoints.length, 501);
});

test('a storage empty at one collection is read in full at the next: its first series are served at once, cumulative and delta', async () => {
  const specs: InstrumentSpec[] = [
    counterSpec('c', [{ key: 'k', cap: 10 }]),
    {
      name: 'h',
      kind: 'histogram',
      unit: 's',
      description: 'h',
      buckets: [1],
      attributes: [{ key: 'k', cap: 10 }],
    },
    { ...counterSpec('g', [{ key: 'k', cap: 10 }]), kind: 'gauge' },
  ];
  const store = new StorageRegistry(specs, { scope: SCOPE });
  const delta = store.series.producer(() => AggregationTemporality.DELTA);
  const deltaMetrics = async () =>
    (await delta.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  assert.deepEqual(await metrics(store), [], 'nothing recorded: no metric');
  assert.deepEqual(await deltaMetrics(), []);
  store.counter('c').add(2, { k: 'a' });
  store.histogram('h').record(0.5, { k: 'a' });
  store.gauge('g').record(7, { k: 'a' });
  const cumulative = await metrics(store);
  assert.deepEqual(
    cumulative.map((m) => m.descriptor.name),
    ['c', 'h', 'g'],
  );
  assert.deepEqual(points(cumulative[0]), [[{ k: 'a' }, 2]]);
  assert.deepEqual(
    (cumulative[1]!.dataPoints as DataPoint<Histogram>[]).map((p) => [
      p.value.count,
      p.value.buckets.counts,
    ]),
    [[1, [1, 0]]],
  );
  assert.deepEqual(points(cumulative[2]), [[{ k: 'a' }, 7]]);
  const deltas = await deltaMetrics();
  assert.deepEqual(
    deltas.map((m) => m.descriptor.name),
    ['c', 'h', 'g'],
  );
  assert.deepEqual(points(deltas[0]), [[{ k: 'a' }, 2]]);
  store.counter('c').add(1, { k: 'b' });
  assert.deepEqual(
    points((await metrics(store))[0]),
    [
      [{ k: 'a' }, 2],
      [{ k: 'b' }, 1],
    ],
    'a series added later is served too',
  );
});

test('attributes with small vocabularies (a dense table of their sets): the same series and values as the SDK with the views, whatever is recorded', async () => {
  // Two and three attributes, closed and capped, small enough that the folded sets are a table
  // (spec-index.ts DenseSets); raw values in and out of the vocabularies, `other` itself, left out,
  // null, numbers and over-long strings.
  const specs = [
    counterSpec('dense.two', [
      { key: 'a', values: ['x', 'y', 'z'] },
      { key: 'b', cap: 4 },
    ]),
    counterSpec('dense.three', [
      { key: 'a', cap: 3 },
      { key: 'b', values: ['x', 'other'] },
      { key: 'c', cap: 2 },
    ]),
  ];
  const value = fc.oneof(
    fc.constantFrom('x', 'y', 'z', 'w', 'v', 'u', 'other', 'Other', '7'),
    fc.constantFrom(undefined, null, 7, true, 'x'.repeat(MAX_VALUE_LENGTH + 3)),
  );
  const record = fc.record({
    name: fc.constantFrom('dense.two', 'dense.three'),
    a: value,
    b: value,
    c: value,
    increment: fc.integer({ min: 1, max: 5 }),
  });
  type Recorded = typeof record extends fc.Arbitrary<infer R> ? R : never;
  const series = async (records: readonly Recorded[], own: boolean) => {
    const reader = newPullReader([]);
    const provider = storagesOrViews(specs, reader, own);
    const meter = provider.getMeter(SCOPE.name, SCOPE.version);
    const counters = new Map(specs.map((s) => [s.name, meter.createCounter(s.name)]));
    for (const r of records) {
      const attributes: Attributes = {};
      for (const k of ['a', 'b', 'c'] as const) if (r[k] !== undefined) attributes[k] = r[k];
      counters.get(r.name)!.add(r.increment, attributes);
    }
    const { resourceMetrics } = await reader.collect();
    await provider.shutdown();
    return resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .map((m) => ({
        name: m.descriptor.name,
        points: points(m)
          .map(([a, v]) => [JSON.stringify(Object.entries(a).sort()), v] as const)
          .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
      }))
      .sort((x, y) => (x.name < y.name ? -1 : 1));
  };
  await fc.assert(
    fc.asyncProperty(fc.array(record, { maxLength: 200 }), async (records) => {
      assert.deepEqual(await series(records, true), await series(records, false));
    }),
    { numRuns: 60 },
  );
});
