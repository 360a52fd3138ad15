// The naming pass reads the store's series sets as columns (a Collection, series/) instead
// of points: the same families as from the MetricData a reader gets, and as from the same records
// made through the OpenTelemetry SDK (its MetricData made columns, series/metric-columns.ts: a
// compiled rule has one emit), under the native profile and a legacy table (scaled,
// summed, zero-filled, from a histogram's sum and count), with start times; a counter family's
// label array is the last scrape's while its series stay the same and a new one when they change;
// families handed out earlier never change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  ValueType,
  type Attributes,
  type Counter,
  type Gauge,
  type Histogram,
} from '@opentelemetry/api';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Collection } from '../../src/series/collection.ts';
import { StorageRegistry } from '../../src/domain/storage/registry.ts';
import type { SumStorage } from '../../src/domain/storage/sum.ts';
import type { InstrumentSpec } from '../../src/domain/types.ts';
import { render } from '../../src/exposition/render.ts';
import type { RenderFamily, RenderNumberFamily } from '../../src/exposition/render-model.ts';
import type { CompiledRule } from '../../src/naming/compiled-rule.ts';
import { compileNative } from '../../src/naming/native-rules.ts';
import { otelProfile } from '../../src/naming/profiles/otel.ts';
import { compileTableRule } from '../../src/naming/table-rules.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import type { Profile, TableProfile } from '../../src/naming/types.ts';

const SCOPE = { name: 'jobmeter', version: '1' };
const SPECS: InstrumentSpec[] = [
  {
    name: 'c',
    kind: 'counter',
    unit: '{x}',
    description: 'c',
    attributes: [
      { key: 'host', cap: 1000 },
      { key: 'kind', cap: 10 },
    ],
  },
  {
    name: 'g',
    kind: 'gauge',
    unit: '',
    description: 'g',
    attributes: [{ key: 'host', cap: 1000 }],
  },
  { name: 'u', kind: 'upDownCounter', unit: '', description: 'u', attributes: [] },
  {
    name: 'h',
    kind: 'histogram',
    unit: 's',
    description: 'h',
    buckets: [0.1, 1, 10],
    attributes: [{ key: 'host', cap: 1000 }],
  },
];

const TABLE: TableProfile = {
  kind: 'table',
  name: 'columns-test',
  prefix: 't_',
  format: 'negotiate',
  rules: [
    // `kind` dropped: series that then coincide are summed.
    { instrument: 'c', name: 't_c_total', type: 'counter', help: 'c', labels: [['host', 'host']] },
    {
      instrument: 'g',
      name: 't_g',
      type: 'gauge',
      help: 'g',
      labels: [['host', 'h']],
      zeroFill: { h: ['z0', 'a'] },
    },
    { instrument: 'u', name: 't_u', type: 'gauge', help: 'u', emitZero: true },
    {
      instrument: 'h',
      name: 't_h_ms',
      type: 'histogram',
      help: 'h',
      labels: [['host', 'host']],
      scale: 1000,
    },
    {
      instrument: 'h',
      name: 't_h_ms_sum',
      type: 'counter',
      help: 'h sum',
      from: 'sum',
      scale: 1000,
    },
    { instrument: 'h', name: 't_h_count', type: 'counter', help: 'h count', from: 'count' },
  ],
};

/** What `record` writes through: the store, or the OpenTelemetry SDK's instruments ({@link sdkOf}). */
interface Recording {
  counter(name: string): { add(value: number, attributes?: Attributes): void };
  gauge(name: string): { record(value: number, attributes: Attributes): void };
  histogram(name: string): { record(value: number, attributes: Attributes): void };
}

function record(store: Recording, round: number): void {
  const c = store.counter('c');
  const g = store.gauge('g');
  const h = store.histogram('h');
  for (let i = 0; i < 5 + round; i++) {
    c.add(i + round, { host: `h${i}`, kind: i % 2 === 0 ? 'x' : 'y' });
    c.add(1, { host: `h${i}`, kind: 'z' });
    g.record(i * round, { host: i === 0 ? 'a' : `h${i}` });
    h.record(0.05 * (i + 1) * (round + 1), { host: `h${i}` });
  }
  store.counter('u').add(round - 2);
}

async function collect(store: StorageRegistry): Promise<Collection> {
  return store.series.collect();
}

