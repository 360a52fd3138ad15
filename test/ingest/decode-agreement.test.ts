/**
 * What the Collector's receiver accepts is accepted, what it refuses is refused
 * (test/e2e/bad-requests.ts holds the same bodies against the real Collector): a string that is
 * not UTF-8, an attribute value nested too deep or an unknown temporality costs at most the points
 * it is on, refused in `partial_success`, never the request; a known field with the wrong wire
 * type, a JSON number out of range, bad base64, a bad trace ID or JSON nested past 10,000 levels
 * refuses the request. Each body goes through both of the store's ways in: the decoded request,
 * and the columns the decoding thread packs (packed-chunk.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { PointPacker } from '../../src/ingest/packed-chunk.ts';
import { decodeExportRequest } from '../../src/otlp/codec.ts';
import { AttributeMemo } from '../../src/otlp/decode-attribute-memo.ts';
import { DEFAULT_DECODE_LIMITS } from '../../src/otlp/decode-limits.ts';
import { OtlpDecodeError, type OtlpEncoding } from '../../src/otlp/types.ts';
import * as pb from '../support/otlp-protobuf-writer.ts';
import { collected } from './helpers.ts';

interface Outcome {
  accepted: number;
  rejected: number;
  message: string;
  /** Served metric name → its points' attributes as JSON. */
  served: Record<string, string[]>;
}

async function servedBy(store: IngestStore): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [name, list] of await collected(store)) {
    if (name.startsWith('jobmeter.')) continue;
    out[name] = list.flatMap((m) => m.dataPoints.map((p) => JSON.stringify(p.attributes)));
  }
  return out;
}

/** `body` ingested as a decoded request and, for protobuf, as packed columns (both memo states): the outcomes, all the same. */
async function ingest(body: Uint8Array, encoding: OtlpEncoding): Promise<Outcome> {
  const outcomes: Outcome[] = [];
  const direct = new IngestStore();
  const r = direct.ingest(decodeExportRequest(body, encoding, DEFAULT_DECODE_LIMITS, false));
  outcomes.push({
    accepted: r.acceptedDataPoints,
    rejected: r.rejectedDataPoints,
    message: r.errorMessage,
    served: await servedBy(direct),
  });
  if (encoding === 'protobuf') {
    const memo = new AttributeMemo();
    for (let pass = 0; pass < 2; pass++) {
      // The second pass finds the attribute sets the first remembered.
      const packer = new PointPacker();
      const request = decodeExportRequest(body, 'protobuf', DEFAULT_DECODE_LIMITS, memo, packer);
      const { packed, transfer } = packer.chunk(packer.request(request));
      const store = new IngestStore();
      const batch = store.begin();
      batch.add(structuredClone(packed, { transfer }));
      const b = batch.result();
      outcomes.push({
        accepted: b.acceptedDataPoints,
        rejected: b.rejectedDataPoints,
        message: b.errorMessage,
        served: await servedBy(store),
      });
    }
  }
  for (const o of outcomes.slice(1)) assert.deepEqual(o, outcomes[0]);
  return outcomes[0]!;
}

const goodNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `good_${i}`);

