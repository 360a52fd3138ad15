/**
 * The OTLP/HTTP ingest listener over real HTTP on loopback: every status it answers, bodies in the
 * request's encoding, gzip and deflate, partial success, load shedding.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { startIngestListener, type IngestListener } from '../../src/ingest/ingest-listener.ts';
import { resolveIngest } from '../../src/resolve-options.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { decodeExportResponse, decodeStatus } from '../support/otlp-response.ts';
import { otlpMetricsSchema } from '../support/otlp-receiver.ts';

const MAX_BODY = 64 * 1024;
const PB = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

let store: IngestStore;
let listener: IngestListener;
let url: string;

before(async () => {
  store = new IngestStore();
  listener = await startIngestListener({
    sink: store,
    ...resolveIngest({ port: 0, maxBodyBytes: MAX_BODY, maxConcurrentRequests: 1 }),
    retryAfterSeconds: 7,
  });
  url = `http://127.0.0.1:${listener.address.port}/v1/metrics`;
});
after(async () => {
  await listener.close();
});

/** A request with one gauge point per name, as OTLP/JSON. */
function jsonRequest(names: string[], value = 1): string {
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'go-daemon' } }] },
        scopeMetrics: [
          {
            scope: { name: 'daemon' },
            metrics: names.map((name) => ({ name, gauge: { dataPoints: [{ asDouble: value }] } })),
          },
        ],
      },
    ],
  });
}

function protobufRequest(names: string[], value = 1): Buffer {
  const { request } = otlpMetricsSchema();
  return Buffer.from(
    request.encode(request.fromObject(JSON.parse(jsonRequest(names, value)))).finish(),
  );
}

async function post(body: Uint8Array | string, headers: Record<string, string>, target = url) {
  const res = await fetch(target, { method: 'POST', headers, body });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

describe('success', () => {
  it('protobuf: 200 with an empty ExportMetricsServiceResponse', async () => {
    const res = await post(protobufRequest(['pb.depth'], 3), { 'content-type': PB });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), PB);
    assert.equal(res.body.length, 0);
  });

  it('JSON: 200 with {}', async () => {
    const res = await post(jsonRequest(['json.depth']), {
      'content-type': `${JSON_TYPE}; charset=utf-8`,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), JSON_TYPE);
    assert.equal(res.body.toString(), '{}');
  });

  it('gzip and deflate bodies', async () => {
    for (const [encoding, compress] of [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
    ] as const) {
      const res = await post(compress(protobufRequest([`${encoding}.depth`], 5)), {
        'content-type': PB,
        'content-encoding': encoding,
      });
      assert.equal(res.status, 200, encoding);
    }
    const { resourceMetrics } = await store.collect();
    const names = resourceMetrics.scopeMetrics.flatMap((s) =>
      s.metrics.map((m) => m.descriptor.name),
    );
    for (const name of ['pb.depth', 'json.depth', 'gzip.depth', 'deflate.depth'])
      assert.ok(names.includes(name), name);
  });

  it('partial_success when points are refused, in the request encoding', async () => {
    // jobmeter.run.finished is a counter in the catalog: a gauge under that name is a type conflict.
    const pb = await post(protobufRequest(['jobmeter.run.finished', 'fine.depth']), {
      'content-type': PB,
    });
    assert.equal(pb.status, 200);
    const expected = {
      rejectedDataPoints: 1,
      errorMessage:
        '1 data point rejected: jobmeter.run.finished: type conflict: received a Gauge, but it is a monotonic Sum (counter) (1)',
    };
    assert.deepEqual(decodeExportResponse(pb.body, 'protobuf'), expected);
    const json = await post(jsonRequest(['jobmeter.run.finished']), { 'content-type': JSON_TYPE });
    assert.equal(json.status, 200);
    assert.deepEqual(JSON.parse(json.body.toString()), {
      partialSuccess: { rejectedDataPoints: '1', errorMessage: expected.errorMessage },
    });
  });
});

