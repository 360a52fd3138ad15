// A bad programmatic option is a ConfigError naming the option, the value and what was expected
// (errors.ts: the one error type for bad options), whichever part of jobmeter it reaches.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConfigError } from '../src/errors.ts';
import { createJobmeter } from '../src/jobmeter.ts';
import type { JobmeterOptions } from '../src/options.ts';
import { resolveOptions } from '../src/resolve-options.ts';

const CASES: readonly [string, unknown, string][] = [
  [
    'listener.port',
    { listener: { port: -1 } },
    'invalid listener.port=-1: expected an integer from 0 to 65535',
  ],
  [
    'listener.port',
    { listener: { port: '9464' } },
    'invalid listener.port=9464: expected an integer from 0 to 65535',
  ],
  [
    'listener.format',
    { listener: { port: 0, format: 'json' } },
    'invalid listener.format=json: expected one of negotiate, text, openmetrics',
  ],
  [
    'listener.requestTimeoutMillis',
    { listener: { port: 0, requestTimeoutMillis: 0 } },
    'invalid listener.requestTimeoutMillis=0: expected an integer from 1 to 2147483647 (milliseconds)',
  ],
  [
    'ingest.idleTimeoutMillis',
    { listener: false, ingest: { port: 0, idleTimeoutMillis: 3_000_000_000 } },
    'invalid ingest.idleTimeoutMillis=3000000000: expected an integer from 1 to 2147483647 (milliseconds)',
  ],
  [
    'ingest.port',
    { listener: false, ingest: { port: 70000 } },
    'invalid ingest.port=70000: expected an integer from 0 to 65535',
  ],
  [
    'ingest.expiryMillis',
    { listener: false, ingest: { port: 0, expiryMillis: 0 } },
    'invalid ingest.expiryMillis=0: expected an integer from 1 to 2147483647 (milliseconds)',
  ],
  [
    'ingest.maxSeries',
    { listener: false, ingest: { port: 0, maxSeries: 1.5 } },
    'invalid ingest.maxSeries=1.5: expected a positive integer',
  ],
  [
    'ingest.stateDir',
    { listener: false, ingest: { port: 0, stateDir: true } },
    'invalid ingest.stateDir=true: expected a directory path, or false to keep no state file',
  ],
  [
    'otlp.naming',
    { listener: false, otlp: { endpoint: 'http://127.0.0.1:4318', naming: 'native' } },
    'invalid otlp.naming=native: expected one of canonical, profile',
  ],
  [
    'otlp.timeoutMillis',
    {
      listener: false,
      otlp: { endpoint: 'http://127.0.0.1:4318', intervalMillis: 1000, timeoutMillis: 2000 },
    },
    'invalid otlp.timeoutMillis=2000: expected at most otlp.intervalMillis (1000)',
  ],
  [
    'otlp.intervalMillis',
    { listener: false, otlp: { endpoint: 'http://127.0.0.1:4318', intervalMillis: 3e9 } },
    'invalid otlp.intervalMillis=3000000000: expected an integer from 1 to 2147483647 (milliseconds)',
  ],
  [
    'otlp.intervalMillis',
    { listener: false, otlp: { endpoint: 'http://127.0.0.1:4318', intervalMillis: 0 } },
    'invalid otlp.intervalMillis=0: expected an integer from 1 to 2147483647 (milliseconds)',
  ],
  [
    'otlp.timeoutMillis',
    {
      listener: false,
      otlp: { endpoint: 'http://127.0.0.1:4318', intervalMillis: 1_000, timeoutMillis: 30_000 },
    },
    'invalid otlp.timeoutMillis=30000: expected at most otlp.intervalMillis (1000)',
  ],
  [
    'otlp.timeoutMillis',
    { listener: false, otlp: { endpoint: 'http://127.0.0.1:4318', timeoutMillis: -1 } },
    'invalid otlp.timeoutMillis=-1: expected an integer from 1 to 2147483647 (milliseconds)',
  ],
  [
    'otlp.endpoint',
    { listener: false, otlp: { endpoint: 'collector:4318' } },
    'invalid otlp.endpoint=collector:4318: expected an absolute http:// or https:// URL',
  ],
  [
    'otlp.endpoint',
    { listener: false, otlp: { endpoint: 'ftp://collector/v1/metrics' } },
    'invalid otlp.endpoint=ftp://collector/v1/metrics: expected an absolute http:// or https:// URL',
  ],
  [
    'otlp.endpoint',
    { listener: false, otlp: { endpoint: 'ftp://user:s3cr3t@collector' } },
    'invalid otlp.endpoint=ftp://***@collector: expected an absolute http:// or https:// URL',
  ],
  [
    'otlp.protocol',
    { listener: false, otlp: { endpoint: 'http://127.0.0.1:4318', protocol: 'grpc' } },
    'invalid otlp.protocol=grpc: expected one of http/protobuf, http/json',
  ],
  [
    'otlp.temporality',
    { listener: false, otlp: { endpoint: 'http://127.0.0.1:4318', temporality: 'low_memory' } },
    'invalid otlp.temporality=low_memory: expected one of cumulative, delta, lowmemory',
  ],
  [
    'cluster.timeoutMillis',
    { listener: false, cluster: { timeoutMillis: 0 } },
    'invalid cluster.timeoutMillis=0: expected an integer from 1 to 2147483647 (milliseconds)',
  ],
  [
    'instruments',
    { listener: false, instruments: 5 },
    'invalid instruments=5: expected a list of instrument specs',
  ],
  [
    'instruments[0].kind',
    {
      listener: false,
      instruments: [
        { name: 'app.jobs', kind: 'meter', unit: '1', description: '', attributes: [] },
      ],
    },
    'invalid instruments[0].kind=meter: expected one of counter, upDownCounter, histogram, gauge, observableCounter, observableGauge, observableUpDownCounter',
  ],
  [
    'instruments[0].unit',
    {
      listener: false,
      instruments: [{ name: 'app.jobs', kind: 'counter', description: 'Jobs done.' }],
    },
    "invalid instruments[0].unit=undefined: expected a UCUM unit string ('s', '{job}', '1')",
  ],
  [
    'instruments[0].description',
    {
      listener: false,
      instruments: [{ name: 'app.jobs', kind: 'counter', unit: '{job}' }],
    },
    'invalid instruments[0].description=undefined: expected a description string',
  ],
  [
    'instruments[0].attributes[0]',
    {
      listener: false,
      instruments: [
        {
          name: 'app.jobs',
          kind: 'counter',
          unit: '1',
          description: '',
          attributes: [{ key: 'queue' }],
        },
      ],
    },
    'invalid instruments[0].attributes[0]={"key":"queue"}: expected values (a closed vocabulary) or cap (how many values an open one keeps)',
  ],
  [
    'instruments[0].attributes[0].cap',
    {
      listener: false,
      instruments: [
        {
          name: 'app.jobs',
          kind: 'counter',
          unit: '1',
          description: '',
          attributes: [{ key: 'queue', cap: 0 }],
        },
      ],
    },
    'invalid instruments[0].attributes[0].cap=0: expected a positive integer',
  ],
  [
    'instruments[0].attributes[0].outside',
    {
      listener: false,
      instruments: [
        {
          name: 'app.jobs',
          kind: 'counter',
          unit: '1',
          description: '',
          attributes: [{ key: 'queue', values: ['a'], outside: 'Drop' }],
        },
      ],
    },
    'invalid instruments[0].attributes[0].outside=Drop: expected one of other, drop',
  ],
  [
    'instruments[0].attributes[0].outside',
    {
      listener: false,
      instruments: [
        {
          name: 'app.jobs',
          kind: 'counter',
          unit: '1',
          description: '',
          attributes: [{ key: 'queue', values: ['a'], outside: 'drop' }],
        },
      ],
    },
    "invalid instruments[0].attributes[0].outside=drop: expected other on a counter (drop leaves out an observation: an observable instrument's)",
  ],
  [
    'instruments[0].exemplars',
    {
      listener: false,
      instruments: [
        { name: 'app.jobs', kind: 'counter', unit: '1', description: '', exemplars: 'yes' },
      ],
    },
    'invalid instruments[0].exemplars=yes: expected true or false',
  ],
  [
    'views',
    { listener: false, views: {} },
    'invalid views={}: expected a list of OpenTelemetry ViewOptions',
  ],
  [
    'readers',
    { listener: false, readers: 'prometheus' },
    'invalid readers=prometheus: expected a list of OpenTelemetry MetricReaders',
  ],
  [
    'readers[0]',
    { listener: false, readers: [{}] },
    'invalid readers[0]={}: expected an OpenTelemetry MetricReader (with setMetricProducer, selectAggregation, selectAggregationTemporality, selectCardinalityLimit, collect, shutdown, forceFlush)',
  ],
  [
    'serviceName',
    { listener: false, serviceName: ' ' },
    'invalid serviceName= : expected a non-empty string',
  ],
  [
    'resourceAttributes.team',
    { listener: false, resourceAttributes: { team: 7 } },
    'invalid resourceAttributes.team=7: expected a string',
  ],
  [
    'otlp.headers.authorization',
    {
      listener: false,
      otlp: { endpoint: 'http://127.0.0.1:4318', headers: { authorization: ['Bearer s3cr3t'] } },
    },
    'invalid otlp.headers.authorization=<redacted>: expected a string without line breaks (got an array)',
  ],
  // The tables of the host's names have the config file's rule from code too (code took these).
  [
    'otlp.headers.authorization',
    {
      listener: false,
      otlp: {
        endpoint: 'http://127.0.0.1:4318',
        headers: { authorization: 'Bearer s3cr3t\r\nX: 1' },
      },
    },
    'invalid otlp.headers.authorization=<redacted>: expected a string without line breaks (got a line break)',
  ],
  [
    'otlp.headers.x token',
    {
      listener: false,
      otlp: { endpoint: 'http://127.0.0.1:4318', headers: { 'x token': 's3cr3t' } },
    },
    "invalid otlp.headers.x token=<redacted>: expected an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
  ],
  [
    'resourceAttributes.""',
    { listener: false, resourceAttributes: { ' ': 'x' } },
    'invalid resourceAttributes.""=x: expected a non-empty attribute name other than __proto__',
  ],
  [
    'processMetrics',
    { listener: false, processMetrics: 'yes' },
    'invalid processMetrics=yes: expected true or false',
  ],
  [
    'listener.allowNonLoopback',
    { listener: { port: 0, allowNonLoopback: 'true' } },
    'invalid listener.allowNonLoopback=true: expected true or false',
  ],
  [
    'log',
    { listener: false, log: { info() {} } },
    'invalid log=an object: expected a function taking a line, or a logger with debug, info, warn and error methods',
  ],
  [
    'hostInstruments',
    { listener: false, hostInstruments: 'keep' },
    'invalid hostInstruments=keep: expected one of native, drop',
  ],
  [
    'cardinalityLimit',
    { listener: false, cardinalityLimit: 0 },
    'invalid cardinalityLimit=0: expected an integer from 1 to 1000000 (series per instrument, overflow included)',
  ],
  // The upper bounds are the config file's (common/option-rules.ts): the same value is refused
  // with the same words whether it came from a file or from code.
  [
    'cardinalityLimit',
    { listener: false, cardinalityLimit: 2_000_000 },
    'invalid cardinalityLimit=2000000: expected an integer from 1 to 1000000 (series per instrument, overflow included)',
  ],
  [
    'ingest.maxMemoryBytes',
    { listener: false, ingest: { port: 0, maxMemoryBytes: 2 ** 37 } },
    'invalid ingest.maxMemoryBytes=137438953472: expected an integer from 1 to 68719476736 (bytes)',
  ],
  [
    'ingest.maxBodyBytes',
    { listener: false, ingest: { port: 0, maxBodyBytes: 0 } },
    'invalid ingest.maxBodyBytes=0: expected an integer from 1 to 1073741824 (bytes)',
  ],
  [
    'ingest.maxBodyBytes',
    { listener: false, ingest: { port: 0, maxBodyBytes: 2 ** 31 } },
    'invalid ingest.maxBodyBytes=2147483648: expected an integer from 1 to 1073741824 (bytes)',
  ],
  [
    'ingest.maxConcurrentRequests',
    { listener: false, ingest: { port: 0, maxConcurrentRequests: 20_000 } },
    'invalid ingest.maxConcurrentRequests=20000: expected an integer from 1 to 10000',
  ],
  [
    'listener.maxConnections',
    { listener: { port: 0, maxConnections: 2_000_000 } },
    'invalid listener.maxConnections=2000000: expected an integer from 1 to 1000000',
  ],
  [
    'cluster.merge.app.depth',
    { listener: false, cluster: { merge: { 'app.depth': 'avg' } } },
    'invalid cluster.merge.app.depth=avg: expected one of sum, max',
  ],
];

