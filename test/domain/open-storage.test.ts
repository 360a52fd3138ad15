// Host instruments on jobmeter's provider that no View selects record into local storages
// (series/open-index.ts): the same series and values as the SDK would give them, whatever the
// attribute shapes — key orders, absent keys, arrays, numbers, booleans — and the lifetime series
// budget with an overflow series.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  diag,
  DiagLogLevel,
  ValueType,
  type Attributes,
  type DiagLogger,
} from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { JobmeterMeterProvider } from '../../src/domain/meter-provider.ts';
import { createJobmeter } from '../../src/index.ts';
import { RecordGuard } from '../../src/domain/record-guard.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';
import { viewSelection } from '../../src/views/host-views.ts';

const SCOPE = { name: 'jobmeter', version: 'test' };
const NO_LOG: DiagLogger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
  verbose: () => {},
};

function jobmeterProvider(reader: MetricReader, limit = 2000): JobmeterMeterProvider {
  return new JobmeterMeterProvider(
    { readers: [reader] },
    {
      guard: new RecordGuard(),
      specs: [],
      scope: SCOPE,
      cardinalityLimit: limit,
    },
  );
}

type Op = {
  kind: 'counter' | 'upDownCounter' | 'gauge' | 'histogram';
  name: string;
  value: number;
  attributes: Attributes;
};

/** A canonical, order-free form of one collection: metric → sorted [attributes, value] rows. */
function table(metrics: readonly MetricData[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of metrics) {
    const rows = (m.dataPoints as DataPoint<unknown>[]).map((p) => {
      const attrs = Object.fromEntries(
        Object.entries(p.attributes).sort(([a], [b]) => (a < b ? -1 : 1)),
      );
      const v =
        m.dataPointType === DataPointType.HISTOGRAM
          ? (({ buckets, sum, count, min, max }: Histogram) => ({ buckets, sum, count, min, max }))(
              p.value as Histogram,
            )
          : p.value;
      return JSON.stringify([attrs, v]);
    });
    out[
      `${m.descriptor.name}/${m.dataPointType}/${'isMonotonic' in m ? String(m.isMonotonic) : ''}`
    ] = rows.sort();
  }
  return out;
}

async function collect(reader: MetricReader): Promise<MetricData[]> {
  return (await reader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
}

// No undefined values here: see the last test.
const value = fc.oneof(
  fc.constantFrom('a', 'b', 'c', '', '1'),
  fc.integer({ min: -2, max: 2 }),
  fc.boolean(),
  fc.constant(['x', 'y']),
);
const attributes = fc.dictionary(fc.constantFrom('queue', 'job', 'region', 'q.w'), value, {
  maxKeys: 3,
}) as fc.Arbitrary<Attributes>;
const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('counter', 'upDownCounter', 'gauge', 'histogram'),
  name: fc.constantFrom('m1', 'm2'),
  value: fc.oneof(
    fc.integer({ min: 0, max: 100 }),
    fc.double({ min: 0, max: 20_000, noNaN: true }),
  ),
  attributes,
});

