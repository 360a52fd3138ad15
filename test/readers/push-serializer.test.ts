// The push serializer (otlp/push-serializer.ts): a request without exemplars is the official
// serializer's bytes unchanged; with some, the same request plus exactly the exemplars, decoded
// with the OTLP schema.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import protobuf from 'protobufjs';
import OTLP_SCHEMA from '../../src/otlp/otlp-metrics.json' with { type: 'json' };
import { pushSerializer } from '../../src/otlp/push-serializer.ts';

function request(exemplars: boolean): ResourceMetrics {
  const point = {
    attributes: { q: 'a' },
    startTime: [1, 0] as [number, number],
    endTime: [2, 0] as [number, number],
    value: 3,
  };
  return {
    resource: resourceFromAttributes({ 'service.name': 's' }),
    scopeMetrics: [
      {
        scope: { name: 'x' },
        metrics: [
          {
            descriptor: { name: 'jobs', description: '', unit: '', valueType: 1 },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.SUM,
            isMonotonic: true,
            dataPoints: [
              exemplars
                ? {
                    ...point,
                    exemplars: [
                      {
                        value: 1,
                        timeMillis: 1700000000123,
                        traceId: '0af7651916cd43dd8448eb211c80319c',
                        spanId: 'b7ad6b7169203331',
                      },
                    ],
                  }
                : point,
            ],
          },
        ],
      },
    ],
  } as ResourceMetrics;
}

const official = (protocol: 'http/protobuf' | 'http/json') =>
  protocol === 'http/json' ? JsonMetricsSerializer : ProtobufMetricsSerializer;

test('without exemplars: the official bytes, both protocols', () => {
  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    assert.deepEqual(
      Buffer.from(pushSerializer(protocol).serializeRequest(request(false))!),
      Buffer.from(official(protocol).serializeRequest(request(false))!),
    );
  }
});

test('with exemplars: the official request plus the exemplar, nothing else', () => {
  const type = protobuf.Root.fromJSON(OTLP_SCHEMA).lookupType(
    'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
  );
  const decode = (b: Uint8Array) =>
    type.toObject(type.decode(b), { longs: String, bytes: String }) as {
      resourceMetrics: Array<{
        scopeMetrics: Array<{
          metrics: Array<{ sum: { dataPoints: Array<Record<string, unknown>> } }>;
        }>;
      }>;
    };
  const plain = decode(official('http/protobuf').serializeRequest(request(true))!);
  const withExemplars = decode(pushSerializer('http/protobuf').serializeRequest(request(true))!);
  const point = withExemplars.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.sum.dataPoints[0]!;
  assert.deepEqual(point['exemplars'], [
    {
      timeUnixNano: '1700000000123000000',
      asDouble: 1,
      spanId: Buffer.from('b7ad6b7169203331', 'hex').toString('base64'),
      traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex').toString('base64'),
    },
  ]);
  delete point['exemplars'];
  assert.deepEqual(withExemplars, plain);
  const json = JSON.parse(
    Buffer.from(pushSerializer('http/json').serializeRequest(request(true))!).toString('utf8'),
  );
  assert.deepEqual(json.resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].exemplars, [
    {
      timeUnixNano: '1700000000123000000',
      asDouble: 1,
      spanId: 'b7ad6b7169203331',
      traceId: '0af7651916cd43dd8448eb211c80319c',
    },
  ]);
});
