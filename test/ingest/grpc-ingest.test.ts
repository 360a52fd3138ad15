/**
 * The OTLP/gRPC ingest front (ingest/grpc-listener.ts) with real clients: the JS SDK's
 * `@opentelemetry/exporter-metrics-otlp-grpc` (plain and gzip), the real Collector's `otlp_grpc`
 * exporter in every compression it offers, and grpc-js itself for the odd messages. What arrives over gRPC is served exactly as the same recording sent over OTLP/HTTP
 * (`exporter-metrics-otlp-proto`); a refusal is the gRPC status the OTLP specification names, and a
 * partial success carries the numbers the HTTP ingest gives for the same body.
 */
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Metadata, status } from '@grpc/grpc-js';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as ProtobufExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { EXPORT_PATH } from '../../src/ingest/grpc-listener.ts';
import type { Jobmeter } from '../../src/jobmeter.ts';
import { selfTelemetryOf, servedJobmeter } from '../support/served-jobmeter.ts';
import { throughCollector } from '../support/collector.ts';
import { counterRequest } from '../support/otlp-counter.ts';
import { unaryCall } from '../support/grpc-call.ts';
import { otlpMetricsSchema } from '../support/otlp-receiver.ts';
import { decodeExportResponse } from '../support/otlp-response.ts';
import { otlpTypes } from '../../src/otlp/codec.ts';

const TOKEN = 'grpc-ingest-TOKEN-51c2';

/** A jobmeter receiving on both transports. */
function receiver(ingest: Record<string, unknown> = {}): Promise<Jobmeter> {
  return servedJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    ingest: { port: 0, grpcPort: 0, ...ingest },
  });
}

/** One recording, every instrument kind, exported once through each exporter. */
async function record(exporters: readonly PushMetricExporter[]): Promise<void> {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'grpc-daemon' }),
    readers: exporters.map(
      (exporter) => new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 }),
    ),
  });
  const meter = provider.getMeter('daemon', '1.2.3');
  meter.createCounter('tasks.done', { unit: '{task}' }).add(7, { queue: 'a' });
  meter.createCounter('tasks.done', { unit: '{task}' }).add(3, { queue: 'b' });
  meter.createUpDownCounter('tasks.active').add(-2, { queue: 'a' });
  const duration = meter.createHistogram('task.duration', { unit: 's' });
  for (const v of [0.2, 1.5, 7]) duration.record(v, { queue: 'a' });
  meter.createGauge('queue.depth').record(12.5, { queue: 'b' });
  meter.createObservableGauge('daemon.uptime', { unit: 's' }).addCallback((r) => r.observe(99));
  await provider.forceFlush();
  await provider.shutdown();
}

/** What a jobmeter serves, as comparable rows (its own build info left out). */
async function served(jm: Jobmeter): Promise<string[]> {
  const rows: string[] = [];
  for (const f of await jm.scrape())
    for (const s of f.series) rows.push(`${f.name}{${s.labels}} ${JSON.stringify(s)}`);
  return rows.sort();
}

/** A raw unary Export with `body`: the response bytes, or the error. */
const call = (port: number, body: Buffer, metadata = new Metadata()) =>
  unaryCall(port, body, { metadata });

function bearer(token: string): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
}

/** `points` counter points of one series each, stamped now, as protobuf. */
function counterBody(name: string, value: number, points = 1): Buffer {
  return encode(otlpMetricsSchema().request, counterRequest(name, value, { points }));
}

function encode(type: ReturnType<typeof otlpMetricsSchema>['request'], object: object): Buffer {
  return Buffer.from(type.encode(type.fromObject(object)).finish());
}

