/**
 * Valid OTLP/JSON bodies in the forms the OTLP specification and the Collector's JSON decoder
 * allow — snake_case keys, enums by name or number, 64-bit integers as strings or numbers,
 * doubles as numeric strings, exemplars' hex IDs, `null` and missing optional messages, unknown
 * keys, attribute values of every AnyValue kind, two members of one oneof (the last set is read),
 * doubles and integers in every string form Go's strconv reads — sent to the real Collector (its
 * `otlp` receiver feeding its `prometheus` exporter) and to jobmeter's ingest listener: each is
 * answered with the same status, jobmeter refuses none of the points of a request both accept,
 * and each serves the same values. So do OTLP/protobuf bodies of every wire form: repeated numbers
 * packed or not, fields out of order, unknown fields of every wire type, a oneof or a message
 * written twice. test/e2e/bad-requests.ts holds more bodies either refuses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { startIngestListener } from '../../src/ingest/ingest-listener.ts';
import { resolveIngest } from '../../src/resolve-options.ts';
import { startPrometheusCollector } from '../support/collector.ts';
import * as pb from '../support/otlp-protobuf-writer.ts';
import { decodeExportResponse } from '../support/otlp-response.ts';

type Json = Record<string, unknown>;

const T = String(BigInt(Date.now()) * 1_000_000n);
const START = String(BigInt(Date.now() - 60_000) * 1_000_000n);

/** A request of `metrics` under one resource and scope, in lowerCamelCase. */
const request = (metrics: readonly Json[]): Json => ({
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'variants' } }] },
      scopeMetrics: [{ scope: { name: 'variants' }, metrics }],
    },
  ],
});

/** A variant: its body (the metrics named by `name`), and the values either serves for `name`. */
interface Variant {
  what: string;
  /** OTLP/JSON as an object, OTLP/protobuf as bytes. */
  body: (name: string) => Json | Buffer;
  /** The values served for `name`, in increasing order (a histogram's: its count). */
  values: readonly number[];
  /** Both refuse the request: 400. */
  refused?: true;
  /** jobmeter does not yet read it as the Collector does: the owner and what it does. */
  todo?: string;
}

const gauge = (name: string, point: Json): Json => ({ name, gauge: { dataPoints: [point] } });
const counter = (name: string, point: Json, temporality: unknown = 2): Json => ({
  name,
  sum: { aggregationTemporality: temporality, isMonotonic: true, dataPoints: [point] },
});

