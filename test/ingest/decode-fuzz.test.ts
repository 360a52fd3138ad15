/**
 * The decoders' property: any body up to `max_body_bytes`, in either encoding (protobuf,
 * JSON) and any Content-Encoding (identity, gzip, deflate, zstd, lz4, snappy), sent to a child
 * `jobmeter serve`, gets a quick 200, 400 or 413 — never a crash, a hang or a 5xx — and the
 * process's RSS stays under {@link RSS_BOUND}; the pull endpoint answers after each.
 *
 * Bodies are a short unit (an element of some kind, or a few bytes) repeated to a size between
 * 1 KiB and 20 MiB, put where it costs the decoders most — a request's top level, a Gauge's
 * points, a point's attributes, an attribute's array value; for JSON a data points, attributes or
 * values array — plus plain random bytes. A repeated unit is the shape that decodes to far more
 * than it weighs (`0a 00` repeated is a Gauge of empty points, test/ingest/decode-crash.test.ts),
 * and compresses to almost nothing; decoded without limits, such bodies crash the process or take
 * it past 1 GiB.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import fc from 'fast-check';
import lz4 from 'lz4js';
import snappy from 'snappyjs';
import { killChildren, EXIT_MS } from '../cli/harness.ts';
import { tempFiles } from '../support/temp-files.ts';
import { rssBytes, serveWithIngest } from '../support/serve.ts';
import { lengthDelimited } from '../support/otlp-protobuf-writer.ts';

const files = tempFiles('jobmeter-decode-fuzz-');
afterEach(killChildren);

const MiB = 1024 * 1024;
const MAX_BODY_BYTES = 20 * MiB;
/**
 * Node and the modules (~130 MiB), one body in flight as sent and decompressed (40 MiB), the
 * decoding thread decoding up to its limits (a body refused at the decode cap took the process to
 * ~590 MiB, a max-size request to ~530 MiB); the old code passed 1.2 GiB on the crash body.
 */
const RSS_BOUND = 768 * MiB;
/** Bound on one answer, for a liveness check only (a max-size body of real points takes seconds on a loaded machine). */
const ANSWER_MS = 60_000;
const RUNS = 40;

function repeated(unit: Uint8Array, bytes: number): Buffer {
  return Buffer.alloc(Math.max(unit.length, bytes - (bytes % unit.length))).fill(unit);
}

const time = (() => {
  const t = Buffer.alloc(9);
  t[0] = (3 << 3) | 1;
  t.writeBigUInt64LE(BigInt(Date.now()) * 1_000_000n, 1);
  return t;
})();

/** Protobuf: where the repeated bytes go, innermost first. */
const PROTOBUF_PLACES: Record<string, (inner: Buffer) => Buffer> = {
  top: (inner) => inner,
  points: (inner) =>
    lengthDelimited(1, [
      lengthDelimited(2, [
        lengthDelimited(2, [lengthDelimited(1, [Buffer.from('g')]), lengthDelimited(5, [inner])]),
      ]),
    ]),
  attributes: (inner) => PROTOBUF_PLACES['points']!(lengthDelimited(1, [time, inner])),
  array: (inner) =>
    PROTOBUF_PLACES['attributes']!(
      lengthDelimited(7, [
        lengthDelimited(1, [Buffer.from('k')]),
        lengthDelimited(2, [lengthDelimited(5, [inner])]),
      ]),
    ),
};

/** Protobuf units: empty and small elements of each kind, and bytes. */
const protobufUnit = fc.oneof(
  fc.constantFrom(
    [0x0a, 0x00], // an empty message in field 1 (a point, an attribute, an AnyValue, a resource)
    [0x12, 0x00], // field 2
    [0x3a, 0x00], // field 7: an empty attribute of a number point
    [0x0a, 0x02, 0x10, 0x01], // an AnyValue true / a small message
    [0x0a, 0x09, 0x19, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f], // a point with a time
    [0x0a, 0x12, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x21, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f], // a point with a time and a value
  ),
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 12 }),
);

/** JSON: prefix and suffix around the repeated unit. */
const JSON_PLACES: Record<string, [string, string]> = {
  points: [
    '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[',
    '{}]}}]}]}]}',
  ],
  attributes: [
    '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"attributes":[',
    '{}]}]}}]}]}]}',
  ],
  values: [
    '{"resourceMetrics":[{"resource":{"attributes":[{"key":"k","value":{"arrayValue":{"values":[',
    '{}]}}}]}}]}',
  ],
  top: ['', ''],
};

const jsonUnit = fc.oneof(
  fc.constantFrom(
    '{},',
    '[],',
    '0,',
    '"",',
    'null,',
    '{"asDouble":1},',
    '{"key":"a","value":{"intValue":"1"}},',
    '{"stringValue":"x"},',
    '[[[[',
    '{"a":',
  ),
  fc.string({ minLength: 1, maxLength: 8 }),
);

