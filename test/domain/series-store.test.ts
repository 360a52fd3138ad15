// The series store (series/): how every reader reads it — bound once through its public
// setMetricProducer, never patched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregationTemporality, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { JobmeterMeterProvider } from '../../src/domain/meter-provider.ts';
import { RecordGuard } from '../../src/domain/record-guard.ts';
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