const VARIANTS: readonly Variant[] = [
  {
    what: 'lowerCamelCase, asDouble as a number',
    body: (n) => request([gauge(n, { timeUnixNano: T, asDouble: 1.5 })]),
    values: [1.5],
  },
  {
    what: 'snake_case keys throughout',
    body: (n) => ({
      resource_metrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'variants' } }] },
          scope_metrics: [
            {
              scope: { name: 'variants' },
              metrics: [
                {
                  name: n,
                  sum: {
                    aggregation_temporality: 2,
                    is_monotonic: true,
                    data_points: [{ start_time_unix_nano: START, time_unix_nano: T, as_int: '7' }],
                  },
                },
              ],
            },
          ],
        },
      ],
    }),
    values: [7],
  },
  {
    what: 'temporality by name',
    body: (n) =>
      request([
        counter(
          n,
          { startTimeUnixNano: START, timeUnixNano: T, asInt: 3 },
          'AGGREGATION_TEMPORALITY_CUMULATIVE',
        ),
      ]),
    values: [3],
  },
  {
    what: 'times and asInt as JSON numbers',
    body: (n) =>
      request([
        counter(n, { startTimeUnixNano: Number(START), timeUnixNano: Number(T), asInt: 4 }),
      ]),
    values: [4],
  },
  {
    what: 'asDouble as a numeric string',
    body: (n) => request([gauge(n, { timeUnixNano: T, asDouble: '2.25' })]),
    values: [2.25],
  },
  {
    what: 'asDouble as "Infinity"',
    body: (n) => request([gauge(n, { timeUnixNano: T, asDouble: 'Infinity' })]),
    values: [Infinity],
  },
  {
    what: 'an exemplar with hex trace and span IDs',
    body: (n) =>
      request([
        gauge(n, {
          timeUnixNano: T,
          asDouble: 5,
          exemplars: [
            {
              timeUnixNano: T,
              asDouble: 5,
              traceId: '5b8efff798038103d269b633813fc60c',
              spanId: 'eee19b7ec3c1b174',
            },
          ],
        }),
      ]),
    values: [5],
  },
  {
    what: 'unknown keys at every level',
    body: (n) => ({
      unknownTop: { a: [1, { b: null }] },
      resourceMetrics: [
        {
          x: 1,
          resource: { attributes: [], y: 'z' },
          scopeMetrics: [
            {
              scope: { name: 'variants', q: [] },
              metrics: [
                {
                  name: n,
                  extra: true,
                  gauge: { dataPoints: [{ timeUnixNano: T, asDouble: 6, w: {} }], v: 0 },
                },
              ],
            },
          ],
        },
      ],
    }),
    values: [6],
  },
  {
    what: 'no resource, no scope, null optional fields',
    body: (n) => ({
      resourceMetrics: [
        {
          resource: null,
          schemaUrl: null,
          scopeMetrics: [
            {
              scope: null,
              metrics: [
                {
                  name: n,
                  description: null,
                  unit: null,
                  gauge: { dataPoints: [{ timeUnixNano: T, asDouble: 8, attributes: null }] },
                },
              ],
            },
          ],
        },
      ],
    }),
    values: [8],
  },
  {
    what: 'attribute values of every AnyValue kind',
    body: (n) =>
      request([
        gauge(n, {
          timeUnixNano: T,
          asDouble: 9,
          attributes: [
            { key: 's', value: { stringValue: 'x' } },
            { key: 'b', value: { boolValue: true } },
            { key: 'i', value: { intValue: '12' } },
            { key: 'd', value: { doubleValue: 1.5 } },
            { key: 'by', value: { bytesValue: 'AQI=' } },
            {
              key: 'arr',
              value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }] } },
            },
            {
              key: 'kv',
              value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } },
            },
            { key: 'emptyArr', value: { arrayValue: {} } },
          ],
        }),
      ]),
    values: [9],
  },
  {
    what: 'a histogram, its counts as strings and numbers',
    body: (n) =>
      request([
        {
          name: n,
          histogram: {
            aggregationTemporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
            dataPoints: [
              {
                startTimeUnixNano: START,
                timeUnixNano: T,
                count: '6',
                sum: 12,
                bucketCounts: ['1', 2, '3'],
                explicitBounds: [1, '2'],
              },
            ],
          },
        },
      ]),
    values: [6],
  },
  {
    what: 'two points of two attribute sets',
    body: (n) =>
      request([
        {
          name: n,
          gauge: {
            dataPoints: [
              {
                timeUnixNano: T,
                asDouble: 1,
                attributes: [{ key: 'k', value: { stringValue: 'a' } }],
              },
              {
                timeUnixNano: T,
                asInt: '2',
                attributes: [{ key: 'k', value: { stringValue: 'b' } }],
              },
            ],
          },
        },
      ]),
    values: [1, 2],
  },
  {
    what: 'two members of a oneof: the value set last is served (asDouble, then asInt)',
    body: (n) => request([gauge(n, { timeUnixNano: T, asDouble: 2, asInt: '1' })]),
    values: [1],
  },
  {
    what: 'two members of a oneof: the data set last is served (gauge, then sum)',
    body: (n) =>
      request([
        {
          ...gauge(n, { timeUnixNano: T, asInt: 4 }),
          ...counter(n, { timeUnixNano: T, asInt: 3 }),
        },
      ]),
    values: [3],
  },
  {
    what: 'two members of a oneof in snake_case: the value set last is served',
    body: (n) => request([gauge(n, { timeUnixNano: T, as_int: 1, as_double: 2.5 })]),
    values: [2.5],
  },
  {
    what: 'asDouble as "inf", "-Infinity", "NAN" and "+1.5e0" (any case, as Go reads a float)',
    body: (n) =>
      request([
        {
          name: n,
          gauge: {
            dataPoints: ['inf', '-Infinity', 'NAN', '+1.5e0'].map((asDouble, k) => ({
              timeUnixNano: T,
              asDouble,
              attributes: [{ key: 'k', value: { intValue: k } }],
            })),
          },
        },
      ]),
    values: [-Infinity, 1.5, Infinity, Number.NaN],
  },
  {
    what: 'asInt as "+5", a signed integer with its sign',
    body: (n) => request([gauge(n, { timeUnixNano: T, asInt: '+5' })]),
    values: [5],
  },
  {
    what: 'asInt as 5 after 21 zeros, a decimal string longer than 20 digits',
    body: (n) => request([gauge(n, { timeUnixNano: T, asInt: `${'0'.repeat(21)}5` })]),
    values: [5],
  },
  {
    what: 'asDouble as the hexadecimal "0x1p4", which Go reads',
    body: (n) => request([gauge(n, { timeUnixNano: T, asDouble: '0x1p4' })]),
    values: [16],
    todo: 'src/otlp/normalize.ts double(): a hexadecimal float string is refused, 400',
  },
  {
    what: 'asDouble as " 1" or "0x10", no float to Go: the request is refused',
    body: (n) =>
      request([
        gauge(n, { timeUnixNano: T, asDouble: ' 1' }),
        gauge(`${n}_b`, { timeUnixNano: T, asDouble: '0x10' }),
      ]),
    values: [],
    refused: true,
  },
  {
    what: 'timeUnixNano as "+5", an unsigned integer with a sign: the request is refused',
    body: (n) => request([gauge(n, { timeUnixNano: '+5', asInt: 1 })]),
    values: [],
    refused: true,
  },
  {
    what: 'protobuf: a histogram, its repeated numbers packed',
    body: (n) => pb.request([histogram(n, true)]),
    values: [6],
  },
  {
    what: 'protobuf: a histogram, its repeated numbers not packed',
    body: (n) => pb.request([histogram(n, false)]),
    values: [6],
  },
  {
    what: 'protobuf: fields out of order (a point value before its time, a metric data before its name)',
    body: (n) =>
      pb.request([
        pb.msg(
          pb.len(
            5,
            pb.len(
              1,
              pb.msg(pb.f64(4, 3), pb.len(7, pb.kv('k', pb.str('v'))), pb.u64(3, pb.nowNanos())),
            ),
          ),
          pb.len(1, n),
        ),
      ]),
    values: [3],
  },
  {
    what: 'protobuf: unknown fields of every wire type at every level',
    body: (n) => {
      const unknown = [
        pb.vint(100, 7),
        pb.len(101, 'x'),
        pb.u64(102, 1n),
        Buffer.from([0xbd, 0x06, 1, 2, 3, 4]),
      ];
      const point = pb.msg(...unknown, pb.u64(3, pb.nowNanos()), pb.f64(4, 4));
      const metric = pb.msg(
        pb.len(1, n),
        ...unknown,
        pb.len(5, pb.msg(pb.len(1, point), ...unknown)),
      );
      return Buffer.concat([pb.request([metric]), ...unknown]);
    },
    values: [4],
  },
  {
    what: 'protobuf: a point value written twice, as_double then as_int: the last is read',
    body: (n) =>
      pb.request([pb.gauge(n, [pb.msg(pb.u64(3, pb.nowNanos()), pb.f64(4, 2), pb.u64(6, 5n))])]),
    values: [5],
  },
  {
    what: 'protobuf: the gauge of a metric written twice: the last is read',
    body: (n) => {
      const point = (v: number, k: string) => pb.len(1, pb.gaugePoint(v, [pb.kv('k', pb.str(k))]));
      return pb.request([pb.msg(pb.len(1, n), pb.len(5, point(1, 'a')), pb.len(5, point(2, 'b')))]);
    },
    values: [2],
  },
  {
    what: 'protobuf: attribute values empty, bytes, kvlist and an empty array',
    body: (n) =>
      pb.request([
        pb.gauge(n, [
          pb.gaugePoint(7, [
            pb.kv('empty', Buffer.alloc(0)),
            pb.kv('bytes', pb.len(7, Buffer.from([1, 2]))),
            pb.kv('kv', pb.len(6, pb.len(1, pb.kv('k', pb.str('v'))))),
            pb.kv('arr', pb.len(5, Buffer.alloc(0))),
          ]),
        ]),
      ]),
    values: [7],
  },
];

