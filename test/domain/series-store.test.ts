// The series store (series/): the label strings it holds for a reader (made once per
// series, the same array while no series is added, never changed once handed out), and how every
// reader reads it — bound once through its public setMetricProducer, never patched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregationTemporality, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { JobmeterMeterProvider } from '../../src/domain/meter-provider.ts';
import { RecordGuard } from '../../src/domain/record-guard.ts';
import { countingRender } from '../support/counting-render.ts';
import { StorageRegistry } from '../../src/domain/storage/registry.ts';
import type { InstrumentSpec } from '../../src/domain/types.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';

const SCOPE = { name: 'jobmeter', version: '1' };
const SPEC: InstrumentSpec = {
  name: 'c',
  kind: 'counter',
  unit: '',
  description: 'c',
  attributes: [{ key: 'host', cap: 100 }],
};

const counting = () => countingRender('host');

/** A store whose counter holds two series (`host` a and b), and a counting render. */
function twoSeries() {
  const store = new StorageRegistry([SPEC], { scope: SCOPE });
  const c = store.counter('c');
  c.add(1, { host: 'a' });
  c.add(1, { host: 'b' });
  return { store, c, render: counting() };
}

test("a set holds each series' label string once per render; the array is kept while no series is added, and a handed-out one never changes", async () => {
  const { store, c, render } = twoSeries();
  const first = (await store.series.collect()).series[0]!.series[0]!.labels(render);
  assert.deepEqual(first.strings, ['host="a"', 'host="b"']);
  assert.equal(render.calls, 2);
  c.add(5, { host: 'a' });
  const second = (await store.series.collect()).series[0]!.series[0]!.labels(render);
  assert.equal(second.strings, first.strings, 'no series added: the same array');
  assert.equal(render.calls, 2, 'no string made again');
  c.add(1, { host: 'caf\u00e9' });
  const third = (await store.series.collect()).series[0]!.series[0]!.labels(render);
  assert.notEqual(third.strings, first.strings, 'a series added: a new array');
  assert.deepEqual(
    first.strings,
    ['host="a"', 'host="b"'],
    'the array handed out earlier is as it was',
  );
  assert.deepEqual(third.strings, ['host="a"', 'host="b"', 'host="café"']);
  assert.equal(render.calls, 3, "only the new series' string is made");
  assert.equal(third.nonAscii, 1);
  const other = counting();
  assert.deepEqual(
    (await store.series.collect()).series[0]!.series[0]!.labels(other).strings,
    third.strings,
    'another render has strings of its own',
  );
  assert.equal(other.calls, 3);
});

test("a column whose strings no reader reads keeps none: each series' string is made once to check it, then only when asked for", async () => {
  const { store, c, render } = twoSeries();
  const first = (await store.series.collect()).series[0]!.series[0]!.labels(render);
  assert.equal(render.calls, 2, 'each new series checked once');
  assert.equal(first.at(1), 'host="b"');
  assert.equal(render.calls, 2, 'a string checked at this collection is not made again');
  assert.deepEqual(
    first.keys.slice(0, 2),
    [{ host: 'a' }, { host: 'b' }],
    "keyed by the series' attributes",
  );
  assert.equal(first.maker, render);
  c.add(1, { host: 'c' });
  const second = (await store.series.collect()).series[0]!.series[0]!.labels(render);
  assert.equal(render.calls, 3, 'only the new series checked');
  assert.equal(second.keys[0], first.keys[0], 'the same key for the same series');
  assert.equal(second.at(0), 'host="a"');
  assert.equal(render.calls, 4, 'not kept: made again when asked for');
  assert.deepEqual(second.strings, ['host="a"', 'host="b"', 'host="c"']);
  const third = (await store.series.collect()).series[0]!.series[0]!.labels(render);
  assert.equal(third.strings, second.strings, 'read once: kept from then on');
  assert.equal(third.at(2), 'host="c"');
  assert.equal(
    render.calls,
    6,
    'the array made the two strings not made at that collection, and none since',
  );
});

class PlainReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

test('every reader reads the store after the SDK, bound once through its public setMetricProducer; one that reads the store itself reads the SDK alone', async () => {
  const standard = new PlainReader({
    aggregationTemporalitySelector: () => AggregationTemporality.DELTA,
  });
  const pull = newPullReader([]);
  const provider = new JobmeterMeterProvider(
    { readers: [standard, pull] },
    {
      guard: new RecordGuard(),
      specs: [SPEC],
      scope: SCOPE,
      readsStore: (r) => r === pull,
    },
  );
  for (const r of [standard, pull])
    assert.equal(Object.hasOwn(r, 'setMetricProducer'), false, 'the reader is not patched');
  provider.getMeter(SCOPE.name, SCOPE.version).createCounter('c').add(2, { host: 'a' });
  provider
    .getMeter('host')
    .createObservableGauge('g')
    .addCallback((o) => o.observe(1));
  const names = (ms: MetricData[]) => ms.map((m) => m.descriptor.name);
  const flat = async (r: MetricReader) =>
    (await r.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  const delta = await flat(standard);
  assert.deepEqual(names(delta), ['c', 'g'], 'the store first, then the SDK');
  assert.equal(
    delta[0]!.aggregationTemporality,
    AggregationTemporality.DELTA,
    "the reader's temporality",
  );
  assert.deepEqual(names(await flat(pull)), ['g'], 'the pull reader: the SDK alone');
  assert.deepEqual(
    names((await provider.collectWithStorages(pull)).scopeMetrics.flatMap((s) => s.metrics)),
    ['c', 'g'],
    'with the storages for the cluster report',
  );
  await provider.shutdown();
});