async function points(store: StorageRegistry): Promise<ResourceMetrics> {
  return (await store.series.producer().collect()).resourceMetrics;
}

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** SPECS as the OpenTelemetry SDK's instruments, and what its reader collects. */
function sdkOf(specs: readonly InstrumentSpec[]): {
  sdk: Recording;
  collect: () => Promise<ResourceMetrics>;
} {
  const reader = new CollectingReader();
  const meter = new MeterProvider({ readers: [reader] }).getMeter(SCOPE.name, SCOPE.version);
  const made = new Map<string, Counter & Gauge & Histogram>();
  for (const { name, kind, unit, description, buckets } of specs) {
    const options = { unit, description };
    const instrument =
      kind === 'counter'
        ? meter.createCounter(name, options)
        : kind === 'upDownCounter'
          ? meter.createUpDownCounter(name, options)
          : kind === 'gauge'
            ? meter.createGauge(name, options)
            : meter.createHistogram(name, {
                ...options,
                ...(buckets !== undefined && {
                  advice: { explicitBucketBoundaries: [...buckets] },
                }),
              });
    made.set(name, instrument as Counter & Gauge & Histogram);
  }
  const of = (name: string) => made.get(name)!;
  return {
    sdk: { counter: of, gauge: of, histogram: of },
    collect: async () => (await reader.collect()).resourceMetrics,
  };
}

const PROFILES: Array<[string, Profile]> = [
  ['native', otelProfile(false)],
  ['native with start times', { ...otelProfile(true), startTimestamps: true }],
  ['a legacy table', TABLE],
  ['a legacy table with start times', { ...TABLE, startTimestamps: true }],
];

for (const [what, profile] of PROFILES) {
  test(`${what}: the families read from columns are those read from points, scrape after scrape`, async () => {
    const store = new StorageRegistry(SPECS, {
      scope: SCOPE,
      clock: { wallMillis: () => 1_700_000_000_000, monotonicMillis: () => 0 },
    });
    const fromColumns = createNamer(profile);
    const fromPoints = createNamer(profile);
    for (let round = 0; round < 4; round++) {
      record(store, round);
      const viaColumns = await collect(store);
      assert.equal(
        viaColumns.series[0]!.series.length,
        4,
        'the collection holds every set as columns',
      );
      assert.equal(viaColumns.metrics.length, 0, 'and no MetricData');
      const viaPoints = await points(store);
      const a = fromColumns.toFamilies(viaColumns);
      const b = fromPoints.toFamilies(viaPoints);
      assert.ok(a.length > 0);
      for (const format of ['text', 'openmetrics'] as const)
        assert.equal(render(format, a), render(format, b), `${format}, round ${round}`);
    }
  });
}

for (const [what, profile] of PROFILES) {
  test(`${what}: the same records through the OpenTelemetry SDK and through the store are named alike, scrape after scrape`, async () => {
    const store = new StorageRegistry(SPECS, {
      scope: SCOPE,
      clock: { wallMillis: () => 1_700_000_000_000, monotonicMillis: () => 0 },
    });
    const { sdk, collect: collectSdk } = sdkOf(SPECS);
    const fromStore = createNamer(profile);
    const fromSdk = createNamer(profile);
    for (let round = 0; round < 4; round++) {
      record(store, round);
      record(sdk, round);
      // Each engine has a resource of its own (target_info).
      const instruments = (families: RenderFamily[]) =>
        families.filter((f) => f.name !== 'target_info');
      const viaStore = instruments(fromStore.toFamilies(await collect(store)));
      const viaSdk = instruments(fromSdk.toFamilies(await collectSdk()));
      assert.ok(viaStore.length >= SPECS.length);
      if (profile.startTimestamps === true) {
        // Each engine has its own start times: the families are compared without them.
        for (const format of ['text', 'openmetrics'] as const)
          assert.equal(
            render(format, viaSdk).replace(/^\S+_created.*\n/gm, ''),
            render(format, viaStore).replace(/^\S+_created.*\n/gm, ''),
            `round ${round}: ${format}`,
          );
      } else assert.deepEqual(viaSdk, viaStore, `round ${round}`);
    }
  });
}

test('a compiled rule, native or from a table, is data read by one emit path, emitSeries, reading columns (its one function names a series for the push)', () => {
  const native = compileNative(
    otelProfile(true),
    {
      descriptor: { name: 'c', description: 'c', unit: '', valueType: ValueType.DOUBLE },
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
    },
    SCOPE,
  );
  const noLabels = { text: '', attributes: {} };
  for (const rule of [...native, ...TABLE.rules.map((r) => compileTableRule(r, noLabels, false))]) {
    const functions = Object.entries(rule)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k)
      .sort();
    assert.deepEqual(functions, ['named'], `${rule.family.name}: one emit path`);
  }
  // The type says so too (tsc checks this file): another function member fails to compile here.
  const only: OnlyFunctions<CompiledRule> = 'named';
  assert.equal(only, 'named');
});

/** T's function members. */
type FunctionKeys<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T];
/** `'named'` when that is T's one function member, else `never`. */
type OnlyFunctions<T> = [FunctionKeys<T>] extends ['named']
  ? ['named'] extends [FunctionKeys<T>]
    ? 'named'
    : never
  : never;

