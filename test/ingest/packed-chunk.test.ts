/**
 * The decoding thread's wire form (src/ingest/packed-chunk.ts): a chunk packed into columns,
 * cloned as a worker message is, and unpacked, is the chunk the store would have got — every
 * point's times, value or counts, attributes with their key order, and the key its stream is found
 * by — whatever the attributes hold (keys out of order, integer-like keys, NaN, -0, a value long
 * enough to have its key hashed), and whatever the values (NaN, -0, no value). A string value past
 * 256 characters crosses cut as the store cuts it, its stream still keyed by the value as sent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { attributesKey } from '../../src/ingest/input-bounds.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  KeyTable,
  KeyWire,
  packedPoints,
  PointPacker,
  pointKey,
  SparePacker,
  SPARE_POINTS,
  type PackedChunk,
} from '../../src/ingest/packed-chunk.ts';
import { decodeExportRequest } from '../../src/otlp/codec.ts';
import { AttributeMemo } from '../../src/otlp/decode-attribute-memo.ts';
import { decodeLimitsFor } from '../../src/otlp/decode-limits.ts';
import type { OtlpExportRequest, OtlpMetric, OtlpNumberPoint } from '../../src/otlp/types.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';
import {
  exponentialPoint,
  fakeClock,
  histogramPoint,
  numberPoint,
  request,
  unpackChunk,
} from './helpers.ts';

/** `chunk` packed, and the buffers to move with it. */
function packChunk(chunk: OtlpExportRequest): { packed: PackedChunk; transfer: ArrayBuffer[] } {
  const packer = new PointPacker();
  return packer.chunk(packer.request(chunk));
}

const ATTRIBUTE_SETS: Attributes[] = [
  {},
  { host: 'a' },
  { z: 'last', a: 'first' },
  { '10': 'ten', '9': 'nine', b: true },
  { n: Number.NaN, inf: -Infinity, zero: -0, list: [1, -0] },
  { long: 'x'.repeat(2_000), short: 'y' },
  { tags: ['x', 'y'], flags: [true, false], n: 7.5 },
  { list: ['w', 'z'.repeat(300)], nan: Number.NaN, big: 'v'.repeat(257) },
];

/** A string as the store keeps it: past 256 characters, its first 255 and `…`. */
const kept = (v: string): string => (v.length > 256 ? v.slice(0, 255) + '\u2026' : v);

/** `req` with each string attribute value (and each string of an array) as the store keeps it. */
function withValuesKept(req: OtlpExportRequest): OtlpExportRequest {
  const keep = (a: Attributes): Attributes =>
    Object.fromEntries(
      Object.entries(a).map(([k, v]) => [
        k,
        typeof v === 'string'
          ? kept(v)
          : Array.isArray(v)
            ? v.map((x: unknown) => (typeof x === 'string' ? kept(x) : x))
            : v,
      ]),
    );
  return {
    resourceMetrics: req.resourceMetrics.map((rm) => ({
      ...rm,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({
        ...sm,
        metrics: sm.metrics.map((m): OtlpMetric => {
          if (m.data.type !== 'gauge' && m.data.type !== 'sum' && m.data.type !== 'histogram')
            return m;
          const points = m.data.points.map((p) => ({ ...p, attributes: keep(p.attributes) }));
          return { ...m, data: { ...m.data, points } } as OtlpMetric;
        }),
      })),
    })),
  };
}

