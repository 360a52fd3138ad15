/**
 * jobmeter's provider gives a host's readers what a plain `@opentelemetry/sdk-metrics`
 * MeterProvider gives them (docs/host-apps.md, "How it records"), whichever engine records an
 * instrument. A script of operations -- meters asked for, instruments made on them (every kind,
 * names that differ in case, units, kinds and value types, descriptions, advice buckets; before
 * the first step or at their first record, their handles made again now and then; an observable's
 * callback its own or a batch callback), records and observations with small attribute sets,
 * collections of each reader in turn -- runs on the plain SDK (the oracle) and on
 * `createJobmeter`'s provider, each with the same readers (cumulative and delta temporality
 * selectors; base-2 exponential histograms, which make every histogram the SDK's), and every
 * collection must be the same: scopes, descriptors, point types, temporality, monotonicity, which
 * series exist, attributes and values (histogram buckets, count, sum, min and max); times aside,
 * and the order of scopes.
 *
 * The documented differences are applied to the oracle's script, not to what is compared: a value
 * jobmeter refuses (NaN, ±Infinity, negative where the instrument forbids it) is counted and never
 * recorded, so the oracle does not see it either; a histogram in `s` that chose no buckets gets
 * the seconds buckets (host-buckets.ts). No attribute is undefined or null, no value is longer than
 * the attribute value length limit. An instrument reaches its cardinality limit only where a
 * reader collects once (the SDK counts a limit's sets per collection, jobmeter over the
 * instrument's life: docs/options.md `cardinalityLimit`).
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import fc from 'fast-check';
import {
  diag,
  DiagLogLevel,
  metrics,
  ValueType,
  type Attributes,
  type Observable,
} from '@opentelemetry/api';
import {
  AggregationTemporality,
  InstrumentType,
  MeterProvider,
  MetricReader,
  AggregationType,
  type AggregationOption,
  type AggregationSelector,
  type AggregationTemporalitySelector,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { withHostBuckets } from '../../src/domain/host-buckets.ts';
import { invalidValue } from '../../src/domain/record-guard.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import { VERSION } from '../../src/version.ts';
import { byJson, comparableMetric } from '../support/comparable-metric.ts';

class CollectingReader extends MetricReader {
  constructor(kind: string, cardinalityLimit?: number) {
    const { temporality, aggregation } = READERS[kind]!;
    super({
      aggregationTemporalitySelector: temporality,
      ...(aggregation !== undefined && { aggregationSelector: aggregation }),
      ...(cardinalityLimit !== undefined && { cardinalitySelector: () => cardinalityLimit }),
    });
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

afterEach(() => metrics.disable());

/** sdk-node's base2_exponential_bucket_histogram: jobmeter's histograms are then the SDK's. */
function exponential(t: InstrumentType): AggregationOption {
  return t === InstrumentType.HISTOGRAM
    ? { type: AggregationType.EXPONENTIAL_HISTOGRAM }
    : { type: AggregationType.DEFAULT };
}

/** Readers as exporters ask: a temporality preference, and for some an aggregation of their own. */
const READERS: Readonly<
  Record<string, { temporality: AggregationTemporalitySelector; aggregation?: AggregationSelector }>
> = {
  cumulative: { temporality: () => AggregationTemporality.CUMULATIVE },
  delta: { temporality: () => AggregationTemporality.DELTA },
  // The OTLP exporter's delta preference: up-down counters stay cumulative.
  deltaPreference: {
    temporality: (t) =>
      t === InstrumentType.UP_DOWN_COUNTER || t === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER
        ? AggregationTemporality.CUMULATIVE
        : AggregationTemporality.DELTA,
  },
  exponential: { temporality: () => AggregationTemporality.CUMULATIVE, aggregation: exponential },
  exponentialDelta: { temporality: () => AggregationTemporality.DELTA, aggregation: exponential },
};

type Kind =
  | 'counter'
  | 'upDownCounter'
  | 'histogram'
  | 'gauge'
  | 'observableCounter'
  | 'observableUpDownCounter'
  | 'observableGauge';

