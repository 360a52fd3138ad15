/**
 * Native histograms in the OTLP push and the ingest: a host histogram given
 * base-2 exponential aggregation by a View reaches the real Collector as an ExponentialHistogram,
 * under profile naming (the naming stage's native buckets turned back into OTel's) and canonical
 * naming (the SDK's own data); so does one a foreign SDK pushes to jobmeter's ingest. The
 * Collector's `debug` exporter (`detailed`) prints its buckets, which are the exponential buckets
 * jobmeter serves on its pull endpoint.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import {
  AggregationType,
  InstrumentType,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { createJobmeter } from '../../src/jobmeter.ts';
import { VERSION } from '../../src/version.ts';
import type { HistogramFamily } from '../../src/exposition/types.ts';
import { startDebugCollector, type CollectorHandle } from '../support/collector.ts';

let collector: CollectorHandle<'otlp'>;
before(async () => {
  collector = await startDebugCollector('detailed');
});
after(async () => {
  await collector?.stop();
});

/** The debug exporter's blocks for metric `name`, in print order: each from its `-> Name:` line to the next metric's. */
function metricBlocks(text: string, name: string): string[][] {
  const lines = text.split('\n');
  return lines.flatMap((line, at) => {
    if (line !== `     -> Name: ${name}`) return [];
    const end = lines.findIndex(
      (l, i) =>
        i > at &&
        (/^Metric #\d+$/.test(l) ||
          /^ScopeMetrics #\d+$/.test(l) ||
          /^ResourceMetrics #\d+$/.test(l)),
    );
    return [lines.slice(at, end === -1 ? undefined : end)];
  });
}

/** The debug exporter's last block for metric `name`. */
function metricBlock(text: string, name: string): string[] {
  const block = metricBlocks(text, name).at(-1);
  assert.ok(block !== undefined, `the Collector printed no metric ${name}:\n${text.slice(-3000)}`);
  return block;
}

describe('an exponential host histogram pushed to the Collector', () => {
  const cases: Array<[string, 'profile' | 'canonical', string]> = [
    ['rm, profile naming', 'profile', 'host_latency_seconds'],
    ['rm, canonical naming', 'canonical', 'host.latency'],
  ];
  for (const [title, naming, printedName] of cases) {
    it(`${title}: an ExponentialHistogram with the buckets the pull endpoint serves`, async () => {
      const jm = await createJobmeter({
        profile: 'rm',
        serviceName: 'exp-daemon',
        listener: false,
        processMetrics: false,
        global: false,
        views: [
          {
            instrumentName: 'host.latency',
            aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
          },
        ],
        otlp: {
          endpoint: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
          intervalMillis: 3_600_000,
          naming,
        },
      });
      let served: HistogramFamily;
      try {
        const h = jm.meter.createHistogram('host.latency', { unit: 's' });
        for (let i = 0; i < 500; i++) h.record(10 ** (-3 + (3 * i) / 499), { queue: 'default' });
        h.record(0, { queue: 'default' });
        const family = (await jm.scrape()).find((f) => f.name === 'host_latency_seconds');
        assert.ok(family?.type === 'histogram');
        served = family;
        await jm.forceFlush();
      } finally {
        await jm.shutdown();
      }
      checkPrinted(
        await collector.waitForOutput('debug.txt', (t) => t.includes(`-> Name: ${printedName}`)),
        printedName,
        served,
        501,
      );
    });
  }

  it('pushed by a foreign SDK to the ingest: the pull endpoint serves it native, the push carries an ExponentialHistogram', async () => {
    const jm = await createJobmeter({
      serviceName: 'ingest-daemon',
      listener: false,
      processMetrics: false,
      global: false,
      ingest: { port: 0 },
      otlp: {
        endpoint: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
        intervalMillis: 3_600_000,
      },
    });
    let served: HistogramFamily;
    try {
      const foreign = new MeterProvider({
        views: [
          {
            instrumentName: 'foreign.latency',
            aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
          },
        ],
        readers: [
          new PeriodicExportingMetricReader({
            exporter: new OTLPMetricExporter({
              url: `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`,
            }),
            exportIntervalMillis: 3_600_000,
          }),
        ],
      });
      const h = foreign.getMeter('foreign').createHistogram('foreign.latency', { unit: 's' });
      for (let i = 0; i < 300; i++) h.record(10 ** (-2 + (2 * i) / 299));
      await foreign.forceFlush();
      await foreign.shutdown();
      const family = (await jm.scrape()).find((f) => f.name === 'foreign_latency_seconds');
      assert.ok(
        family?.type === 'histogram' && family.series[0]!.native !== undefined,
        'served as a native histogram',
      );
      served = family;
      await jm.forceFlush();
    } finally {
      await jm.shutdown();
    }
    checkPrinted(
      await collector.waitForOutput('debug.txt', (t) => t.includes('-> Name: foreign.latency')),
      'foreign.latency',
      served,
      300,
    );
  });
});

describe("a reader's own exponential aggregation, pushed to the Collector", () => {
  it("a declared histogram reaches it as the SDK's, an ExponentialHistogram, from a reader of the host's whose exporter prefers them", async () => {
    const spec = {
      name: 'app.queue.wait',
      kind: 'histogram',
      unit: 's',
      description: 'Time a job waited in its queue.',
      attributes: [{ key: 'queue', cap: 20 }],
      buckets: [0.1, 1, 10],
    } as const;
    const values = Array.from({ length: 200 }, (_, i) => 10 ** (-3 + (4 * i) / 199));
    // What sdk-node's `default_histogram_aggregation: base2_exponential_bucket_histogram` gives it.
    const reader = () =>
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          url: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
          aggregationPreference: (type) =>
            type === InstrumentType.HISTOGRAM
              ? { type: AggregationType.EXPONENTIAL_HISTOGRAM }
              : { type: AggregationType.DEFAULT },
        }),
        exportIntervalMillis: 3_600_000,
      });
    const jm = await createJobmeter({
      serviceName: 'reader-daemon',
      listener: false,
      processMetrics: false,
      global: false,
      instruments: [spec],
      readers: [reader()],
    });
    try {
      // Exported once, as the reader shuts down.
      for (const v of values) jm.histogram(spec.name).record(v, { queue: 'emails' });
    } finally {
      await jm.shutdown();
    }
    const plain = new MeterProvider({ readers: [reader()] });
    const h = plain.getMeter('jobmeter', VERSION).createHistogram(spec.name, {
      unit: spec.unit,
      description: spec.description,
      advice: { explicitBucketBoundaries: [...spec.buckets] },
    });
    for (const v of values) h.record(v, { queue: 'emails' });
    await plain.shutdown();
    const text = await collector.waitForOutput(
      'debug.txt',
      (t) => t.split(`-> Name: ${spec.name}`).length === 3,
    );
    // Each push's block up to the blank line that ends it, its times aside: the first
    // jobmeter's, the second the SDK's.
    const blocks = metricBlocks(text, spec.name);
    assert.equal(blocks.length, 2);
    const [ours, theirs] = blocks.map((block) =>
      block.slice(0, block.indexOf('')).filter((l) => !l.includes('Timestamp')),
    );
    assert.ok(theirs!.includes('     -> DataType: ExponentialHistogram'), theirs!.join('\n'));
    assert.deepEqual(ours, theirs);
  });
});

