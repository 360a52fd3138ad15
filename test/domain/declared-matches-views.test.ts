/**
 * A declared instrument is bounded by its spec alike on both of jobmeter's paths (docs/host-apps.md,
 * "jobmeter as a reader in the host's own pipeline"): recorded by `createJobmeter({ instruments })`
 * in its own storages (through `jm.counter(name)` and the like, and through `jm.meter`'s
 * instruments of those names), and recorded on a plain `@opentelemetry/sdk-metrics` MeterProvider
 * given `jobmeterViews(profile, { instruments })`, through `createRecorder(meter, { instruments })`'s
 * handles or the meter's own instruments of those names, under every profile. A random script of
 * specs (every kind; attributes with closed vocabularies folding or dropping what is outside, capped
 * ones; buckets; exemplars), of records and observations (through the handles, their `bind` and the
 * meter's instruments; sets with keys left out and keys not declared, values inside and outside the
 * vocabularies, numbers, booleans, arrays, undefined and null, values past 256 characters, more
 * distinct values than a cap; values negative, NaN, infinite), of runs of the domain API into the
 * catalog's instruments, and of collections by cumulative and delta readers runs on both, and every
 * collection must be the same: descriptors, point types, temporality, which series exist,
 * attributes and values; times and scopes aside.
 *
 * The documented differences are applied to the host's side of the script: a value jobmeter
 * refuses is not recorded through the host's own instrument there (the SDK's, unguarded); each
 * instrument is recorded one way there (see `run`). An observable counter observes running
 * totals that never go down in the scripts: a total that does is a reset, whose cumulative value
 * the SDK keeps for one reader but adds on for a second reader that collected in between (its
 * delta, the new total on both: the test of a reset below).
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import fc from 'fast-check';
import { diag, DiagLogLevel, metrics, type Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { MAX_SERIES_PER_INSTRUMENT } from '../../src/domain/bounded-attributes.ts';
import type { AttributeSpec, InstrumentSpec } from '../../src/domain/types.ts';
import { invalidValue } from '../../src/domain/record-guard.ts';
import type { Recorder } from '../../src/domain/recorder.ts';
import { createRecorder } from '../../src/host-recorder.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import { jobmeterViews } from '../../src/jobmeter-views.ts';
import { PROFILE_NAMES, type ProfileName } from '../../src/options.ts';
import { byJson, comparableMetric } from '../support/comparable-metric.ts';

class CollectingReader extends MetricReader {
  constructor(temporality: 'cumulative' | 'delta') {
    super({
      aggregationTemporalitySelector: () =>
        temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
    });
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

afterEach(() => metrics.disable());

type SyncKind = 'counter' | 'upDownCounter' | 'histogram' | 'gauge';
type Kind = SyncKind | 'observableCounter' | 'observableUpDownCounter' | 'observableGauge';

type Step =
  | {
      readonly op: 'record';
      readonly instrument: number;
      readonly value: number;
      readonly attributes: Attributes | undefined;
      /** Through the API instrument of the name (`jm.meter`'s on jobmeter's side) rather than the declared handle. */
      readonly meter: boolean;
      /** Through the declared handle's `bind` (when not through the meter's instrument). */
      readonly bound?: boolean;
    }
  | { readonly op: 'collect'; readonly reader: number }
  /** A run of the domain API, into jobmeter's catalog instruments. */
  | {
      readonly op: 'run';
      readonly task: string;
      readonly runner: string | undefined;
      readonly outcome: 'success' | 'failure';
      readonly seconds: number;
    };

interface Script {
  readonly specs: readonly (InstrumentSpec & { kind: Kind })[];
  readonly readers: readonly ('cumulative' | 'delta')[];
  readonly steps: readonly Step[];
  /** The profile of both sides. @default 'otel' */
  readonly profile?: ProfileName;
}

/** Records `value` with `attributes`; through a handle bound to them first when `bound` (a declared handle's `bind`). */
type Record = (value: number, attributes: Attributes | undefined, bound?: boolean) => void;
type Handle<M extends string> = { [m in M]: (value: number, attributes?: Attributes) => void } & {
  bind(attributes?: Attributes): { [m in M]: (value: number) => void };
};

