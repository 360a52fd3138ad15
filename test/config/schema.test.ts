import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError, REDACTED } from '../../src/errors.ts';
import { parseConfigText } from '../../src/config/file-parser.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { toJobmeterOptions } from '../../src/config/to-options.ts';
import type { ServiceConfig } from '../../src/config/service-config.ts';

const PROFILES = 'one of otel, runwisp, wasmrun, crewshipd, rm, solti, semconv';
const MILLIS = 'an integer from 1 to 2147483647 (milliseconds)';
const HOST = 'an IP address or host name (IPv6 without brackets)';

/** Builds `{ a: { b: value } }` from `'a.b'`. */
function nest(dotted: string, value: unknown): Record<string, unknown> {
  const parts = dotted.split('.');
  let out: unknown = value;
  for (const part of parts.reverse()) out = { [part]: out };
  return out as Record<string, unknown>;
}

function parse(raw: unknown): ServiceConfig {
  return parseServiceConfig(raw, 'test.toml');
}

/** Asserts the exact ConfigError, fields included. */
function rejects(raw: unknown, message: string, key?: string): ConfigError {
  let caught: unknown;
  try {
    parse(raw);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.message, message);
  if (key !== undefined) assert.equal(caught.key, key);
  return caught;
}

describe('parseServiceConfig: every key, good and bad', () => {
  const good: [key: string, value: unknown, expected: ServiceConfig][] = [
    ['profile', 'otel', { profile: 'otel' }],
    ['profile', 'crewshipd', { profile: 'crewshipd' }],
    ['service_name', 'scheduler', { serviceName: 'scheduler' }],
    ['process_metrics', false, { processMetrics: false }],
    ['otel_scope_info', false, { otelScopeInfo: false }],
    [
      'resource_attributes',
      { 'deployment.environment': 'prod' },
      { resourceAttributes: { 'deployment.environment': 'prod' } },
    ],
    ['listener.enabled', false, { listener: { enabled: false } }],
    ['listener.host', '127.0.0.1', { listener: { host: '127.0.0.1' } }],
    ['listener.host', '::1', { listener: { host: '::1' } }],
    ['listener.host', 'localhost', { listener: { host: 'localhost' } }],
    ['listener.port', 0, { listener: { port: 0 } }],
    ['listener.port', 65535, { listener: { port: 65535 } }],
    ['listener.allow_non_loopback', true, { listener: { allowNonLoopback: true } }],
    ['listener.format', 'openmetrics', { listener: { format: 'openmetrics' } }],
    [
      'otlp.endpoint',
      'https://collector:4318/v1/metrics',
      { otlp: { endpoint: 'https://collector:4318/v1/metrics' } },
    ],
    ['otlp.protocol', 'http/json', { otlp: { protocol: 'http/json' } }],
    ['otlp.interval_ms', 1, { otlp: { intervalMillis: 1 } }],
    ['otlp.timeout_ms', 2147483647, { otlp: { timeoutMillis: 2147483647 } }],
    ['otlp.temporality', 'delta', { otlp: { temporality: 'delta' } }],
    [
      'otlp.headers',
      { Authorization: 'Bearer t' },
      { otlp: { headers: { Authorization: 'Bearer t' } } },
    ],
  ];
  for (const [key, value, expected] of good) {
    it(`accepts ${key} = ${JSON.stringify(value)}`, () => {
      assert.deepEqual(parse(nest(key, value)), expected);
    });
  }

  const bad: [key: string, value: unknown, message: string][] = [
    ['profile', 'otell', `invalid profile=otell: expected ${PROFILES} (did you mean otel?)`],
    ['profile', 'RunWisp', `invalid profile=RunWisp: expected ${PROFILES} (did you mean runwisp?)`],
    [
      'profile',
      3,
      `invalid profile=3: expected a profile name (${PROFILES}) or a [profile] table with name and rules`,
    ],
    ['service_name', '', 'invalid service_name=: expected a non-empty string'],
    ['service_name', 5, 'invalid service_name=5: expected a non-empty string'],
    [
      'process_metrics',
      'yes',
      'invalid process_metrics=yes: expected true or false (got a string)',
    ],
    ['otel_scope_info', 1, 'invalid otel_scope_info=1: expected true or false'],
    [
      'resource_attributes',
      'team=a',
      'invalid resource_attributes=team=a: expected a table of string values',
    ],
    ['resource_attributes.team', 1, 'invalid resource_attributes.team=1: expected a string'],
    ['listener', true, 'invalid listener=true: expected a table'],
    [
      'listener.enabled',
      'false',
      'invalid listener.enabled=false: expected true or false (got a string)',
    ],
    ['listener.host', '[::1]', `invalid listener.host=[::1]: expected ${HOST}`],
    ['listener.host', '127.0.0.1:9464', `invalid listener.host=127.0.0.1:9464: expected ${HOST}`],
    ['listener.host', '', `invalid listener.host=: expected ${HOST}`],
    ['listener.port', 70000, 'invalid listener.port=70000: expected an integer from 0 to 65535'],
    ['listener.port', -1, 'invalid listener.port=-1: expected an integer from 0 to 65535'],
    ['listener.port', 94.64, 'invalid listener.port=94.64: expected an integer from 0 to 65535'],
    [
      'listener.port',
      '9464',
      'invalid listener.port=9464: expected an integer from 0 to 65535 (got a string)',
    ],
    [
      'listener.allow_non_loopback',
      'true',
      'invalid listener.allow_non_loopback=true: expected true or false (got a string)',
    ],
    [
      'listener.format',
      'json',
      'invalid listener.format=json: expected one of negotiate, text, openmetrics',
    ],
    [
      'listener.format',
      'OpenMetrics',
      'invalid listener.format=OpenMetrics: expected one of negotiate, text, openmetrics (did you mean openmetrics?)',
    ],
    ['otlp', 'http://x', 'invalid otlp=<redacted>: expected a table (got a string)'],
    [
      'otlp.endpoint',
      'collector:4318',
      'invalid otlp.endpoint=collector:4318: expected an absolute http:// or https:// URL',
    ],
    [
      'otlp.endpoint',
      'grpc://collector:4317',
      'invalid otlp.endpoint=grpc://collector:4317: expected an absolute http:// or https:// URL',
    ],
    [
      'otlp.endpoint',
      4318,
      'invalid otlp.endpoint=4318: expected an absolute http:// or https:// URL',
    ],
    [
      'otlp.protocol',
      'grpc',
      'invalid otlp.protocol=grpc: expected one of http/protobuf, http/json',
    ],
    [
      'otlp.protocol',
      'http/proto',
      'invalid otlp.protocol=http/proto: expected one of http/protobuf, http/json',
    ],
    ['otlp.interval_ms', 0, `invalid otlp.interval_ms=0: expected ${MILLIS}`],
    ['otlp.interval_ms', 2147483648, `invalid otlp.interval_ms=2147483648: expected ${MILLIS}`],
    ['otlp.interval_ms', '60s', `invalid otlp.interval_ms=60s: expected ${MILLIS} (got a string)`],
    ['otlp.timeout_ms', 1.5, `invalid otlp.timeout_ms=1.5: expected ${MILLIS}`],
    [
      'otlp.temporality',
      'Delta',
      'invalid otlp.temporality=Delta: expected one of cumulative, delta, lowmemory (did you mean delta?)',
    ],
    [
      'otlp.temporality',
      'sometimes',
      'invalid otlp.temporality=sometimes: expected one of cumulative, delta, lowmemory',
    ],
    ['otlp.headers', ['a'], 'invalid otlp.headers=<redacted>: expected a table of string values'],
  ];
  for (const [key, value, message] of bad) {
    it(`rejects ${key} = ${JSON.stringify(value)}`, () => {
      const err = rejects(nest(key, value), message, key);
      // A value under a key that names a credential is never kept in the error, to be printed,
      // nor a table given as a string (its lines run together may hold one).
      assert.deepEqual(err.value, key === 'otlp.headers' || key === 'otlp' ? REDACTED : value);
    });
  }

  // Above it is refused once the layers are merged (resolve-layers.ts; test/config/resolve.test.ts).
  it('takes timeout_ms equal to interval_ms', () => {
    assert.deepEqual(parse({ otlp: { interval_ms: 10_000, timeout_ms: 10_000 } }), {
      otlp: { intervalMillis: 10_000, timeoutMillis: 10_000 },
    });
  });
});

