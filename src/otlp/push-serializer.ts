/**
 * The bytes of an OTLP push: the official exporter's own serializer (`@opentelemetry/otlp-transformer`,
 * imported as the exporter packages import it, so a bundler sees it), plus the one thing it leaves
 * out — the data points' trace-linked exemplars (domain/exemplars.ts), which
 * the OTel JS SDK never produces but jobmeter's storages do.
 *
 * A request without exemplars is the official serializer's bytes unchanged. With some, each point
 * with exemplars gets them (the transformer keeps scopes, metrics and points in order, so they are
 * matched by position): in protobuf appended to the point's bytes (a message's fields may come in
 * any order) and the length of each message around it written anew, nothing decoded; in JSON
 * through the parsed body.
 */
import type { DataPoint, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import protobuf from 'protobufjs/minimal.js';
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

const serializers = new Map<OtlpProtocol, MetricsSerializer>();

/** The push serializer for `protocol` (see the file comment). */
export function pushSerializer(protocol: OtlpProtocol): MetricsSerializer {
  let serializer = serializers.get(protocol);
  if (serializer === undefined) {
    const official = SERIALIZER[protocol];
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

/** Metric's data field (gauge 5, sum 7, histogram 9, exponential_histogram 10) -> its points' exemplars field. */
const EXEMPLARS_FIELD: ReadonlyMap<number, number> = new Map([
  [5, 5],
  [7, 5],
  [9, 8],
  [10, 11],
]);

function attachProtobuf(body: Uint8Array, request: ResourceMetrics): Uint8Array {
  // ExportMetricsServiceRequest.resource_metrics (1, the one the transformer writes) ->
  // .scope_metrics (2) -> .metrics (2) -> its data (EXEMPLARS_FIELD) -> .data_points (1).
  return withFields(body, (f, _, rm) =>
    f !== 1
      ? undefined
      : withFields(rm, (f, i, sm) =>
          f !== 2
            ? undefined
            : withFields(sm, (f, j, m) => {
                const metric = request.scopeMetrics[i]?.metrics[j];
                if (f !== 2 || metric === undefined) return undefined;
                const points = pointsOf(metric);
                return withFields(m, (f, _, data) => {
                  const field = EXEMPLARS_FIELD.get(f);
                  if (field === undefined) return undefined;
                  return withFields(data, (f, k, point) => {
                    const exemplars = f === 1 ? points[k]?.exemplars : undefined;
                    if (exemplars === undefined || exemplars.length === 0) return undefined;
                    return Buffer.concat([point, ...exemplars.map((e) => exemplarField(field, e))]);
                  });
                });
              }),
        ),
  );
}

/**
 * `message` with each length-delimited field `replace` gives new bytes for (by field number and
 * its index among that field's occurrences) replaced by them, its length prefix written anew.
 */
function withFields(
  message: Uint8Array,
  replace: (field: number, index: number, payload: Uint8Array) => Uint8Array | undefined,
): Uint8Array {
  const parts: Uint8Array[] = [];
  const seen = new Map<number, number>();
  const r = protobuf.Reader.create(message);
  let copied = 0;
  while (r.pos < r.len) {
    const start = r.pos;
    const tag = r.uint32();
    if ((tag & 7) !== 2) {
      r.skipType(tag & 7);
      continue;
    }
    const field = tag >>> 3;
    const index = seen.get(field) ?? 0;
    seen.set(field, index + 1);
    const length = r.uint32();
    const payload = replace(field, index, message.subarray(r.pos, r.pos + length));
    r.skip(length);
    if (payload !== undefined) {
      const prefix = protobuf.Writer.create().uint32(tag).uint32(payload.length).finish();
      parts.push(message.subarray(copied, start), prefix, payload);
      copied = r.pos;
    }
  }
  if (parts.length === 0) return message;
  parts.push(message.subarray(copied));
  return Buffer.concat(parts);
}

/**
 * One exemplar as field `field` of its point: an Exemplar message of time_unix_nano (2, fixed64),
 * as_double (3), span_id (4) and trace_id (5).
 */
function exemplarField(field: number, e: Exemplar): Uint8Array {
  const m = Buffer.alloc(1 + 8 + 1 + 8 + 2 + 8 + 2 + 16);
  m[0] = 0x11;
  m.writeBigUInt64LE(BigInt(nanos(e.timeMillis)), 1);
  m[9] = 0x19;
  m.writeDoubleLE(e.value, 10);
  m[18] = 0x22;
  m[19] = 8;
  m.write(e.spanId, 20, 'hex');
  m[28] = 0x2a;
  m[29] = 16;
  m.write(e.traceId, 30, 'hex');
  return Buffer.concat([
    protobuf.Writer.create()
      .uint32((field << 3) | 2)
      .uint32(m.length)
      .finish(),
    m,
  ]);
}