/** The declared handle, or the meter's instrument of that name, of `spec`. */
function recorderOf(
  spec: Script['specs'][number],
  declared: {
    counter(n: string): Handle<'add'>;
    histogram(n: string): Handle<'record'>;
    gauge(n: string): Handle<'record'>;
    observe(n: string, callback: () => { value: number; attributes?: Attributes }[]): void;
  },
  meter: ReturnType<MeterProvider['getMeter']>,
  viaMeter: boolean,
): Record {
  const options = { unit: spec.unit, description: spec.description };
  switch (spec.kind) {
    case 'observableCounter':
    case 'observableUpDownCounter':
    case 'observableGauge': {
      // Each set given is observed at every collection after, as a callback reads its source's
      // state: a counter's running total of what it was given (never lower: see the file comment),
      // else the last value given.
      const observed = new Map<string, { value: number; attributes?: Attributes }>();
      declared.observe(spec.name, () => [...observed.values()]);
      return (value, attributes) => {
        const key = JSON.stringify(attributes ?? null);
        const total = observed.get(key)?.value ?? 0;
        const next =
          spec.kind !== 'observableCounter'
            ? value
            : Number.isFinite(value)
              ? total + Math.abs(value)
              : total;
        observed.set(key, attributes === undefined ? { value: next } : { value: next, attributes });
      };
    }
    case 'counter':
    case 'upDownCounter': {
      if (!viaMeter) {
        const c = declared.counter(spec.name);
        return (v, a, bound) => (bound === true ? c.bind(a).add(v) : c.add(v, a));
      }
      const c =
        spec.kind === 'counter'
          ? meter.createCounter(spec.name, options)
          : meter.createUpDownCounter(spec.name, options);
      return (v, a) => c.add(v, a);
    }
    case 'histogram':
    case 'gauge': {
      if (!viaMeter) {
        const h = spec.kind === 'gauge' ? declared.gauge(spec.name) : declared.histogram(spec.name);
        return (v, a, bound) => (bound === true ? h.bind(a).record(v) : h.record(v, a));
      }
      const h =
        spec.kind === 'gauge'
          ? meter.createGauge(spec.name, options)
          : meter.createHistogram(spec.name, options);
      return (v, a) => h.record(v, a);
    }
  }
}

/**
 * One collection as compared: the script's instruments and the runs' (the catalog's under the
 * otel profile; a legacy profile's Views keep only the attributes its rules read, jobmeter-views.ts),
 * times and scopes aside.
 */
function normalised(rm: ResourceMetrics, profile: ProfileName): unknown {
  return rm.scopeMetrics
    .flatMap((sm) => sm.metrics)
    .filter(
      (m) =>
        m.descriptor.name.startsWith('app.') ||
        // The last failure's time is each side's own clock's.
        (profile === 'otel' &&
          m.descriptor.name.startsWith('jobmeter.run.') &&
          m.descriptor.name !== 'jobmeter.run.last_failure.time'),
    )
    .map(comparableMetric)
    .sort(byJson);
}

async function run(
  script: Script,
  readers: readonly MetricReader[],
  declared: Parameters<typeof recorderOf>[1],
  meter: ReturnType<MeterProvider['getMeter']>,
  oracle: boolean,
  domain: Pick<Recorder, 'recordRun'>,
): Promise<unknown[]> {
  const handles = new Map<string, Record>();
  const routes: (boolean | undefined)[] = [];
  const collections: unknown[] = [];
  for (const step of script.steps) {
    if (step.op === 'collect') {
      collections.push(
        normalised(
          (await readers[step.reader]!.collect()).resourceMetrics,
          script.profile ?? 'otel',
        ),
      );
      continue;
    }
    if (step.op === 'run') {
      domain.recordRun({
        task: step.task,
        ...(step.runner !== undefined && { runner: step.runner }),
        outcome: step.outcome,
        durationSeconds: step.seconds,
      });
      continue;
    }
    const spec = script.specs[step.instrument]!;
    // The host's own instrument of a declared name is the SDK's, unguarded on its provider
    // (docs/host-apps.md, "What is guarded on your own provider"): what jobmeter refuses is not
    // recorded there either.
    // On the host's provider each instrument is recorded one way, the script's first for it: the
    // recorder's handle folds by its spec before the View folds again, each fold remembering the
    // values of its own caps, so a capped value the View took from the meter's instrument is not
    // one the handle took (listed in docs/host-apps.md).
    // An observable is fed by its declared callback only (observe()).
    const viaMeter =
      !spec.kind.startsWith('observable') &&
      (oracle ? (routes[step.instrument] ??= step.meter) : step.meter);
    if (oracle && viaMeter && invalidValue(step.value, NON_NEGATIVE.has(spec.kind))) continue;
    const key = `${step.instrument}/${viaMeter}`;
    let record = handles.get(key);
    if (record === undefined)
      handles.set(key, (record = recorderOf(spec, declared, meter, viaMeter)));
    // A bound handle makes its series at once (a Prometheus client's child of `labels()`), served
    // at 0 before a record where the SDK has none (docs/host-apps.md): bound only to record.
    record(
      step.value,
      step.attributes,
      step.bound === true && invalidValue(step.value, NON_NEGATIVE.has(spec.kind)) === undefined,
    );
  }
  return collections;
}

