import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import {
  DEFAULT_OTLP_METRICS_ENDPOINT,
  otlpExporterFromEnv,
  otlpOptionsFromEnv,
  resourceFromEnv,
  temporalityFromEnv,
} from '../../src/config/otel-env.ts';

const BASE = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

/** Asserts `fn` throws a ConfigError with exactly `message`, and returns it. */
function throwsConfig(fn: () => unknown, message: string): ConfigError {
  let caught: unknown;
  assert.throws(fn, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.message, message);
  return caught;
}

describe('ConfigError', () => {
  it('carries key, value and expected, and says them in its message', () => {
    const err = new ConfigError('listener.port', '9x', 'a port number');
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'ConfigError');
    assert.equal(err.message, 'invalid listener.port=9x: expected a port number');
    assert.deepEqual([err.key, err.value, err.expected], ['listener.port', '9x', 'a port number']);
  });

  it('prints non-string values as JSON so "9464" and 9464 differ', () => {
    assert.equal(new ConfigError('port', 9464, 'x').message, 'invalid port=9464: expected x');
    assert.equal(new ConfigError('port', '9464', 'x').message, 'invalid port=9464: expected x');
    assert.equal(new ConfigError('port', ['a'], 'x').message, 'invalid port=["a"]: expected x');
    assert.equal(
      new ConfigError('port', undefined, 'x').message,
      'invalid port=undefined: expected x',
    );
  });
});

describe('otlpOptionsFromEnv: endpoint', () => {
  it('gives no push when nothing is set', () => {
    assert.equal(otlpOptionsFromEnv({}), undefined);
  });

  it('appends v1/metrics to OTEL_EXPORTER_OTLP_ENDPOINT with one slash between', () => {
    const cases: Array<[string, string]> = [
      ['http://collector:4318', 'http://collector:4318/v1/metrics'],
      ['http://collector:4318/', 'http://collector:4318/v1/metrics'],
      ['https://collector.example/otlp', 'https://collector.example/otlp/v1/metrics'],
      ['https://collector.example/otlp/', 'https://collector.example/otlp/v1/metrics'],
      ['http://collector:4318/otlp?tenant=a', 'http://collector:4318/otlp/v1/metrics?tenant=a'],
      ['  http://collector:4318  ', 'http://collector:4318/v1/metrics'],
    ];
    for (const [base, expected] of cases) {
      assert.deepEqual(
        otlpOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: base }),
        { endpoint: expected },
        base,
      );
    }
  });

  it('uses OTEL_EXPORTER_OTLP_METRICS_ENDPOINT as-is, over the base endpoint', () => {
    for (const url of [
      'http://metrics:9999',
      'http://metrics:9999/',
      'http://metrics:9999/custom/path',
    ]) {
      assert.deepEqual(otlpOptionsFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: url }), {
        endpoint: url,
      });
    }
  });

  it('treats an empty variable as unset', () => {
    assert.deepEqual(otlpOptionsFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: '' }), {
      endpoint: 'http://collector:4318/v1/metrics',
    });
    assert.equal(otlpOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: '   ' }), undefined);
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable', () => {
    throwsConfig(
      () => otlpOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }),
      'invalid OTEL_EXPORTER_OTLP_ENDPOINT=not a url: expected an absolute http:// or https:// URL',
    );
    throwsConfig(
      () => otlpOptionsFromEnv({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4317' }),
      'invalid OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=collector:4317: expected an absolute http:// or https:// URL',
    );
  });

  it('masks credentials of a refused endpoint', () => {
    const err = throwsConfig(
      () => otlpOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://user:s3cr3t@collector:4318' }),
      'invalid OTEL_EXPORTER_OTLP_ENDPOINT=ftp://***@collector:4318: expected an absolute http:// or https:// URL',
    );
    assert.equal(err.cause, undefined);
    throwsConfig(
      () => otlpOptionsFromEnv({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://user:s3cr3t@[bad' }),
      'invalid OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://***@[bad: expected an absolute http:// or https:// URL',
    );
  });
});