/** The request as plain data: each point's fields, its attributes and their key order, its stream key. */
function plain(req: OtlpExportRequest): unknown {
  return req.resourceMetrics.map((rm) => ({
    resource: rm.resource,
    scopeMetrics: rm.scopeMetrics.map((sm) => ({
      scope: sm.scope,
      metrics: sm.metrics.map((m) => {
        if (
          m.data.type === 'summary' ||
          m.data.type === 'empty' ||
          m.data.type === 'exponentialHistogram'
        )
          return m;
        const points = m.data.points.map((p) => {
          const { attributes, startTimeUnixNano, timeUnixNano, noRecordedValue } = p;
          const rest =
            'value' in p
              ? { value: p.value }
              : {
                  count: p.count,
                  sum: p.sum,
                  bucketCounts: p.bucketCounts,
                  explicitBounds: p.explicitBounds,
                };
          return {
            attributes,
            attributeKeys: Object.keys(attributes),
            key: pointKey(p),
            startTimeUnixNano,
            timeUnixNano,
            noRecordedValue,
            ...rest,
          };
        });
        return { ...m, data: { ...m.data, points } };
      }),
    })),
  }));
}

function packedRoundTrip(): { chunk: OtlpExportRequest; moved: PackedChunk } {
  const metrics: OtlpMetric[] = [
    {
      name: 'g',
      description: 'd',
      unit: 'u',
      data: {
        type: 'gauge',
        points: [
          ...ATTRIBUTE_SETS.map((a, i) => numberPoint(i - 0.5, a, 1, 2 + i)),
          // Values a column must keep as they are, and the largest time a fixed64 holds.
          numberPoint(Number.NaN),
          numberPoint(-0),
          { ...numberPoint(1), startTimeUnixNano: 2n ** 63n, timeUnixNano: 2n ** 64n - 1n },
          numberPoint(2, {}, 1, 2),
          numberPoint(3, {}, 1, 2),
        ],
      },
    },
    {
      name: 's',
      description: '',
      unit: '',
      data: {
        type: 'sum',
        monotonic: true,
        temporality: 'cumulative',
        points: [numberPoint(undefined, { a: '1' }), numberPoint(3, { a: '2' }, 0, 5, true)],
      },
    },
    {
      name: 'h',
      description: '',
      unit: 's',
      data: {
        type: 'histogram',
        temporality: 'delta',
        points: [
          histogramPoint([1, 2], [1, 0, 2], 4.5, { b: 'x', a: 'y' }, 1, 2),
          histogramPoint([], [], 0, {}, 1, 2),
        ],
      },
    },
    {
      name: 'e',
      description: '',
      unit: '',
      data: {
        type: 'exponentialHistogram',
        temporality: 'delta',
        points: [exponentialPoint(2, -1, [1, 2], 3, { h: '1' })],
      },
    },
    { name: 'sm', description: '', unit: '', data: { type: 'summary', pointCount: 3 } },
    { name: 'none', description: '', unit: '', data: { type: 'empty' } },
  ];
  const chunk = request(metrics);
  const { packed, transfer } = packChunk(chunk);
  const moved = structuredClone(packed, { transfer });
  assert.equal(transfer[0]!.byteLength, 0, 'the columns moved');
  const back = unpackChunk(moved);
  assert.deepEqual(plain(back), plain(withValuesKept(chunk)));
  // The store reads the points in place: one object moved from point to point, keyed as it keys them.
  const points = packedPoints(moved, moved.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!)!;
  assert.equal(
    points.length,
    metrics[0]!.data.type === 'gauge' ? metrics[0]!.data.points.length : -1,
  );
  assert.equal(points.at(0), points.at(1), 'one object, moved');
  assert.equal(points.at(points.length), undefined);
  for (const [i, a] of ATTRIBUTE_SETS.entries())
    assert.equal(pointKey(points.at(i)!), attributesKey(a));
  return { chunk, moved };
}

test('a packed chunk unpacks to the same points, attributes in the same order, keyed as the store keys them', () => {
  packedRoundTrip();
});

test('a store fed the packed chunk holds what a store fed the request holds', async () => {
  const { chunk, moved } = packedRoundTrip();
  const clock = fakeClock();
  const fromRequest = new IngestStore({ clock });
  const fromPacked = new IngestStore({ clock });
  const a = fromRequest.ingest(chunk);
  const batch = fromPacked.begin();
  batch.add(moved);
  assert.deepEqual(batch.result(), a);
  assert.ok(fromPacked.seriesCount > 5, `${fromPacked.seriesCount} series`);
  assert.equal(fromPacked.seriesCount, fromRequest.seriesCount);
  assert.equal(fromPacked.memoryBytes, fromRequest.memoryBytes);
  assert.deepEqual(
    (await fromPacked.collect()).resourceMetrics,
    (await fromRequest.collect()).resourceMetrics,
  );
});