const NON_NEGATIVE: ReadonlySet<Kind> = new Set(['counter', 'histogram']);

async function viewsOf(script: Script): Promise<unknown[]> {
  const readers = script.readers.map((t) => new CollectingReader(t));
  const provider = new MeterProvider({
    readers,
    views: jobmeterViews(script.profile ?? 'otel', { instruments: script.specs }),
  });
  const meter = provider.getMeter('jobmeter');
  try {
    const recorder = createRecorder(meter, {
      instruments: script.specs,
      profile: script.profile ?? 'otel',
    });
    return await run(script, readers, recorder, meter, true, recorder);
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
    instruments: script.specs,
    profile: script.profile ?? 'otel',
    readers,
  });
  try {
    return await run(script, readers, jm, jm.meter, false, jm);
  } finally {
    await jm.shutdown();
  }
}

async function assertSame(script: Script): Promise<void> {
  const expected = await viewsOf(script);
  const actual = await jobmeterOf(script);
  for (const [i, e] of expected.entries())
    assert.deepStrictEqual(actual[i], e, `collection ${i + 1}`);
}

const LONG = 'v'.repeat(300);
// `drop` is an observable instrument's (a record of another kind folds: check-specs.ts refuses it).
const attributeSpec = (key: string, observed: boolean): fc.Arbitrary<AttributeSpec> =>
  fc
    .oneof(
      fc.record({
        key: fc.constant(key),
        values: fc.subarray(['x', 'y', 'other', LONG.slice(0, 255) + '\u2026'], { minLength: 1 }),
        outside: fc.constantFrom(
          undefined,
          'other' as const,
          ...(observed ? ['drop' as const] : []),
        ),
      }),
      fc.record({ key: fc.constant(key), cap: fc.integer({ min: 1, max: 3 }) }),
    )
    .map((a) => Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as never);

const spec = (name: string): fc.Arbitrary<Script['specs'][number]> =>
  fc
    .record({
      kind: fc.constantFrom<Kind>(
        'counter',
        'upDownCounter',
        'histogram',
        'gauge',
        'observableCounter',
        'observableUpDownCounter',
        'observableGauge',
      ),
      keys: fc.subarray(['k', 'm'], { minLength: 0 }),
      buckets: fc.constantFrom(undefined, [1, 5], [0]),
      exemplars: fc.boolean(),
    })
    .chain(({ kind, keys, buckets, exemplars }) =>
      fc
        .tuple(...keys.map((k) => attributeSpec(k, kind.startsWith('observable'))))
        .map((attributes) => ({
          name,
          kind,
          unit: '1',
          description: `${name}.`,
          attributes,
          exemplars,
          ...(kind === 'histogram' && buckets !== undefined && { buckets }),
        })),
    );

const attributeValue = fc.oneof(
  fc.constantFrom('x', 'y', 'z', 'w', 'other', ''),
  fc.constantFrom(LONG, LONG + 'b', LONG.slice(0, 255) + '\u2026'),
  fc.constantFrom(1, 1.5, true, false, ['x', 'y'], [LONG], [1]),
  // Left out, as the spec's folds leave a key whose value is undefined or null.
  fc.constantFrom(undefined, null) as fc.Arbitrary<never>,
);
const attributes: fc.Arbitrary<Attributes | undefined> = fc.option(
  fc.dictionary(fc.constantFrom('k', 'm', 'e'), attributeValue, { maxKeys: 3 }),
  { nil: undefined },
);
// Quarters, whose sums are exact (a storage's delta is a difference of totals: docs/host-apps.md).
const value = fc.oneof(
  { arbitrary: fc.integer({ min: -3, max: 20 }).map((n) => n / 4), weight: 8 },
  { arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0), weight: 1 },
);

