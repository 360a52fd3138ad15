// Exemplars in the exposition: OpenMetrics writes them after a counter's
// `_total` sample and after the bucket sample they fall in; text 0.0.4 has none; a counter written
// as `unknown` (no `_total`) carries none, since OpenMetrics allows them on counters and buckets only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { protobufBytes } from '../support/protobuf-exposition.ts';
import { clientModelProto } from '../support/peers.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import type { Family } from '../../src/exposition/types.ts';

const E = {
  labels: 'trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"',
  value: 1,
  timestamp: 1700000000.123,
};

const FAMILIES: Family[] = [
  {
    name: 'jobs_total',
    type: 'counter',
    help: 'Jobs.',
    unit: '',
    series: [
      { labels: 'q="a"', value: 3, exemplar: E },
      { labels: 'q="b"', value: 2 },
    ],
  },
  {
    name: 'legacy_count',
    type: 'counter',
    help: 'Legacy.',
    unit: '',
    series: [{ labels: '', value: 5, exemplar: E }],
  },
  {
    name: 'job_duration_seconds',
    type: 'histogram',
    help: 'Duration.',
    unit: 'seconds',
    series: [
      {
        labels: 'q="a"',
        bounds: [1, 10],
        counts: [1, 1, 1],
        sum: 55.5,
        count: 3,
        exemplars: [undefined, { ...E, value: 4.5 }, { ...E, value: 50 }],
      },
    ],
  },
];

test('OpenMetrics: exemplars after the counter sample and the buckets they fall in', () => {
  assert.equal(
    renderOpenMetrics(FAMILIES),
    [
      '# TYPE jobs counter',
      '# HELP jobs Jobs.',
      'jobs_total{q="a"} 3 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 1 1700000000.123',
      'jobs_total{q="b"} 2',
      '# TYPE legacy_count unknown',
      '# HELP legacy_count Legacy.',
      'legacy_count 5',
      '# TYPE job_duration_seconds histogram',
      '# UNIT job_duration_seconds seconds',
      '# HELP job_duration_seconds Duration.',
      'job_duration_seconds_bucket{q="a",le="1.0"} 1',
      'job_duration_seconds_bucket{q="a",le="10.0"} 2 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 4.5 1700000000.123',
      'job_duration_seconds_bucket{q="a",le="+Inf"} 3 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 50 1700000000.123',
      'job_duration_seconds_sum{q="a"} 55.5',
      'job_duration_seconds_count{q="a"} 3',
      '# EOF',
      '',
    ].join('\n'),
  );
});

test('text 0.0.4 has no exemplars', () => {
  assert.doesNotMatch(renderPrometheusText(FAMILIES), /#\s*\{/);
});

test("protobuf: Counter.exemplar and Bucket.exemplar, decoded with client_model's metrics.proto; a +Inf bucket only to carry its exemplar", async () => {
  const root = await protobuf.load(clientModelProto());
  const type = root.lookupType('io.prometheus.client.MetricFamily');
  const reader = protobuf.Reader.create(protobufBytes(FAMILIES));
  const decoded: Array<{ name: string; metric: Array<Record<string, unknown>> }> = [];
  while (reader.pos < reader.len)
    decoded.push(
      type.toObject(type.decodeDelimited(reader), { longs: Number, defaults: false }) as never,
    );
  const exemplar = (value: number) => ({
    label: [
      { name: 'trace_id', value: '0af7651916cd43dd8448eb211c80319c' },
      { name: 'span_id', value: 'b7ad6b7169203331' },
    ],
    value,
    timestamp: { seconds: 1700000000, nanos: 123000000 },
  });
  const [jobs, legacy, duration] = decoded;
  assert.deepEqual(
    jobs!.metric.map((m) => m['counter']),
    [{ value: 3, exemplar: exemplar(1) }, { value: 2 }],
  );
  // In protobuf a counter is a counter whatever its name: its exemplar goes too.
  assert.deepEqual(legacy!.metric[0]!['counter'], { value: 5, exemplar: exemplar(1) });
  const histogram = duration!.metric[0]!['histogram'] as { bucket: unknown[] };
  assert.deepEqual(histogram.bucket, [
    { cumulativeCount: 1, upperBound: 1 },
    { cumulativeCount: 2, upperBound: 10, exemplar: exemplar(4.5) },
    { cumulativeCount: 3, upperBound: Infinity, exemplar: exemplar(50) },
  ]);
});