describe('otlpOptionsFromEnv: OTEL_METRICS_EXPORTER', () => {
  it('pushes by default only when an endpoint is set', () => {
    assert.equal(otlpOptionsFromEnv({}), undefined);
    assert.ok(otlpOptionsFromEnv(BASE));
  });

  it('otlp without an endpoint pushes to the specification default', () => {
    assert.deepEqual(otlpOptionsFromEnv({ OTEL_METRICS_EXPORTER: 'otlp' }), {
      endpoint: DEFAULT_OTLP_METRICS_ENDPOINT,
    });
    assert.equal(DEFAULT_OTLP_METRICS_ENDPOINT, 'http://localhost:4318/v1/metrics');
  });

  it('none and prometheus turn push off even with an endpoint', () => {
    assert.equal(otlpOptionsFromEnv({ ...BASE, OTEL_METRICS_EXPORTER: 'none' }), undefined);
    assert.equal(otlpOptionsFromEnv({ ...BASE, OTEL_METRICS_EXPORTER: 'prometheus' }), undefined);
  });

  it('takes a comma list, case- and space-insensitively', () => {
    assert.ok(otlpOptionsFromEnv({ ...BASE, OTEL_METRICS_EXPORTER: 'prometheus, OTLP' }));
    assert.equal(otlpExporterFromEnv({ OTEL_METRICS_EXPORTER: ' Prometheus ,otlp,' }), true);
    assert.equal(otlpExporterFromEnv({ OTEL_METRICS_EXPORTER: 'prometheus' }), false);
    assert.equal(otlpExporterFromEnv({ OTEL_METRICS_EXPORTER: 'none' }), false);
    assert.equal(otlpExporterFromEnv({ OTEL_METRICS_EXPORTER: '' }), undefined);
    assert.equal(otlpExporterFromEnv({}), undefined);
  });

  it('refuses other exporters, and none mixed with others, even without an endpoint', () => {
    const expected = 'expected "none", or a comma-separated list of "otlp" and "prometheus"';
    throwsConfig(
      () => otlpOptionsFromEnv({ OTEL_METRICS_EXPORTER: 'console' }),
      `invalid OTEL_METRICS_EXPORTER=console: ${expected}`,
    );
    throwsConfig(
      () => otlpOptionsFromEnv({ ...BASE, OTEL_METRICS_EXPORTER: 'otlp,zipkin' }),
      `invalid OTEL_METRICS_EXPORTER=otlp,zipkin: ${expected}`,
    );
    throwsConfig(
      () => otlpOptionsFromEnv({ OTEL_METRICS_EXPORTER: 'none,otlp' }),
      `invalid OTEL_METRICS_EXPORTER=none,otlp: ${expected}`,
    );
  });

  it('does not read the other OTLP variables when push is off', () => {
    assert.equal(
      otlpOptionsFromEnv({
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc-collector:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_METRIC_EXPORT_INTERVAL: 'soon',
      }),
      undefined,
    );
  });
});

describe('otlpOptionsFromEnv: headers', () => {
  it('parses k=v pairs, trimming spaces and percent-decoding values', () => {
    const options = otlpOptionsFromEnv({
      ...BASE,
      OTEL_EXPORTER_OTLP_HEADERS:
        ' authorization = Bearer%20abc%3D%3D ,x-tenant=a%2Cb,, x-b64=YWJj==',
    });
    assert.deepEqual(options?.headers, {
      authorization: 'Bearer abc==',
      'x-tenant': 'a,b',
      'x-b64': 'YWJj==',
    });
  });

  it('merges the metrics-specific variable over the generic one, names case-insensitively', () => {
    const options = otlpOptionsFromEnv({
      ...BASE,
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=generic,x-generic=1',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'authorization=specific,X-Metrics=2',
    });
    assert.deepEqual(options?.headers, {
      authorization: 'specific',
      'x-generic': '1',
      'x-metrics': '2',
    });
  });

  it('reads the metrics-specific variable alone', () => {
    assert.deepEqual(
      otlpOptionsFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'a=1' })?.headers,
      { a: '1' },
    );
  });

  it('leaves headers out when neither variable is set', () => {
    assert.equal('headers' in otlpOptionsFromEnv(BASE)!, false);
  });

  it('refuses a malformed list without ever showing the secret', () => {
    const err = throwsConfig(
      () =>
        otlpOptionsFromEnv({
          ...BASE,
          OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer s3cr3t,oops',
        }),
      'invalid OTEL_EXPORTER_OTLP_HEADERS=<redacted>: expected comma-separated key=value pairs (entry 2 is not key=value)',
    );
    assert.equal(err.value, '<redacted>');
    const bad = throwsConfig(
      () =>
        otlpOptionsFromEnv({
          ...BASE,
          OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'authorization=s3cr3t%zz',
        }),
      'invalid OTEL_EXPORTER_OTLP_METRICS_HEADERS=<redacted>: expected percent-encoded values (the value of "authorization" has a bad %-escape)',
    );
    assert.equal(bad.cause, undefined);
    throwsConfig(
      () => otlpOptionsFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_HEADERS: '=s3cr3t' }),
      'invalid OTEL_EXPORTER_OTLP_HEADERS=<redacted>: expected comma-separated key=value pairs (entry 1 is not key=value)',
    );
  });
});