const size = fc
  .integer({ min: 10, max: 25 })
  .map((log2) => Math.min(MAX_BODY_BYTES - 1024, 2 ** log2 + 1000));

const ENCODERS: Record<string, (b: Buffer) => Buffer> = {
  identity: (b) => b,
  gzip: (b) => gzipSync(b),
  deflate: (b) => deflateSync(b),
  zstd: (b) => zstdCompressSync(b),
  lz4: (b) => Buffer.from(lz4.compress(new Uint8Array(b))),
  snappy: (b) => Buffer.from(snappy.compress(new Uint8Array(b))),
};

interface FuzzRequest {
  readonly encoding: 'protobuf' | 'json';
  /** Where the repeated unit goes (a key of PROTOBUF_PLACES or JSON_PLACES), or `random`: the unit is the body. */
  readonly place: string;
  readonly unit: readonly number[];
  readonly bytes: number;
  readonly contentEncoding: string;
}

const request: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.record({
    encoding: fc.constant('protobuf' as const),
    place: fc.constantFrom(...Object.keys(PROTOBUF_PLACES)),
    unit: protobufUnit,
    bytes: size,
    contentEncoding: fc.constantFrom(...Object.keys(ENCODERS)),
  }),
  fc.record({
    encoding: fc.constant('json' as const),
    place: fc.constantFrom(...Object.keys(JSON_PLACES)),
    unit: jsonUnit.map((s) => [...Buffer.from(s)]),
    bytes: size,
    contentEncoding: fc.constantFrom(...Object.keys(ENCODERS)),
  }),
  fc.record({
    encoding: fc.constantFrom('protobuf' as const, 'json' as const),
    place: fc.constant('random'),
    unit: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 0, maxLength: 4096 }),
    bytes: fc.constant(0),
    contentEncoding: fc.constantFrom(...Object.keys(ENCODERS)),
  }),
);

function bodyOf(r: FuzzRequest): Buffer {
  if (r.place === 'random') return Buffer.from(r.unit);
  if (r.encoding === 'protobuf')
    return PROTOBUF_PLACES[r.place]!(repeated(Uint8Array.from(r.unit), r.bytes));
  const [prefix, suffix] = JSON_PLACES[r.place]!;
  return Buffer.concat([
    Buffer.from(prefix),
    repeated(Uint8Array.from(r.unit), r.bytes),
    Buffer.from(suffix),
  ]);
}

test(
  'serve: any body in any encoding gets a quick 200, 400 or 413, and RSS stays bounded',
  { timeout: 900_000 },
  async () => {
    const { child, pid, ingestPort, pullPort } = await serveWithIngest(files);
    let peak = rssBytes(pid);
    const sampler = setInterval(() => {
      if (child.child.exitCode === null) peak = Math.max(peak, rssBytes(pid));
    }, 50);
    const seen: Record<number, number> = {};
    let slowest = 0;
    let largest = 0;
    try {
      await fc.assert(
        // Unbiased: fast-check's bias towards small values would keep the bodies small.
        fc.asyncProperty(fc.noBias(request), async (r) => {
          const plain = bodyOf(r);
          largest = Math.max(largest, plain.length);
          const body = ENCODERS[r.contentEncoding]!(plain);
          const t0 = performance.now();
          const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
            method: 'POST',
            headers: {
              'content-type': r.encoding === 'json' ? 'application/json' : 'application/x-protobuf',
              ...(r.contentEncoding === 'identity'
                ? {}
                : { 'content-encoding': r.contentEncoding }),
            },
            body,
            signal: AbortSignal.timeout(ANSWER_MS),
          });
          const text = await res.text();
          const ms = performance.now() - t0;
          slowest = Math.max(slowest, ms);
          seen[res.status] = (seen[res.status] ?? 0) + 1;
          assert.ok([200, 400, 413].includes(res.status), `${res.status}: ${text.slice(0, 300)}`);
          assert.equal(child.child.exitCode, null, child.stderr());
          assert.equal((await fetch(`http://127.0.0.1:${pullPort}/metrics`)).status, 200);
          assert.ok(peak < RSS_BOUND, `RSS reached ${(peak / MiB).toFixed(0)} MiB`);
        }),
        {
          numRuns: RUNS,
          endOnFailure: true,
          // 9.5M empty points, zstd, always among them: the densest known body.
          examples: [
            [
              {
                encoding: 'protobuf',
                place: 'points',
                unit: [0x0a, 0x00],
                bytes: 19_000_000,
                contentEncoding: 'zstd',
              },
            ],
          ],
        },
      );
    } finally {
      clearInterval(sampler);
    }
    console.log(
      `# ${RUNS} bodies up to ${(largest / MiB).toFixed(1)} MiB: answers ${JSON.stringify(seen)}, slowest ${slowest.toFixed(0)} ms, peak RSS ${(peak / MiB).toFixed(0)} MiB`,
    );
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
