/**
 * Native histograms, exposition side: an OpenTelemetry ExponentialHistogram (a
 * View with base-2 exponential aggregation on a plain SDK provider, read by JobmeterReader) is
 * served as a native histogram in protobuf — decoded with client_model's official metrics.proto
 * and checked bucket for bucket against the SDK's own data — and as classic buckets in text and
 * OpenMetrics, the same buckets as the protobuf's classic ones.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import {
  AggregationType,
  DataPointType,
  InMemoryMetricExporter,
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ExponentialHistogram,
} from '@opentelemetry/sdk-metrics';
import { protobufBytes } from '../support/protobuf-exposition.ts';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import type { Family } from '../../src/exposition/types.ts';
import { JobmeterReader } from '../../src/jobmeter-reader.ts';
import { groupFamilies, parseExposition } from '../support/exposition-parser.ts';
import { clientModelProto } from '../support/peers.ts';
import { diffSeries, seriesTable } from '../support/series-diff.ts';

interface Span {
  offset?: number;
  length?: number;
}
interface DecodedHistogram {
  sampleCount: number;
  sampleSum: number;
  bucket?: Array<{ cumulativeCount: number; upperBound: number }>;
  schema?: number;
  zeroThreshold?: number;
  zeroCount?: number;
  positiveSpan?: Span[];
  positiveDelta?: number[];
  negativeSpan?: Span[];
  negativeDelta?: number[];
}
interface Decoded {
  name: string;
  type: string;
  metric: Array<{
    label?: Array<{ name: string; value: string }>;
    histogram?: DecodedHistogram;
    counter?: { value: number };
  }>;
}

async function decodeAll(body: Buffer): Promise<Decoded[]> {
  const root = await protobuf.load(clientModelProto());
  const type = root.lookupType('io.prometheus.client.MetricFamily');
  const reader = protobuf.Reader.create(body);
  const out: Decoded[] = [];
  while (reader.pos < reader.len)
    out.push(
      type.toObject(type.decodeDelimited(reader), {
        enums: String,
        longs: Number,
        defaults: false,
      }) as Decoded,
    );
  return out;
}

/** Absolute Prometheus bucket index → count, from spans and deltas (as Prometheus reads them). */
function bucketsOf(spans: Span[] = [], deltas: number[] = []): Map<number, number> {
  const out = new Map<number, number>();
  let index = 0;
  let count = 0;
  let d = 0;
  spans.forEach((span, s) => {
    index = s === 0 ? (span.offset ?? 0) : index + (span.offset ?? 0);
    for (let k = 0; k < (span.length ?? 0); k++) {
      count += deltas[d++]!;
      out.set(index++, count);
    }
  });
  assert.equal(d, deltas.length, 'every delta belongs to a span');
  return out;
}

/** The SDK's buckets in Prometheus indexing (OTel index + 1), downscaled to `schema`, zeros left out. */
function expected(
  h: ExponentialHistogram,
  side: 'positive' | 'negative',
  schema: number,
): Map<number, number> {
  const out = new Map<number, number>();
  const shift = h.scale - schema;
  h[side].bucketCounts.forEach((c, k) => {
    const i = Math.floor((h[side].offset + k) / 2 ** shift) + 1;
    out.set(i, (out.get(i) ?? 0) + c);
  });
  for (const [i, c] of out) if (c === 0) out.delete(i);
  return out;
}
const nonZero = (m: Map<number, number>): Map<number, number> =>
  new Map([...m].filter(([, c]) => c !== 0));

const providers: MeterProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

/**
 * A provider whose `latency` histogram is exponential (`maxSize` buckets), read by JobmeterReader
 * and by an in-memory exporter (the SDK's own data, to compare with).
 */
function setup(maxSize?: number): {
  reader: JobmeterReader;
  record: (v: number, attrs?: Record<string, string>) => void;
  sdkData: () => Promise<ExponentialHistogram[]>;
} {
  const reader = new JobmeterReader({ listener: false });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const periodic = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({
    views: [
      {
        instrumentName: 'latency',
        aggregation: {
          type: AggregationType.EXPONENTIAL_HISTOGRAM,
          ...(maxSize !== undefined && { options: { maxSize } }),
        },
      },
    ],
    readers: [reader, periodic],
  });
  providers.push(provider);
  const h = provider
    .getMeter('app')
    .createHistogram('latency', { unit: 's', description: 'Request latency.' });
  return {
    reader,
    record: (v, attrs = {}) => h.record(v, attrs),
    async sdkData() {
      await periodic.forceFlush();
      const last = exporter.getMetrics().at(-1)!;
      const metric = last.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === 'latency')!;
      assert.equal(metric.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
      return metric.dataPoints.map((p) => p.value);
    },
  };
}