for (const [key, options, message] of CASES) {
  test(`${key}: ${message}`, async () => {
    await assert.rejects(
      createJobmeter({ global: false, processMetrics: false, ...(options as JobmeterOptions) }),
      (err: unknown) => err instanceof ConfigError && err.key === key && err.message === message,
    );
  });
}

test('snapshot: a timeout or TTL that is not a duration is a ConfigError when the source is set', async () => {
  const jm = await createJobmeter({
    global: false,
    processMetrics: false,
    listener: false,
    snapshot: { timeoutMillis: 0 },
  });
  try {
    assert.throws(
      () => jm.setSnapshotSource(() => ({})),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          'invalid snapshot.timeoutMillis=0: expected an integer from 1 to 2147483647 (milliseconds)',
    );
    assert.throws(
      () => jm.setSnapshotSource(() => ({}), { ttlMillis: -1, timeoutMillis: 100 }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          'invalid snapshot.ttlMillis=-1: expected 0 or an integer from 1 to 2147483647 (milliseconds)',
    );
  } finally {
    await jm.shutdown();
  }
});

// A Node timer truncates a fraction of a millisecond: a duration from code is held to the file's
// integer rule, so it is refused rather than silently run as another wait.
const FRACTIONAL_DURATIONS: readonly [string, JobmeterOptions][] = [
  ['ingest.expiryMillis', { listener: false, ingest: { port: 0, expiryMillis: 1.5 } }],
  ['cluster.timeoutMillis', { listener: false, cluster: { timeoutMillis: 1.5 } }],
  [
    'otlp.intervalMillis',
    { listener: false, otlp: { endpoint: 'http://127.0.0.1:4318', intervalMillis: 1.5 } },
  ],
  [
    'otlp.timeoutMillis',
    { listener: false, otlp: { endpoint: 'http://127.0.0.1:4318', timeoutMillis: 1.5 } },
  ],
];

for (const [key, options] of FRACTIONAL_DURATIONS) {
  test(`${key}: a fraction of a millisecond is refused as the config file refuses it`, async () => {
    const made = await createJobmeter({ global: false, processMetrics: false, ...options }).catch(
      (err: unknown) => err,
    );
    // Accepted: shut it down so the failure is reported, not a process held open by its timers.
    if (!(made instanceof ConfigError)) {
      if (made instanceof Error) throw made;
      await (made as Awaited<ReturnType<typeof createJobmeter>>).shutdown();
      assert.fail(`${key}=1.5 was accepted`);
    }
    assert.equal(made.key, key);
    assert.equal(
      made.message,
      `invalid ${key}=1.5: expected an integer from 1 to 2147483647 (milliseconds)`,
    );
  });
}

test('snapshot.timeoutMillis: a fraction of a millisecond is refused when the source is set', async () => {
  const jm = await createJobmeter({ global: false, processMetrics: false, listener: false });
  try {
    assert.throws(
      () => jm.setSnapshotSource(() => ({}), { timeoutMillis: 1.5 }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          'invalid snapshot.timeoutMillis=1.5: expected an integer from 1 to 2147483647 (milliseconds)',
    );
  } finally {
    await jm.shutdown();
  }
});

// Judged once, where the options are resolved: the listeners bind the host and apply the gate
// they are given, so resolving alone (nothing bound) refuses these.
const AT_RESOLUTION: readonly [string, JobmeterOptions, string][] = [
  // A host is held to the config file's rule from code too (it failed at bind, with the OS's words).
  [
    'listener.host',
    { listener: { host: 'not a host', port: 0, allowNonLoopback: true } },
    'invalid listener.host=not a host: expected an IP address or host name (IPv6 without brackets)',
  ],
  [
    'ingest.host',
    { listener: false, ingest: { host: '[::1]', port: 0 } },
    'invalid ingest.host=[::1]: expected an IP address or host name (IPv6 without brackets)',
  ],
  [
    'listener.host',
    { listener: { host: '0.0.0.0', port: 0 } },
    'invalid listener.host=0.0.0.0: expected a loopback address (127.0.0.0/8, ::1 or localhost), or listener.allowNonLoopback (allow_non_loopback = true / --allow-non-loopback) to expose the metrics listener',
  ],
  [
    'ingest.host',
    { listener: false, ingest: { host: '10.1.2.3', port: 0 } },
    'invalid ingest.host=10.1.2.3: expected a loopback address (127.0.0.0/8, ::1 or localhost), or ingest.allowNonLoopback (allow_non_loopback = true) to expose the OTLP ingest listener',
  ],
  [
    'ingest.token',
    { listener: false, ingest: { port: 0, token: 'two words' } },
    'invalid ingest.token=<redacted>: expected a non-empty token without whitespace',
  ],
  [
    'ingest.apiKeys[0].tenant',
    { listener: false, ingest: { port: 0, apiKeys: [{ key: 'k3y', tenant: '' }] } },
    'invalid ingest.apiKeys[0].tenant=',
  ],
  // An entry that is no object has no key: refused for that, not with a TypeError.
  [
    'ingest.apiKeys[0].key',
    { listener: false, ingest: { port: 0, apiKeys: [null as never] } },
    'invalid ingest.apiKeys[0].key=<redacted>: expected a non-empty token without whitespace',
  ],
  [
    'ingest.apiKeys[1].key',
    {
      listener: false,
      ingest: { port: 0, apiKeys: [{ key: 'k3y', tenant: 't' }, 'k3y' as never] },
    },
    'invalid ingest.apiKeys[1].key=<redacted>: expected a non-empty token without whitespace',
  ],
  [
    'ingest.trustedCidrs[0]',
    { listener: false, ingest: { port: 0, trustedCidrs: ['10.0.0.0/33'] } },
    'invalid ingest.trustedCidrs[0]=10.0.0.0/33: expected an IP address or CIDR',
  ],
];

for (const [key, options, message] of AT_RESOLUTION) {
  test(`${key}: refused when the options are resolved, before any listener is bound`, () => {
    assert.throws(
      () => resolveOptions(options),
      (err: unknown) =>
        err instanceof ConfigError && err.key === key && err.message.startsWith(message),
    );
  });
}

test('an opted-in non-loopback host and a good gate resolve', () => {
  const resolved = resolveOptions({
    listener: { host: '0.0.0.0', port: 0, allowNonLoopback: true },
    ingest: { host: '::', port: 0, allowNonLoopback: true, token: 'tok', trustedCidrs: ['::1'] },
  });
  assert.equal(resolved.listener === false ? undefined : resolved.listener.host, '0.0.0.0');
  assert.equal(resolved.ingest === false ? undefined : resolved.ingest.gate.gated, true);
});
