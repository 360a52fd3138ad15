// An unknown key in any programmatic options object is a ConfigError worded as the config file's:
// a JS host, or options spread from JSON, has no type check, and a typo (`listner`) must not pass
// silently. Maps whose keys are the host's stay open.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import Fastify from 'fastify';

import { ConfigError } from '../src/errors.ts';
import { createRecorder } from '../src/host-recorder.ts';
import { createMetricsHandler, createMetricsMiddleware } from '../src/http/node-handler.ts';
import { jobmeterMetrics } from '../src/http/plugin.ts';
import { createJobmeter } from '../src/jobmeter.ts';
import { JobmeterReader } from '../src/jobmeter-reader.ts';
import { jobmeterViews } from '../src/jobmeter-views.ts';
import type { JobmeterOptions } from '../src/options.ts';

const quiet = { global: false, processMetrics: false, listener: false } as const;

/** createJobmeter, shut down again if it accepts the options (so a failing check leaves nothing running). */
async function created(options: JobmeterOptions): Promise<void> {
  const jm = await createJobmeter(options);
  await jm.shutdown();
}

/** The ConfigError an unknown key gets: its value never shown, the known keys listed, the near one suggested. */
function unknownKey(
  key: string,
  what: string,
  hint: string | undefined,
): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.key, key);
    assert.match(
      err.message,
      new RegExp(`^invalid ${escape(key)}=<redacted>: expected a key of ${escape(what)}: `),
    );
    if (hint === undefined) assert.doesNotMatch(err.message, /did you mean/);
    else assert.ok(err.message.endsWith(`(did you mean ${hint}?)`), err.message);
    return true;
  };
}
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const CREATE_CASES: readonly [string, unknown, string, string | undefined][] = [
  ['listner', { listner: { port: 1 } }, 'the options', 'listener'],
  ['serviceNmae', { serviceNmae: 'x' }, 'the options', 'serviceName'],
  ['listener.prot', { listener: { prot: 1 } }, 'listener', 'listener.port'],
  // The config file's own keys are not the library's: `enabled = false` is `listener: false` here.
  ['listener.enabled', { listener: { enabled: false } }, 'listener', undefined],
  [
    'otlp.intervalMs',
    { otlp: { endpoint: 'http://127.0.0.1:4318', intervalMs: 1000 } },
    'otlp',
    undefined,
  ],
  [
    'ingest.maxMemoryByte',
    { ingest: { port: 0, maxMemoryByte: 1 } },
    'ingest',
    'ingest.maxMemoryBytes',
  ],
  [
    'ingest.apiKeys[0].tennant',
    { ingest: { port: 0, apiKeys: [{ key: 'k', tennant: 't' }] } },
    'an API key',
    'ingest.apiKeys[0].tenant',
  ],
  ['cluster.timeout', { cluster: { timeout: 5 } }, 'cluster', undefined],
  ['build.comit', { build: { version: '1', comit: 'abc' } }, 'build', 'build.commit'],
  ['snapshot.ttl', { snapshot: { ttl: 5 } }, 'snapshot', undefined],
  [
    'instruments[0].bucket',
    {
      instruments: [
        {
          name: 'app.wait',
          kind: 'histogram',
          unit: 's',
          description: '',
          attributes: [],
          bucket: [1, 10],
        },
      ],
    },
    'an instrument spec',
    'instruments[0].buckets',
  ],
  [
    'instruments[0].attributes[0].vaules',
    {
      instruments: [
        {
          name: 'app.jobs',
          kind: 'counter',
          unit: '1',
          description: '',
          attributes: [{ key: 'queue', vaules: ['a'] }],
        },
      ],
    },
    'an attribute spec',
    'instruments[0].attributes[0].values',
  ],
  ['profile.rulez', { profile: { name: 'rm', rulez: [] } }, 'profile', 'profile.rules'],
];

for (const [key, options, what, hint] of CREATE_CASES) {
  test(`createJobmeter: ${key} is an unknown key`, async () => {
    await assert.rejects(
      created({ ...quiet, ...(options as JobmeterOptions) }),
      unknownKey(key, what, hint),
    );
  });
}