describe('parseServiceConfig: secrets', () => {
  it('never echoes a header value, whatever is wrong with it', () => {
    const err = rejects(
      { otlp: { headers: { authorization: 12345678 } } },
      'invalid otlp.headers.authorization=<redacted>: expected a string without line breaks (got a number)',
    );
    assert.equal(err.value, '<redacted>');
    const nl = rejects(
      { otlp: { headers: { authorization: 'Bearer s3cret\r\nX-Evil: 1' } } },
      'invalid otlp.headers.authorization=<redacted>: expected a string without line breaks (got a line break)',
    );
    assert.doesNotMatch(nl.message, /s3cret/);
  });

  it('rejects a bad header name without its value', () => {
    rejects(
      { otlp: { headers: { 'x token': 's3cret' } } },
      "invalid otlp.headers.x token=<redacted>: expected an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
    );
  });

  it('masks credentials of a rejected endpoint', () => {
    rejects(
      { otlp: { endpoint: 'ftp://user:s3cret@collector/v1/metrics' } },
      'invalid otlp.endpoint=ftp://***@collector/v1/metrics: expected an absolute http:// or https:// URL',
    );
  });
});

describe('parseServiceConfig: unknown keys', () => {
  const cases: [raw: Record<string, unknown>, message: string][] = [
    [
      { serviceName: 'x' },
      'invalid serviceName=<redacted>: expected a key of the top level: profile, service_name, process_metrics, prometheus_client_names, otel_scope_info, global, cardinality_limit, attribute_value_length_limit, host_exemplars, host_instruments, resource_attributes, naming, listener, otlp, ingest, cluster, metrics, telemetry, build, views (did you mean service_name?)',
    ],
    [
      { port: 9464 },
      'invalid port=<redacted>: expected a key of the top level: profile, service_name, process_metrics, prometheus_client_names, otel_scope_info, global, cardinality_limit, attribute_value_length_limit, host_exemplars, host_instruments, resource_attributes, naming, listener, otlp, ingest, cluster, metrics, telemetry, build, views (did you mean listener.port?)',
    ],
    [
      { endpoint: 'http://c:4318/v1/metrics' },
      'invalid endpoint=<redacted>: expected a key of the top level: profile, service_name, process_metrics, prometheus_client_names, otel_scope_info, global, cardinality_limit, attribute_value_length_limit, host_exemplars, host_instruments, resource_attributes, naming, listener, otlp, ingest, cluster, metrics, telemetry, build, views (did you mean otlp.endpoint?)',
    ],
    [
      { listener: { prot: 9464 } },
      'invalid listener.prot=<redacted>: expected a key of [listener]: enabled, host, port, allow_non_loopback, format, request_timeout_ms, idle_timeout_ms, max_connections (did you mean listener.port?)',
    ],
    [
      { listener: { allowNonLoopback: true } },
      'invalid listener.allowNonLoopback=<redacted>: expected a key of [listener]: enabled, host, port, allow_non_loopback, format, request_timeout_ms, idle_timeout_ms, max_connections (did you mean listener.allow_non_loopback?)',
    ],
    [
      { otlp: { intervalMillis: 1000 } },
      'invalid otlp.intervalMillis=<redacted>: expected a key of [otlp]: endpoint, protocol, interval_ms, timeout_ms, temporality, headers, naming (did you mean otlp.interval_ms?)',
    ],
    [
      { otlp: { compression: 'gzip' } },
      'invalid otlp.compression=<redacted>: expected a key of [otlp]: endpoint, protocol, interval_ms, timeout_ms, temporality, headers, naming',
    ],
    [
      { zzz: 1 },
      'invalid zzz=<redacted>: expected a key of the top level: profile, service_name, process_metrics, prometheus_client_names, otel_scope_info, global, cardinality_limit, attribute_value_length_limit, host_exemplars, host_instruments, resource_attributes, naming, listener, otlp, ingest, cluster, metrics, telemetry, build, views',
    ],
  ];
  for (const [raw, message] of cases) {
    it(`rejects ${JSON.stringify(raw)}`, () => {
      rejects(raw, message);
    });
  }

  it('does not check keys of the free-form string tables', () => {
    assert.deepEqual(
      parse({ resource_attributes: { anything: 'x' }, otlp: { headers: { 'x-anything': 'y' } } }),
      {
        resourceAttributes: { anything: 'x' },
        otlp: { headers: { 'x-anything': 'y' } },
      },
    );
  });
});