describe('refusals', () => {
  it('404 elsewhere, as Go’s ServeMux answers', async () => {
    for (const [method, path] of [
      ['POST', '/v1/traces'],
      ['GET', '/'],
    ] as const) {
      const res = await fetch(new URL(path, url), {
        method,
        headers: { 'content-type': PB },
        ...(method === 'POST' && { body: '' }),
      });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(await res.text(), '404 page not found\n');
    }
  });

  it('405 for another method, with Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(url, { method });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'POST');
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(await res.text(), '405 method not allowed, supported: [POST]');
    }
  });

  it('415 for another content type, or none', async () => {
    const cases: Array<Record<string, string>> = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/protobuf' },
      {},
    ];
    for (const headers of cases) {
      // A Buffer body: fetch would add `text/plain` to a string one.
      const res = await post(Buffer.from('x'), headers);
      assert.equal(res.status, 415, JSON.stringify(headers));
      assert.equal(
        res.body.toString(),
        '415 unsupported media type, supported: [application/json, application/x-protobuf]',
      );
    }
  });

  it('400 with a google.rpc.Status in the request encoding for a body that does not decode', async () => {
    const pb = await post(Buffer.from([0x0a, 0xff, 0xff, 0xff]), { 'content-type': PB });
    assert.equal(pb.status, 400);
    assert.equal(pb.headers.get('content-type'), PB);
    const pbStatus = decodeStatus(pb.body, 'protobuf');
    assert.equal(pbStatus.code, 3);
    assert.match(pbStatus.message, /^invalid protobuf ExportMetricsServiceRequest: /);

    const json = await post('{"resourceMetrics": [', { 'content-type': JSON_TYPE });
    assert.equal(json.status, 400);
    assert.equal(json.headers.get('content-type'), JSON_TYPE);
    const jsonStatus = JSON.parse(json.body.toString()) as { code: number; message: string };
    assert.equal(jsonStatus.code, 3);
    assert.match(jsonStatus.message, /^invalid JSON: /);

    const shape = await post('{"resourceMetrics": {}}', { 'content-type': JSON_TYPE });
    assert.equal(shape.status, 400);
    assert.deepEqual(JSON.parse(shape.body.toString()), {
      code: 3,
      message: 'resourceMetrics: expected an array',
    });
  });

  it('500 with a fixed google.rpc.Status INTERNAL when storing fails: the cause stays server-side, counted as internal', async () => {
    const answered: string[] = [];
    const failing = await startIngestListener({
      sink: {
        ingest: () => {
          throw new Error('disk full at /var/lib/jobmeter/secret-path');
        },
      },
      ...resolveIngest({ port: 0 }),
      onAnswered: (a) => answered.push(a),
    });
    try {
      const target = `http://127.0.0.1:${failing.address.port}/v1/metrics`;
      const pb = await post(protobufRequest(['fails.pb']), { 'content-type': PB }, target);
      assert.equal(pb.status, 500);
      assert.equal(pb.headers.get('content-type'), PB);
      assert.deepEqual(decodeStatus(pb.body, 'protobuf'), { code: 13, message: 'internal error' });
      const json = await post(jsonRequest(['fails.json']), { 'content-type': JSON_TYPE }, target);
      assert.equal(json.status, 500);
      assert.deepEqual(JSON.parse(json.body.toString()), { code: 13, message: 'internal error' });
      assert.deepEqual(answered, ['internal', 'internal']);
    } finally {
      await failing.close();
    }
  });

  it('400 for a corrupt gzip body or an unsupported Content-Encoding', async () => {
    const corrupt = await post(Buffer.from('not gzip at all'), {
      'content-type': PB,
      'content-encoding': 'gzip',
    });
    assert.equal(corrupt.status, 400);
    assert.match(decodeStatus(corrupt.body, 'protobuf').message, /^invalid gzip body: /);
    const br = await post(jsonRequest(['x']), {
      'content-type': JSON_TYPE,
      'content-encoding': 'br',
    });
    assert.equal(br.status, 400);
    assert.deepEqual(JSON.parse(br.body.toString()), {
      code: 3,
      message:
        'unsupported Content-Encoding: br (supported: gzip, zstd, zlib, snappy, deflate, lz4, x-snappy-framed)',
    });
  });

  it('413 past the body limit: declared, streamed, or once decompressed', async () => {
    const big = Buffer.alloc(MAX_BODY + 1, 1);
    const declared = await post(big, { 'content-type': PB });
    assert.equal(declared.status, 413);
    assert.deepEqual(decodeStatus(declared.body, 'protobuf'), {
      code: 3,
      message: `request body larger than ${MAX_BODY} bytes`,
    });

    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        url,
        { method: 'POST', headers: { 'content-type': JSON_TYPE, 'transfer-encoding': 'chunked' } },
        (res) => {
          let body = '';
          res
            .setEncoding('utf8')
            .on('data', (c: string) => (body += c))
            .on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 5; i++) req.write(Buffer.alloc(MAX_BODY / 4, 0x20));
      req.end();
    });
    assert.equal(streamed.status, 413);
    assert.deepEqual(JSON.parse(streamed.body), {
      code: 3,
      message: `request body larger than ${MAX_BODY} bytes`,
    });

    const bomb = gzipSync(Buffer.alloc(MAX_BODY * 4, 0));
    assert.ok(bomb.length < MAX_BODY);
    const inflated = await post(bomb, { 'content-type': PB, 'content-encoding': 'gzip' });
    assert.equal(inflated.status, 413);
    assert.deepEqual(decodeStatus(inflated.body, 'protobuf'), {
      code: 3,
      message: `decompressed request body larger than ${MAX_BODY} bytes`,
    });
  });

  it('a body still trickling in holds no slot: stalled senders do not lock out a real one', async () => {
    // Three bodies that never end, with one slot: before, each took it as its headers arrived.
    const held = [0, 1, 2].map(() => holdBody(1000, 10));
    try {
      await Promise.all(held.map((h) => h.sent));
      const res = await post(jsonRequest(['real.depth']), { 'content-type': JSON_TYPE });
      assert.equal(res.status, 200);
    } finally {
      for (const h of held) h.request.destroy();
    }
  });

  it('503 with Retry-After when the bodies held in flight pass maxConcurrentRequests + 1 bodies', async () => {
    // Budget: (1 + 1) × MAX_BODY. Two held bodies of 3/4 MAX_BODY each leave half a body.
    const held = [0, 1].map(() => holdBody(MAX_BODY, (MAX_BODY * 3) / 4));
    try {
      await Promise.all(held.map((h) => h.sent));
      let shed: Awaited<ReturnType<typeof post>> | undefined;
      // Until the held bytes are counted a probe may get through: retry a few times.
      for (let i = 0; i < 50 && shed === undefined; i++) {
        const res = await post(Buffer.alloc(MAX_BODY / 2 + 1, 0x20), { 'content-type': JSON_TYPE });
        if (res.status === 503) shed = res;
      }
      assert.ok(shed, 'no request was shed');
      assert.equal(shed.headers.get('retry-after'), '7');
      assert.equal(shed.headers.get('content-type'), JSON_TYPE);
      assert.deepEqual(JSON.parse(shed.body.toString()), {
        code: 14,
        message: `jobmeter is busy (request bodies past ${2 * MAX_BODY} bytes in flight); retry after 7 s`,
      });
      // Ending the held requests frees their bytes (one after the other: there is one slot).
      for (const h of held) {
        h.request.end(Buffer.alloc(MAX_BODY / 4));
        assert.equal(
          await h.answer,
          400,
          'answered once its body arrives (spaces: not a valid request)',
        );
      }
      const after = await post(jsonRequest(['after.depth']), { 'content-type': JSON_TYPE });
      assert.equal(after.status, 200);
    } finally {
      for (const h of held) h.request.destroy();
    }
  });
});