test('a counter family shares its label array while its series stay the same; families handed out earlier never change', async () => {
  const store = new StorageRegistry(SPECS, { scope: SCOPE });
  const c = store.counter('c');
  for (const host of ['a', 'b']) c.add(1, { host, kind: 'x' });
  const namer = createNamer(otelProfile(false));
  const counter = (families: RenderFamily[]) =>
    families.find((f) => f.name === 'c_total') as RenderNumberFamily;
  const first = counter(namer.toFamilies(await collect(store)));
  c.add(5, { host: 'b', kind: 'x' });
  const second = counter(namer.toFamilies(await collect(store)));
  assert.equal(second.columns!.labels, first.columns!.labels, 'same series: the same label array');
  c.add(1, { host: 'c', kind: 'x' });
  const third = counter(namer.toFamilies(await collect(store)));
  assert.notEqual(third.columns!.labels, second.columns!.labels, 'a new series: a new label array');
  c.add(100, { host: 'a', kind: 'x' });
  await collect(store);
  assert.deepEqual([...first.columns!.labels], ['host="a",kind="x"', 'host="b",kind="x"']);
  assert.deepEqual(
    Array.from(first.columns!.values),
    [1, 1],
    'the first scrape still says what it said',
  );
  assert.deepEqual(Array.from(second.columns!.values), [1, 6]);
  assert.deepEqual(
    [...third.columns!.labels],
    ['host="a",kind="x"', 'host="b",kind="x"', 'host="c",kind="x"'],
  );
  assert.deepEqual(Array.from(third.columns!.values), [1, 6, 1]);
});

test('an instrument that keeps exemplars: its columns carry them, and the families are those read from its points', async () => {
  const store = new StorageRegistry(
    [
      { ...SPECS[0]!, exemplars: true },
      { ...SPECS[3]!, exemplars: true },
    ],
    { scope: SCOPE },
  );
  const traced = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
  });
  store.counter('c').add(1, { host: 'a', kind: 'x' }, traced);
  store.counter('c').add(2, { host: 'b', kind: 'x' });
  store.histogram('h').record(0.5, { host: 'a' }, traced);
  const c = await collect(store);
  assert.ok(c.series[0]!.series.every((s) => s.exemplars !== undefined));
  for (const profile of [otelProfile(false), TABLE]) {
    const text = render('openmetrics', createNamer(profile).toFamilies(c));
    assert.match(text, /trace_id="0af7651916cd43dd8448eb211c80319c"/);
    assert.equal(text, render('openmetrics', createNamer(profile).toFamilies(await points(store))));
  }
});

test('two instruments feeding one family: the second merges into a copy, the label array it started from is not touched', async () => {
  const store = new StorageRegistry([], { scope: SCOPE });
  const a = store.host({ name: 'scope-a' }, 'x', 'counter', {}, 100) as SumStorage;
  const b = store.host({ name: 'scope-b' }, 'x', 'counter', {}, 100) as SumStorage;
  a.add(1, { host: 'h1' });
  a.add(2, { host: 'h2' });
  b.add(10, { host: 'h2' });
  b.add(20, { host: 'h3' });
  // Without scope labels both scopes' `x` are the one family `x_total`.
  const namer = createNamer(otelProfile(false));
  const family = (families: RenderFamily[]) =>
    families.find((f) => f.name === 'x_total') as RenderNumberFamily;
  const first = family(namer.toFamilies(await collect(store)));
  assert.deepEqual(
    first.series.map((s) => [s.labels, s.value]),
    [
      ['host="h1"', 1],
      ['host="h2"', 12],
      ['host="h3"', 20],
    ],
  );
  const second = family(namer.toFamilies(await collect(store)));
  assert.deepEqual([...second.columns!.labels], ['host="h1"', 'host="h2"', 'host="h3"']);
  assert.deepEqual(Array.from(second.columns!.values), [1, 12, 20]);
  assert.deepEqual(
    [...first.columns!.labels],
    ['host="h1"', 'host="h2"', 'host="h3"'],
    "the first pass's family is as it was",
  );
});

test('a collection given back lends its storage to the next one; families named from it keep their figures', async () => {
  const store = new StorageRegistry(SPECS, { scope: SCOPE });
  const c = store.counter('c');
  const h = store.histogram('h');
  c.add(1, { host: 'a', kind: 'x' });
  h.record(0.5, { host: 'a' });
  const namer = createNamer(otelProfile(false));
  const first = await collect(store);
  const families = namer.toFamilies(first);
  const text = render('text', families);
  const storageOf = (c: Collection) => c.series[0]!.series[0]!.values.buffer;
  const kept = await collect(store);
  assert.notEqual(storageOf(kept), storageOf(first), 'storage not given back is not lent again');
  first.done();
  first.done();
  c.add(41, { host: 'a', kind: 'x' });
  h.record(7, { host: 'a' });
  const next = await collect(store);
  assert.equal(
    storageOf(next),
    storageOf(first),
    'the storage given back serves the next collection',
  );
  const again = namer.toFamilies(next);
  assert.equal(render('text', families), text, 'the first families still say what they said');
  assert.match(render('text', again), /^c_total\{host="a",kind="x"\} 42$/m);
  assert.match(render('text', again), /^h_seconds_count\{host="a"\} 2$/m);
});