describe('parseServiceConfig: document shape', () => {
  it('treats an empty document (empty YAML file) as an empty config', () => {
    assert.deepEqual(parse(null), {});
    assert.deepEqual(parse({}), {});
  });

  it('rejects a top level that is not a table, naming the source', () => {
    assert.throws(() => parseServiceConfig([1, 2], 'conf.json'), {
      name: 'ConfigError',
      message: 'invalid conf.json=[1,2]: expected a table of settings at the top level',
    });
  });

  it('treats a YAML table whose children are all commented out (null) as empty', () => {
    assert.deepEqual(parse(parseConfigText('listener:\n  # port: 1\notlp:\n', 'yaml', 'c.yaml')), {
      listener: {},
      otlp: {},
    });
  });

  it('rejects a TOML date where a string is expected', () => {
    const raw = parseConfigText('service_name = 1979-05-27\n', 'toml', 'c.toml');
    rejects(raw, 'invalid service_name="1979-05-27": expected a non-empty string');
  });
});

const FULL_TOML = `
profile = "rm"
service_name = "scheduler"
process_metrics = false
otel_scope_info = false

[resource_attributes]
"deployment.environment" = "prod"

[listener]
enabled = true
host = "::1"
port = 9100
allow_non_loopback = false
format = "text"

[otlp]
endpoint = "http://127.0.0.1:4318/v1/metrics"
protocol = "http/json"
interval_ms = 15000
timeout_ms = 5000
temporality = "delta"

[otlp.headers]
Authorization = "Bearer t"
`;