/** Histogram{point{count 6, sum 12, buckets 1 2 3, bounds 1 2}, cumulative}, `packed` or not. */
function histogram(name: string, packed: boolean): Buffer {
  const counts = [1n, 2n, 3n];
  const bounds = [1, 2];
  const repeated = packed
    ? [
        pb.len(6, pb.msg(...counts.map((c) => pb.u64(0, c).subarray(1)))),
        pb.len(7, pb.msg(...bounds.map((b) => pb.f64(0, b).subarray(1)))),
      ]
    : [...counts.map((c) => pb.u64(6, c)), ...bounds.map((b) => pb.f64(7, b))];
  const point = pb.msg(
    pb.u64(2, pb.nowNanos() - 60_000_000_000n),
    pb.u64(3, pb.nowNanos()),
    pb.u64(4, 6n),
    pb.f64(5, 12),
    ...repeated,
  );
  return pb.msg(pb.len(1, name), pb.len(9, pb.msg(pb.len(1, point), pb.vint(2, 2))));
}

/** NaN last, as no order holds it. */
const ascending = (a: number, b: number): number =>
  Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b;

/** The values the Collector's prometheus exporter serves for `name` (a histogram's `_count`). */
function collectorValues(scrape: string, name: string): number[] {
  return scrape
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .filter((l) => {
      const metric = l.slice(0, l.search(/[{ ]/));
      return metric === name || metric === `${name}_total` || metric === `${name}_count`;
    })
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1).replace(/Inf$/, 'Infinity')))
    .toSorted(ascending);
}