interface MeterSpec {
  readonly name: string;
  readonly version: string;
  readonly schemaUrl: string | undefined;
}

interface InstrumentSpec {
  readonly meter: number;
  readonly kind: Kind;
  readonly name: string;
  readonly unit: string | undefined;
  readonly description: string | undefined;
  readonly valueType: ValueType | undefined;
  readonly buckets: readonly number[] | undefined;
  /** Made at its first record (after collections, maybe) rather than before the first step. */
  readonly lazy: boolean;
  /** An observable's callback is a batch callback of its meter. */
  readonly batch: boolean;
}

type Step =
  | {
      readonly op: 'record';
      readonly instrument: number;
      readonly value: number;
      readonly attributes: Attributes | undefined;
      /** Through a handle made again (the same instrument, for a synchronous one). */
      readonly again: boolean;
    }
  | { readonly op: 'collect'; readonly reader: number };

interface Script {
  /** Series per instrument, the overflow series included: the oracle's readers' limit, jobmeter's `cardinalityLimit`. @default 2000 */
  readonly limit?: number;
  readonly meters: readonly MeterSpec[];
  readonly instruments: readonly InstrumentSpec[];
  readonly readers: readonly string[];
  readonly steps: readonly Step[];
}

const NON_NEGATIVE: ReadonlySet<Kind> = new Set(['counter', 'histogram', 'observableCounter']);

/** Whether jobmeter's guard refuses `value` for `kind` (docs/host-apps.md, "Misuse never corrupts a series"). */
const refused = (kind: Kind, value: number): boolean =>
  invalidValue(value, NON_NEGATIVE.has(kind)) !== undefined;

interface Provider {
  getMeter: MeterProvider['getMeter'];
}

/**
 * Runs `script` on `provider`, whose readers are `readers`: each collection as compared, in order. `oracle`: the plain SDK's, given the documented differences (see the file comment).
 */
async function run(
  provider: Provider,
  readers: readonly MetricReader[],
  script: Script,
  oracle: boolean,
): Promise<unknown[]> {
  const meters = script.meters.map((m) =>
    provider.getMeter(
      m.name,
      m.version,
      m.schemaUrl === undefined ? {} : { schemaUrl: m.schemaUrl },
    ),
  );
  /** What each observable observes at the next collection (then forgotten). */
  const pending = script.instruments.map((): [number, Attributes | undefined][] => []);
  /** Makes instrument `i` (again): what records or observes on it. */
  const make = (i: number): ((v: number, a: Attributes | undefined) => void) => {
    const spec = script.instruments[i]!;
    const meter = meters[spec.meter]!;
    const options = {
      ...(spec.unit !== undefined && { unit: spec.unit }),
      ...(spec.description !== undefined && { description: spec.description }),
      ...(spec.valueType !== undefined && { valueType: spec.valueType }),
      ...(spec.buckets !== undefined && {
        advice: { explicitBucketBoundaries: [...spec.buckets] },
      }),
    };
    const observe = (o: Observable) => {
      if (spec.batch)
        meter.addBatchObservableCallback(
          (result) => {
            for (const [v, a] of pending[i]!) result.observe(o, v, a);
            pending[i]!.length = 0;
          },
          [o],
        );
      else
        o.addCallback((result) => {
          for (const [v, a] of pending[i]!) result.observe(v, a);
          pending[i]!.length = 0;
        });
      return (v: number, a: Attributes | undefined) => pending[i]!.push([v, a]);
    };
    switch (spec.kind) {
      case 'counter': {
        const c = meter.createCounter(spec.name, options);
        return (v: number, a: Attributes | undefined) => c.add(v, a);
      }
      case 'upDownCounter': {
        const c = meter.createUpDownCounter(spec.name, options);
        return (v: number, a: Attributes | undefined) => c.add(v, a);
      }
      case 'histogram': {
        const h = meter.createHistogram(spec.name, oracle ? withHostBuckets(options) : options);
        return (v: number, a: Attributes | undefined) => h.record(v, a);
      }
      case 'gauge': {
        const g = meter.createGauge(spec.name, options);
        return (v: number, a: Attributes | undefined) => g.record(v, a);
      }
      case 'observableCounter':
        return observe(meter.createObservableCounter(spec.name, options));
      case 'observableUpDownCounter':
        return observe(meter.createObservableUpDownCounter(spec.name, options));
      case 'observableGauge':
        return observe(meter.createObservableGauge(spec.name, options));
    }
  };
  const record = script.instruments.map((spec, i) => (spec.lazy ? undefined : make(i)));
  const collections: unknown[] = [];
  for (const step of script.steps) {
    if (step.op === 'collect') {
      // As the reader has it now: jobmeter's MetricData share their instrument's descriptor, which
      // takes a longer description made later in place (storage/registry.ts).
      collections.push(normalised((await readers[step.reader]!.collect()).resourceMetrics));
      continue;
    }
    const i = step.instrument;
    const kind = script.instruments[i]!.kind;
    // An observable made again would observe twice: its first handle stays.
    if (record[i] === undefined || (step.again && !kind.startsWith('observable')))
      record[i] = make(i);
    if (oracle && refused(kind, step.value)) continue;
    record[i](step.value, step.attributes);
  }
  return collections;
}

