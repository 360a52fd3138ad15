/**
 * A host View selects on jobmeter's provider exactly the instruments it selects on a plain
 * `@opentelemetry/sdk-metrics` MeterProvider, and the streams that come out are the same: which
 * instruments are there, under which names and descriptions, with which aggregation, and the
 * attributes the View's processors keep. The plain SDK is the oracle; jobmeter records an
 * instrument no View selects in storages of its own, so a selection that differs from the SDK's
 * shows as an attribute the View should have dropped, a rename or an aggregation not applied.
 * Each case is read twice by a reader whose temporality selector is the OTLP exporter's for one
 * preference (delta: an up-down counter stays cumulative), with an integer-valued instrument now
 * and then (its values truncated, its descriptor INT): the store's temporality and value type
 * show there.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import fc from 'fast-check';
import { metrics, ValueType, type Attributes } from '@opentelemetry/api';
import {
  CumulativeTemporalitySelector,
  DeltaTemporalitySelector,
  LowMemoryTemporalitySelector,
} from '@opentelemetry/exporter-metrics-otlp-http';
import {
  AggregationType,
  type AggregationOption,
  type AggregationSelector,
  type AggregationTemporalitySelector,
  createAllowListAttributesProcessor,
  DataPointType,
  InstrumentType,
  MeterProvider,
  MetricReader,
  type MetricData,
  type ResourceMetrics,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { withHostBuckets } from '../../src/domain/host-buckets.ts';
import { createJobmeter } from '../../src/jobmeter.ts';

class CollectingReader extends MetricReader {
  constructor(temporality: AggregationTemporalitySelector, aggregation?: AggregationSelector) {
    super({
      aggregationTemporalitySelector: temporality,
      ...(aggregation !== undefined && { aggregationSelector: aggregation }),
    });
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

afterEach(() => metrics.disable());

type Kind = 'counter' | 'upDownCounter' | 'histogram' | 'gauge' | 'observableGauge';

interface Instrument {
  readonly name: string;
  readonly kind: Kind;
  readonly unit: string | undefined;
  readonly description: string | undefined;
  readonly valueType: ValueType | undefined;
}

interface Scope {
  readonly name: string;
  readonly version: string | undefined;
  readonly schemaUrl: string | undefined;
}

interface Case {
  readonly instrument: Instrument;
  readonly scope: Scope;
  readonly views: readonly ViewOptions[];
  readonly temporality: AggregationTemporalitySelector;
  /** The reader's own aggregation (an exporter's `aggregationPreference`), for instruments no View selects. @default the SDK's */
  readonly aggregation?: AggregationSelector;
}

const RECORDED: Attributes = { a: 'x', b: 'y' };
/** Not an integer: an INT instrument records 3. */
const VALUE = 3.5;

/**
 * `instrument` of `scope`, made on `provider`'s meter: what records one value with attributes
 * {a, b} on it (an observable's callback observes it at every collection). `plain`: the plain
 * SDK's, given the seconds buckets jobmeter advises a histogram in `s` that has none
 * (domain/host-buckets.ts: advice, which a View's aggregation replaces in both).
 */
function instrumentOf(
  provider: { getMeter: MeterProvider['getMeter'] },
  { instrument, scope }: Case,
  plain = false,
): () => void {
  const meter = provider.getMeter(
    scope.name,
    scope.version,
    scope.schemaUrl === undefined ? {} : { schemaUrl: scope.schemaUrl },
  );
  const options = {
    ...(instrument.unit !== undefined && { unit: instrument.unit }),
    ...(instrument.description !== undefined && { description: instrument.description }),
    ...(instrument.valueType !== undefined && { valueType: instrument.valueType }),
  };
  switch (instrument.kind) {
    case 'counter': {
      const c = meter.createCounter(instrument.name, options);
      return () => c.add(VALUE, RECORDED);
    }
    case 'upDownCounter': {
      const c = meter.createUpDownCounter(instrument.name, options);
      return () => c.add(VALUE, RECORDED);
    }
    case 'histogram': {
      const h = meter.createHistogram(instrument.name, plain ? withHostBuckets(options) : options);
      return () => h.record(VALUE, RECORDED);
    }
    case 'gauge': {
      const g = meter.createGauge(instrument.name, options);
      return () => g.record(VALUE, RECORDED);
    }
    case 'observableGauge':
      meter
        .createObservableGauge(instrument.name, options)
        .addCallback((result) => result.observe(VALUE, RECORDED));
      return () => {};
  }
}

