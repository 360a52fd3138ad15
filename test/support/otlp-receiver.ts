/**
 * A minimal OTLP/HTTP metrics receiver for tests: `POST /v1/metrics` in `application/x-protobuf`
 * or `application/json`, optionally gzip-encoded, answered with an empty
 * ExportMetricsServiceResponse in the request's encoding, as a collector does.
 *
 * Each request is recorded twice over: `body` is the request as an OTLP/JSON-shaped object
 * (lowerCamelCase keys, enums as numbers, int64 as given: strings from protobuf, numbers or strings
 * from JSON), and `resource`/`metrics` flatten it into plain values for assertions, identical for
 * both encodings.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

export type MetricKind = 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';

export interface DecodedPoint {
  attributes: Record<string, unknown>;
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  /** Sum and gauge points: `asDouble` or `asInt`, as a number. */
  value?: number;
  /** Histogram-like points. */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  /** Explicit-bucket histograms. */
  bucketCounts?: number[];
  explicitBounds?: number[];
}

export interface DecodedMetric {
  /** Instrumentation scope (meter) name. */
  scope: string;
  name: string;
  unit: string;
  description: string;
  kind: MetricKind;
  /** Sums only. */
  monotonic?: boolean;
  /** Absent for gauges and summaries, which carry no temporality in OTLP. */
  temporality?: 'cumulative' | 'delta';
  points: DecodedPoint[];
}

export interface DecodedExport {
  /** Media type without parameters, e.g. `application/x-protobuf`. */
  contentType: string;
  /** `Content-Encoding` as sent (`gzip`), if any. */
  contentEncoding?: string;
  headers: IncomingHttpHeaders;
  /** Attributes of the first ResourceMetrics (the JS SDK sends one per request). */
  resource: Record<string, unknown>;
  /** Metrics of every ResourceMetrics and scope, in order. */
  metrics: DecodedMetric[];
  /** The request as an OTLP/JSON-shaped object. */
  body: OtlpJsonRequest;
}

export interface OtlpReceiver {
  /** Full metrics URL, `http://127.0.0.1:<port>/v1/metrics`. */
  url: string;
  /** Every accepted request, in arrival order. */
  requests: DecodedExport[];
  /** Requests refused (bad path, type, encoding or body), with why. */
  errors: string[];
  /** Resolves once `requests.length >= n`; rejects after `timeoutMs`. */
  waitForRequests(n: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

// The OTLP/JSON shapes this file reads; everything is optional because proto3 omits defaults.
type Int64 = string | number;
export interface OtlpJsonRequest {
  resourceMetrics?: OtlpJsonResourceMetrics[];
}
interface OtlpJsonResourceMetrics {
  resource?: { attributes?: OtlpJsonKeyValue[] };
  scopeMetrics?: Array<{ scope?: { name?: string; version?: string }; metrics?: OtlpJsonMetric[] }>;
}
interface OtlpJsonKeyValue {
  key: string;
  value?: OtlpJsonAnyValue;
}
interface OtlpJsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: Int64;
  doubleValue?: number | string;
  arrayValue?: { values?: OtlpJsonAnyValue[] };
  kvlistValue?: { values?: OtlpJsonKeyValue[] };
  bytesValue?: string;
}
interface OtlpJsonPoint {
  attributes?: OtlpJsonKeyValue[];
  startTimeUnixNano?: Int64;
  timeUnixNano?: Int64;
  asDouble?: number | string;
  asInt?: Int64;
  count?: Int64;
  sum?: number | string;
  min?: number | string;
  max?: number | string;
  bucketCounts?: Int64[];
  explicitBounds?: Array<number | string>;
  exemplars?: Array<{ traceId?: string; spanId?: string }>;
}
interface OtlpJsonData {
  dataPoints?: OtlpJsonPoint[];
  aggregationTemporality?: number | string;
  isMonotonic?: boolean;
}
interface OtlpJsonMetric {
  name?: string;
  description?: string;
  unit?: string;
  gauge?: OtlpJsonData;
  sum?: OtlpJsonData;
  histogram?: OtlpJsonData;
  exponentialHistogram?: OtlpJsonData;
  summary?: OtlpJsonData;
}

const PROTO_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/otlp/proto');
const METRICS_PATH = '/v1/metrics';

let schema: { request: protobuf.Type; response: protobuf.Type } | undefined;

/** The schema in test/support/otlp/, loaded once per process. */
export function otlpMetricsSchema(): { request: protobuf.Type; response: protobuf.Type } {
  if (schema === undefined) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
    root.loadSync('opentelemetry/proto/collector/metrics/v1/metrics_service.proto');
    root.resolveAll();
    schema = {
      request: root.lookupType(
        'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
      ),
      response: root.lookupType(
        'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
      ),
    };
  }
  return schema;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const { request: requestType, response: responseType } = otlpMetricsSchema();
  const requests: DecodedExport[] = [];
  const errors: string[] = [];
  const waiters = new Set<() => void>();

