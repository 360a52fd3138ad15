/**
 * OTLP ingest and profile-named push wired into createJobmeter and the service config: the
 * `ingest` option starts the listener and joins its store to both readers, ingested names replace
 * jobmeter's own, `otlp.naming` picks the pushed names, and `[ingest]` / `[otlp] naming` are read
 * from config files.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../../src/errors.ts';
import { resolveServiceConfig } from '../../src/config/resolve-layers.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { namesOf, startFlakyCollector, totalOf, type FlakyCollector } from './flaky-collector.ts';

/** A foreign daemon pushing its uptime, its build and one run to `url`. */
async function pushFromDaemon(url: string): Promise<void> {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'go-daemon' }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url }),
        exportIntervalMillis: 60_000,
      }),
    ],
  });
  const meter = provider.getMeter('go-daemon');
  meter
    .createObservableGauge('process.uptime', { unit: 's' })
    .addCallback((r) => r.observe(12_345));
  meter
    .createObservableGauge('jobmeter.build.info')
    .addCallback((r) => r.observe(1, { version: '9.9.9' }));
  meter
    .createUpDownCounter('jobmeter.run.active', { unit: '{run}' })
    .add(2, { task: 'sync', kind: 'task', runner: 'go' });
  await provider.forceFlush();
  await provider.shutdown();
}

let collector: FlakyCollector;
before(async () => {
  collector = await startFlakyCollector();
});
after(async () => {
  await collector.close();
});

describe('createJobmeter({ ingest })', () => {
  let jm: Jobmeter;
  after(async () => {
    await jm?.shutdown();
  });

  it('serves what a foreign daemon pushes, under the profile, in place of its own figures', async () => {
    jm = await createJobmeter({
      profile: 'runwisp',
      listener: { port: 0 },
      ingest: { port: 0 },
      otlp: { endpoint: collector.url },
    });
    assert.ok(jm.ingestAddress);
    await pushFromDaemon(`http://127.0.0.1:${jm.ingestAddress.port}/v1/metrics`);
    const families = new Map((await jm.scrape()).map((f) => [f.name, f]));
    const uptime = families
      .get('runwisp_daemon_uptime_seconds')
      ?.series.map((s) => ({ labels: s.labels, value: 'value' in s ? s.value : undefined }));
    assert.deepEqual(
      uptime,
      [{ labels: '', value: 12_345 }],
      "the daemon's uptime, not jobmeter's",
    );
    assert.deepEqual(
      families.get('runwisp_build_info')?.series.map((s) => s.labels),
      ['version="9.9.9"'],
      "jobmeter's own build info is shadowed",
    );

    // The push (profile naming: the default for a legacy profile) carries the ingested data too.
    collector.requests.length = 0;
    await jm.forceFlush();
    const pushed = collector.requests.at(-1);
    assert.ok(namesOf(pushed).includes('runwisp_daemon_uptime_seconds'));
    assert.equal(totalOf(pushed, 'runwisp_daemon_uptime_seconds'), 12_345);
    assert.ok(!namesOf(pushed).includes('process.uptime'));
  });

  it('pushes canonical names when asked, ingested ones included, shadowed ones once', async () => {
    const canonical = await createJobmeter({
      profile: 'runwisp',
      listener: false,
      ingest: { port: 0 },
      otlp: { endpoint: collector.url, naming: 'canonical' },
    });
    try {
      await pushFromDaemon(`http://127.0.0.1:${canonical.ingestAddress!.port}/v1/metrics`);
      collector.requests.length = 0;
      await canonical.forceFlush();
      const names = namesOf(collector.requests.at(-1));
      assert.equal(names.filter((n) => n === 'process.uptime').length, 1);
      assert.equal(totalOf(collector.requests.at(-1), 'process.uptime'), 12_345);
      assert.ok(names.includes('jobmeter.run.active'));
    } finally {
      await canonical.shutdown();
    }
  });

  it('no ingest option, no listener', async () => {
    const plain = await createJobmeter({ listener: false });
    assert.equal(plain.ingestAddress, undefined);
    await plain.shutdown();
  });

  it('bad ingest options fail at construction, naming the option', async () => {
    await assert.rejects(
      createJobmeter({ listener: false, ingest: { port: 0, expiryMillis: -1 } }),
      (e: unknown) => e instanceof ConfigError && e.key === 'ingest.expiryMillis',
    );
  });
});