test('a packer taken again packs the next request as a fresh one does; one grown past the spare size is not kept', () => {
  const { chunk } = packedRoundTrip();
  const later = request([
    {
      name: 's',
      description: '',
      unit: '',
      data: {
        type: 'sum',
        monotonic: true,
        temporality: 'cumulative',
        points: [
          numberPoint(undefined, { a: '1' }),
          ...Array.from({ length: 6 }, (_, k) => numberPoint(k, { c: `${k}` }, 0, 7)),
        ],
      },
    },
    {
      name: 'h',
      description: '',
      unit: '',
      data: {
        type: 'histogram',
        temporality: 'delta',
        points: [histogramPoint([5], [0, 1], 6, {}, 1, 2)],
      },
    },
  ]);
  const spare = new SparePacker();
  const first = spare.take();
  first.chunk(first.request(chunk));
  spare.giveBack(first);
  const again = spare.take();
  assert.equal(again, first, 'the same packer');
  assert.notEqual(spare.take(), first, 'taken once: the next taker gets another');
  assert.deepEqual(again.chunk(again.request(later)).packed, packChunk(later).packed);
  const big = new PointPacker();
  for (let i = 0; i <= SPARE_POINTS; i++) big.number(numberPoint(i), 0);
  spare.giveBack(big);
  assert.notEqual(spare.take(), big);
});

/** An SDK's protobuf export: two scopes; counters, a histogram, an exponential histogram and a gauge; attribute keys in and out of order. */
async function sdkBody(): Promise<Uint8Array> {
  const reader = newPullReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'fleet' }),
    readers: [reader],
    views: [
      {
        instrumentName: 'lat',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: [0.5, 1] },
        },
      },
      { instrumentName: 'size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
    ],
  });
  const a = provider.getMeter('a', '1.0.0');
  const b = provider.getMeter('b');
  const jobs = a.createCounter('jobs');
  for (let i = 0; i < 7; i++) jobs.add(i + 1, { queue: `q${i % 3}`, host: `h${i}` });
  for (let i = 0; i < 3; i++) a.createHistogram('lat').record(0.3 * i, { route: `/r${i}` });
  b.createHistogram('size').record(12, { z: '1' });
  b.createObservableGauge('depth').addCallback((r) => {
    for (let i = 0; i < 4; i++) r.observe(i - 0.5, { q: `${i}`, a: 'x' });
  });
  b.createUpDownCounter('level').add(-2.5, { n: Number.NaN });
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!;
}