describe('otlpOptionsFromEnv: protocol', () => {
  it('leaves the protocol to the default (http/protobuf) when unset', () => {
    assert.equal('protocol' in otlpOptionsFromEnv(BASE)!, false);
  });

  it('reads the generic and the metrics-specific variable, the latter winning', () => {
    assert.equal(
      otlpOptionsFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })?.protocol,
      'http/json',
    );
    assert.equal(
      otlpOptionsFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: 'HTTP/Protobuf' })?.protocol,
      'http/protobuf',
    );
    assert.equal(
      otlpOptionsFromEnv({
        ...BASE,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
      })?.protocol,
      'http/protobuf',
    );
  });

  it('lets a metrics-specific http protocol override a generic grpc', () => {
    assert.equal(
      otlpOptionsFromEnv({
        ...BASE,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      })?.protocol,
      'http/json',
    );
  });

  it('refuses grpc with a message naming the variable that said it', () => {
    throwsConfig(
      () => otlpOptionsFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
      'invalid OTEL_EXPORTER_OTLP_PROTOCOL=grpc: expected one of http/protobuf, http/json: OTLP over gRPC is not supported ' +
        'by jobmeter (set OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/protobuf to keep grpc for other signals)',
    );
    throwsConfig(
      () => otlpOptionsFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' }),
      'invalid OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=grpc: expected one of http/protobuf, http/json: OTLP over gRPC is not supported by jobmeter',
    );
  });

  it('refuses unknown protocols', () => {
    throwsConfig(
      () => otlpOptionsFromEnv({ ...BASE, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/xml' }),
      'invalid OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/xml: expected one of http/protobuf, http/json',
    );
  });
});

describe('otlpOptionsFromEnv: interval and timeouts', () => {
  it('reads OTEL_METRIC_EXPORT_INTERVAL in milliseconds', () => {
    assert.equal(
      otlpOptionsFromEnv({ ...BASE, OTEL_METRIC_EXPORT_INTERVAL: '15000' })?.intervalMillis,
      15_000,
    );
    assert.equal('intervalMillis' in otlpOptionsFromEnv(BASE)!, false);
  });

  it('reads each timeout variable, the metrics-specific OTLP one over the generic', () => {
    const timeout = (env: NodeJS.ProcessEnv) =>
      otlpOptionsFromEnv({ ...BASE, ...env })?.timeoutMillis;
    assert.equal(timeout({}), undefined);
    assert.equal(timeout({ OTEL_METRIC_EXPORT_TIMEOUT: '20000' }), 20_000);
    assert.equal(timeout({ OTEL_EXPORTER_OTLP_TIMEOUT: '7000' }), 7_000);
    assert.equal(
      timeout({ OTEL_EXPORTER_OTLP_TIMEOUT: '7000', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '9000' }),
      9_000,
    );
  });

  it('takes the smaller of the export and the request timeout, since both bound one export', () => {
    const timeout = (env: NodeJS.ProcessEnv) =>
      otlpOptionsFromEnv({ ...BASE, ...env })?.timeoutMillis;
    assert.equal(
      timeout({ OTEL_METRIC_EXPORT_TIMEOUT: '30000', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '10000' }),
      10_000,
    );
    assert.equal(
      timeout({ OTEL_METRIC_EXPORT_TIMEOUT: '5000', OTEL_EXPORTER_OTLP_TIMEOUT: '10000' }),
      5_000,
    );
  });

  it('refuses anything but a positive integer of milliseconds', () => {
    const expected = 'expected an integer from 1 to 2147483647 (milliseconds)';
    for (const [key, raw] of [
      ['OTEL_METRIC_EXPORT_INTERVAL', '10s'],
      ['OTEL_METRIC_EXPORT_INTERVAL', '0'],
      ['OTEL_METRIC_EXPORT_TIMEOUT', '-5'],
      ['OTEL_EXPORTER_OTLP_TIMEOUT', '1.5'],
      ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', '1e3'],
      ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', '99999999999999999999'],
    ] as const) {
      throwsConfig(
        () => otlpOptionsFromEnv({ ...BASE, [key]: raw }),
        `invalid ${key}=${raw}: ${expected}`,
      );
    }
    // Past a Node timer's longest wait the export would fire every millisecond.
    throwsConfig(
      () => otlpOptionsFromEnv({ ...BASE, OTEL_METRIC_EXPORT_INTERVAL: '2147483648' }),
      'invalid OTEL_METRIC_EXPORT_INTERVAL=2147483648: expected an integer from 1 to 2147483647 (milliseconds)',
    );
  });
});