const FULL_YAML = `
profile: rm
service_name: scheduler
process_metrics: false
otel_scope_info: false
resource_attributes:
  deployment.environment: prod
listener:
  enabled: true
  host: "::1"
  port: 9100
  allow_non_loopback: false
  format: text
otlp:
  endpoint: http://127.0.0.1:4318/v1/metrics
  protocol: http/json
  interval_ms: 15000
  timeout_ms: 5000
  temporality: delta
  headers:
    Authorization: Bearer t
`;

const FULL_CONFIG: ServiceConfig = {
  profile: 'rm',
  serviceName: 'scheduler',
  processMetrics: false,
  otelScopeInfo: false,
  resourceAttributes: { 'deployment.environment': 'prod' },
  listener: { enabled: true, host: '::1', port: 9100, allowNonLoopback: false, format: 'text' },
  otlp: {
    endpoint: 'http://127.0.0.1:4318/v1/metrics',
    protocol: 'http/json',
    intervalMillis: 15000,
    timeoutMillis: 5000,
    temporality: 'delta',
    headers: { Authorization: 'Bearer t' },
  },
};

describe('nested tables, end to end', () => {
  it('parses every key from TOML', () => {
    assert.deepEqual(parse(parseConfigText(FULL_TOML, 'toml', 'c.toml')), FULL_CONFIG);
  });

  it('parses every key from YAML', () => {
    assert.deepEqual(parse(parseConfigText(FULL_YAML, 'yaml', 'c.yaml')), FULL_CONFIG);
  });

  it('reports a bad key deep in a TOML table by its dotted name', () => {
    const raw = parseConfigText(
      '[otlp.headers]\nok = "1"\n\n[otlp]\ninterval_ms = -5\n',
      'toml',
      'c.toml',
    );
    rejects(raw, `invalid otlp.interval_ms=-5: expected ${MILLIS}`, 'otlp.interval_ms');
  });
});

describe('toJobmeterOptions', () => {
  it('maps every field', () => {
    assert.deepEqual(toJobmeterOptions(FULL_CONFIG), {
      profile: 'rm',
      serviceName: 'scheduler',
      processMetrics: false,
      otelScopeInfo: false,
      resourceAttributes: { 'deployment.environment': 'prod' },
      listener: { host: '::1', port: 9100, allowNonLoopback: false, format: 'text' },
      otlp: {
        endpoint: 'http://127.0.0.1:4318/v1/metrics',
        protocol: 'http/json',
        intervalMillis: 15000,
        timeoutMillis: 5000,
        temporality: 'delta',
        headers: { Authorization: 'Bearer t' },
      },
    });
  });

  it('maps listener.enabled = false to listener: false', () => {
    assert.deepEqual(toJobmeterOptions({ listener: { enabled: false, port: 1 } }), {
      listener: false,
    });
  });

  it('leaves unset fields unset', () => {
    assert.deepEqual(toJobmeterOptions({}), {});
    assert.deepEqual(toJobmeterOptions({ listener: {} }), { listener: {} });
  });

  it('copies the string maps', () => {
    const cfg: ServiceConfig = { resourceAttributes: { a: '1' }, otlp: { headers: { b: '2' } } };
    const options = toJobmeterOptions(cfg);
    assert.notEqual(options.resourceAttributes, cfg.resourceAttributes);
    assert.notEqual(options.otlp?.headers, cfg.otlp?.headers);
  });
});
