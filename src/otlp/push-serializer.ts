/**
 * The bytes of an OTLP push: the official exporter's own serializer (`@opentelemetry/otlp-transformer`,
 * imported as the exporter packages import it, so a bundler sees it), plus the one thing it leaves
 * out — the data points' trace-linked exemplars (domain/exemplars.ts), which
 * the OTel JS SDK never produces but jobmeter's storages do.
 *
 * A request without exemplars is the official serializer's bytes unchanged. With some, each point
 * with exemplars gets them (the transformer keeps scopes, metrics and points in order, so they are
 * matched by position) in the decoded body, encoded again: protobuf through protobufjs against the
 * committed descriptor (otlp-metrics.json), JSON through `JSON.parse`.
 */
import type { DataPoint, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { otlpType } from './normalize.ts';
import type { Exemplar } from '../domain/exemplars.ts';
import type { OtlpProtocol } from '../options.ts';

/** The part of the transformer's serializers an exporter uses. */
export interface MetricsSerializer {
  serializeRequest(request: ResourceMetrics): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): unknown;
}

const SERIALIZER: Readonly<Record<OtlpProtocol, MetricsSerializer>> = {
  'http/protobuf': ProtobufMetricsSerializer,
  'http/json': JsonMetricsSerializer,
};

/** The push serializer for `protocol` (see the file comment): the official one's wrapper, cheap to make. */
export function pushSerializer(protocol: OtlpProtocol): MetricsSerializer {
  const official = SERIALIZER[protocol];
  return {
    serializeRequest(request) {
      const body = official.serializeRequest(request);
      return body === undefined || !hasExemplars(request) ? body : attach(body, request, protocol);
    },
    deserializeResponse: (data) => official.deserializeResponse(data),
  };
}

type Points = readonly (DataPoint<unknown> & { readonly exemplars?: readonly Exemplar[] })[];
const pointsOf = (m: MetricData): Points => m.dataPoints;

function hasExemplars(request: ResourceMetrics): boolean {
  return request.scopeMetrics.some((s) =>
    s.metrics.some((m) =>
      pointsOf(m).some((p) => p.exemplars !== undefined && p.exemplars.length > 0),
    ),
  );
}

/** A wire message's points, with the field the exemplars go in. */
interface WireMetric {
  name?: string;
  sum?: { dataPoints?: { exemplars?: unknown[] }[] };
  gauge?: { dataPoints?: { exemplars?: unknown[] }[] };
  histogram?: { dataPoints?: { exemplars?: unknown[] }[] };
  exponentialHistogram?: { dataPoints?: { exemplars?: unknown[] }[] };
}
interface WireRequest {
  resourceMetrics?: { scopeMetrics?: { metrics?: WireMetric[] }[] }[];
}

const nanos = (millis: number): string => (BigInt(Math.round(millis)) * 1_000_000n).toString();

/** `body` decoded, each point given its exemplars, and encoded again in `protocol`. */
function attach(body: Uint8Array, request: ResourceMetrics, protocol: OtlpProtocol): Uint8Array {
  const json = protocol === 'http/json';
  const type = otlpType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
  const wire = (
    json
      ? JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
      : type.decode(body)
  ) as WireRequest;
  // OTLP/JSON: ids as hex strings, 64-bit integers as decimal strings.
  const id = (hex: string) => (json ? hex : Buffer.from(hex, 'hex'));
  // Each point with exemplars given them in its wire point, found by position.
  const scopes = wire.resourceMetrics?.[0]?.scopeMetrics ?? [];
  request.scopeMetrics.forEach((scope, i) => {
    const metrics = scopes[i]?.metrics ?? [];
    scope.metrics.forEach((metric, j) => {
      const w = metrics[j];
      if (w === undefined || w.name !== metric.descriptor.name) return;
      const points = (w.sum ?? w.gauge ?? w.histogram ?? w.exponentialHistogram)?.dataPoints ?? [];
      pointsOf(metric).forEach(({ exemplars }, k) => {
        const point = points[k];
        if (exemplars === undefined || exemplars.length === 0 || point === undefined) return;
        point.exemplars = exemplars.map((e) => ({
          timeUnixNano: nanos(e.timeMillis),
          asDouble: e.value,
          spanId: id(e.spanId),
          traceId: id(e.traceId),
        }));
      });
    });
  });
  return json ? new TextEncoder().encode(JSON.stringify(wire)) : type.encode(wire).finish();
}