describe('otlpOptionsFromEnv: temporality preference', () => {
  it('takes cumulative, delta and lowmemory, case-insensitively', () => {
    const key = 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE';
    assert.equal(otlpOptionsFromEnv({ ...BASE, [key]: 'cumulative' })?.temporality, 'cumulative');
    assert.equal(otlpOptionsFromEnv({ ...BASE, [key]: 'Delta' })?.temporality, 'delta');
    assert.equal(otlpOptionsFromEnv({ ...BASE, [key]: 'LowMemory' })?.temporality, 'lowmemory');
    assert.equal(temporalityFromEnv({}), undefined);
    assert.equal('temporality' in otlpOptionsFromEnv(BASE)!, false);
  });

  it('refuses other values', () => {
    throwsConfig(
      () =>
        otlpOptionsFromEnv({
          ...BASE,
          OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes',
        }),
      'invalid OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=sometimes: expected cumulative, delta or lowmemory',
    );
  });
});

describe('otlpOptionsFromEnv: everything at once', () => {
  it('returns every option the environment sets', () => {
    assert.deepEqual(
      otlpOptionsFromEnv({
        OTEL_METRICS_EXPORTER: 'otlp,prometheus',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example:4318/base/',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-a=1',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
        OTEL_METRIC_EXPORT_INTERVAL: '10000',
        OTEL_METRIC_EXPORT_TIMEOUT: '8000',
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
      }),
      {
        endpoint: 'https://otlp.example:4318/base/v1/metrics',
        headers: { 'x-a': '1' },
        protocol: 'http/json',
        intervalMillis: 10_000,
        timeoutMillis: 8_000,
        temporality: 'delta',
      },
    );
  });
});

describe('resourceFromEnv', () => {
  it('gives no service name and no attributes when nothing is set', () => {
    assert.deepEqual(resourceFromEnv({}), { resourceAttributes: {} });
  });

  it('reads OTEL_SERVICE_NAME', () => {
    assert.deepEqual(resourceFromEnv({ OTEL_SERVICE_NAME: ' billing-worker ' }), {
      serviceName: 'billing-worker',
      resourceAttributes: {},
    });
  });

  it('parses OTEL_RESOURCE_ATTRIBUTES, trimming and percent-decoding values only', () => {
    assert.deepEqual(
      resourceFromEnv({
        OTEL_RESOURCE_ATTRIBUTES:
          ' deployment.environment = prod , team=a%2Cb%3Dc,note=caf%C3%A9%20bar,empty=,k%20=v',
      }),
      {
        resourceAttributes: {
          'deployment.environment': 'prod',
          team: 'a,b=c',
          note: 'café bar',
          empty: '',
          'k%20': 'v',
        },
      },
    );
  });

  it('lifts service.name out of the attributes, OTEL_SERVICE_NAME winning', () => {
    assert.deepEqual(resourceFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,a=1' }), {
      serviceName: 'from-attrs',
      resourceAttributes: { a: '1' },
    });
    assert.deepEqual(
      resourceFromEnv({
        OTEL_SERVICE_NAME: 'from-var',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,a=1',
      }),
      { serviceName: 'from-var', resourceAttributes: { a: '1' } },
    );
    assert.deepEqual(
      resourceFromEnv({ OTEL_SERVICE_NAME: '', OTEL_RESOURCE_ATTRIBUTES: 'service.name=' }),
      {
        resourceAttributes: {},
      },
    );
  });

  it('refuses a malformed list, showing it (attributes are not secret)', () => {
    throwsConfig(
      () => resourceFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'a=1,novalue' }),
      'invalid OTEL_RESOURCE_ATTRIBUTES=a=1,novalue: expected comma-separated key=value pairs (entry 2 is not key=value)',
    );
    throwsConfig(
      () => resourceFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'a=%E0%A4%A' }),
      'invalid OTEL_RESOURCE_ATTRIBUTES=a=%E0%A4%A: expected percent-encoded values (the value of "a" has a bad %-escape)',
    );
  });
});