describe('host instruments in local storages', () => {
  test('the same series and values as the SDK, for any attribute shapes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const ours = newPullReader([]);
        const sdk = newPullReader([]);
        const providers = [jobmeterProvider(ours), new MeterProvider({ readers: [sdk] })] as const;
        for (const provider of providers) {
          const meter = provider.getMeter('host-app', '1.0.0');
          for (const o of ops) {
            // One instrument per kind and name, as a host makes them.
            const name = `${o.name}.${o.kind}`;
            if (o.kind === 'counter') meter.createCounter(name).add(o.value, o.attributes);
            else if (o.kind === 'upDownCounter')
              meter.createUpDownCounter(name).add(o.value, o.attributes);
            else if (o.kind === 'gauge') meter.createGauge(name).record(o.value, o.attributes);
            else meter.createHistogram(name).record(o.value, o.attributes);
          }
        }
        assert.deepEqual(table(await collect(ours)), table(await collect(sdk)));
        await Promise.all(providers.map((p) => p.shutdown()));
      }),
      { numRuns: 150 },
    );
  });

  test('descriptors as the SDK makes them: unit, description, advice buckets, kind', async () => {
    const ours = newPullReader([]);
    const sdk = newPullReader([]);
    for (const provider of [jobmeterProvider(ours), new MeterProvider({ readers: [sdk] })]) {
      const meter = provider.getMeter('host-app');
      meter
        .createHistogram('wait', {
          unit: 's',
          description: 'Wait.',
          advice: { explicitBucketBoundaries: [1, 2] },
        })
        .record(1.5, { q: 'a' });
      meter.createUpDownCounter('workers', { unit: '{worker}' }).add(3);
    }
    const pick = (ms: MetricData[]) =>
      ms.map((m) => ({
        descriptor: { ...m.descriptor },
        type: m.dataPointType,
        bounds: (m.dataPoints[0]?.value as Histogram).buckets?.boundaries,
      }));
    assert.deepEqual(pick(await collect(ours)), pick(await collect(sdk)));
  });

  test('an instrument made again with another unit, value type or name case is another, as in the SDK: values of two units never add up; made again with another description it keeps the longer; jobmeter warns as the SDK does', async () => {
    const made = fc.record({
      kind: fc.constantFrom('counter', 'upDownCounter', 'gauge', 'histogram'),
      name: fc.constantFrom('work.time', 'Work.Time', 'queue.depth'),
      unit: fc.constantFrom('', 's', 'ms'),
      valueType: fc.constantFrom(ValueType.DOUBLE, ValueType.INT),
      description: fc.constantFrom('', 'Work.', 'Work done here.'),
      value: fc.integer({ min: 0, max: 1000 }),
    });
    const warned: string[] = [];
    diag.setLogger(
      { ...NO_LOG, warn: (...args: unknown[]) => warned.push(args.map(String).join('')) },
      DiagLogLevel.WARN,
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(made, { maxLength: 30 }), async (ops) => {
          const ours = newPullReader([]);
          const sdk = newPullReader([]);
          const providers = [jobmeterProvider(ours), new MeterProvider({ readers: [sdk] })];
          const warnings: number[] = [];
          for (const provider of providers) {
            warned.length = 0;
            const meter = provider.getMeter('host-app', '1.0.0');
            for (const { kind, name, unit, valueType, description, value } of ops) {
              const options = { unit, valueType, description };
              if (kind === 'counter') meter.createCounter(name, options).add(value);
              else if (kind === 'upDownCounter')
                meter.createUpDownCounter(name, options).add(value);
              else if (kind === 'gauge') meter.createGauge(name, options).record(value);
              // Bounds given: a host histogram in seconds otherwise takes seconds bounds (seconds-buckets.test.ts).
              else
                meter
                  .createHistogram(name, {
                    ...options,
                    advice: { explicitBucketBoundaries: [1, 10, 100] },
                  })
                  .record(value);
            }
            warnings.push(warned.filter((w) => w.includes('already')).length);
          }
          const byIdentity = (ms: MetricData[]) =>
            Object.fromEntries(
              ms.map((m) => [
                `${m.descriptor.name}/${m.dataPointType}/${'isMonotonic' in m ? String(m.isMonotonic) : ''}/${m.descriptor.unit}/${m.descriptor.valueType}`,
                [m.descriptor.description, table([m])],
              ]),
            );
          assert.deepEqual(byIdentity(await collect(ours)), byIdentity(await collect(sdk)));
          // Warned when, and only when, the SDK warns of an incompatible instrument.
          assert.equal(warnings[0]! > 0, warnings[1]! > 0);
          await Promise.all(providers.map((p) => p.shutdown()));
        }),
        { numRuns: 150 },
      );
    } finally {
      diag.disable();
    }
  });

  test("delta readers get what the SDK's delta readers get: counters, up-down counters, gauges and histograms (min and max each window's), a series recorded in a window whatever its records add up to and no other, two readers collecting apart, series made before and after a reader's first collection", async () => {
    /** A reader that asks delta of every instrument, as an OTLP push with the delta preference asks of histograms. */
    class DeltaReader extends MetricReader {
      constructor() {
        super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
      }
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const step = fc.oneof(
      fc.record({
        kind: fc.constantFrom('counter', 'upDownCounter', 'gauge', 'histogram'),
        name: fc.constantFrom('m1', 'm2'),
        // Eighths, whose sums are exact: a delta's sum here is a difference of totals, the SDK's a
        // window's own sum, and (x + y) - x is y only where no rounding happened. 0 included: a
        // window whose records add up to nothing (a counter's add(0)) is exported all the same.
        value: fc.integer({ min: 0, max: 160_000 }).map((n) => n / 8),
        attributes: fc.constantFrom({}, { queue: 'a' }, { queue: 'b' }),
      }),
      fc.constantFrom(0, 1),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 50 }), async (steps) => {
        const ours = [new DeltaReader(), new DeltaReader()];
        const sdk = [new DeltaReader(), new DeltaReader()];
        const providers = [
          new JobmeterMeterProvider(
            { readers: ours },
            { guard: new RecordGuard(), specs: [], scope: SCOPE, cardinalityLimit: 2000 },
          ),
          new MeterProvider({ readers: sdk }),
        ] as const;
        const meters = providers.map((p) => p.getMeter('host-app', '1.0.0'));
        for (const s of [...steps, 0, 1] as const) {
          if (typeof s === 'number') {
            assert.deepEqual(table(await collect(ours[s]!)), table(await collect(sdk[s]!)));
            continue;
          }
          const name = `${s.name}.${s.kind}`;
          for (const meter of meters)
            if (s.kind === 'counter') meter.createCounter(name).add(s.value, s.attributes);
            else if (s.kind === 'upDownCounter')
              meter.createUpDownCounter(name).add(s.value, s.attributes);
            else if (s.kind === 'gauge') meter.createGauge(name).record(s.value, s.attributes);
            else meter.createHistogram(name).record(s.value, s.attributes);
        }
        await Promise.all(providers.map((p) => p.shutdown()));
      }),
      { numRuns: 200 },
    );
  });

  test('a lifetime budget: past the limit, new sets record into one overflow series; memory stays flat under churn', async () => {
    const reader = newPullReader([]);
    const provider = jobmeterProvider(reader, 100);
    const c = provider.getMeter('host-app').createCounter('jobs');
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 1000; i++) c.add(1, { job_id: `job-${round}-${i}` });
      await collect(reader);
    }
    const [m] = await collect(reader);
    const points = m!.dataPoints as DataPoint<number>[];
    assert.equal(points.length, 100);
    const overflow = points.find((p) => p.attributes['otel.metric.overflow'] === true);
    assert.equal(overflow?.value, 20_000 - 99);
  });

  test('a host View takes the instrument to the SDK (the View applies)', async () => {
    const reader = newPullReader([]);
    const views = [{ instrumentName: 'jobs', name: 'jobs.renamed' }];
    const provider = new JobmeterMeterProvider(
      { readers: [reader], views },
      {
        guard: new RecordGuard(),
        specs: [],
        scope: SCOPE,
        selection: viewSelection(views),
        cardinalityLimit: 2000,
      },
    );
    const meter = provider.getMeter('host-app');
    meter.createCounter('jobs').add(1);
    meter.createCounter('other').add(1);
    assert.deepEqual((await collect(reader)).map((m) => m.descriptor.name).sort(), [
      'jobs.renamed',
      'other',
    ]);
  });
});