describe('the JS SDK exporting over gRPC', () => {
  const jms: Jobmeter[] = [];
  after(async () => {
    await Promise.all(jms.map((jm) => jm.shutdown()));
  });

  for (const compression of ['none', 'gzip'] as const)
    it(`is served as the same recording sent over OTLP/HTTP (compression ${compression})`, async () => {
      const [overGrpc, overHttp] = await Promise.all([receiver(), receiver()]);
      jms.push(overGrpc, overHttp);
      await record([
        new GrpcExporter({
          url: `http://127.0.0.1:${overGrpc.ingestGrpcAddress!.port}`,
          compression: compression as never,
        }),
        new ProtobufExporter({
          url: `http://127.0.0.1:${overHttp.ingestAddress!.port}/v1/metrics`,
        }),
      ]);
      const rows = await served(overGrpc);
      assert.deepEqual(rows, await served(overHttp));
      assert.ok(
        rows.some(
          (r) =>
            r.startsWith('tasks_done_total{') && r.includes('queue="a"') && r.includes('"value":7'),
        ),
        rows.join('\n'),
      );
      // Each export answered accepted, as many as over HTTP (forceFlush's and shutdown's), under
      // its transport, with the gRPC status code.
      const grpc = await ingestRequests(overGrpc);
      const http = await ingestRequests(overHttp);
      const accepted = http.get('code="200",protocol="http",reason="accepted"');
      assert.ok(accepted! >= 1, [...http].join('\n'));
      assert.equal(grpc.get('code="0",protocol="grpc",reason="accepted"'), accepted);
      assert.equal(grpc.get('code="200",protocol="http",reason="accepted"'), 0);
      // The sender is known by its address whichever transport it used (the status page).
      for (const jm of [overGrpc, overHttp])
        assert.deepEqual(
          selfTelemetryOf(jm)!
            .ingest()!
            .senders()
            .senders.map((s) => s.address),
          ['127.0.0.1'],
        );
    });
});

/** jobmeter_ingest_requests_total by its labels. */
async function ingestRequests(jm: Jobmeter): Promise<Map<string, number>> {
  const family = (await selfTelemetryOf(jm)!.families()).find(
    (f) => f.name === 'jobmeter_ingest_requests_total',
  )!;
  return new Map(family.series.map((s) => [s.labels, (s as { value: number }).value]));
}

describe('odd messages over gRPC', () => {
  let jm: Jobmeter;
  let port: number;
  before(async () => {
    jm = await receiver({ token: TOKEN, maxBodyBytes: 64 * 1024, maxSeries: 3 });
    port = jm.ingestGrpcAddress!.port;
  });
  after(async () => {
    await jm?.shutdown();
  });

  it('a message that does not decode: INVALID_ARGUMENT', async () => {
    const { error } = await call(port, Buffer.from([0x0a, 0xff, 0xff]), bearer(TOKEN));
    assert.equal(error?.code, status.INVALID_ARGUMENT, String(error));
  });

  it('no token, or a wrong one: UNAUTHENTICATED, nothing ingested', async () => {
    for (const metadata of [new Metadata(), bearer('wrong')]) {
      const { error } = await call(port, counterBody('gate.refused', 1), metadata);
      assert.equal(error?.code, status.UNAUTHENTICATED, String(error));
    }
    const names = (await jm.scrape()).map((f) => f.name);
    assert.ok(!names.some((n) => n.startsWith('gate_refused')), names.join('\n'));
    const requests = await ingestRequests(jm);
    assert.equal(requests.get('code="16",protocol="grpc",reason="unauthorized"'), 2);
    assert.equal(requests.get('code="401",protocol="http",reason="unauthorized"'), 0);
  });

  it('a message past max_body_bytes, as sent or once inflated: RESOURCE_EXHAUSTED', async () => {
    const big = Buffer.alloc(100 * 1024, 1);
    const { error } = await call(port, big, bearer(TOKEN));
    assert.equal(error?.code, status.RESOURCE_EXHAUSTED, String(error));
    const { error: inflated } = await unaryCall(port, big, {
      metadata: bearer(TOKEN),
      channel: { 'grpc.default_compression_algorithm': 2 },
    });
    assert.ok(gzipSync(big).length < 64 * 1024);
    assert.equal(inflated?.code, status.RESOURCE_EXHAUSTED, String(inflated));
  });

  it('points refused: partial_success with the numbers the HTTP ingest gives', async () => {
    // maxSeries 3: of 5 new series, 2 are refused, on either transport.
    const grpc = await call(port, counterBody('over.grpc', 1, 5), bearer(TOKEN));
    assert.ok(grpc.response, String(grpc.error));
    const overGrpc = decodeExportResponse(grpc.response, 'protobuf');
    const other = await receiver({ token: TOKEN, maxBodyBytes: 64 * 1024, maxSeries: 3 });
    try {
      const res = await fetch(`http://127.0.0.1:${other.ingestAddress!.port}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TOKEN}` },
        body: counterBody('over.grpc', 1, 5),
      });
      assert.equal(res.status, 200);
      const overHttp = decodeExportResponse(Buffer.from(await res.arrayBuffer()), 'protobuf');
      assert.equal(overGrpc?.rejectedDataPoints, 2, JSON.stringify(overGrpc));
      assert.deepEqual(overGrpc, overHttp);
    } finally {
      await other.shutdown();
    }
  });
});