describe('what the Collector accepts costs at most the points it is on', () => {
  for (const [what, bad] of [
    ['a point attribute value in Latin-1', pb.LATIN1_PATH],
    ['a point attribute value cut mid-character', pb.CUT_MID_CHARACTER],
  ] as const) {
    it(`${what}: its point is refused as not UTF-8, the 100 good ones are kept`, async () => {
      const body = pb.request([
        ...pb.goodGauges(100),
        pb.gauge('bad_attr', [pb.gaugePoint(7, [pb.kv('path', pb.str(bad))])]),
      ]);
      const o = await ingest(body, 'protobuf');
      assert.equal(o.accepted, 100);
      assert.equal(o.rejected, 1);
      assert.match(o.message, /bad_attr: a label value .* not valid UTF-8/);
      assert.deepEqual(Object.keys(o.served).sort(), goodNames(100).sort());
    });
  }

  it('the same point twice: refused both times, though its attribute bytes were seen before', async () => {
    const point = pb.gaugePoint(7, [pb.kv('path', pb.str(pb.LATIN1_PATH))]);
    const o = await ingest(
      pb.request([pb.gauge('bad_attr', [point]), pb.gauge('bad_again', [point])]),
      'protobuf',
    );
    assert.deepEqual([o.accepted, o.rejected], [0, 2]);
  });

  it("a scope name that is not UTF-8 (every point's otel_scope_name): the scope's points are refused, as the Collector's exporter drops them", async () => {
    const o = await ingest(
      pb.request(pb.goodGauges(3), { scope: pb.msg(pb.len(1, pb.LATIN1_PATH)) }),
      'protobuf',
    );
    assert.deepEqual([o.accepted, o.rejected], [0, 3]);
  });

  it('a resource attribute, attribute key, metric name, unit or description that is not UTF-8: kept, with U+FFFD where the bad byte was', async () => {
    const body = pb.request(
      [
        pb.gauge(pb.LATIN1_PATH, [pb.gaugePoint(1)]),
        pb.gauge('with_key', [pb.gaugePoint(2, [pb.kv(pb.LATIN1_PATH, pb.str('x'))])]),
        pb.gauge('with_unit', [pb.gaugePoint(3)], [pb.len(3, pb.LATIN1_PATH)]),
        pb.gauge('with_description', [pb.gaugePoint(4)], [pb.len(2, pb.LATIN1_PATH)]),
      ],
      {
        resource: [
          pb.kv('service.name', pb.str('probe')),
          pb.kv('host.path', pb.str(pb.LATIN1_PATH)),
        ],
      },
    );
    const decoded = decodeExportRequest(body, 'protobuf', DEFAULT_DECODE_LIMITS, false);
    const rm = decoded.resourceMetrics[0]!;
    assert.equal(rm.resource['host.path'], '/srv/caf\uFFFD/report.csv');
    const metrics = rm.scopeMetrics[0]!.metrics;
    assert.deepEqual(
      metrics.map((m) => [m.name, m.unit, m.description]),
      [
        ['/srv/caf\uFFFD/report.csv', '', ''],
        ['with_key', '', ''],
        ['with_unit', '/srv/caf\uFFFD/report.csv', ''],
        ['with_description', '', '/srv/caf\uFFFD/report.csv'],
      ],
    );
    const o = await ingest(body, 'protobuf');
    assert.deepEqual([o.accepted, o.rejected], [4, 0]);
    assert.deepEqual(o.served['with_key'], [JSON.stringify({ '/srv/caf\uFFFD/report.csv': 'x' })]);
  });

  it('a JSON body that is not UTF-8: the point whose attribute value holds the bad byte is refused, the rest kept', async () => {
    const time = String(pb.nowNanos());
    const text = JSON.stringify({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                { name: 'good', gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: time }] } },
                {
                  name: 'bad_attr',
                  gauge: {
                    dataPoints: [
                      {
                        asDouble: 7,
                        timeUnixNano: time,
                        attributes: [{ key: 'path', value: { stringValue: 'PATH' } }],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    const body = Buffer.concat(
      text
        .split('PATH')
        .flatMap((part, i) =>
          i === 0 ? [Buffer.from(part)] : [pb.LATIN1_PATH, Buffer.from(part)],
        ),
    );
    const o = await ingest(body, 'json');
    assert.deepEqual([o.accepted, o.rejected], [1, 1]);
    assert.deepEqual(Object.keys(o.served), ['good']);
    // The same U+FFFD sent as UTF-8 is a character like any other.
    const fine = await ingest(
      Buffer.from(text.replace('PATH', '/srv/caf\uFFFD/report.csv')),
      'json',
    );
    assert.deepEqual([fine.accepted, fine.rejected], [2, 0]);
  });

  it('an attribute value nested 9 levels deep: its point is refused; 8 levels are kept (protobuf and JSON)', async () => {
    const body = pb.request([
      pb.gauge('deep', [pb.gaugePoint(1, [pb.kv('v', pb.nested(9))])]),
      pb.gauge('fine', [pb.gaugePoint(2, [pb.kv('v', pb.nested(8))])]),
    ]);
    const o = await ingest(body, 'protobuf');
    assert.deepEqual([o.accepted, o.rejected], [1, 1]);
    assert.match(o.message, /deep: an attribute value nested deeper than 8 levels/);
    assert.deepEqual(Object.keys(o.served), ['fine']);
    let value: object = { stringValue: 'leaf' };
    for (let i = 0; i < 9; i++) value = { arrayValue: { values: [value] } };
    const time = String(pb.nowNanos());
    const json = await ingest(
      Buffer.from(
        JSON.stringify({
          resourceMetrics: [
            {
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: 'deep',
                      gauge: {
                        dataPoints: [
                          { asDouble: 1, timeUnixNano: time, attributes: [{ key: 'v', value }] },
                        ],
                      },
                    },
                    { name: 'fine', gauge: { dataPoints: [{ asDouble: 2, timeUnixNano: time }] } },
                  ],
                },
              ],
            },
          ],
        }),
      ),
      'json',
    );
    assert.deepEqual([json.accepted, json.rejected], [1, 1]);
  });

  it("aggregationTemporality 99: the metric's points are refused as an unknown temporality, the request kept (protobuf and JSON)", async () => {
    const o = await ingest(
      pb.request([
        pb.sum('odd', [pb.gaugePoint(7), pb.gaugePoint(8, [pb.kv('k', pb.str('v'))])], 99),
        ...pb.goodGauges(2),
      ]),
      'protobuf',
    );
    assert.deepEqual([o.accepted, o.rejected], [2, 2]);
    assert.match(o.message, /odd: an unknown AggregationTemporality/);
    const time = String(pb.nowNanos());
    const json = await ingest(
      Buffer.from(
        JSON.stringify({
          resourceMetrics: [
            {
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: 'odd',
                      sum: {
                        aggregationTemporality: 99,
                        isMonotonic: true,
                        dataPoints: [{ asDouble: 1, timeUnixNano: time }],
                      },
                    },
                    { name: 'fine', gauge: { dataPoints: [{ asDouble: 2, timeUnixNano: time }] } },
                  ],
                },
              ],
            },
          ],
        }),
      ),
      'json',
    );
    assert.deepEqual([json.accepted, json.rejected], [1, 1]);
  });
});