/** The Collector printed `name` as an ExponentialHistogram of `count` values, with the classic buckets `served` has. */
function checkPrinted(text: string, name: string, served: HistogramFamily, count: number): void {
  const block = metricBlock(text, name);
  assert.ok(block.includes('     -> DataType: ExponentialHistogram'), block.join('\n'));
  assert.ok(block.includes(`Count: ${count}`), block.join('\n'));
  // `Bucket (lower, upper], Count: n`: the upper bounds and counts of the classic buckets served.
  const printed = block.flatMap((l) => {
    const m = /^Bucket \(([\d.]+), ([\d.]+)\], Count: (\d+)$/.exec(l);
    return m === null ? [] : [[Number(m[2]), Number(m[3])] as const];
  });
  const series = served.series[0]!;
  assert.ok(series.native !== undefined);
  const expected = series.bounds
    .map((b, k) => [b, series.counts[k]!] as const)
    .filter(([b]) => b > 0);
  assert.equal(printed.length, expected.length, block.join('\n'));
  printed.forEach(([upper, n], k) => {
    assert.ok(
      Math.abs(upper - expected[k]![0]) < 1e-6,
      `bucket ${k}: ${upper} vs ${expected[k]![0]}`,
    );
    assert.equal(n, expected[k]![1]);
  });
}