describe('trusted networks over gRPC', () => {
  // The HTTP front's 403 is gRPC's PERMISSION_DENIED (the status mapping of the gRPC HTTP/2
  // protocol); a token asked as well answers UNAUTHENTICATED first, as over HTTP (http/gate.ts).
  it('a peer outside trusted_cidrs: PERMISSION_DENIED, nothing ingested; inside: accepted', async () => {
    const outside = await receiver({ trustedCidrs: ['10.0.0.0/8'] });
    const inside = await receiver({ trustedCidrs: ['127.0.0.0/8'] });
    const both = await receiver({ token: TOKEN, trustedCidrs: ['10.0.0.0/8'] });
    try {
      const refused = await call(outside.ingestGrpcAddress!.port, counterBody('cidr.out', 1));
      assert.equal(refused.error?.code, status.PERMISSION_DENIED, String(refused.error));
      const names = (await outside.scrape()).map((f) => f.name);
      assert.ok(!names.some((n) => n.startsWith('cidr_out')), names.join('\n'));
      const requests = await ingestRequests(outside);
      assert.equal(requests.get('code="7",protocol="grpc",reason="forbidden"'), 1);

      const accepted = await call(inside.ingestGrpcAddress!.port, counterBody('cidr.in', 1));
      assert.equal(accepted.error, undefined, String(accepted.error));
      assert.ok((await inside.scrape()).some((f) => f.name.startsWith('cidr_in')));

      const noToken = await call(both.ingestGrpcAddress!.port, counterBody('cidr.both', 1));
      assert.equal(noToken.error?.code, status.UNAUTHENTICATED, String(noToken.error));
    } finally {
      await Promise.all([outside.shutdown(), inside.shutdown(), both.shutdown()]);
    }
  });
});

describe('shedding over gRPC', () => {
  it('past the bytes in flight: UNAVAILABLE with google.rpc.RetryInfo, the others accepted', async () => {
    // One slot, 1 MiB bodies: at most 2 MiB in flight, so of 6 messages of 0.9 MiB sent at once
    // some wait and the ones past the bound are shed.
    const jm = await receiver({ maxBodyBytes: 1024 * 1024, maxConcurrentRequests: 1 });
    try {
      const port = jm.ingestGrpcAddress!.port;
      const body = counterBody('shed.me', 1, 24_000);
      assert.ok(body.length > 900 * 1024 && body.length < 1024 * 1024, String(body.length));
      const results = await Promise.all(Array.from({ length: 6 }, () => call(port, body)));
      const shed = results.filter((r) => r.error !== undefined);
      assert.ok(
        results.some((r) => r.response !== undefined),
        'some are accepted',
      );
      assert.ok(shed.length > 0, 'some are shed');
      for (const { error } of shed) {
        assert.equal(error!.code, status.UNAVAILABLE, String(error));
        const details = error!.metadata.get('grpc-status-details-bin')[0] as Buffer;
        const { status: statusType } = otlpTypes();
        const decoded = statusType.toObject(statusType.decode(details)) as {
          code: number;
          details: Array<{ type_url: string; value: Uint8Array }>;
        };
        assert.equal(decoded.code, status.UNAVAILABLE);
        assert.equal(decoded.details[0]!.type_url, 'type.googleapis.com/google.rpc.RetryInfo');
        // RetryInfo { retry_delay: Duration { seconds: 1 } }
        assert.deepEqual([...decoded.details[0]!.value], [0x0a, 0x02, 0x08, 0x01]);
      }
    } finally {
      await jm.shutdown();
    }
  });
});

describe("the real Collector's otlp_grpc exporter, in each compression it offers", () => {
  let jm: Jobmeter;
  before(async () => {
    jm = await receiver();
  });
  after(async () => {
    await jm?.shutdown();
  });

  // zstd and snappy are what grpc-js's server would refuse (UNIMPLEMENTED, for good).
  for (const compression of ['zstd', 'snappy', 'gzip', 'none'])
    it(`compression ${compression}: the point arrives, accepted`, async () => {
      const name = `via.${compression}`;
      const { status: answered, logs } = await throughCollector(
        {
          otlp_grpc: {
            endpoint: `127.0.0.1:${jm.ingestGrpcAddress!.port}`,
            tls: { insecure: true },
            compression,
          },
        },
        name,
      );
      assert.equal(answered, 200, logs);
      const family = (await jm.scrape()).find((f) => f.name === `via_${compression}_total`);
      assert.deepEqual(
        family?.series.map((s) => (s as { value: number }).value),
        [7],
        JSON.stringify(family),
      );
    });
});

