/**
 * A declared histogram's bucket bounds must be finite and strictly increasing: a list out of order
 * or with a bound twice is refused where it comes in, naming the instrument, the value and what is
 * expected, by createJobmeter, createRecorder and jobmeterViews alike (issue 59, point 5). Before,
 * `[1, 0.5, 5]` was taken and counted wrong: `le="1"` served 1 where 2 of 4 values were ≤ 1.
 * A host histogram's advice is the host's, not a declaration: jobmeter takes it as the plain SDK
 * does, the oracle of the last tests.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type Histogram } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../../src/errors.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import { jobmeterViews } from '../../src/jobmeter-views.ts';

afterEach(() => metrics.disable());

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

const histogram = (buckets: readonly number[]) => ({
  name: 'app.wait',
  kind: 'histogram' as const,
  unit: 's',
  description: 'How long a job waited.',
  buckets,
});

for (const [what, buckets] of [
  ['out of order', [1, 0.5, 5]],
  ['a bound twice', [1, 1, 5]],
  ['not finite', [1, Number.POSITIVE_INFINITY]],
  ['not a number', [1, '5']],
] as const) {
  test(`a declared histogram's buckets ${what} are refused, naming the instrument`, async () => {
    const expected = (err: unknown): boolean => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.key, 'instruments[0].buckets');
      assert.match(err.message, /expected finite bucket bounds in strictly increasing order/);
      return true;
    };
    await assert.rejects(
      createJobmeter({
        listener: false,
        global: false,
        instruments: [histogram(buckets as unknown as number[])],
      }),
      expected,
    );
    assert.throws(
      () => jobmeterViews('otel', { instruments: [histogram(buckets as unknown as number[])] }),
      expected,
    );
  });
}

test('increasing bounds count each value in the first bucket at or above it', async () => {
  const jm = await createJobmeter({
    listener: false,
    global: false,
    instruments: [histogram([0.5, 1, 5])],
  });
  try {
    const wait = jm.histogram('app.wait');
    for (const v of [0.2, 0.9, 3, 7]) wait.record(v);
    const family = (await jm.scrape()).find((f) => f.name === 'app_wait_seconds');
    assert.ok(family !== undefined && family.type === 'histogram');
    assert.deepEqual(family.series[0]!.counts, [1, 1, 1, 1]);
  } finally {
    await jm.shutdown();
  }
});

for (const [what, advice] of [
  ['out of order', [5, 0.5, 1]],
  ['with infinities', [-Infinity, 0.5, 1, 5, Infinity]],
] as const) {
  test(`a host histogram's advice bounds ${what} are taken as the plain SDK takes them: sorted, infinities left out, each value in its bucket`, async () => {
    /** The one point a collection by a reader of `provider` has: its bounds, counts and count. */
    const point = async (
      provider: { getMeter: MeterProvider['getMeter'] },
      reader: MetricReader,
    ) => {
      const h = provider
        .getMeter('app')
        .createHistogram('app.wait', { advice: { explicitBucketBoundaries: [...advice] } });
      for (const v of [0.2, 0.9, 3, 7]) h.record(v);
      const { resourceMetrics } = await reader.collect();
      const m = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((x) => x.descriptor.name === 'app.wait');
      const { buckets, count } = m!.dataPoints[0]!.value as Histogram;
      return { buckets, count };
    };
    const sdkReader = new CollectingReader();
    const plain = new MeterProvider({ readers: [sdkReader] });
    const expected = await point(plain, sdkReader);
    await plain.shutdown();
    assert.deepEqual(
      expected.buckets,
      { boundaries: [0.5, 1, 5], counts: [1, 1, 1, 1] },
      'the oracle',
    );

    const reader = new CollectingReader();
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      global: false,
      otelScopeInfo: false,
      readers: [reader],
    });
    try {
      assert.deepEqual(await point(jm.meterProvider, reader), expected);
      const family = (await jm.scrape()).find((f) => f.name === 'app_wait');
      assert.ok(family !== undefined && family.type === 'histogram');
      assert.deepEqual(family.series[0]!.counts, [1, 1, 1, 1]);
    } finally {
      await jm.shutdown();
    }
  });
}