test("sets that share values keep a series each, as in the SDK: one whose values another's begin ({a: 'x'} then {a: 'x', b: 'u'}), one with another's values under other keys ({b: 'x'} then {a: 'x'})", async () => {
  for (const sets of [
    [{ a: 'x' }, { a: 'x', b: 'u' }],
    [{ a: 'x', b: 'u' }, { a: 'x' }],
    [{ b: 'x' }, { a: 'x' }],
    [
      { a: 'x', b: 'u' },
      { b: 'x', a: 'u' },
    ],
  ]) {
    const ours = newPullReader([]);
    const sdk = newPullReader([]);
    const providers = [jobmeterProvider(ours), new MeterProvider({ readers: [sdk] })];
    for (const provider of providers) {
      const c = provider.getMeter('host-app').createCounter('jobs');
      const h = provider.getMeter('host-app').createHistogram('wait');
      // Each set three times, in fresh objects: a series made again at each record shows.
      for (let i = 0; i < 3; i++)
        for (const set of sets) {
          c.add(1, { ...set });
          h.record(1, { ...set });
        }
    }
    const expected = table(await collect(sdk));
    assert.deepEqual(expected['jobs/3/true']!.length, 2, 'the oracle: two series');
    assert.deepEqual(table(await collect(ours)), expected, JSON.stringify(sets));
    await Promise.all(providers.map((p) => p.shutdown()));
  }
});