/** One collection as compared: the script's instruments (jobmeter's own left out), times aside, in a stable order. */
function normalised(rm: ResourceMetrics): unknown {
  return rm.scopeMetrics
    .map((sm): [string, unknown[]] => [
      JSON.stringify([sm.scope.name, sm.scope.version ?? '', sm.scope.schemaUrl ?? null]),
      sm.metrics
        .filter((m) => !m.descriptor.name.startsWith('jobmeter.'))
        .map(comparableMetric)
        .sort(byJson),
    ])
    .filter(([, ms]) => ms.length > 0)
    .sort(byJson);
}

async function oracleOf(script: Script): Promise<unknown[]> {
  const readers = script.readers.map((t) => new CollectingReader(t, script.limit));
  const provider = new MeterProvider({ readers });
  try {
    return await run(provider, readers, script, true);
  } finally {
    await provider.shutdown();
  }
}

async function jobmeterOf(script: Script): Promise<unknown[]> {
  const readers = script.readers.map((t) => new CollectingReader(t));
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    otelScopeInfo: false,
    ...(script.limit !== undefined && { cardinalityLimit: script.limit }),
    readers,
  });
  try {
    return await run(jm.meterProvider, readers, script, false);
  } finally {
    await jm.shutdown();
  }
}

async function assertSame(script: Script): Promise<void> {
  const expected = await oracleOf(script);
  const actual = await jobmeterOf(script);
  for (const [i, e] of expected.entries())
    assert.deepStrictEqual(
      actual[i],
      e,
      `collection ${i + 1} (${JSON.stringify(script.steps.filter((s) => s.op === 'collect')[i])})`,
    );
}

const METERS: readonly MeterSpec[] = [
  { name: 'app', version: '', schemaUrl: undefined },
  // jm.meter: an instrument jobmeter has no spec for is a host's there too.
  { name: 'jobmeter', version: VERSION, schemaUrl: undefined },
  { name: 'app', version: '1.0', schemaUrl: undefined },
  { name: 'App', version: '', schemaUrl: undefined },
  { name: 'lib.jobs', version: '2.0', schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' },
];

// Values shared by keys: a set's values may be another's, or begin another's.
const attributeValue = fc.oneof(
  fc.constantFrom('x', 'y', ''),
  fc.constantFrom(0, 1, -1, 1.5),
  fc.boolean(),
  fc.constantFrom(['x', 'y'], [1, 2], [true]),
);
const attributes: fc.Arbitrary<Attributes | undefined> = fc.option(
  fc.dictionary(fc.constantFrom('a', 'b', 'q.w'), attributeValue, { maxKeys: 2 }),
  { nil: undefined },
);
// Quarters (and 1e9), whose sums are exact: jobmeter's delta point of a sum is a difference of
// totals (series/temporality.ts), the SDK's the window's own sum, and (x + y) - x is y only where
// nothing was rounded (7.3 after 0.75: 7.300000000000001).
const value = fc.oneof(
  { arbitrary: fc.integer({ min: -3, max: 20 }).map((n) => n / 4), weight: 8 },
  { arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1e9), weight: 2 },
);

