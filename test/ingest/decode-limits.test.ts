/**
 * The decoders' limits (src/otlp/decode-limits.ts). What real senders send passes
 * with room to spare — the JS SDK's own serializers (both encodings) at the densest shapes an SDK
 * makes, and the max-size request — while degenerate shapes (empty points, empty attributes,
 * empty AnyValue elements, empty JSON objects and arrays) are refused as too large to decode
 * (DecodeLimitExceeded, a 413) within their first megabytes, before the decoder built more than
 * the limit's worth (a 19 MB body of empty points is ~9.5M objects if decoded whole).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { maxSizeRequest } from '../../bench/max-size-request.ts';
import { startIngestListener } from '../../src/ingest/ingest-listener.ts';
import { resolveIngest } from '../../src/resolve-options.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { decodeExportRequest } from '../../src/otlp/codec.ts';
import { decodeStatus } from '../support/otlp-response.ts';
import {
  DECODED_BYTES_PER_BODY_BYTE,
  DecodeLimitExceeded,
  DEFAULT_DECODE_LIMITS,
  type DecodeLimits,
} from '../../src/otlp/decode-limits.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';
import { OtlpDecodeError } from '../../src/otlp/types.ts';
import { emptyPointsRequest } from './hostile-bodies.ts';
import { lengthDelimited } from '../support/otlp-protobuf-writer.ts';

const MiB = 1024 * 1024;

/** The default per-byte allowance cut by a third, little slack, no cap: a real shape must pass these, so it has room to spare. */
const TIGHT: DecodeLimits = {
  capBytes: Number.MAX_SAFE_INTEGER,
  perBodyByte: DECODED_BYTES_PER_BODY_BYTE / 1.5,
  slackBytes: 16 * 1024,
};

/** The densest shapes the JS SDK exports: many series with one small attribute, and histograms of one-byte bucket counts. */
async function sdkRequest(): Promise<ResourceMetrics> {
  const reader = newPullReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'dense' }),
    readers: [reader],
    views: [
      { instrumentName: 'exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
      { instrumentName: '*', aggregationCardinalityLimit: 20_000 },
    ],
  });
  const meter = provider.getMeter('dense');
  const counter = meter.createCounter('c');
  const gauge = meter.createGauge('g');
  for (let i = 0; i < 10_000; i++) {
    counter.add(1, { i });
    gauge.record(i, { i: String(i) });
  }
  meter.createGauge('bare').record(1);
  const histogram = meter.createHistogram('h');
  const exp = meter.createHistogram('exp');
  for (let k = 0; k < 200; k++) {
    // Values spread over the exponential histogram's 160 buckets, one each: one-byte counts.
    for (let v = 0; v < 160; v++) exp.record(1.05 ** v, { k });
    histogram.record(k, { k });
  }
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

function refusedEarly(decode: () => unknown): DecodeLimitExceeded {
  let caught: unknown;
  try {
    decode();
  } catch (err) {
    caught = err;
  }
  assert.ok(
    caught instanceof DecodeLimitExceeded,
    `expected a decode limit refusal, got ${String(caught)}`,
  );
  assert.ok(caught instanceof OtlpDecodeError, 'still a decode error to whoever handles those');
  const at = Number(/in the first (\d+) of/.exec(caught.message)?.[1]);
  assert.ok(at < 2 * MiB, `refused only after ${at} bytes: ${caught.message}`);
  return caught;
}

describe('the listener answers 413', () => {
  it(
    'for a small body decoded on the main thread, and for a large one decoded on the decoding thread',
    { timeout: 60_000 },
    async () => {
      const listener = await startIngestListener({
        sink: new IngestStore(),
        ...resolveIngest({ port: 0 }),
      });
      try {
        for (const points of [50_000, 1_000_000]) {
          const body = emptyPointsRequest(points);
          const res = await fetch(`http://127.0.0.1:${listener.address.port}/v1/metrics`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-protobuf' },
            body,
          });
          const status = decodeStatus(new Uint8Array(await res.arrayBuffer()), 'protobuf');
          assert.equal(res.status, 413, `${body.length} bytes: ${status.message}`);
          assert.equal(status.code, 3);
          assert.match(status.message, /^request too large to decode: \d+ data points/);
        }
      } finally {
        await listener.close();
      }
    },
  );
});

