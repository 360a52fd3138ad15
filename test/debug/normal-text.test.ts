/**
 * The debug exporter's `normal` text, against hand-built OTLP: the Collector's own test cases
 * (exporter/debugexporter/internal/normal/metrics_test.go) as goldens, each sent through both
 * encodings; Go's number formats; every attribute value type as pcommon's AsString writes it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeWire } from '../../src/debug/wire.ts';
import { goFloat, jsonFloat, normalText } from '../../src/debug/normal-text.ts';
import { otlpMetricsSchema } from '../support/otlp-receiver.ts';

type Json = Record<string, unknown>;

/** `request` (OTLP/JSON) encoded as protobuf and as JSON, each decoded back to its wire shape. */
function bothEncodings(request: Json): Array<[string, unknown]> {
  const { request: type } = otlpMetricsSchema();
  const protobuf = Buffer.from(type.encode(type.fromObject(request)).finish());
  return [
    ['protobuf', decodeWire(protobuf, 'protobuf')],
    ['json', decodeWire(Buffer.from(JSON.stringify(request)), 'json')],
  ];
}

/** Asserts the text of `request` in both encodings. */
function assertText(request: Json, expected: string[]): void {
  for (const [encoding, wire] of bothEncodings(request))
    assert.deepEqual(normalText(wire).lines, expected, encoding);
}

const kv = (key: string, value: Json) => ({ key, value });
const str = (key: string, value: string) => kv(key, { stringValue: value });

/** One resource, one scope, one metric. */
function one(metric: Json, resource: Json = {}, scope: Json = {}): Json {
  return { resourceMetrics: [{ ...resource, scopeMetrics: [{ ...scope, metrics: [metric] }] }] };
}

describe("the Collector's own cases (normal/metrics_test.go)", () => {
  it('empty metrics: no text', () => {
    assertText({}, []);
  });

  it('sum data point', () => {
    assertText(
      one({
        name: 'system.cpu.time',
        sum: {
          dataPoints: [{ asDouble: 123.456, attributes: [str('state', 'user'), str('cpu', '0')] }],
        },
      }),
      ['ResourceMetrics #0', 'ScopeMetrics #0', 'system.cpu.time{state=user,cpu=0} 123.456'],
    );
  });

  it('data point with resource and scope attributes', () => {
    assertText(
      one(
        {
          name: 'system.cpu.time',
          sum: {
            dataPoints: [
              { asDouble: 123.456, attributes: [str('state', 'user'), str('cpu', '0')] },
            ],
          },
        },
        {
          schemaUrl: 'https://opentelemetry.io/resource-schema-url',
          resource: {
            attributes: [
              str('resourceKey1', 'resourceValue1'),
              kv('resourceKey2', { boolValue: false }),
            ],
          },
        },
        {
          schemaUrl: 'http://opentelemetry.io/scope-schema-url',
          scope: {
            name: 'scope-name',
            version: '1.2.3',
            attributes: [str('scopeKey1', 'scopeValue1'), kv('scopeKey2', { boolValue: true })],
          },
        },
      ),
      [
        'ResourceMetrics #0 [https://opentelemetry.io/resource-schema-url] resourceKey1=resourceValue1 resourceKey2=false',
        'ScopeMetrics #0 scope-name@1.2.3 [http://opentelemetry.io/scope-schema-url] scopeKey1=scopeValue1 scopeKey2=true',
        'system.cpu.time{state=user,cpu=0} 123.456',
      ],
    );
  });

  it('gauge data point', () => {
    assertText(
      one({
        name: 'system.cpu.utilization',
        gauge: {
          dataPoints: [
            { asDouble: 78.901234567, attributes: [str('state', 'free'), str('cpu', '8')] },
          ],
        },
      }),
      [
        'ResourceMetrics #0',
        'ScopeMetrics #0',
        'system.cpu.utilization{state=free,cpu=8} 78.901234567',
      ],
    );
  });

  const httpAttributes = [
    kv('http.response.status_code', { intValue: 200 }),
    str('http.request.method', 'GET'),
  ];

  it('histogram', () => {
    const point = {
      attributes: httpAttributes,
      explicitBounds: [0.125, 0.5, 1, 3],
      bucketCounts: [1324, 13, 0, 2, 1],
      count: 1340,
      sum: 99.573,
      min: 0.017,
      max: 8.13,
    };
    assertText(one({ name: 'http.server.request.duration', histogram: { dataPoints: [point] } }), [
      'ResourceMetrics #0',
      'ScopeMetrics #0',
      'http.server.request.duration{http.response.status_code=200,http.request.method=GET} count=1340 sum=99.573 min=0.017 max=8.13 le0.125=1324 le0.5=13 le1=0 le3=2 1',
    ]);
  });

  it('exponential histogram (no buckets printed, as in the cited release)', () => {
    const point = {
      attributes: httpAttributes,
      count: 1340,
      sum: 99.573,
      min: 0.017,
      max: 8.13,
      scale: 3,
      positive: { offset: 1, bucketCounts: [40, 50] },
    };
    assertText(
      one({ name: 'http.server.request.duration', exponentialHistogram: { dataPoints: [point] } }),
      [
        'ResourceMetrics #0',
        'ScopeMetrics #0',
        'http.server.request.duration{http.response.status_code=200,http.request.method=GET} count=1340 sum=99.573 min=0.017 max=8.13',
      ],
    );
  });

  it('summary', () => {
    const point = {
      attributes: httpAttributes,
      count: 1340,
      sum: 99.573,
      quantileValues: [{ quantile: 0.01, value: 15 }],
    };
    assertText(one({ name: 'summary', summary: { dataPoints: [point] } }), [
      'ResourceMetrics #0',
      'ScopeMetrics #0',
      'summary{http.response.status_code=200,http.request.method=GET} count=1340 sum=99.573000 q0.01=15',
    ]);
  });
});