describe('slots are given back', () => {
  /** Writes `text` on a fresh connection and resolves with what came back once the server closed it or `waitMs` passed. */
  function exchange(text: string, waitMs = 500): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(text));
      let data = '';
      socket.setEncoding('latin1').on('data', (d: string) => (data += d));
      socket.on('error', () => {});
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(data);
      }, waitMs);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(data);
      });
    });
  }
  const head = (length: number | 'chunked'): string =>
    `POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: ${JSON_TYPE}\r\n` +
    (length === 'chunked'
      ? 'Transfer-Encoding: chunked\r\n\r\n'
      : `Content-Length: ${length}\r\n\r\n`);

  // One slot (maxConcurrentRequests: 1): a request that kept it would keep the next one waiting.
  const cases: Array<[string, string, RegExp]> = [
    ['a client gone mid-body', `${head(100)}{"res`, /^$/],
    ['a malformed chunked body', `${head('chunked')}zz\r\n`, /^HTTP\/1\.1 400 /],
    [
      'a request pipelined behind a 413',
      `${head(MAX_BODY + 1)}${' '.repeat(MAX_BODY + 1)}${head(2)}{}`,
      /^HTTP\/1\.1 413 [^]*connection: close/i,
    ],
  ];
  for (const [what, text, expected] of cases) {
    it(what, async () => {
      assert.match(await exchange(text), expected);
      const res = await post(jsonRequest(['slot.depth']), { 'content-type': JSON_TYPE });
      assert.equal(res.status, 200);
    });
  }
});

/** A POST declaring `length` bytes of which only `sent` are written (until the caller ends it). */
function holdBody(
  length: number,
  sent: number,
): { request: ClientRequest; sent: Promise<void>; answer: Promise<number> } {
  let request!: ClientRequest;
  let written!: Promise<void>;
  const answer = new Promise<number>((resolve, reject) => {
    request = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': PB, 'content-length': String(length) } },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    request.on('error', reject);
    written = new Promise((done) => request.write(Buffer.alloc(sent, 0x20), () => done()));
  });
  answer.catch(() => {});
  return { request, sent: written, answer };
}

describe('options', () => {
  it('a non-loopback address without the opt-in is refused when the options are resolved', () => {
    assert.throws(
      () => resolveIngest({ host: '0.0.0.0', port: 0 }),
      /^ConfigError: invalid ingest\.host=0\.0\.0\.0: expected a loopback address \(127\.0\.0\.0\/8, ::1 or localhost\), or ingest\.allowNonLoopback \(allow_non_loopback = true\) to expose the OTLP ingest listener$/,
    );
  });
});