/** The values jobmeter's store serves for `name` (a histogram's count). */
async function jobmeterValues(store: IngestStore, name: string): Promise<number[]> {
  const { resourceMetrics } = await store.collect();
  return resourceMetrics.scopeMetrics
    .flatMap((sm) => sm.metrics)
    .filter((m) => m.descriptor.name === name)
    .flatMap((m) =>
      (m.dataPoints as readonly { value: number | { count: number } }[]).map((p) =>
        typeof p.value === 'number' ? p.value : p.value.count,
      ),
    )
    .toSorted(ascending);
}

interface Answer {
  status: number;
  body: string;
}

async function post(port: number, body: Json | Buffer): Promise<Answer> {
  const protobuf = Buffer.isBuffer(body);
  const res = await fetch(`http://127.0.0.1:${port}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': protobuf ? 'application/x-protobuf' : 'application/json' },
    body: protobuf ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const answer = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    body:
      res.status === 200
        ? JSON.stringify(decodeExportResponse(answer, protobuf ? 'protobuf' : 'json') ?? {})
        : String(answer),
  };
}

describe('valid OTLP in every form the Collector reads is read by jobmeter as the Collector reads it', () => {
  let collector: Awaited<ReturnType<typeof startPrometheusCollector>>;
  let ingest: Awaited<ReturnType<typeof startIngestListener>>;
  const store = new IngestStore();
  before(async () => {
    collector = await startPrometheusCollector();
    ingest = await startIngestListener({ sink: store, ...resolveIngest({ port: 0 }) });
  });
  after(async () => {
    await ingest?.close();
    await collector?.stop();
  });

  /** `body` posted to both: their statuses, and the values each serves for `name`. */
  async function both(name: string, body: Json | Buffer, refused = false) {
    const theirs = await post(collector.ports.otlp, body);
    const ours = await post(ingest.address.port, body);
    assert.equal(theirs.status, refused ? 400 : 200, theirs.body);
    assert.equal(ours.status, theirs.status, `${ours.body} for ${JSON.stringify(body)}`);
    // The Collector never fills partial_success; jobmeter fills it only for what it refused.
    if (!refused) assert.deepEqual(JSON.parse(ours.body), {});
    const scrape = await (
      await fetch(`http://127.0.0.1:${collector.ports.prom}/metrics`, {
        signal: AbortSignal.timeout(20_000),
      })
    ).text();
    return {
      collector: collectorValues(scrape, name),
      jobmeter: await jobmeterValues(store, name),
    };
  }

  VARIANTS.forEach((variant, i) => {
    it(variant.what, { todo: variant.todo }, async () => {
      const name = `variant_${i}`;
      const served = await both(name, variant.body(name), variant.refused);
      assert.deepEqual(served.collector, variant.values, 'the Collector');
      assert.deepEqual(served.jobmeter, variant.values, 'jobmeter');
    });
  });

  it('a request with each key, integer, double and enum in either of its forms, at random', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 200, maxLength: 200 }), async (bits) => {
        const name = `mixed_${run++}`;
        let next = 0;
        const flip = (): boolean => bits[next++ % bits.length]!;
        const body = eitherForm(MIXED(name), flip) as Json;
        for (const [metric, values] of [
          [name, [1.5]],
          [`${name}_c`, [2, 3]],
          [`${name}_h`, [6]],
        ] as const) {
          const served = await both(metric, body);
          assert.deepEqual(served.collector, values, `the Collector, ${JSON.stringify(body)}`);
          assert.deepEqual(served.jobmeter, values, `jobmeter, ${JSON.stringify(body)}`);
        }
      }),
      { numRuns: 40 },
    );
  });
});

