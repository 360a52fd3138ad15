// The SDK's provider behind jobmeter's (domain/meter-provider.ts) is made when something first
// needs it: not for jobmeter's storages (own and a host's synchronous instruments no View
// selects) or a collection of the store, but with the first instrument the SDK records, once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValueType } from '@opentelemetry/api';
import type { MeterProviderOptions } from '@opentelemetry/sdk-metrics';
import { JobmeterMeterProvider } from '../../src/domain/meter-provider.ts';
import { RecordGuard } from '../../src/domain/record-guard.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';

const SCOPE = { name: 'jobmeter', version: 'test' };

function lazyProvider(): { provider: JobmeterMeterProvider; made: () => number } {
  let made = 0;
  const reader = newPullReader();
  const provider = new JobmeterMeterProvider(
    (): MeterProviderOptions => {
      made++;
      return { readers: [reader] };
    },
    {
      guard: new RecordGuard(),
      specs: [],
      scope: SCOPE,
      readsStore: (r) => r === reader,
    },
  );
  return { provider, made: () => made };
}

test("storages and the store's collection need no SDK; the first instrument the SDK records makes it, once", async () => {
  const { provider, made } = lazyProvider();
  const meter = provider.getMeter('host', '1.0.0');
  meter.createCounter('jobs').add(2, { queue: 'a' });
  meter.createHistogram('duration', { unit: 's' }).record(0.5);
  meter.createCounter('retries', { valueType: ValueType.INT }).add(1.5);
  const collection = await provider.storages.series.collect();
  assert.equal(collection.series.flatMap((s) => s.series).length, 3);
  assert.equal(
    made(),
    0,
    'host counters (an integer-valued one too) and histograms no View selects are storages',
  );
  assert.equal(provider.sdkInstruments, false);

  meter.createObservableGauge('pool.size').addCallback((r) => r.observe(4));
  assert.equal(made(), 1, "a host's observable instrument is the SDK's: its provider is made");
  assert.equal(provider.sdkInstruments, true);
  provider.getMeter('other').createObservableCounter('bytes');
  assert.equal(provider.sdk(), provider.sdk());
  assert.equal(made(), 1, 'made once');
  await provider.shutdown();
});

test('shut down before the SDK was needed: instruments made afterwards record nothing and make no SDK', async () => {
  const { provider, made } = lazyProvider();
  await provider.shutdown();
  const gauge = provider.getMeter('host').createObservableGauge('late');
  gauge.addCallback((r) => r.observe(1));
  // An integer-valued counter is a storage, as any counter no View selects.
  provider.getMeter('host').createCounter('late.total', { valueType: ValueType.INT }).add(1);
  await provider.forceFlush();
  assert.equal(made(), 0);
});