const scripts: fc.Arbitrary<Script> = fc
  .record({
    specs: fc
      .tuple(spec('app.a'), spec('app.b'), spec('app.c'))
      .chain((all) => fc.subarray(all, { minLength: 1 })),
    readers: fc.array(fc.constantFrom('cumulative' as const, 'delta' as const), {
      minLength: 1,
      maxLength: 2,
    }),
    profile: fc.constantFrom(...PROFILE_NAMES),
  })
  .chain(({ specs, readers, profile }) =>
    fc
      .array<Step>(
        fc.oneof(
          {
            arbitrary: fc.record({
              op: fc.constant('record' as const),
              instrument: fc.nat({ max: specs.length - 1 }),
              value,
              attributes,
              meter: fc.boolean(),
              bound: fc.boolean(),
            }),
            weight: 5,
          },
          {
            arbitrary: fc.record({
              op: fc.constant('run' as const),
              task: fc.constantFrom('build', 'test', 'lint', 'docs', '', LONG),
              runner: fc.constantFrom(undefined, 'wasm', 'vm'),
              outcome: fc.constantFrom('success' as const, 'failure' as const),
              seconds: fc.constantFrom(0.25, 2, 90, -1, NaN),
            }),
            weight: 1,
          },
          {
            arbitrary: fc.record({
              op: fc.constant('collect' as const),
              reader: fc.nat({ max: readers.length - 1 }),
            }),
            weight: 1,
          },
        ),
        { maxLength: 60 },
      )
      .map((steps) => ({
        specs,
        readers,
        profile,
        steps: [...steps, ...readers.map((_, reader) => ({ op: 'collect' as const, reader }))],
      })),
  );

test("a declared instrument's records: the same data points from jobmeter's storages as from a plain SDK provider with jobmeterViews and createRecorder", async () => {
  diag.setLogger(
    { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} },
    DiagLogLevel.WARN,
  );
  try {
    await fc.assert(fc.asyncProperty(scripts, assertSame), {
      numRuns: Number(process.env.RUNS ?? 300),
    });
  } finally {
    diag.disable();
  }
});

test("past an instrument's series ceiling: the overflow series on both paths, its records in none other", async () => {
  const [a, b] = [200, 100];
  const steps: Step[] = [];
  for (let i = 0; i < MAX_SERIES_PER_INSTRUMENT + 20; i++) {
    // A collection before the ceiling is reached: the SDK counts its limit per collection.
    if (i === MAX_SERIES_PER_INSTRUMENT - 1) steps.push({ op: 'collect', reader: 0 });
    steps.push({
      op: 'record',
      instrument: 0,
      value: 1,
      attributes: { k: `k${i % a}`, m: `m${Math.floor(i / a) % b}` },
      meter: false,
    });
  }
  const script: Script = {
    specs: [
      {
        name: 'app.a',
        kind: 'counter',
        unit: '1',
        description: 'app.a.',
        attributes: [
          { key: 'k', cap: a },
          { key: 'm', cap: b },
        ],
      },
    ],
    readers: ['cumulative'],
    steps: [...steps, { op: 'collect', reader: 0 }],
  };
  await assertSame(script);
  const [, collected] = (await viewsOf(script)) as { points: { attributes: Attributes }[] }[][];
  assert.deepEqual(collected![0]!.points.at(-1)!.attributes, { 'otel.metric.overflow': true });
});

test('an observable counter observed lower than before (a reset): a delta reader gets the new total, as from the SDK, never a negative count', async () => {
  const specs = [
    { name: 'app.a', kind: 'observableCounter', unit: '1', description: 'app.a.', attributes: [] },
  ] as const;
  const totals = [0.75, 0.25, 0.5];
  /** The deltas `reader` gets of the counter observing `totals`, one collection each. */
  const deltas = async (
    reader: MetricReader,
    observe: (name: string, callback: () => number) => void,
  ): Promise<unknown[]> => {
    let at = 0;
    observe('app.a', () => totals[at]!);
    const got = [];
    for (; at < totals.length; at++)
      got.push(normalised((await reader.collect()).resourceMetrics, 'otel'));
    return got;
  };
  const sdkReader = new CollectingReader('delta');
  const provider = new MeterProvider({
    readers: [sdkReader],
    views: jobmeterViews('otel', { instruments: specs }),
  });
  const recorder = createRecorder(provider.getMeter('jobmeter'), { instruments: specs });
  const expected = await deltas(sdkReader, (n, cb) => recorder.observe(n as 'app.a', cb));
  await provider.shutdown();
  const reader = new CollectingReader('delta');
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    instruments: specs,
    readers: [reader],
  });
  const actual = await deltas(reader, (n, cb) => jm.observe(n as 'app.a', cb));
  await jm.shutdown();
  assert.deepEqual(actual, expected);
  assert.deepEqual(
    (expected as { points: { value: number }[] }[][]).map((c) => c[0]!.points[0]!.value),
    [0.75, 0.25, 0.25],
  );
});
