/**
 * A reader's own aggregation (its `aggregationSelector`: an OTLP exporter's `aggregationPreference`,
 * most often base-2 exponential histograms) applies to every instrument no View selects, as the SDK
 * applies it: jobmeter's own and declared instruments too, which are then the SDK's
 * (domain/meter-provider.ts); so does a reader's cardinality limit below jobmeter's. The plain SDK given the same instrument and reader is the oracle; a
 * reader that aggregates by default, and the pull scrape, still get the spec's buckets.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { metrics, type Meter } from '@opentelemetry/api';
import {
  AggregationType,
  DataPointType,
  InstrumentType,
  MeterProvider,
  MetricReader,
  type AggregationSelector,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { JobmeterMeterProvider } from '../../src/domain/meter-provider.ts';
import { RecordGuard } from '../../src/domain/record-guard.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import { VERSION } from '../../src/version.ts';

class CollectingReader extends MetricReader {
  constructor(aggregation?: AggregationSelector, cardinalityLimit?: number) {
    super({
      ...(aggregation !== undefined && { aggregationSelector: aggregation }),
      ...(cardinalityLimit !== undefined && { cardinalitySelector: () => cardinalityLimit }),
    });
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

afterEach(() => metrics.disable());

/** What sdk-node's `default_histogram_aggregation: base2_exponential_bucket_histogram` gives an exporter. */
const EXPONENTIAL: AggregationSelector = (type) =>
  type === InstrumentType.HISTOGRAM
    ? { type: AggregationType.EXPONENTIAL_HISTOGRAM }
    : { type: AggregationType.DEFAULT };

const WAIT = {
  name: 'app.queue.wait',
  kind: 'histogram',
  unit: 's',
  description: 'Time a job waited in its queue.',
  attributes: [{ key: 'queue', cap: 20 }],
  buckets: [0.1, 1, 10],
} as const;
const VALUES = [0.05, 0.3, 2, 2.5, 40];
const QUEUE = { queue: 'emails' };

async function metric(reader: MetricReader, name: string): Promise<MetricData> {
  const { resourceMetrics } = await reader.collect();
  const found = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === name);
  assert.ok(found, `${name} is collected`);
  return found;
}

/** What a point holds, its times aside. */
const points = (m: MetricData) =>
  m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value }));

test("a reader's exponential aggregation applies to a declared histogram as the SDK applies it; a default reader and the scrape keep its buckets", async () => {
  const sdkReader = new CollectingReader(EXPONENTIAL);
  const plain = new MeterProvider({ readers: [sdkReader] });
  const h = plain.getMeter('jobmeter', VERSION).createHistogram(WAIT.name, {
    unit: WAIT.unit,
    description: WAIT.description,
    advice: { explicitBucketBoundaries: [...WAIT.buckets] },
  });
  for (const v of VALUES) h.record(v, QUEUE);
  const expected = await metric(sdkReader, WAIT.name);
  assert.equal(expected.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM, 'the oracle');
  await plain.shutdown();

  const exponential = new CollectingReader(EXPONENTIAL);
  const byDefault = new CollectingReader();
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    otelScopeInfo: false,
    instruments: [WAIT],
    readers: [exponential, byDefault],
  });
  try {
    for (const v of VALUES) jm.histogram(WAIT.name).record(v, QUEUE);
    const actual = await metric(exponential, WAIT.name);
    assert.equal(actual.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
    assert.deepEqual(points(actual), points(expected));

    const explicit = await metric(byDefault, WAIT.name);
    assert.equal(explicit.dataPointType, DataPointType.HISTOGRAM);
    assert.deepEqual(
      explicit.dataPoints.map((p) => p.value),
      [
        {
          buckets: { boundaries: [0.1, 1, 10], counts: [1, 1, 2, 1] },
          count: 5,
          sum: 44.85,
          min: 0.05,
          max: 40,
        },
      ],
    );
    const text = renderPrometheusText(await jm.scrape());
    assert.match(text, /^app_queue_wait_seconds_bucket\{queue="emails",le="1"\} 2$/m);
    assert.match(text, /^app_queue_wait_seconds_bucket\{queue="emails",le="\+Inf"\} 5$/m);
  } finally {
    await jm.shutdown();
  }
});

test('a reader that aggregates a kind otherwise, given after a meter was asked for, is refused: instruments made before would stay in the storages', async () => {
  const reader = new CollectingReader(EXPONENTIAL);
  const provider = new JobmeterMeterProvider(() => ({ readers: [reader] }), {
    guard: new RecordGuard(),
    specs: [],
    scope: { name: 'jobmeter', version: VERSION },
  });
  const meter = provider.getMeter('app');
  meter.createHistogram('app.wait').record(1);
  assert.throws(() => provider.sdk(), /given before the first meter/);
});

test("a reader's cardinality limit below jobmeter's applies to a host counter as the SDK applies it; the scrape keeps jobmeter's", async () => {
  const SETS = ['a', 'b', 'c', 'd', 'e'].map((job) => ({ job }));
  const record = (provider: { getMeter(name: string): Meter }) => {
    const c = provider.getMeter('app').createCounter('app.jobs');
    for (const [i, set] of SETS.entries()) c.add(i + 1, set);
  };
  const sdkReader = new CollectingReader(undefined, 3);
  const plain = new MeterProvider({ readers: [sdkReader] });
  record(plain);
  const expected = points(await metric(sdkReader, 'app.jobs'));
  assert.equal(expected.length, 3, 'the oracle: two sets and the overflow series');
  await plain.shutdown();

  const limited = new CollectingReader(undefined, 3);
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    otelScopeInfo: false,
    readers: [limited],
  });
  try {
    record(jm.meterProvider);
    assert.deepEqual(points(await metric(limited, 'app.jobs')), expected);
    const text = renderPrometheusText(await jm.scrape());
    for (const { job } of SETS)
      assert.match(text, new RegExp(`^app_jobs_total\\{job="${job}"`, 'm'));
  } finally {
    await jm.shutdown();
  }
});