describe('service config', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jobmeter-ingest-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const resolve = async (toml: string) => {
    const file = join(dir, `c${Math.random().toString(36).slice(2)}.toml`);
    await writeFile(file, toml);
    return resolveServiceConfig({ argv: ['--config', file], env: {} });
  };

  it('[ingest] is off by default and maps onto the ingest option when enabled', async () => {
    assert.equal((await resolveServiceConfig({ argv: [], env: {} })).ingest, undefined);
    const options = await resolve('[ingest]\nenabled = true\nport = 14318\nexpiry_ms = 60000\n');
    assert.deepEqual(options.ingest, {
      host: '127.0.0.1',
      port: 14318,
      allowNonLoopback: false,
      maxBodyBytes: 20 * 1024 * 1024,
      maxConcurrentRequests: 8,
      expiryMillis: 60_000,
      maxMemoryBytes: 128 * 1024 * 1024,
    });
    const limits = await resolve(
      '[listener]\nrequest_timeout_ms = 5000\nidle_timeout_ms = 7000\nmax_connections = 9\n',
    );
    assert.deepEqual(limits.listener, {
      host: '127.0.0.1',
      port: 9464,
      allowNonLoopback: false,
      requestTimeoutMillis: 5000,
      idleTimeoutMillis: 7000,
      maxConnections: 9,
    });
    const budget = (await resolve('[ingest]\nenabled = true\nmax_memory_bytes = 1048576\n')).ingest;
    assert.equal(budget === false ? undefined : budget?.maxMemoryBytes, 1024 * 1024);
  });

  it('[otlp] naming', async () => {
    assert.equal((await resolve('[otlp]\nnaming = "profile"\n')).otlp?.naming, 'profile');
    await assert.rejects(
      resolve('[otlp]\nnaming = "prometheus"\n'),
      /invalid otlp\.naming=prometheus: expected one of canonical, profile/,
    );
  });

  it('bad [ingest] values and keys are ConfigErrors naming them', async () => {
    await assert.rejects(
      resolve('[ingest]\nmax_body_bytes = 0\n'),
      /invalid ingest\.max_body_bytes=0: expected an integer from 1 to 1073741824 \(bytes\)/,
    );
    await assert.rejects(
      resolve('[ingest]\nmax_memory_bytes = -1\n'),
      /invalid ingest\.max_memory_bytes=-1: expected an integer from 1 to 68719476736 \(bytes\)/,
    );
    await assert.rejects(
      resolve('[ingest]\nmax_connections = 0\n'),
      /invalid ingest\.max_connections=0: expected an integer from 1 to 1000000/,
    );
    await assert.rejects(
      resolve('[listener]\nidle_timeout_ms = "5s"\n'),
      /invalid listener\.idle_timeout_ms=5s: expected an integer from 1 to 2147483647 \(milliseconds\) \(got a string\)/,
    );
    await assert.rejects(
      resolve('[ingest]\nexpiry = 5\n'),
      /ingest\.expiry.*did you mean ingest\.expiry_ms\?/,
    );
  });
});

describe('otlp.naming and temporality', () => {
  it('profile naming needs cumulative temporality; with delta the default is canonical', async () => {
    await assert.rejects(
      createJobmeter({
        profile: 'solti',
        listener: false,
        otlp: { endpoint: collector.url, temporality: 'delta', naming: 'profile' },
      }),
      (e: unknown) => e instanceof ConfigError && e.key === 'otlp.naming',
    );
    const delta = await createJobmeter({
      profile: 'solti',
      listener: false,
      otlp: { endpoint: collector.url, temporality: 'delta' },
    });
    try {
      delta.recordRun({ task: 't', runner: 'wasm', outcome: 'success', durationSeconds: 1 });
      collector.requests.length = 0;
      await delta.forceFlush();
      assert.ok(namesOf(collector.requests.at(-1)).includes('jobmeter.run.finished'));
    } finally {
      await delta.shutdown();
    }
  });
});