  const server = createServer((req, res) => {
    readBody(req).then(
      (raw) => handle(req, res, raw),
      (err: unknown) => refuse(res, 400, `reading body: ${String(err)}`),
    );
  });

  function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== METRICS_PATH) {
      refuse(res, 404, `${req.method} ${req.url}`);
      return;
    }
    const contentEncoding = req.headers['content-encoding']?.toLowerCase();
    let payload = raw;
    if (contentEncoding === 'gzip') {
      try {
        payload = gunzipSync(raw);
      } catch (err) {
        refuse(res, 400, `gunzip: ${String(err)}`);
        return;
      }
    } else if (contentEncoding !== undefined && contentEncoding !== 'identity') {
      refuse(res, 415, `content-encoding ${contentEncoding}`);
      return;
    }

    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    let body: OtlpJsonRequest;
    try {
      if (contentType === 'application/x-protobuf') {
        body = fromProtobuf(requestType, payload);
      } else if (contentType === 'application/json') {
        body = JSON.parse(payload.toString('utf8')) as OtlpJsonRequest;
      } else {
        refuse(res, 415, `content-type ${contentType || '(none)'}`);
        return;
      }
    } catch (err) {
      refuse(res, 400, `decoding ${contentType}: ${String(err)}`);
      return;
    }

    const decoded: DecodedExport = { contentType, headers: req.headers, ...normalise(body), body };
    if (contentEncoding !== undefined) decoded.contentEncoding = contentEncoding;
    requests.push(decoded);
    for (const wake of waiters) wake();

    // An empty response message: proto3 encodes it as zero bytes, JSON as `{}`.
    const answer =
      contentType === 'application/json'
        ? Buffer.from('{}')
        : Buffer.from(responseType.encode(responseType.create({})).finish());
    res.writeHead(200, { 'content-type': contentType, 'content-length': answer.length });
    res.end(answer);
  }

  function refuse(res: ServerResponse, status: number, why: string): void {
    errors.push(why);
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(why);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${METRICS_PATH}`,
    requests,
    errors,
    waitForRequests(n, timeoutMs) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          if (requests.length < n) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(
            new Error(`OTLP receiver: ${requests.length} of ${n} requests after ${timeoutMs} ms`),
          );
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    close() {
      // The exporter's agent keeps connections alive; without this, close() waits for them.
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) =>
        server.close((err) => (err ? reject(err) : resolve())),
      );
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Decodes protobuf into the OTLP/JSON shape (protobufjs already camel-cases field names). */
function fromProtobuf(type: protobuf.Type, payload: Buffer): OtlpJsonRequest {
  const object = type.toObject(type.decode(payload), {
    longs: String,
    enums: Number,
    bytes: String,
  }) as OtlpJsonRequest;
  // OTLP/JSON writes trace and span ids as hex, every other bytes field as base64.
  for (const rm of object.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      for (const metric of sm.metrics ?? []) {
        for (const point of dataOf(metric)?.[1].dataPoints ?? []) {
          for (const exemplar of point.exemplars ?? []) {
            if (exemplar.traceId !== undefined) exemplar.traceId = base64ToHex(exemplar.traceId);
            if (exemplar.spanId !== undefined) exemplar.spanId = base64ToHex(exemplar.spanId);
          }
        }
      }
    }
  }
  return object;
}

function normalise(body: OtlpJsonRequest): Pick<DecodedExport, 'resource' | 'metrics'> {
  const resourceMetrics = body.resourceMetrics ?? [];
  const resource = attributesOf(resourceMetrics[0]?.resource?.attributes);
  const metrics: DecodedMetric[] = [];
  for (const rm of resourceMetrics) {
    for (const sm of rm.scopeMetrics ?? []) {
      for (const metric of sm.metrics ?? []) {
        const data = dataOf(metric);
        if (data === undefined) throw new Error(`metric ${metric.name} has no data`);
        const [kind, content] = data;
        const decoded: DecodedMetric = {
          scope: sm.scope?.name ?? '',
          name: metric.name ?? '',
          unit: metric.unit ?? '',
          description: metric.description ?? '',
          kind,
          points: (content.dataPoints ?? []).map((p) => pointOf(kind, p)),
        };
        if (kind === 'sum') decoded.monotonic = content.isMonotonic === true;
        const temporality = temporalityOf(content.aggregationTemporality);
        if (temporality !== undefined) decoded.temporality = temporality;
        metrics.push(decoded);
      }
    }
  }
  return { resource, metrics };
}

function dataOf(metric: OtlpJsonMetric): [MetricKind, OtlpJsonData] | undefined {
  for (const kind of ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const) {
    const data = metric[kind];
    if (data !== undefined) return [kind, data];
  }
  return undefined;
}

function pointOf(kind: MetricKind, p: OtlpJsonPoint): DecodedPoint {
  const point: DecodedPoint = { attributes: attributesOf(p.attributes) };
  if (p.startTimeUnixNano !== undefined) point.startTimeUnixNano = String(p.startTimeUnixNano);
  if (p.timeUnixNano !== undefined) point.timeUnixNano = String(p.timeUnixNano);
  if (kind === 'sum' || kind === 'gauge') {
    const value = p.asDouble ?? p.asInt;
    if (value !== undefined) point.value = Number(value);
    return point;
  }
  // proto3 leaves a zero count off the wire, so absent means 0 here.
  point.count = Number(p.count ?? 0);
  if (p.sum !== undefined) point.sum = Number(p.sum);
  if (p.min !== undefined) point.min = Number(p.min);
  if (p.max !== undefined) point.max = Number(p.max);
  if (kind === 'histogram') {
    point.bucketCounts = (p.bucketCounts ?? []).map(Number);
    point.explicitBounds = (p.explicitBounds ?? []).map(Number);
  }
  return point;
}

function temporalityOf(value: number | string | undefined): 'cumulative' | 'delta' | undefined {
  // Enums are numbers in OTLP/JSON, but the protobuf JSON mapping also allows their names.
  if (value === 1 || value === 'AGGREGATION_TEMPORALITY_DELTA') return 'delta';
  if (value === 2 || value === 'AGGREGATION_TEMPORALITY_CUMULATIVE') return 'cumulative';
  return undefined;
}

function attributesOf(list: OtlpJsonKeyValue[] | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) result[key] = anyValueOf(value);
  return result;
}

function anyValueOf(value: OtlpJsonAnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(anyValueOf);
  if (value.kvlistValue !== undefined) return attributesOf(value.kvlistValue.values);
  if (value.bytesValue !== undefined)
    return new Uint8Array(Buffer.from(value.bytesValue, 'base64'));
  return undefined;
}

function base64ToHex(value: string): string {
  return Buffer.from(value, 'base64').toString('hex');
}
