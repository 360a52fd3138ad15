// The naming stage's per-series cache: label strings rendered once per series, counters handed out
// as columns, unchanged histogram series served as the very objects of the last scrape, families
// handed out earlier never altered, and the sliced pass equal to the plain one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Collection } from '../../src/series/collection.ts';
import { StorageRegistry } from '../../src/domain/storage/registry.ts';
import type { InstrumentSpec } from '../../src/domain/types.ts';
import type {
  RenderHistogramSeries as HistogramSeries,
  RenderNumberFamily as NumberFamily,
} from '../../src/exposition/render-model.ts';
import type { NumberSeries } from '../../src/exposition/types.ts';
import { otelProfile } from '../../src/naming/profiles/otel.ts';
import { createNamer } from '../../src/naming/to-families.ts';

const SCOPE = { name: 'jobmeter', version: '1' };
const SPECS: InstrumentSpec[] = [
  {
    name: 'c',
    kind: 'counter',
    unit: '{x}',
    description: 'c',
    attributes: [{ key: 'host', cap: 100_000 }],
  },
  {
    name: 'h',
    kind: 'histogram',
    unit: 's',
    description: 'h',
    buckets: [1, 10],
    attributes: [{ key: 'host', cap: 100 }],
  },
];

async function collection(store: StorageRegistry): Promise<Collection> {
  return store.series.collect();
}

test('counters come out as columns over kept label strings; unchanged histogram series are the same objects; earlier families stay as they were', async () => {
  const store = new StorageRegistry(SPECS, { scope: SCOPE });
  const c = store.counter('c');
  const h = store.histogram('h');
  for (const host of ['a', 'b', 'c']) {
    c.add(1, { host });
    h.record(0.5, { host });
  }
  const namer = createNamer(otelProfile(false));
  const first = namer.toFamilies(await collection(store));
  c.add(5, { host: 'b' });
  h.record(3, { host: 'c' });
  const second = namer.toFamilies(await collection(store));
  const [c1, c2] = [first[0] as NumberFamily, second[0] as NumberFamily];
  const [h1, h2] = [first[1]!.series, second[1]!.series] as [HistogramSeries[], HistogramSeries[]];
  assert.ok(c1.columns !== undefined && c2.columns !== undefined, 'number families carry columns');
  assert.notEqual(c2.columns.values, c1.columns.values, 'every scrape has columns of its own');
  assert.deepEqual(c1.columns.values, [1, 1, 1], 'the first families still hold the first values');
  assert.deepEqual(c2.columns.values, [1, 6, 1]);
  assert.deepEqual(c2.columns.labels, ['host="a"', 'host="b"', 'host="c"']);
  assert.deepEqual(
    c2.series.map((s) => [s.labels, s.value]),
    [
      ['host="a"', 1],
      ['host="b"', 6],
      ['host="c"', 1],
    ],
    'the series rows, made on first read, say the same as the columns',
  );
  assert.equal(c2.series, c2.series, 'the rows are made once');
  assert.equal(h2[0], h1[0]);
  assert.notEqual(h2[2], h1[2]);
  assert.deepEqual(h1[2]!.counts, [1, 0, 0]);
  assert.deepEqual(h2[2]!.counts, [1, 1, 0]);
  assert.equal(h2[2]!.prefix, 'h_seconds_bucket{host="c",le="');
});

function gauge(points: Array<[Attributes, number]>): ResourceMetrics {
  const metric: MetricData = {
    descriptor: { name: 'g', description: 'g', unit: '', valueType: 1 },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points.map(([attributes, value]) => ({
      attributes,
      value,
      startTime: [0, 0],
      endTime: [0, 0],
    })),
  };
  return { resource: emptyResource(), scopeMetrics: [{ scope: SCOPE, metrics: [metric] }] };
}

test('new attributes objects at a position (an observable instrument) are rendered again; fewer points leave nothing behind', () => {
  const namer = createNamer(otelProfile(false));
  namer.toFamilies(
    gauge([
      [{ k: 'x' }, 1],
      [{ k: 'y' }, 2],
      [{ k: 'z' }, 3],
    ]),
  );
  const again = namer.toFamilies(
    gauge([
      [{ k: 'y' }, 2],
      [{ k: 'x' }, 5],
    ]),
  );
  assert.deepEqual(
    again[0]!.series.map((s) => [s.labels, (s as NumberSeries).value]),
    [
      ['k="y"', 2],
      ['k="x"', 5],
    ],
  );
});

test('the sliced pass gives the same families as the plain one, and lets timers run on a large collection', async () => {
  const store = new StorageRegistry(
    Array.from({ length: 30 }, (_, k) => ({ ...SPECS[0]!, name: `c${k}` })),
    { scope: SCOPE },
  );
  for (let k = 0; k < 30; k++)
    for (let i = 0; i < 5000; i++) store.counter(`c${k}`).add(i, { host: `h${i}` });
  const rm = await collection(store);
  const plain = createNamer(otelProfile(true)).toFamilies(rm);
  let turns = 0;
  const timer = setInterval(() => turns++, 0);
  try {
    const sliced = await createNamer(otelProfile(true)).toFamiliesSliced(rm, 1);
    assert.deepEqual(sliced, plain);
  } finally {
    clearInterval(timer);
  }
  assert.ok(turns > 0);
});

test('a family is marked ascii while every label string is, and not once one is not', () => {
  const namer = createNamer(otelProfile(false));
  const a = { k: 'x' };
  assert.equal(namer.toFamilies(gauge([[a, 1]]))[0]!.ascii, true);
  assert.equal(
    namer.toFamilies(
      gauge([
        [a, 1],
        [{ k: 'caf\u00e9' }, 2],
      ]),
    )[0]!.ascii,
    false,
  );
  assert.equal(
    namer.toFamilies(
      gauge([
        [a, 1],
        [{ k: 'y' }, 2],
      ]),
    )[0]!.ascii,
    true,
    'the non-ASCII series was replaced',
  );
  assert.equal(
    namer.toFamilies(
      gauge([
        [{ k: 'caf\u00e9' }, 2],
        [a, 1],
      ]),
    )[0]!.ascii,
    false,
  );
  assert.equal(
    namer.toFamilies(gauge([[a, 1]]))[0]!.ascii,
    true,
    'the non-ASCII series was dropped',
  );
});