describe('lines', () => {
  it('scopes are numbered with their resource index, as the original does', () => {
    const scope = (name: string) => ({
      scope: { name },
      metrics: [{ name: `${name}.m`, gauge: { dataPoints: [{ asInt: 1 }] } }],
    });
    assertText(
      {
        resourceMetrics: [
          { scopeMetrics: [scope('a'), scope('b')] },
          { scopeMetrics: [scope('c'), scope('d')] },
        ],
      },
      [
        'ResourceMetrics #0',
        'ScopeMetrics #0 a',
        'a.m{} 1',
        'ScopeMetrics #0 b',
        'b.m{} 1',
        'ResourceMetrics #1',
        'ScopeMetrics #1 c',
        'c.m{} 1',
        'ScopeMetrics #1 d',
        'd.m{} 1',
      ],
    );
  });

  it('scope details: a version or a schema URL alone', () => {
    assertText(
      {
        resourceMetrics: [
          {
            scopeMetrics: [
              { scope: { version: '2.0' } },
              { schemaUrl: 'https://s' },
              { scope: { name: 'n' }, schemaUrl: 'https://s' },
            ],
          },
        ],
      },
      [
        'ResourceMetrics #0',
        'ScopeMetrics #0 @2.0',
        'ScopeMetrics #0 [https://s]',
        'ScopeMetrics #0 n [https://s]',
      ],
    );
  });

  it('as_int prints exactly, as_double as Go %v: 1234567 differs between them', () => {
    const points = [
      { asInt: '1234567' },
      { asDouble: 1234567 },
      { asInt: '9223372036854775807' },
      { asDouble: 0.00001 },
      { asInt: 0 },
      { asDouble: 0 },
      {},
    ];
    assertText(one({ name: 'v', gauge: { dataPoints: points } }), [
      'ResourceMetrics #0',
      'ScopeMetrics #0',
      'v{} 1234567',
      'v{} 1.234567e+06',
      'v{} 9223372036854775807',
      'v{} 1e-05',
      'v{} 0',
      'v{} 0',
      'v{} ',
    ]);
  });

  it('a histogram without sum, min and max, and a count-only one', () => {
    assertText(
      one({
        name: 'h',
        histogram: {
          dataPoints: [{ count: 3, bucketCounts: [1, 2], explicitBounds: [1e6] }, { count: 2 }, {}],
        },
      }),
      [
        'ResourceMetrics #0',
        'ScopeMetrics #0',
        'h{} count=3 le1e+06=1 2',
        'h{} count=2',
        'h{} count=0',
      ],
    );
  });

  it('a metric without data prints no line', () => {
    assertText(one({ name: 'nothing' }), ['ResourceMetrics #0', 'ScopeMetrics #0']);
  });

  it('OTLP/JSON with snake_case keys and NaN/Infinity strings reads as camelCase does', () => {
    const snake = {
      resource_metrics: [
        {
          schema_url: 'https://r',
          scope_metrics: [
            {
              scope: { name: 's' },
              metrics: [
                {
                  name: 'g',
                  gauge: {
                    data_points: [
                      { as_double: 'NaN' },
                      {
                        as_double: '-Infinity',
                        attributes: [{ key: 'k', value: { int_value: '7' } }],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const text = normalText(decodeWire(Buffer.from(JSON.stringify(snake)), 'json')).lines;
    assert.deepEqual(text, [
      'ResourceMetrics #0 [https://r]',
      'ScopeMetrics #0 s',
      'g{} NaN',
      'g{k=7} -Inf',
    ]);
  });

  it('counts resource metrics, metrics and data points as the exporter summary does', () => {
    const request = {
      resourceMetrics: [
        {
          scopeMetrics: [
            { metrics: [{ name: 'a', gauge: { dataPoints: [{}, {}] } }, { name: 'b' }] },
          ],
        },
        { scopeMetrics: [{ metrics: [{ name: 'c', histogram: { dataPoints: [{}] } }] }] },
      ],
    };
    assert.deepEqual(normalText(request).counts, { resourceMetrics: 2, metrics: 3, dataPoints: 3 });
  });
});

describe('attribute values (pcommon.Value.AsString)', () => {
  const cases: Array<[string, Json, string]> = [
    ['string', { stringValue: 'a b<c>&"' }, 'a b<c>&"'],
    ['bool', { boolValue: true }, 'true'],
    ['int', { intValue: '-42' }, '-42'],
    ['int64 beyond 2^53, exactly', { intValue: '9007199254740993' }, '9007199254740993'],
    ['double', { doubleValue: 1.5 }, '1.5'],
    ['integral double', { doubleValue: 3 }, '3'],
    ['large double: ES6 form, not %v', { doubleValue: 1234567 }, '1234567'],
    ['double from 1e21 on', { doubleValue: 1e21 }, '1e+21'],
    ['small double', { doubleValue: 1e-7 }, '1e-7'],
    ['NaN double', { doubleValue: 'NaN' }, 'json: unsupported value: NaN'],
    ['infinite double', { doubleValue: 'Infinity' }, 'json: unsupported value: +Inf'],
    ['bytes', { bytesValue: 'AQI=' }, 'AQI='],
    ['empty', {}, ''],
    [
      'string array',
      { arrayValue: { values: [{ stringValue: 'x' }, { stringValue: 'y"<' }] } },
      '["x","y\\"<"]',
    ],
    [
      'bool array',
      { arrayValue: { values: [{ boolValue: true }, { boolValue: false }] } },
      '[true,false]',
    ],
    ['int array', { arrayValue: { values: [{ intValue: 1 }, { intValue: '-2' }] } }, '[1,-2]'],
    [
      'double array',
      { arrayValue: { values: [{ doubleValue: 1.5 }, { doubleValue: 2.25 }] } },
      '[1.5,2.25]',
    ],
    [
      'mixed array with an empty value',
      {
        arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }, {}, { bytesValue: 'AQI=' }] },
      },
      '["a",1,null,"AQI="]',
    ],
    [
      'array holding NaN: json.Marshal fails',
      { arrayValue: { values: [{ doubleValue: 'NaN' }] } },
      '',
    ],
    ['empty array', { arrayValue: {} }, '[]'],
    [
      'map: keys sorted, nested values',
      {
        kvlistValue: {
          values: [
            kv('b', { stringValue: 'x' }),
            kv('a', { arrayValue: { values: [{ intValue: 1 }] } }),
            kv('c', { kvlistValue: { values: [kv('z', { boolValue: false })] } }),
          ],
        },
      },
      '{"a":[1],"b":"x","c":{"z":false}}',
    ],
    [
      'line and paragraph separators escaped, as encoding/json does',
      { arrayValue: { values: [{ stringValue: '\u2028\u2029\n' }] } },
      '["\\u2028\\u2029\\n"]',
    ],
  ];
  for (const [what, value, expected] of cases) {
    it(what, () => {
      assertText(
        one({ name: 'm', gauge: { dataPoints: [{ asInt: 1, attributes: [kv('k', value)] }] } }),
        ['ResourceMetrics #0', 'ScopeMetrics #0', `m{k=${expected}} 1`],
      );
    });
  }
});

describe('Go number formats', () => {
  it('%v of a float64', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '-0'],
      [1, '1'],
      [-2.5, '-2.5'],
      [100, '100'],
      [123456, '123456'],
      [999999, '999999'],
      [1e6, '1e+06'],
      [1234567, '1.234567e+06'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [0.1 + 0.2, '0.30000000000000004'],
      [1e21, '1e+21'],
      [1e100, '1e+100'],
      [-1.5e-7, '-1.5e-07'],
      [5e-324, '5e-324'],
      [Number.MAX_VALUE, '1.7976931348623157e+308'],
      [NaN, 'NaN'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
    ];
    for (const [value, expected] of cases) assert.equal(goFloat(value), expected, String(value));
  });

  it('encoding/json float64 (ES6 form, the sign of -0 kept)', () => {
    const cases: Array<[number, string]> = [
      [1234567, '1234567'],
      [1e20, '100000000000000000000'],
      [1e21, '1e+21'],
      [0.000001, '0.000001'],
      [1e-7, '1e-7'],
      [-0, '-0'],
    ];
    for (const [value, expected] of cases) assert.equal(jsonFloat(value), expected, String(value));
  });
});