describe('an exponential histogram', () => {
  it('is a native histogram in protobuf, bucket for bucket the SDK data, beside classic buckets equal to text', async () => {
    const { reader, record, sdkData } = setup();
    // A known distribution: 1000 values spread log-uniformly over 1 ms … 10 s, some zeros.
    for (let i = 0; i < 1000; i++)
      record(10 ** (-3 + (4 * i) / 999), { route: i % 2 === 0 ? '/a' : '/b' });
    for (let i = 0; i < 7; i++) record(0, { route: '/a' });
    const families = await reader.scrape();
    const [sdkA, sdkB] = await sdkData();
    const decoded = (await decodeAll(protobufBytes(families))).find(
      (f) => f.name === 'latency_seconds',
    )!;
    assert.equal(decoded.type, 'HISTOGRAM');
    assert.equal(decoded.metric.length, 2);
    for (const [m, sdk] of [
      [decoded.metric[0]!, sdkA!],
      [decoded.metric[1]!, sdkB!],
    ] as const) {
      const h = m.histogram!;
      assert.ok(sdk.scale <= 8, `the SDK settled on scale ${sdk.scale}`);
      assert.equal(h.schema ?? 0, sdk.scale);
      assert.equal(h.zeroCount ?? 0, sdk.zeroCount);
      assert.equal(h.sampleCount, sdk.count);
      assert.equal(h.sampleSum, sdk.sum);
      assert.deepEqual(
        nonZero(bucketsOf(h.positiveSpan, h.positiveDelta)),
        expected(sdk, 'positive', sdk.scale),
      );
      assert.deepEqual(bucketsOf(h.negativeSpan, h.negativeDelta).size, 0);
      // Classic buckets: each native bucket's upper bound, cumulative, ending below the count.
      const bucket = h.bucket!;
      assert.ok(bucket.length > 10);
      for (let k = 1; k < bucket.length; k++)
        assert.ok(
          bucket[k]!.upperBound > bucket[k - 1]!.upperBound &&
            bucket[k]!.cumulativeCount >= bucket[k - 1]!.cumulativeCount,
        );
      assert.equal(bucket.at(-1)!.cumulativeCount, sdk.count);
      const base = 2 ** (2 ** -sdk.scale);
      const top = sdk.positive.offset + sdk.positive.bucketCounts.length; // OTel index past the last
      assert.ok(
        Math.abs(bucket.at(-1)!.upperBound / base ** top - 1) < 1e-12,
        'the last le is the last bucket upper bound',
      );
    }
    assert.equal(decoded.metric[0]!.histogram!.zeroCount, 7);

    // Text and OpenMetrics carry the same classic buckets as the protobuf.
    const text = renderPrometheusText(families);
    const problems: string[] = [];
    groupFamilies(
      parseExposition(renderOpenMetrics(families), 'openmetrics'),
      'openmetrics',
      problems,
    );
    assert.deepEqual(problems, []);
    const fromProto: string[] = [];
    for (const m of decoded.metric) {
      const route = m.label!.find((l) => l.name === 'route')!.value;
      const labels = m.label!.map((l) => `${l.name}="${l.value}"`).join(',');
      for (const b of m.histogram!.bucket!)
        fromProto.push(
          `latency_seconds_bucket{${labels},le="${b.upperBound}"} ${b.cumulativeCount}`,
        );
      fromProto.push(`latency_seconds_bucket{${labels},le="+Inf"} ${m.histogram!.sampleCount}`);
      fromProto.push(
        `latency_seconds_sum{${labels}} ${m.histogram!.sampleSum}`,
        `latency_seconds_count{${labels}} ${m.histogram!.sampleCount}`,
      );
      assert.ok(route === '/a' || route === '/b');
    }
    const head = '# TYPE latency_seconds histogram\n';
    const textLatency =
      head +
      text
        .split('\n')
        .filter((l) => l.startsWith('latency_seconds'))
        .join('\n') +
      '\n';
    assert.deepEqual(
      diffSeries(seriesTable(textLatency), seriesTable(head + fromProto.join('\n') + '\n')),
      { onlyLeft: [], onlyRight: [], values: [], types: [] },
    );
    assert.match(text, /^# TYPE latency_seconds histogram$/m);
  });

  it('finer than schema 8 is downscaled to 8, buckets merged', async () => {
    const { reader, record, sdkData } = setup();
    // Three close values keep the SDK at a fine scale.
    for (const v of [1.0001, 1.0002, 1.0003]) record(v);
    const [sdk] = await sdkData();
    assert.ok(sdk!.scale > 8, `the SDK kept scale ${sdk!.scale}`);
    const decoded = (await decodeAll(protobufBytes(await reader.scrape()))).find(
      (f) => f.name === 'latency_seconds',
    )!;
    const h = decoded.metric[0]!.histogram!;
    assert.equal(h.schema, 8);
    assert.deepEqual(
      nonZero(bucketsOf(h.positiveSpan, h.positiveDelta)),
      expected(sdk!, 'positive', 8),
    );
    // 1.0001…1.0003 share schema 8's first bucket above 1, (1, 2^(1/256)].
    assert.deepEqual([...nonZero(bucketsOf(h.positiveSpan, h.positiveDelta))], [[1, 3]]);
  });

  it('with no value yet is still a native histogram (a no-op span), and spans split at long zero runs', async () => {
    const { reader, record } = setup(320);
    const families: Family[] = [
      {
        name: 'empty_seconds',
        type: 'histogram',
        help: '',
        unit: '',
        series: [
          {
            labels: '',
            bounds: [],
            counts: [0],
            sum: 0,
            count: 0,
            native: {
              schema: 3,
              zeroThreshold: 0,
              zeroCount: 0,
              positiveOffset: 0,
              positiveCounts: [],
              negativeOffset: 0,
              negativeCounts: [],
            },
          },
          {
            labels: 'x="sparse"',
            bounds: [],
            counts: [0],
            sum: -1,
            count: 9,
            native: {
              schema: 0,
              zeroThreshold: 0,
              zeroCount: 0,
              positiveOffset: -2,
              positiveCounts: [0, 1, 0, 2, 0, 0, 0, 3],
              negativeOffset: 4,
              negativeCounts: [2, 0, 0, 1],
            },
          },
        ],
      },
    ];
    const [d] = await decodeAll(protobufBytes(families));
    const empty = d!.metric[0]!.histogram!;
    assert.deepEqual(empty.positiveSpan, [{ offset: 0, length: 0 }]);
    assert.equal(empty.schema, 3);
    const sparse = d!.metric[1]!.histogram!;
    assert.deepEqual(sparse.positiveSpan, [
      { offset: -1, length: 3 },
      { offset: 3, length: 1 },
    ]);
    assert.deepEqual(
      [...bucketsOf(sparse.positiveSpan, sparse.positiveDelta)],
      [
        [-1, 1],
        [0, 0],
        [1, 2],
        [5, 3],
      ],
    );
    assert.deepEqual(
      [...bucketsOf(sparse.negativeSpan, sparse.negativeDelta)],
      [
        [4, 2],
        [5, 0],
        [6, 0],
        [7, 1],
      ],
    );
    record(1);
    assert.ok((await reader.scrape()).length > 0);
  });
});

describe('protobuf label strings of every shape', () => {
  it('escapes, non-ASCII and long values decode to what text says', async () => {
    const long = 'v'.repeat(300);
    const family: Family = {
      name: 'odd_total',
      type: 'counter',
      help: 'Odd labels.',
      unit: '',
      series: [
        { labels: 'a="q\\"uote",b="back\\\\slash",c="new\\nline"', value: 1 },
        { labels: 'a="ünïcødé",b="日本"', value: 2 },
        { labels: `a="${long}"`, value: 3 },
        { labels: `${'n'.repeat(130)}="x"`, value: 4 },
        { labels: '', value: 5 },
      ],
    };
    const [d] = await decodeAll(protobufBytes([family]));
    assert.deepEqual(
      d!.metric.map((m) => [m.label ?? [], m.counter!.value]),
      [
        [
          [
            { name: 'a', value: 'q"uote' },
            { name: 'b', value: 'back\\slash' },
            { name: 'c', value: 'new\nline' },
          ],
          1,
        ],
        [
          [
            { name: 'a', value: 'ünïcødé' },
            { name: 'b', value: '日本' },
          ],
          2,
        ],
        [[{ name: 'a', value: long }], 3],
        [[{ name: 'n'.repeat(130), value: 'x' }], 4],
        [[], 5],
      ],
    );
  });
});
