/**
 * The OTLP codec: the committed descriptor matches the .proto files; the JS SDK's own serializers
 * (protobuf and JSON) decode to the same request; OTLP/JSON variants and malformed bodies; the
 * response and google.rpc.Status encodings, checked against types loaded from the .proto files.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import protobuf from 'protobufjs';
import {
  decodeExportRequest,
  encodeExportResponse,
  encodeStatus,
  encodingOf,
} from '../../src/otlp/codec.ts';
import { decodeExportResponse, decodeStatus } from '../support/otlp-response.ts';
import { OtlpDecodeError } from '../../src/otlp/types.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';
import { otlpMetricsSchema } from '../support/otlp-receiver.ts';
import { PROTO_DIR, renderSchemaFile, SCHEMA_FILE } from './generate-otlp-schema.ts';

describe('schema', () => {
  it('src/otlp/otlp-metrics.json is what the .proto files generate (run node test/ingest/generate-otlp-schema.ts after editing them)', () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), renderSchemaFile());
  });
});

async function sdkRequest() {
  const reader = newPullReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'go-daemon', 'host.arch': 'amd64' }),
    readers: [reader],
    views: [
      {
        instrumentName: 'lat',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: [0.5, 1] },
        },
      },
    ],
  });
  const meter = provider.getMeter('daemon', '2.0.0');
  meter
    .createCounter('jobs', { unit: '{job}', description: 'Jobs.' })
    .add(3, { q: 'a', n: 7, ok: true, tags: ['x', 'y'] });
  meter.createUpDownCounter('level').add(-2.5);
  meter.createHistogram('lat', { unit: 's' }).record(0.7, { q: 'b' });
  meter.createObservableGauge('depth').addCallback((r) => r.observe(4, { q: 'c' }));
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

describe('decoding what the JS SDK sends', () => {
  it('protobuf and JSON decode to the same request', async () => {
    const rm = await sdkRequest();
    const fromProtobuf = decodeExportRequest(
      ProtobufMetricsSerializer.serializeRequest(rm)!,
      'protobuf',
    );
    const fromJson = decodeExportRequest(JsonMetricsSerializer.serializeRequest(rm)!, 'json');
    assert.deepEqual(fromJson, fromProtobuf);

    const [resourceMetrics] = fromProtobuf.resourceMetrics;
    assert.equal(resourceMetrics!.resource['service.name'], 'go-daemon');
    const [scope] = resourceMetrics!.scopeMetrics;
    assert.deepEqual(scope!.scope, { name: 'daemon', version: '2.0.0' });
    const byName = new Map(scope!.metrics.map((m) => [m.name, m]));
    const jobs = byName.get('jobs')!;
    assert.equal(jobs.unit, '{job}');
    assert.equal(jobs.description, 'Jobs.');
    assert.ok(jobs.data.type === 'sum');
    assert.equal(jobs.data.monotonic, true);
    assert.equal(jobs.data.temporality, 'cumulative');
    assert.deepEqual(jobs.data.points[0]!.attributes, { q: 'a', n: 7, ok: true, tags: ['x', 'y'] });
    assert.equal(jobs.data.points[0]!.value, 3);
    assert.ok(jobs.data.points[0]!.timeUnixNano > 1_600_000_000_000_000_000n);
    const level = byName.get('level')!;
    assert.ok(
      level.data.type === 'sum' && !level.data.monotonic && level.data.points[0]!.value === -2.5,
    );
    const lat = byName.get('lat')!;
    assert.ok(lat.data.type === 'histogram');
    assert.deepEqual(
      {
        bounds: lat.data.points[0]!.explicitBounds,
        counts: lat.data.points[0]!.bucketCounts,
        count: lat.data.points[0]!.count,
        sum: lat.data.points[0]!.sum,
      },
      { bounds: [0.5, 1], counts: [0, 1, 0], count: 1, sum: 0.7 },
    );
    const depth = byName.get('depth')!;
    assert.ok(depth.data.type === 'gauge' && depth.data.points[0]!.value === 4);
  });
});

describe('OTLP/JSON', () => {
  const decode = (o: unknown) => decodeExportRequest(Buffer.from(JSON.stringify(o)), 'json');

  it('accepts snake_case keys, enum names, int64 as strings or numbers, and NaN/Infinity strings', () => {
    const camel = decode({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'a',
                  sum: {
                    isMonotonic: true,
                    aggregationTemporality: 2,
                    dataPoints: [{ asInt: '5', timeUnixNano: '1700000000000000001' }],
                  },
                },
                {
                  name: 'b',
                  gauge: { dataPoints: [{ asDouble: 'NaN' }, { asDouble: '-Infinity' }] },
                },
              ],
            },
          ],
        },
      ],
    });
    const snake = decode({
      resource_metrics: [
        {
          scope_metrics: [
            {
              metrics: [
                {
                  name: 'a',
                  sum: {
                    is_monotonic: true,
                    aggregation_temporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
                    data_points: [{ as_int: 5, time_unix_nano: '1700000000000000001' }],
                  },
                },
                {
                  name: 'b',
                  gauge: { data_points: [{ as_double: 'NaN' }, { as_double: '-Infinity' }] },
                },
              ],
            },
          ],
        },
      ],
    });
    assert.deepEqual(snake, camel);
    const a = camel.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
    assert.ok(
      a.data.type === 'sum' && a.data.points[0]!.timeUnixNano === 1_700_000_000_000_000_001n,
    );
  });

  it('turns every AnyValue into an attribute value', () => {
    const r = decode({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'g',
                  gauge: {
                    dataPoints: [
                      {
                        asInt: 1,
                        attributes: [
                          { key: 's', value: { stringValue: 'x' } },
                          { key: 'i', value: { intValue: '42' } },
                          { key: 'd', value: { doubleValue: 1.5 } },
                          { key: 'b', value: { boolValue: false } },
                          {
                            key: 'arr',
                            value: { arrayValue: { values: [{ intValue: 1 }, { intValue: 2 }] } },
                          },
                          {
                            key: 'kv',
                            value: {
                              kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] },
                            },
                          },
                          { key: 'bytes', value: { bytesValue: 'AQI=' } },
                          { key: 'empty', value: {} },
                        ],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    const m = r.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
    assert.ok(m.data.type === 'gauge');
    assert.deepEqual(m.data.points[0]!.attributes, {
      s: 'x',
      i: 42,
      d: 1.5,
      b: false,
      arr: [1, 2],
      kv: '{"k":"v"}',
      bytes: 'AQI=',
    });
  });

  it('refuses values of the wrong type, naming where', () => {
    const cases: Array<[unknown, string]> = [
      [[], '(root): expected an object'],
      [{ resourceMetrics: {} }, 'resourceMetrics: expected an array'],
      [
        { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 7 }] }] }] },
        'resourceMetrics[0].scopeMetrics[0].metrics[0].name: expected a string',
      ],
      [
        {
          resourceMetrics: [
            {
              scopeMetrics: [
                { metrics: [{ name: 'a', gauge: { dataPoints: [{ asDouble: 'lots' }] } }] },
              ],
            },
          ],
        },
        'resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asDouble: expected a number',
      ],
      [
        {
          resourceMetrics: [
            {
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: 'a',
                      sum: { aggregationTemporality: 'AGGREGATION_TEMPORALITY_SOMETIMES' },
                    },
                  ],
                },
              ],
            },
          ],
        },
        'resourceMetrics[0].scopeMetrics[0].metrics[0].sum.aggregationTemporality: expected 1 (delta) or 2 (cumulative)',
      ],
      [
        {
          resourceMetrics: [
            {
              scopeMetrics: [
                { metrics: [{ name: 'a', gauge: { dataPoints: [{ timeUnixNano: '1.5' }] } }] },
              ],
            },
          ],
        },
        'resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].timeUnixNano: expected an integer (a number or a decimal string)',
      ],
    ];
    for (const [body, message] of cases) {
      assert.throws(
        () => decode(body),
        (e: unknown) => e instanceof OtlpDecodeError && e.message === message,
        message,
      );
    }
    assert.throws(
      () => decodeExportRequest(Buffer.from('{"resourceMetrics": ['), 'json'),
      (e: unknown) => e instanceof OtlpDecodeError && /^invalid JSON: /.test(e.message),
    );
    assert.throws(
      () => decodeExportRequest(Buffer.from([0x0a, 0xff, 0x01]), 'protobuf'),
      (e: unknown) =>
        e instanceof OtlpDecodeError &&
        /^invalid protobuf ExportMetricsServiceRequest: /.test(e.message),
    );
  });

  it('an empty protobuf body is an empty request', () => {
    assert.deepEqual(decodeExportRequest(Buffer.alloc(0), 'protobuf'), { resourceMetrics: [] });
  });
});

describe('answers', () => {
  it('ExportMetricsServiceResponse: empty on full success, partial_success otherwise (protobuf checked with the .proto types)', () => {
    const { response } = otlpMetricsSchema();
    assert.equal(encodeExportResponse(undefined, 'protobuf').length, 0);
    assert.equal(
      encodeExportResponse({ rejectedDataPoints: 0, errorMessage: '' }, 'json').toString(),
      '{}',
    );
    const partial = { rejectedDataPoints: 3, errorMessage: '3 data points rejected' };
    const pb = encodeExportResponse(partial, 'protobuf');
    assert.deepEqual(response.toObject(response.decode(pb), { longs: Number }), {
      partialSuccess: partial,
    });
    assert.equal(
      encodeExportResponse(partial, 'json').toString(),
      '{"partialSuccess":{"rejectedDataPoints":"3","errorMessage":"3 data points rejected"}}',
    );
    assert.deepEqual(decodeExportResponse(pb, 'protobuf'), partial);
    const warning = { rejectedDataPoints: 0, errorMessage: 'Warnings: x' };
    assert.equal(
      encodeExportResponse(warning, 'json').toString(),
      '{"partialSuccess":{"errorMessage":"Warnings: x"}}',
    );
  });

  it('google.rpc.Status in both encodings', () => {
    const root = new protobuf.Root();
    root.resolvePath = (_o, target) => path.join(PROTO_DIR, target);
    root.loadSync('google/rpc/status.proto');
    const status = root.lookupType('google.rpc.Status');
    const pb = encodeStatus(3, 'bad body', 'protobuf');
    assert.deepEqual(status.toObject(status.decode(pb)), { code: 3, message: 'bad body' });
    assert.equal(encodeStatus(14, 'busy', 'json').toString(), '{"code":14,"message":"busy"}');
    assert.deepEqual(decodeStatus(pb, 'protobuf'), { code: 3, message: 'bad body' });
  });

  it('media types: parameters and case do not matter', () => {
    assert.equal(encodingOf('application/x-protobuf'), 'protobuf');
    assert.equal(encodingOf('Application/JSON; charset=utf-8'), 'json');
    assert.equal(encodingOf('text/plain'), undefined);
    assert.equal(encodingOf(undefined), undefined);
  });
});