/** A gauge, a counter and a histogram: `name` at 1.5, `name`_c at 2 and 3, `name`_h of count 6. */
const MIXED = (name: string): Json =>
  request([
    gauge(name, {
      timeUnixNano: T,
      asDouble: 1.5,
      attributes: [{ key: 'k', value: { intValue: '3' } }],
    }),
    {
      name: `${name}_c`,
      sum: {
        aggregationTemporality: 2,
        isMonotonic: true,
        dataPoints: [
          { startTimeUnixNano: START, timeUnixNano: T, asInt: '2' },
          {
            startTimeUnixNano: START,
            timeUnixNano: T,
            asDouble: 3,
            attributes: [{ key: 'k', value: { doubleValue: 1.25 } }],
          },
        ],
      },
    },
    {
      name: `${name}_h`,
      histogram: {
        aggregationTemporality: 2,
        dataPoints: [
          {
            startTimeUnixNano: START,
            timeUnixNano: T,
            count: '6',
            sum: 12,
            bucketCounts: ['1', '2', '3'],
            explicitBounds: [1, 2],
          },
        ],
      },
    },
  ]);

/**
 * `value` with, where `flip` says, each key in snake_case, each integer string a number (where a
 * double holds it exactly), each double a string and each temporality its name.
 */
function eitherForm(value: unknown, flip: () => boolean, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => eitherForm(v, flip, key));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        flip() ? k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : k,
        eitherForm(v, flip, k),
      ]),
    );
  if (key === 'aggregationTemporality' && flip()) return 'AGGREGATION_TEMPORALITY_CUMULATIVE';
  if (typeof value === 'string' && /^\d+$/.test(value) && Number.isSafeInteger(Number(value)))
    return flip() ? Number(value) : value;
  if (
    typeof value === 'number' &&
    ['asDouble', 'doubleValue', 'sum', 'explicitBounds'].includes(key)
  )
    return flip() ? String(value) : value;
  return value;
}