describe('the connection', () => {
  let jm: Jobmeter;
  let session: ClientHttp2Session;
  before(async () => {
    jm = await receiver({ idleTimeoutMillis: 1000, maxConcurrentRequests: 3 });
  });
  after(async () => {
    session?.destroy();
    await jm?.shutdown();
  });

  it('holds maxConcurrentRequests streams at once (SETTINGS_MAX_CONCURRENT_STREAMS), each with a 1 MiB window, the connection 2 MiB', async () => {
    session = connect(`http://127.0.0.1:${jm.ingestGrpcAddress!.port}`);
    const settings = await new Promise<{
      maxConcurrentStreams?: number;
      initialWindowSize?: number;
    }>((resolve) => session.once('remoteSettings', resolve));
    assert.equal(settings.maxConcurrentStreams, 3);
    // A large message goes through without waiting on HTTP/2's default 64 KiB windows.
    assert.equal(settings.initialWindowSize, 1 << 20);
    for (let i = 0; i < 50 && session.state.remoteWindowSize !== 2 << 20; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(session.state.remoteWindowSize, 2 << 20);
  });

  it('is closed (GOAWAY) after idleTimeoutMillis with no call', async () => {
    const started = performance.now();
    await new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    const waited = performance.now() - started;
    assert.ok(waited > 500 && waited < 10_000, String(waited));
  });

  it('a peer that answers no ping is closed; one that answers keeps its call open (keepalive)', async () => {
    const port = jm.ingestGrpcAddress!.port;
    // A message's prefix alone: the call stays open, waiting for the 10 bytes it announces.
    const prefixOnly = Buffer.from([0, 0, 0, 0, 10]);
    const live = connect(`http://127.0.0.1:${port}`);
    const call = live.request({
      ':method': 'POST',
      ':path': EXPORT_PATH,
      'content-type': 'application/grpc',
    });
    call.on('error', () => {});
    call.write(prefixOnly);
    // The same call by hand on a socket that reads what it is sent and answers nothing.
    const dead = connectTcp(port, '127.0.0.1');
    dead.on('error', () => {}).on('data', () => {});
    const started = performance.now();
    // Past 10 s: not closed (Infinity).
    const closed = new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(Infinity), 10_000);
      dead.once('close', () => {
        clearTimeout(timer);
        resolve(performance.now() - started);
      });
    });
    const headers = Buffer.concat(
      Object.entries({
        ':method': 'POST',
        ':scheme': 'http',
        ':path': EXPORT_PATH,
        ':authority': 'x',
        'content-type': 'application/grpc',
      }).map(([name, value]) => literalHeader(name, value)),
    );
    dead.write(
      Buffer.concat([
        Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
        frame(4, 0, 0, Buffer.alloc(0)), // SETTINGS
        frame(1, 4, 1, headers), // HEADERS, END_HEADERS
        frame(0, 0, 1, prefixOnly), // DATA
      ]),
    );
    try {
      const after = await closed;
      // A ping every idleTimeoutMillis (1 s), closed when one goes unanswered for as long.
      assert.ok(after > 900 && after < 10_000, String(after));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(!live.destroyed && !call.closed, 'the live peer keeps its call');
    } finally {
      live.destroy();
      dead.destroy();
    }
  });

  it('another method: UNIMPLEMENTED; a request that is no gRPC call: HTTP 415', async () => {
    const port = jm.ingestGrpcAddress!.port;
    const { error } = await unaryCall(port, Buffer.alloc(0), {
      path: EXPORT_PATH.replace(/Export$/, 'Nope'),
    });
    assert.equal(error?.code, status.UNIMPLEMENTED, String(error));
    const plain = connect(`http://127.0.0.1:${port}`);
    try {
      const stream = plain.request({
        ':method': 'POST',
        ':path': EXPORT_PATH,
        'content-type': 'text/plain',
      });
      stream.end('x');
      const headers = await new Promise<Record<string, unknown>>((resolve) =>
        stream.once('response', resolve),
      );
      assert.equal(headers[':status'], 415);
    } finally {
      plain.close();
    }
  });
});

/** An HTTP/2 frame (RFC 9113 4.1). */
function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** An HPACK literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2); each under 127 bytes. */
function literalHeader(name: string, value: string): Buffer {
  return Buffer.concat([
    Buffer.from([0, name.length]),
    Buffer.from(name),
    Buffer.from([value.length]),
    Buffer.from(value),
  ]);
}