/** Two collections of `reader`, `instrument` recorded once before each. */
async function twice(reader: MetricReader, record: () => void): Promise<ResourceMetrics[]> {
  const collections: ResourceMetrics[] = [];
  for (let i = 0; i < 2; i++) {
    record();
    collections.push((await reader.collect()).resourceMetrics);
  }
  return collections;
}

/** A stream as compared: what a View decides about it, and the one point's attributes and value. */
function streams(rm: ResourceMetrics, scope: Scope): unknown[] {
  const of = (m: MetricData): unknown => ({
    name: m.descriptor.name,
    description: m.descriptor.description,
    unit: m.descriptor.unit,
    valueType: m.descriptor.valueType,
    type: m.dataPointType,
    temporality: m.aggregationTemporality,
    ...(m.dataPointType === DataPointType.SUM && { monotonic: m.isMonotonic }),
    points: m.dataPoints.map((p) => {
      const v = p.value as
        | number
        | {
            count: number;
            sum?: number;
            buckets?: { boundaries?: number[] };
            scale?: number;
            positive?: unknown;
          };
      return {
        attributes: Object.fromEntries(
          Object.entries(p.attributes).sort(([x], [y]) => (x < y ? -1 : 1)),
        ),
        value:
          typeof v === 'number'
            ? v
            : {
                count: v.count,
                sum: v.sum,
                boundaries: v.buckets?.boundaries,
                scale: v.scale,
                positive: v.positive,
              },
      };
    }),
  });
  return rm.scopeMetrics
    .filter(
      (s) =>
        s.scope.name === scope.name &&
        (s.scope.version ?? '') === (scope.version ?? '') &&
        s.scope.schemaUrl === scope.schemaUrl,
    )
    .flatMap((s) => s.metrics.map(of))
    .filter((m) => (m as { points: unknown[] }).points.length > 0)
    .sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
}

/** What the plain SDK serves for `c`, or the error its provider throws for `c.views`. */
async function sdkStreams(c: Case): Promise<unknown[] | Error> {
  let provider: MeterProvider;
  const reader = new CollectingReader(c.temporality, c.aggregation);
  try {
    provider = new MeterProvider({ views: [...c.views], readers: [reader] });
  } catch (err) {
    return err as Error;
  }
  try {
    const collections = await twice(reader, instrumentOf(provider, c, true));
    return collections.map((rm) => streams(rm, c.scope));
  } finally {
    await provider.shutdown();
  }
}

/** What jobmeter serves for `c` to a reader of the host's, or the error it starts with. */
async function jobmeterStreams(c: Case): Promise<unknown[] | Error> {
  const reader = new CollectingReader(c.temporality, c.aggregation);
  let jm: Awaited<ReturnType<typeof createJobmeter>>;
  try {
    jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      global: false,
      otelScopeInfo: false,
      views: [...c.views],
      readers: [reader],
    });
  } catch (err) {
    return err as Error;
  }
  try {
    const collections = await twice(reader, instrumentOf(jm.meterProvider, c));
    return collections.map((rm) => streams(rm, c.scope));
  } finally {
    await jm.shutdown();
  }
}

async function assertSame(c: Case): Promise<void> {
  const expected = await sdkStreams(c);
  const actual = await jobmeterStreams(c);
  if (expected instanceof Error) {
    assert.ok(actual instanceof Error, `the SDK refuses these Views (${expected.message})`);
    return;
  }
  if (actual instanceof Error) throw actual;
  assert.deepEqual(actual, expected);
}

test("the issue's case: 'app.*s*' selects counter app.count, as in the SDK, and keeps {a}", async () => {
  const c: Case = {
    instrument: {
      name: 'app.count',
      kind: 'counter',
      unit: undefined,
      description: undefined,
      valueType: undefined,
    },
    scope: { name: 'app', version: undefined, schemaUrl: undefined },
    temporality: CumulativeTemporalitySelector,
    views: [
      {
        instrumentName: 'app.*s*',
        attributesProcessors: [createAllowListAttributesProcessor(['a'])],
      },
    ],
  };
  const expected = await sdkStreams(c);
  assert.deepEqual(
    (expected as { points: { attributes: unknown }[] }[][])[0]!.map((m) => m.points[0]!.attributes),
    [{ a: 'x' }],
    'the oracle keeps {a}',
  );
  await assertSame(c);
});