const scriptOf = (
  kinds: readonly Kind[],
  options: {
    meters: number;
    readers: readonly string[];
    /** See {@link Script.limit}; then every reader collects once, at the end. */
    limit?: number;
  },
) =>
  fc
    .record({
      meters: fc.shuffledSubarray(METERS.slice(0, options.meters), {
        minLength: 1,
        maxLength: Math.min(3, options.meters),
      }),
      readers: fc.array(fc.constantFrom(...options.readers), {
        minLength: 1,
        maxLength: Math.min(3, options.meters),
      }),
      instruments: fc.array(
        fc.record({
          meter: fc.nat({ max: 2 }),
          kind: fc.constantFrom(...kinds),
          name: fc.constantFrom('app.jobs', 'App.Jobs', 'app.wait'),
          unit: fc.constantFrom(undefined, '', 's', 'By'),
          description: fc.constantFrom(undefined, 'Jobs.', 'Jobs done here.'),
          valueType: fc.constantFrom(undefined, ValueType.INT),
          lazy: fc.boolean(),
          batch: fc.boolean(),
          buckets: fc.constantFrom(
            undefined,
            [1, 2, 5],
            [0],
            [],
            [5, 1],
            [1, 1, 2],
            [-1, 0.5],
            [-Infinity, 1, Infinity],
          ),
        }),
        { minLength: 1, maxLength: 6 },
      ),
    })
    .chain(({ meters, readers, instruments }) => {
      const record = fc.record({
        op: fc.constant('record' as const),
        instrument: fc.nat({ max: instruments.length - 1 }),
        value,
        attributes,
        again: fc.boolean(),
      });
      const collect = fc.record({
        op: fc.constant('collect' as const),
        reader: fc.nat({ max: readers.length - 1 }),
      });
      return fc.record({
        meters: fc.constant(meters),
        readers: fc.constant(readers),
        instruments: fc.constant(
          instruments.map((i) => ({ ...i, meter: i.meter % meters.length })),
        ),
        steps: fc.array<Step>(
          options.limit === undefined
            ? fc.oneof({ arbitrary: record, weight: 4 }, { arbitrary: collect, weight: 1 })
            : record,
          { maxLength: 40 },
        ),
      });
    })
    .map((s) => ({
      ...s,
      ...(options.limit !== undefined && { limit: options.limit }),
      // Every reader collects last.
      steps: [...s.steps, ...s.readers.map((_, reader) => ({ op: 'collect' as const, reader }))],
    }));

/**
 * Runs `script`s with the SDK's and jobmeter's warnings silenced (both warn of duplicates alike).
 * `RUNS=5000` in the environment searches longer.
 */
async function check(arb: fc.Arbitrary<Script>, numRuns: number): Promise<void> {
  diag.setLogger(
    { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} },
    DiagLogLevel.WARN,
  );
  try {
    await fc.assert(fc.asyncProperty(arb, assertSame), {
      numRuns: Number(process.env.RUNS ?? numRuns),
    });
  } finally {
    diag.disable();
  }
}

test('counters and histograms on one meter, one cumulative reader: what the plain SDK gives', async () => {
  await check(scriptOf(['counter', 'histogram'], { meters: 1, readers: ['cumulative'] }), 300);
});

test('every kind, several meters, readers cumulative, delta and of exponential histograms: what the plain SDK gives', async () => {
  await check(
    scriptOf(
      [
        'counter',
        'upDownCounter',
        'histogram',
        'gauge',
        'observableCounter',
        'observableUpDownCounter',
        'observableGauge',
      ],
      { meters: METERS.length, readers: Object.keys(READERS) },
    ),
    600,
  );
});

test("a host instrument's cardinality limit: its first sets and one overflow series, as the SDK's reader limit gives a cumulative reader's one collection", async () => {
  await check(
    scriptOf(['counter', 'upDownCounter', 'histogram', 'gauge'], {
      meters: 2,
      readers: ['cumulative'],
      limit: 3,
    }),
    300,
  );
});