test('an attribute whose value is undefined or null is left out: the set is the one without it (the SDK keeps it apart, a second series with the same labels)', async () => {
  const reader = newPullReader([]);
  const c = jobmeterProvider(reader).getMeter('host-app').createCounter('jobs');
  c.add(1, { queue: 'a' });
  c.add(2, { queue: 'a', region: undefined });
  c.add(4, { region: null as never, queue: 'a' });
  const [m] = await collect(reader);
  assert.deepEqual(
    (m!.dataPoints as DataPoint<number>[]).map((p) => [p.attributes, p.value]),
    [[{ queue: 'a' }, 7]],
  );
});

test('served apart on the pull endpoint: two counters of one name in seconds and milliseconds are two families, neither adding into the other', async () => {
  const jm = await createJobmeter({ listener: false, processMetrics: false, otelScopeInfo: false });
  try {
    diag.setLogger(NO_LOG, DiagLogLevel.WARN);
    jm.meter.createCounter('work.time', { unit: 's' }).add(1);
    jm.meter.createCounter('work.time', { unit: 'ms' }).add(500);
    for (let scrape = 0; scrape < 2; scrape++) {
      const served = Object.fromEntries(
        (await jm.scrape())
          .filter((f) => f.name.startsWith('work_time'))
          .map((f) => [f.name, f.series.map((s) => ('value' in s ? s.value : undefined))]),
      );
      assert.deepEqual(served, {
        work_time_seconds_total: [1],
        work_time_milliseconds_total: [500],
      });
    }
  } finally {
    diag.disable();
    await jm.shutdown();
  }
});

/** A jobmeter without listener or process metrics, and the diag warnings given from now on (`diag.disable()` after). */
async function jobmeterWarning(): Promise<{
  jm: Awaited<ReturnType<typeof createJobmeter>>;
  warned: string[];
}> {
  const jm = await createJobmeter({ listener: false, processMetrics: false, otelScopeInfo: false });
  const warned: string[] = [];
  diag.setLogger(
    { ...NO_LOG, warn: (...args: unknown[]) => warned.push(args.map(String).join('')) },
    DiagLogLevel.WARN,
  );
  return { jm, warned };
}

test("made again with a longer description, an instrument's family is served with it from the next scrape on, its total going on (the SDK's longer description)", async () => {
  const { jm, warned } = await jobmeterWarning();
  try {
    const family = async () => {
      const f = (await jm.scrape()).find((f) => f.name === 'work_done_total')!;
      return { help: f.help, values: f.series.map((s) => ('value' in s ? s.value : undefined)) };
    };
    jm.meter.createCounter('work.done', { description: 'Work.' }).add(1);
    assert.deepEqual(await family(), { help: 'Work.', values: [1] });
    jm.meter.createCounter('work.done', { description: 'Work done here.' }).add(2);
    assert.deepEqual(await family(), { help: 'Work done here.', values: [3] });
    // A shorter one is warned of and changes nothing.
    jm.meter.createCounter('work.done', { description: 'W.' }).add(4);
    assert.deepEqual(await family(), { help: 'Work done here.', values: [7] });
    assert.equal(warned.filter((w) => w.includes('work.done')).length, 2);
  } finally {
    diag.disable();
    await jm.shutdown();
  }
});

test('a family the native names cannot serve is said, once, and counted at every scrape: a counter named as a histogram of the same unit is left out of the pull with a warning naming it', async () => {
  const { jm, warned } = await jobmeterWarning();
  try {
    const unserved = async () => {
      const families = await jm.scrape();
      const count = families.find((f) => f.name === 'jobmeter_instruments_unserved_total');
      return {
        names: families.map((f) => f.name).filter((n) => n.startsWith('work_h')),
        // Recorded as the scrape's pass names the collection: served from the next scrape on.
        counted: count?.series.map((s) => ('value' in s ? s.value : undefined)),
      };
    };
    assert.deepEqual((await unserved()).counted, [0], 'served from the first scrape');
    jm.meter.createHistogram('work.h', { unit: 's' }).record(1);
    jm.meter.createCounter('work.h', { unit: 's' }).add(3);
    for (let scrape = 0; scrape < 3; scrape++)
      assert.deepEqual(await unserved(), { names: ['work_h_seconds'], counted: [scrape] });
    assert.deepEqual(
      warned.filter((w) => w.includes('not served')),
      [
        'jobmeter: work.h is not served: its family work_h_seconds_total takes a name another family served before it already has',
      ],
    );
  } finally {
    diag.disable();
    await jm.shutdown();
  }
});