test('a View with meterSchemaUrl selects an instrument of a meter that has no schema URL, as in the SDK', async () => {
  await assertSame({
    instrument: {
      name: 'app.runs',
      kind: 'counter',
      unit: undefined,
      description: undefined,
      valueType: undefined,
    },
    scope: { name: 'app', version: '1.0', schemaUrl: undefined },
    temporality: CumulativeTemporalitySelector,
    views: [
      {
        meterSchemaUrl: 'https://opentelemetry.io/schemas/1.24.0',
        attributesProcessors: [createAllowListAttributesProcessor(['b'])],
      },
    ],
  });
});

// Names with dots, underscores and case differences; patterns made from them.
const SEGMENTS = ['app', 'App', 'APP', 'count', 'Counts', 's', 'job_runs', 'run', 'x'];
const name = fc
  .tuple(
    fc.constantFrom(...SEGMENTS),
    fc.array(fc.tuple(fc.constantFrom('.', '_'), fc.constantFrom(...SEGMENTS)), { maxLength: 2 }),
  )
  .map(([head, rest]) => head + rest.map(([sep, s]) => sep + s).join(''));

/** A name pattern: a name as it is, with case changed, or with characters and runs replaced by `*` and `?`. */
const pattern = (base: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(base),
    fc.constant(base.toLowerCase()),
    fc.constant(base.toUpperCase()),
    name,
    fc.constant('*'),
    fc
      .array(
        fc.record({
          at: fc.nat(),
          len: fc.nat({ max: 3 }),
          by: fc.constantFrom('*', '?', '*s*', 's*', '.*', '*_*'),
        }),
        { minLength: 1, maxLength: 3 },
      )
      .map((edits) =>
        edits.reduce((p, { at, len, by }) => {
          const i = at % (p.length + 1);
          return p.slice(0, i) + by + p.slice(i + len);
        }, base),
      ),
  );

const KINDS: readonly Kind[] = [
  'counter',
  'upDownCounter',
  'histogram',
  'gauge',
  'observableGauge',
];
const TYPES = [
  InstrumentType.COUNTER,
  InstrumentType.UP_DOWN_COUNTER,
  InstrumentType.HISTOGRAM,
  InstrumentType.GAUGE,
  InstrumentType.OBSERVABLE_GAUGE,
  InstrumentType.OBSERVABLE_COUNTER,
];
const UNITS = ['s', 'By', '{run}', ''];
const METERS = ['app', 'App', 'lib.jobs'];
const VERSIONS = ['', '1.0', '2.0'];
const SCHEMAS = ['https://opentelemetry.io/schemas/1.24.0', 'https://example.com/s'];

const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.option(arb, { nil: undefined });

/** `arb` in about `percent` of the runs, else undefined. */
const sometimes = <T>(percent: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 100 - percent },
    { arbitrary: arb, weight: percent },
  );

/** One of `values`, `own` (what the instrument or meter has, so the criterion holds) as likely as all the others. */
const criterion = <T>(own: T, values: readonly T[]): fc.Arbitrary<T> =>
  fc.oneof(fc.constant(own), fc.constantFrom(...values));

const TYPE_OF: Readonly<Record<Kind, InstrumentType>> = {
  counter: InstrumentType.COUNTER,
  upDownCounter: InstrumentType.UP_DOWN_COUNTER,
  histogram: InstrumentType.HISTOGRAM,
  gauge: InstrumentType.GAUGE,
  observableGauge: InstrumentType.OBSERVABLE_GAUGE,
};

const view = (instrument: Instrument, scope: Scope): fc.Arbitrary<ViewOptions> =>
  fc
    .record({
      instrumentName: sometimes(80, pattern(instrument.name)),
      instrumentType: sometimes(30, criterion(TYPE_OF[instrument.kind], TYPES)),
      instrumentUnit: sometimes(20, criterion(instrument.unit ?? '', UNITS)),
      meterName: sometimes(30, criterion(scope.name, METERS)),
      meterVersion: sometimes(20, criterion(scope.version ?? '', VERSIONS)),
      meterSchemaUrl: sometimes(20, fc.constantFrom(...SCHEMAS)),
      name: sometimes(10, fc.constantFrom('renamed', 'app.renamed')),
      description: sometimes(20, fc.constant('Described by a View.')),
      aggregation: sometimes(
        30,
        fc.constantFrom<NonNullable<ViewOptions['aggregation']>>(
          { type: AggregationType.DROP },
          { type: AggregationType.SUM },
          { type: AggregationType.LAST_VALUE },
          { type: AggregationType.DEFAULT },
          {
            type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
            options: { boundaries: [1, 10] },
          },
        ),
      ),
      keep: sometimes(80, fc.subarray(['a', 'b', 'c'])),
    })
    .map(({ keep, ...v }) => ({
      ...(Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as ViewOptions),
      ...(keep !== undefined && {
        attributesProcessors: [createAllowListAttributesProcessor(keep)],
      }),
    }));