describe('what the Collector refuses is refused', () => {
  const refuses = (body: Uint8Array, encoding: OtlpEncoding, message: RegExp): void => {
    assert.throws(
      () => decodeExportRequest(body, encoding),
      (e: unknown) => e instanceof OtlpDecodeError && message.test(e.message),
      String(message),
    );
  };

  it('a known field with the wrong wire type refuses the request; an unknown field is skipped', () => {
    const good = pb.goodGauges(2);
    refuses(
      pb.request([...good, pb.msg(pb.vint(1, 5), pb.len(5, pb.msg(pb.len(1, pb.gaugePoint(7)))))]),
      'protobuf',
      /^wrong wire type 0 for field 1 \(Metric\)$/,
    );
    refuses(
      pb.request([...good, pb.gauge('bad', [pb.msg(pb.u64(3, pb.nowNanos()), pb.vint(4, 7))])]),
      'protobuf',
      /^wrong wire type 0 for field 4 \(NumberDataPoint\)$/,
    );
    refuses(
      pb.request([...good, pb.gauge('bad', [pb.msg(pb.vint(3, 5), pb.f64(4, 7))])]),
      'protobuf',
      /^wrong wire type 0 for field 3 \(NumberDataPoint\)$/,
    );
    refuses(
      pb.request(good, { resource: [pb.msg(pb.vint(1, 3))] }),
      'protobuf',
      /^wrong wire type 0 for field 1 \(KeyValue\)$/,
    );
    // Field 99 is no field of NumberDataPoint: skipped, the point kept.
    const unknown = decodeExportRequest(
      pb.request([pb.gauge('ok', [pb.msg(pb.vint(99, 5), pb.u64(3, 1n), pb.f64(4, 7))])]),
      'protobuf',
    );
    const data = unknown.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
    assert.ok(data.type === 'gauge' && data.points[0]!.value === 7);
  });

  it('exemplars, summary points, scope attributes and metadata, not kept, are checked as pdata reads them: wire types, trace and span ID lengths', () => {
    const withExemplar = (...fields: Buffer[]): Buffer =>
      pb.request([
        pb.gauge('g', [
          pb.msg(pb.u64(3, 1n), pb.f64(4, 7), pb.len(5, pb.msg(pb.f64(3, 1), ...fields))),
        ]),
      ]);
    refuses(
      withExemplar(pb.len(5, Buffer.from([1, 2, 3]))),
      'protobuf',
      /^invalid trace ID length 3 \(Exemplar\)$/,
    );
    refuses(
      withExemplar(pb.len(4, Buffer.alloc(16))),
      'protobuf',
      /^invalid span ID length 16 \(Exemplar\)$/,
    );
    refuses(
      withExemplar(pb.vint(3, 1)),
      'protobuf',
      /^wrong wire type 0 for field 3 \(Exemplar\)$/,
    );
    refuses(
      withExemplar(pb.len(7, pb.kv('k', pb.msg(pb.len(2, 'not a bool'))))),
      'protobuf',
      /^wrong wire type 2 for field 2 \(AnyValue\)$/,
    );
    const summary = (point: Buffer): Buffer =>
      pb.request([pb.msg(pb.len(1, 's'), pb.len(11, pb.msg(pb.len(1, point))))]);
    refuses(
      summary(pb.msg(pb.vint(5, 3))),
      'protobuf',
      /^wrong wire type 0 for field 5 \(SummaryDataPoint\)$/,
    );
    refuses(
      pb.request([pb.gauge('g', [pb.gaugePoint(1)], [pb.len(12, pb.msg(pb.vint(1, 1)))])]),
      'protobuf',
      /^wrong wire type 0 for field 1 \(KeyValue\)$/,
    );
    refuses(
      pb.request(pb.goodGauges(1), {
        scope: pb.msg(pb.len(1, 'sc'), pb.len(3, pb.msg(pb.len(1, 'k'), pb.vint(2, 1)))),
      }),
      'protobuf',
      /^wrong wire type 0 for field 2 \(KeyValue\)$/,
    );
    // What an SDK sends is read: IDs of their length or none, filtered attributes of every kind, a summary point with quantiles.
    const kinds = [
      pb.kv('s', pb.str('x')),
      pb.kv('arr', pb.len(5, pb.msg(pb.len(1, pb.str('a'))))),
      pb.kv('kv', pb.len(6, pb.msg(pb.len(1, pb.kv('k', pb.vint(2, 1)))))),
    ];
    const fine = withExemplar(
      pb.len(5, Buffer.alloc(16, 1)),
      pb.len(4, Buffer.alloc(8, 2)),
      pb.u64(2, 1n),
      ...kinds.map((k) => pb.len(7, k)),
    );
    assert.equal(
      decodeExportRequest(fine, 'protobuf').resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.name,
      'g',
    );
    assert.equal(
      decodeExportRequest(withExemplar(pb.len(5, Buffer.alloc(0))), 'protobuf').resourceMetrics
        .length,
      1,
    );
    const quantiles = summary(
      pb.msg(
        pb.u64(3, 1n),
        pb.u64(4, 2n),
        pb.f64(5, 3),
        pb.len(6, pb.msg(pb.f64(1, 0.5), pb.f64(2, 1))),
        pb.len(7, kinds[0]!),
        pb.vint(8, 0),
      ),
    );
    const data = decodeExportRequest(quantiles, 'protobuf').resourceMetrics[0]!.scopeMetrics[0]!
      .metrics[0]!.data;
    assert.deepEqual(data, { type: 'summary', pointCount: 1 });
  });

  const jsonWith = (point: object): Buffer =>
    Buffer.from(
      JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'm',
                    gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: '1', ...point }] },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );

  it("JSON: a number out of a double's range, bytesValue that is not base64, an exemplar traceId or spanId that is not hex of its length", () => {
    refuses(
      Buffer.from(jsonWith({}).toString().replace('"asDouble":1', '"asDouble":1e400')),
      'json',
      /asDouble: a number out of a double's range$/,
    );
    refuses(
      jsonWith({ attributes: [{ key: 'b', value: { bytesValue: '!!!not base64' } }] }),
      'json',
      /bytesValue: expected base64/,
    );
    refuses(
      jsonWith({ attributes: [{ key: 'b', value: { bytesValue: 'AQI' } }] }),
      'json',
      /bytesValue: expected base64/,
    );
    refuses(
      jsonWith({ exemplars: [{ asDouble: 1, traceId: 'zz' }] }),
      'json',
      /exemplars\[0\]\.traceId: expected 32 hex digits$/,
    );
    refuses(
      jsonWith({ exemplars: [{ asDouble: 1, spanId: 'abc' }] }),
      'json',
      /exemplars\[0\]\.spanId: expected 16 hex digits$/,
    );
    const fine = decodeExportRequest(
      jsonWith({
        attributes: [{ key: 'b', value: { bytesValue: 'AQI=' } }],
        exemplars: [
          { asDouble: 1, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' },
          { asDouble: 2 },
        ],
      }),
      'json',
    );
    assert.equal(fine.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.name, 'm');
  });

  it("JSON nested deeper than 10,000 levels (an unknown field's) is refused; 10,000 in the request object are read", () => {
    const withUnknown = (levels: number): Buffer =>
      Buffer.from(
        jsonWith({})
          .toString()
          .replace(
            '"name":"m"',
            `"name":"m","unknown":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`,
          ),
      );
    refuses(withUnknown(100_000), 'json', /nested deeper than 10000 levels/);
    refuses(withUnknown(10_000), 'json', /nested deeper than 10000 levels/);
    assert.equal(
      decodeExportRequest(withUnknown(1_000), 'json').resourceMetrics[0]!.scopeMetrics[0]!
        .metrics[0]!.name,
      'm',
    );
    // In the request object itself, as the Collector 0.155 answers: 10,000 arrays read, 10,001 refused.
    const arrays = (n: number): Buffer =>
      Buffer.from(`{"resourceMetrics":[],"x":${'['.repeat(n)}${']'.repeat(n)}}`);
    assert.deepEqual(decodeExportRequest(arrays(10_000), 'json'), { resourceMetrics: [] });
    refuses(arrays(10_001), 'json', /nested deeper than 10000 levels/);
  });
});