describe('what real senders send passes, with room to spare', () => {
  it('the JS SDK’s requests, protobuf and JSON', async () => {
    const rm = await sdkRequest();
    const protobuf = ProtobufMetricsSerializer.serializeRequest(rm)!;
    const json = JsonMetricsSerializer.serializeRequest(rm)!;
    const fromProtobuf = decodeExportRequest(protobuf, 'protobuf', TIGHT);
    assert.deepEqual(decodeExportRequest(json, 'json', TIGHT), fromProtobuf);
    const points = fromProtobuf.resourceMetrics[0]!.scopeMetrics[0]!.metrics.reduce(
      (n, m) => n + ('points' in m.data ? m.data.points.length : 0),
      0,
    );
    assert.equal(points, 20_401);
  });

  it('the max-size request (~1M points) within the default cap, and within two thirds of the per-byte allowance', () => {
    const request = maxSizeRequest();
    const decoded = decodeExportRequest(request.body, 'protobuf', DEFAULT_DECODE_LIMITS);
    assert.equal(decoded.resourceMetrics[0]!.scopeMetrics[0]!.metrics.length, request.metrics);
    decodeExportRequest(request.body, 'protobuf', TIGHT);
    // Its estimated cost (160 a point) stays under two thirds of the cap.
    decodeExportRequest(request.body, 'protobuf', {
      ...DEFAULT_DECODE_LIMITS,
      capBytes: (DEFAULT_DECODE_LIMITS.capBytes * 2) / 3,
    });
  });
});

describe('degenerate shapes are refused within their first megabytes', () => {
  it('9.5M empty data points (a 1.8 KB zstd body)', () => {
    const e = refusedEarly(() => decodeExportRequest(emptyPointsRequest(9_500_000), 'protobuf'));
    assert.match(
      e.message,
      /^request too large to decode: \d+ data points, 1 metrics, 1 resources, 1 scopes in the first \d+ of 19000023 bytes would take over \d+ bytes \(decode limit: 16 bytes per body byte \+ 1048576, at most 268435456\)$/,
    );
  });

  it('empty attributes on one point, empty AnyValue array elements, empty key-value list entries', () => {
    const many = (n: number, bytes: number[]): Buffer =>
      Buffer.from(new Uint8Array(n * bytes.length).map((_, i) => bytes[i % bytes.length]!));
    // Gauge.data_points[0].attributes (7): 4M empty KeyValues.
    const attributes = lengthDelimited(1, [
      lengthDelimited(2, [
        lengthDelimited(2, [
          lengthDelimited(5, [lengthDelimited(1, [many(4_000_000, [0x3a, 0x00])])]),
        ]),
      ]),
    ]);
    refusedEarly(() => decodeExportRequest(attributes, 'protobuf'));
    // One resource attribute whose value is an ArrayValue of 4M empty AnyValues.
    const arrayValue = lengthDelimited(5, [many(4_000_000, [0x0a, 0x00])]);
    const elements = lengthDelimited(1, [
      lengthDelimited(1, [
        lengthDelimited(1, [Buffer.from([0x0a, 0x01, 0x6b]), lengthDelimited(2, [arrayValue])]),
      ]),
    ]);
    refusedEarly(() => decodeExportRequest(elements, 'protobuf'));
    const kvlist = lengthDelimited(6, [many(4_000_000, [0x0a, 0x00])]);
    const entries = lengthDelimited(1, [
      lengthDelimited(1, [
        lengthDelimited(1, [Buffer.from([0x0a, 0x01, 0x6b]), lengthDelimited(2, [kvlist])]),
      ]),
    ]);
    refusedEarly(() => decodeExportRequest(entries, 'protobuf'));
  });

  it('JSON: empty objects and arrays, refused before JSON.parse', () => {
    const points = Buffer.from(
      `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[${Array(3_000_000).fill('{}').join(',')}]}}]}]}]}`,
    );
    const e = refusedEarly(() => decodeExportRequest(points, 'json'));
    assert.match(e.message, /JSON objects and arrays/);
    refusedEarly(() =>
      decodeExportRequest(Buffer.from(`[${Array(3_000_000).fill('[]').join(',')}]`), 'json'),
    );
    // A string holding the same bytes is not structure.
    assert.deepEqual(
      decodeExportRequest(
        Buffer.from(
          `{"resourceMetrics":[{"resource":{"attributes":[{"key":"k","value":{"stringValue":"${'{},[],\\"'.repeat(400_000)}"}}]}}]}`,
        ),
        'json',
      ),
      { resourceMetrics: [{ resource: { k: '{},[],"'.repeat(400_000) }, scopeMetrics: [] }] },
    );
  });

  it('JSON that passes the scan is counted as it is normalized: a million points of one field', () => {
    const body = Buffer.from(
      `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[${Array(1_000_000).fill('{"flags":0}').join(',')}]}}]}]}]}`,
    );
    assert.throws(
      () => decodeExportRequest(body, 'json'),
      (e: unknown) =>
        e instanceof DecodeLimitExceeded &&
        /^request too large to decode: \d+ data points, .*JSON objects and arrays/.test(e.message),
    );
  });

  it('past the cap, whatever the density: a body of ordinary points larger than the default max_body_bytes', () => {
    const request = maxSizeRequest(40 * MiB);
    assert.throws(
      () => decodeExportRequest(request.body, 'protobuf'),
      (e: unknown) => e instanceof DecodeLimitExceeded && /at most 268435456\)$/.test(e.message),
    );
  });
});
