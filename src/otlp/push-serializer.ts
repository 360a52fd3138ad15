/**
 * The bytes of an OTLP push: the official exporter's own serializer (`@opentelemetry/otlp-transformer`,
 * resolved from the exporter package's location, so it is the exporter's pinned release), plus the
 * one thing it leaves out — the data points' trace-linked exemplars (domain/exemplars.ts), which
 * the OTel JS SDK never produces but jobmeter's storages do.
 *
 * A request without exemplars is the official serializer's bytes unchanged. With some, the body is
 * decoded, each point with exemplars gets them (the transformer keeps scopes, metrics and points in
 * order, so they are matched by position, checked by metric name), and encoded again.
 */
import { createRequire } from 'node:module';
import type { DataPoint, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import protobuf from 'protobufjs/light.js';
import type { Exemplar } from '../domain/exemplars.ts';
import type { OtlpProtocol } from '../options.ts';
import { OTLP_SCHEMA } from './schema.ts';

/** The part of the transformer's serializers an exporter uses. */
export interface MetricsSerializer {
  serializeRequest(request: ResourceMetrics): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): unknown;
}

export const EXPORTER_PACKAGE: Readonly<Record<OtlpProtocol, string>> = {
  'http/protobuf': '@opentelemetry/exporter-metrics-otlp-proto',
  'http/json': '@opentelemetry/exporter-metrics-otlp-http',
};
const SERIALIZER: Readonly<
  Record<OtlpProtocol, 'ProtobufMetricsSerializer' | 'JsonMetricsSerializer'>
> = {
  'http/protobuf': 'ProtobufMetricsSerializer',
  'http/json': 'JsonMetricsSerializer',
};

/** `require` as the exporter package for `protocol` sees it (its own dependency tree). */
export function exporterRequire(protocol: OtlpProtocol): NodeJS.Require {
  return createRequire(createRequire(import.meta.url).resolve(EXPORTER_PACKAGE[protocol]));
}

const serializers = new Map<OtlpProtocol, MetricsSerializer>();

/** The push serializer for `protocol` (see the file comment). */
export function pushSerializer(protocol: OtlpProtocol): MetricsSerializer {
  let serializer = serializers.get(protocol);
  if (serializer === undefined) {
    const transformer = exporterRequire(protocol)('@opentelemetry/otlp-transformer') as Record<
      string,
      MetricsSerializer | undefined
    >;
    const official = transformer[SERIALIZER[protocol]];
    if (official === undefined)
      throw new Error(`@opentelemetry/otlp-transformer has no ${SERIALIZER[protocol]}`);
    const attach = protocol === 'http/json' ? attachJson : attachProtobuf;
    serializer = {
      serializeRequest(request) {
        const body = official.serializeRequest(request);
        return body === undefined || !hasExemplars(request) ? body : attach(body, request);
      },
      deserializeResponse: (data) => official.deserializeResponse(data),
    };
    serializers.set(protocol, serializer);
  }
  return serializer;
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

/** Walks `request`'s points beside `wire`'s and gives each point with exemplars its wire point. */
function eachPoint(
  wire: WireRequest,
  request: ResourceMetrics,
  visit: (exemplars: readonly Exemplar[], point: { exemplars?: unknown[] }) => void,
): void {
  const scopes = wire.resourceMetrics?.[0]?.scopeMetrics ?? [];
  request.scopeMetrics.forEach((scope, i) => {
    const metrics = scopes[i]?.metrics ?? [];
    scope.metrics.forEach((metric, j) => {
      const w = metrics[j];
      if (w === undefined || w.name !== metric.descriptor.name) return;
      const points = (w.sum ?? w.gauge ?? w.histogram ?? w.exponentialHistogram)?.dataPoints ?? [];
      pointsOf(metric).forEach((p, k) => {
        if (p.exemplars !== undefined && p.exemplars.length > 0 && points[k] !== undefined)
          visit(p.exemplars, points[k]);
      });
    });
  });
}

const nanos = (millis: number): string => (BigInt(Math.round(millis)) * 1_000_000n).toString();

function attachJson(body: Uint8Array, request: ResourceMetrics): Uint8Array {
  const wire = JSON.parse(
    Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'),
  ) as WireRequest;
  // OTLP/JSON: ids as hex strings, 64-bit integers as decimal strings.
  eachPoint(wire, request, (exemplars, point) => {
    point.exemplars = exemplars.map((e) => ({
      timeUnixNano: nanos(e.timeMillis),
      asDouble: e.value,
      spanId: e.spanId,
      traceId: e.traceId,
    }));
  });
  return new TextEncoder().encode(JSON.stringify(wire));
}

let types: { request: protobuf.Type; exemplar: protobuf.Type } | undefined;

function attachProtobuf(body: Uint8Array, request: ResourceMetrics): Uint8Array {
  if (types === undefined) {
    const root = protobuf.Root.fromJSON(OTLP_SCHEMA);
    types = {
      request: root.lookupType(
        'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
      ),
      exemplar: root.lookupType('opentelemetry.proto.metrics.v1.Exemplar'),
    };
  }
  const { request: requestType, exemplar } = types;
  const wire = requestType.decode(body) as unknown as WireRequest;
  eachPoint(wire, request, (exemplars, point) => {
    point.exemplars = exemplars.map((e) =>
      exemplar.fromObject({
        timeUnixNano: nanos(e.timeMillis),
        asDouble: e.value,
        spanId: Buffer.from(e.spanId, 'hex'),
        traceId: Buffer.from(e.traceId, 'hex'),
      }),
    );
  });
  return requestType.encode(wire).finish();
}