describe('prototype names are attribute keys like any other', () => {
  it('__proto__, constructor and toString are kept and served (protobuf and JSON)', async () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    const o = await ingest(
      pb.request([
        pb.gauge('proto_attr', [
          pb.gaugePoint(
            7,
            names.map((k) => pb.kv(k, pb.str(`v-${k}`))),
          ),
        ]),
      ]),
      'protobuf',
    );
    assert.deepEqual([o.accepted, o.rejected], [1, 0]);
    const served = JSON.parse(o.served['proto_attr']![0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(served).sort(), [...names].sort());
    assert.equal(served['__proto__'], 'v-__proto__');
    const time = String(pb.nowNanos());
    const json = await ingest(
      Buffer.from(
        JSON.stringify({
          resourceMetrics: [
            {
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: 'proto_attr',
                      gauge: {
                        dataPoints: [
                          {
                            asDouble: 1,
                            timeUnixNano: time,
                            attributes: names.map((k) => ({
                              key: k,
                              value: { stringValue: `v-${k}` },
                            })),
                          },
                        ],
                      },
                    },
                  ],
                },
              ],
            },
          ],
        }),
      ),
      'json',
    );
    assert.deepEqual(
      Object.keys(JSON.parse(json.served['proto_attr']![0]!) as object).sort(),
      [...names].sort(),
    );
    // A kvlist's keys as well: the value is its JSON.
    const kvlist = decodeExportRequest(
      pb.request([
        pb.gauge('g', [
          pb.gaugePoint(1, [
            pb.kv('m', pb.len(6, pb.msg(pb.len(1, pb.kv('__proto__', pb.str('x')))))),
          ]),
        ]),
      ]),
      'protobuf',
    );
    const data = kvlist.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
    assert.ok(data.type === 'gauge');
    assert.equal(data.points[0]!.attributes['m'], '{"__proto__":"x"}');
  });
});