/** Per instrument type, `option`; every other type the SDK's default. */
const only =
  (type: InstrumentType, option: AggregationOption): AggregationSelector =>
  (t) =>
    t === type ? option : { type: AggregationType.DEFAULT };

/**
 * Readers' own aggregations: sdk-node's `default_histogram_aggregation` choices (base-2
 * exponential, explicit with the SDK's boundaries), and others a selector may give.
 */
const READER_AGGREGATIONS: readonly AggregationSelector[] = [
  only(InstrumentType.HISTOGRAM, { type: AggregationType.EXPONENTIAL_HISTOGRAM }),
  only(InstrumentType.HISTOGRAM, { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM }),
  only(InstrumentType.COUNTER, { type: AggregationType.DROP }),
  only(InstrumentType.GAUGE, { type: AggregationType.SUM }),
  () => ({ type: AggregationType.LAST_VALUE }),
];

const cases: fc.Arbitrary<Case> = fc
  .record({
    instrument: fc.record({
      name,
      kind: fc.constantFrom(...KINDS),
      unit: optional(fc.constantFrom(...UNITS)),
      description: optional(fc.constant('Counted by the host.')),
      valueType: optional(fc.constantFrom(ValueType.INT, ValueType.DOUBLE)),
    }),
    scope: fc.record({
      name: fc.constantFrom(...METERS),
      version: optional(fc.constantFrom(...VERSIONS)),
      schemaUrl: optional(fc.constantFrom(...SCHEMAS)),
    }),
    temporality: fc.constantFrom(
      CumulativeTemporalitySelector,
      DeltaTemporalitySelector,
      LowMemoryTemporalitySelector,
    ),
    aggregation: sometimes(30, fc.constantFrom(...READER_AGGREGATIONS)),
  })
  .chain(({ instrument, scope, temporality, aggregation }) =>
    fc.array(view(instrument, scope), { minLength: 1, maxLength: 2 }).map((views) => ({
      instrument,
      scope,
      views,
      temporality,
      ...(aggregation !== undefined && { aggregation }),
    })),
  );

test('generated instruments and Views: jobmeter selects and serves as the SDK does', async () => {
  await fc.assert(fc.asyncProperty(cases, assertSame), {
    numRuns: 300,
    // Views with a stream name and a wildcard, or no selector, are the SDK's to refuse: some runs.
    examples: [
      [
        {
          instrument: {
            name: 'App.Count',
            kind: 'counter',
            unit: 's',
            description: undefined,
            valueType: undefined,
          },
          scope: { name: 'app', version: '1.0', schemaUrl: undefined },
          views: [{ instrumentName: 'app.count', name: 'renamed' }, { instrumentName: 'App.*' }],
          temporality: CumulativeTemporalitySelector,
        },
      ],
      // Instruments no View selects, in jobmeter's storages: OTel's delta preference keeps an
      // up-down counter cumulative; an INT instrument's values are truncated.
      ...(['upDownCounter', 'counter', 'histogram'] as const).map((kind): [Case] => [
        {
          instrument: {
            name: 'app.count',
            kind,
            unit: undefined,
            description: undefined,
            valueType: kind === 'upDownCounter' ? undefined : ValueType.INT,
          },
          scope: { name: 'app', version: undefined, schemaUrl: undefined },
          views: [{ instrumentName: 'other' }],
          temporality: DeltaTemporalitySelector,
        },
      ]),
      // A histogram no View selects, read by a reader that aggregates histograms exponentially.
      [
        {
          instrument: {
            name: 'app.wait',
            kind: 'histogram',
            unit: 's',
            description: undefined,
            valueType: undefined,
          },
          scope: { name: 'app', version: undefined, schemaUrl: undefined },
          views: [{ instrumentName: 'other' }],
          temporality: CumulativeTemporalitySelector,
          aggregation: READER_AGGREGATIONS[0]!,
        },
      ],
    ],
  });
});