test("createJobmeter: a host rule's unknown field is refused, with the field it meant", async () => {
  const rule = {
    instrument: 'app.jobs',
    name: 'app_jobs_total',
    type: 'counter',
    help: 'Jobs.',
    labels: [['queue', 'queue']],
    zerofill: { queue: ['a'] },
  };
  await assert.rejects(
    created({ ...quiet, profile: { name: 'otel', rules: [rule as never] } }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.key === 'profile.rules[0].zerofill' &&
      err.message.endsWith('(did you mean profile.rules[0].zeroFill?)'),
  );
});

test("createJobmeter: the host's own maps (resource attributes, headers, merge policies) take any key", async () => {
  const jm = await createJobmeter({
    ...quiet,
    resourceAttributes: { 'deployment.environment.name': 'test', listner: 'a value' },
    otlp: {
      endpoint: 'http://127.0.0.1:1/v1/metrics',
      timeoutMillis: 100,
      headers: { 'x-tenant': 'a', prot: 'b' },
    },
    cluster: { merge: { 'app.depth': 'max', listner: 'sum' } },
  });
  await jm.shutdown();
});

test('new JobmeterReader: unknown keys, nested ones included', () => {
  assert.throws(
    () => new JobmeterReader({ prot: 1 } as never),
    unknownKey('prot', "JobmeterReader's options", undefined),
  );
  assert.throws(
    () => new JobmeterReader({ listener: { prot: 1 } } as never),
    unknownKey('listener.prot', 'listener', 'listener.port'),
  );
  // createJobmeter's options that a reader of someone else's provider has no use for.
  assert.throws(
    () => new JobmeterReader({ ingest: { port: 0 } } as never),
    unknownKey('ingest', "JobmeterReader's options", undefined),
  );
});

test('createRecorder: unknown keys', () => {
  const provider = new MeterProvider();
  const meter = provider.getMeter('jobmeter');
  assert.throws(
    () => createRecorder(meter, { profil: 'rm' } as never),
    unknownKey('profil', "createRecorder's options", 'profile'),
  );
  assert.throws(
    () => createRecorder(meter, { snapshot: { ttlMilis: 1 } } as never),
    unknownKey('snapshot.ttlMilis', 'snapshot', 'snapshot.ttlMillis'),
  );
  assert.equal(metrics.getMeterProvider() === provider, false);
});

test('jobmeterViews: unknown keys', () => {
  assert.throws(
    () => jobmeterViews('rm', { instrument: [] } as never),
    unknownKey('instrument', "jobmeterViews' options", 'instruments'),
  );
});

test('the node handler, the Express middleware and the fastify plugin: unknown keys, nested ones included', async () => {
  const jobmeter = await createJobmeter(quiet);
  try {
    const what = "the metrics route's options";
    assert.throws(
      () => createMetricsHandler({ jobmeter, tokn: 'secret' } as never),
      unknownKey('tokn', what, 'token'),
    );
    assert.throws(
      () => createMetricsMiddleware({ jobmeter, pth: '/m' } as never),
      unknownKey('pth', what, 'path'),
    );
    assert.throws(
      () => createMetricsHandler({ jobmeter, accessLog: { verbos: true } } as never),
      unknownKey('accessLog.verbos', 'accessLog', 'accessLog.verbose'),
    );
    assert.throws(
      () =>
        createMetricsHandler({
          jobmeter,
          apiKeys: [{ key: 'k1', tenant: 'a', tenantt: 'b' }],
        } as never),
      unknownKey('apiKeys[0].tenantt', 'an API key', 'apiKeys[0].tenant'),
    );
    const app = Fastify();
    try {
      app.register(jobmeterMetrics, { jobmeter, maxInflightScrape: 2 } as never);
      await assert.rejects(
        async () => app.ready(),
        unknownKey('maxInflightScrape', what, 'maxInflightScrapes'),
      );
    } finally {
      await app.close().catch(() => {});
    }
  } finally {
    await jobmeter.shutdown();
  }
});