test('points decoded straight into columns cut into the chunks the decoded request gives: each within the limit, one scope, every point once in order', async () => {
  const body = await sdkBody();
  const limits = decodeLimitsFor(body.length);
  const decoded = decodeExportRequest(body, 'protobuf', limits, false);
  const cut = (packer: PointPacker, req: OtlpExportRequest): OtlpExportRequest[] =>
    [...packer.chunks(packer.request(req), 3)].map(({ packed, transfer }) =>
      unpackChunk(structuredClone(packed, { transfer })),
    );
  const memo = new AttributeMemo();
  decodeExportRequest(body, 'protobuf', limits, memo);
  for (const attributes of [false, memo] as const) {
    const packer = new PointPacker();
    const direct = cut(packer, decodeExportRequest(body, 'protobuf', limits, attributes, packer));
    assert.deepEqual(direct.map(plain), cut(new PointPacker(), decoded).map(plain));
    for (const chunk of direct) {
      assert.equal(chunk.resourceMetrics.length, 1);
      assert.equal(chunk.resourceMetrics[0]!.scopeMetrics.length, 1);
      const points = chunk.resourceMetrics[0]!.scopeMetrics[0]!.metrics.reduce(
        (n, m) => n + ('points' in m.data ? m.data.points.length : 0),
        0,
      );
      assert.ok(points > 0 && points <= 3, `${points} points`);
    }
    // Joined again, metric by metric, the chunks are the request.
    const joined = new Map<string, unknown[]>();
    for (const chunk of direct) {
      const sm = chunk.resourceMetrics[0]!.scopeMetrics[0]!;
      for (const m of sm.metrics)
        if ('points' in m.data)
          joined.set(`${sm.scope.name}/${m.name}`, [
            ...(joined.get(`${sm.scope.name}/${m.name}`) ?? []),
            ...m.data.points,
          ]);
    }
    const whole = new Map<string, unknown[]>();
    for (const sm of decoded.resourceMetrics[0]!.scopeMetrics)
      for (const m of sm.metrics)
        if ('points' in m.data) whole.set(`${sm.scope.name}/${m.name}`, [...m.data.points]);
    assert.equal(whole.size, 5);
    assert.deepEqual(
      [...joined].map(([k, points]) => [
        k,
        plain(
          request([
            {
              name: k,
              description: '',
              unit: '',
              data: { type: 'gauge', points: points as OtlpNumberPoint[] },
            },
          ]),
        ),
      ]),
      [...whole].map(([k, points]) => [
        k,
        plain(
          request([
            {
              name: k,
              description: '',
              unit: '',
              data: { type: 'gauge', points: points as OtlpNumberPoint[] },
            },
          ]),
        ),
      ]),
    );
  }
});

test('keys cross to the main thread by number: every point keyed and ordered as packed, whatever numbers are given again to other sets, and a key held there not sent again', () => {
  // A seeded draw (xorshift), so a failure repeats.
  let seed = 0x9e3779b9;
  const random = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const wire = new KeyWire();
  const table = new KeyTable();
  /** What each number names on the decoding thread now: a dropped set's number goes to a new one, with the same key at times (another order). */
  const naming = new Map<number, { key: string; text: string }>();
  let made = 0;
  const cross = (keys: string[], ids: Uint32Array, text: string[]) => {
    const encoded = wire.encode({ keys: [...keys], ids, texts: text } as unknown as PackedChunk);
    const got = table.receive(
      structuredClone(encoded, { transfer: [encoded.ids.buffer as ArrayBuffer] }),
    );
    return { encoded, got };
  };
  for (let c = 0; c < 300; c++) {
    const n = 1 + Math.floor(random() * 40);
    const keys: string[] = [];
    const text: string[] = [];
    const ids = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const id = Math.floor(random() * 8);
      if (id !== 0 && (!naming.has(id) || random() < 0.15)) {
        const was = naming.get(id);
        naming.set(id, {
          key: was !== undefined && random() < 0.3 ? was.key : `k${made++}`,
          text: random() < 0.5 ? '' : `t${made++}`,
        });
      }
      ids[i] = id;
      const named = naming.get(id);
      keys.push(named?.key ?? `inline${made++}`);
      text.push(named?.text ?? (random() < 0.5 ? '' : `t${made++}`));
    }
    const { got } = cross(keys, ids, text);
    assert.deepEqual(got.keys, keys, `chunk ${c}: keys`);
    assert.deepEqual(got.texts, text, `chunk ${c}: texts`);
  }
  // A chunk of sets all held already names none of them again.
  const ids = Uint32Array.from([...naming.keys()]);
  const keys = [...naming.values()].map((v) => v.key);
  const text = [...naming.values()].map((v) => v.text);
  cross(keys, ids.slice(), text);
  const again = cross(keys, ids.slice(), text);
  assert.deepEqual(again.encoded.named, []);
  assert.deepEqual(again.encoded.inline, {});
  assert.deepEqual(again.got.keys, keys);
});
