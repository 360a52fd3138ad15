// Global registration and bounded host instruments: a host that only
// uses the OTel API after createJobmeter() sees its instruments on jobmeter's pull endpoint, every
// such instrument has a series budget counted over its life, and a View allow-list drops a job_id.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { createAllowListAttributesProcessor, MeterProvider } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../../src/errors.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { OPTION_DEFAULTS } from '../../src/common/option-defaults.ts';
import type { JobmeterOptions } from '../../src/options.ts';

const open: Jobmeter[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((jm) => jm.shutdown()));
  metrics.disable();
});

async function start(options: JobmeterOptions = {}): Promise<Jobmeter> {
  const jm = await createJobmeter({ listener: { port: 0 }, processMetrics: false, ...options });
  open.push(jm);
  return jm;
}

async function pull(jm: Jobmeter): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
    headers: { accept: 'text/plain' },
  });
  assert.equal(res.status, 200);
  return res.text();
}

function samples(body: string, name: string): string[] {
  return body.split('\n').filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
}

describe('global registration', () => {
  test('createJobmeter() registers its provider: metrics.getMeter() instruments made afterwards are served on the pull endpoint', async () => {
    const jm = await start();
    assert.equal(metrics.getMeterProvider(), jm.meterProvider);
    const meter = metrics.getMeter('host-app', '1.2.3');
    meter.createCounter('host.jobs', { unit: '{job}' }).add(3, { queue: 'emails' });
    meter.createHistogram('host.wait', { unit: 's' }).record(0.2);
    meter.createObservableGauge('host.pool.size').addCallback((r) => r.observe(4));
    const body = await pull(jm);
    assert.match(
      body,
      /^host_jobs_total\{queue="emails",otel_scope_name="host-app",otel_scope_version="1\.2\.3"\} 3$/m,
    );
    assert.match(
      body,
      /^host_wait_seconds_count\{otel_scope_name="host-app",otel_scope_version="1\.2\.3"\} 1$/m,
    );
    assert.match(
      body,
      /^host_pool_size\{otel_scope_name="host-app",otel_scope_version="1\.2\.3"\} 4$/m,
    );
  });

  test('shutdown() unregisters what it registered, so a later jobmeter can register', async () => {
    const first = await start();
    await first.shutdown();
    assert.notEqual(metrics.getMeterProvider(), first.meterProvider);
    const second = await start();
    assert.equal(metrics.getMeterProvider(), second.meterProvider);
  });

  test('another provider already registered: it is left in place, and one log line says what to do', async () => {
    const other = new MeterProvider();
    assert.ok(metrics.setGlobalMeterProvider(other));
    const lines: string[] = [];
    const jm = await start({ log: (line) => lines.push(line) });
    assert.equal(metrics.getMeterProvider(), other);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /already registered.*jobmeter\.meter.*global: false/);
    await jm.shutdown();
    assert.equal(
      metrics.getMeterProvider(),
      other,
      'shutdown leaves a provider it did not register',
    );
    await other.shutdown();
  });

  test('global: false registers nothing and logs nothing', async () => {
    const lines: string[] = [];
    const jm = await start({ global: false, log: (line) => lines.push(line) });
    assert.notEqual(metrics.getMeterProvider(), jm.meterProvider);
    assert.deepEqual(lines, []);
  });

  test('an instrument from the global API is guarded too: add(NaN) is dropped and counted', async () => {
    const jm = await start({ otelScopeInfo: false });
    const c = metrics.getMeter('host-app').createCounter('host.jobs');
    c.add(2);
    c.add(NaN);
    c.add(-1);
    const body = await pull(jm);
    assert.deepEqual(samples(body, 'host_jobs_total'), ['host_jobs_total 2']);
    assert.match(body, /^jobmeter_records_dropped_total\{reason="nan"\} 1$/m);
    assert.match(body, /^jobmeter_records_dropped_total\{reason="negative"\} 1$/m);
  });
});

describe('bounded by default: every host instrument has a series budget over its life', () => {
  test(`default ${OPTION_DEFAULTS.cardinalityLimit}: 3000 job_id values, then 3000 more after a scrape, never pass it; the overflow series holds the rest`, async () => {
    const jm = await start({ otelScopeInfo: false });
    const c = metrics.getMeter('host-app').createCounter('host.jobs');
    for (let i = 0; i < 3000; i++) c.add(1, { job_id: `job-${i}` });
    let lines = samples(await pull(jm), 'host_jobs_total');
    assert.equal(lines.length, OPTION_DEFAULTS.cardinalityLimit);
    assert.ok(lines.includes('host_jobs_total{otel_metric_overflow="true"} 1001'), lines.at(-1));
    // The SDK alone counts sets per collection: after a scrape, 3000 new ones would be 2000 more.
    for (let i = 3000; i < 6000; i++) c.add(1, { job_id: `job-${i}` });
    c.add(1, { job_id: 'job-0' });
    lines = samples(await pull(jm), 'host_jobs_total');
    assert.equal(lines.length, OPTION_DEFAULTS.cardinalityLimit);
    assert.ok(lines.includes('host_jobs_total{otel_metric_overflow="true"} 4001'));
    assert.ok(lines.includes('host_jobs_total{job_id="job-0"} 2'));
  });

  test('cardinalityLimit sets the budget; a View limit overrides it for the instruments it selects', async () => {
    const jm = await start({
      otelScopeInfo: false,
      cardinalityLimit: 5,
      views: [{ instrumentName: 'host.wide', aggregationCardinalityLimit: 20 }],
    });
    const meter = metrics.getMeter('host-app');
    const narrow = meter.createCounter('host.narrow');
    const wide = meter.createCounter('host.wide');
    for (let i = 0; i < 50; i++) {
      narrow.add(1, { id: String(i) });
      wide.add(1, { id: String(i) });
    }
    const body = await pull(jm);
    assert.equal(samples(body, 'host_narrow_total').length, 5);
    assert.equal(samples(body, 'host_wide_total').length, 20);
  });

  test('the job_id recipe: an allow-list View drops job_id, so the counter keeps one series per queue and nothing overflows', async () => {
    const jm = await start({
      otelScopeInfo: false,
      views: [
        {
          instrumentName: 'host.jobs',
          meterName: 'host-app',
          attributesProcessors: [createAllowListAttributesProcessor(['queue'])],
        },
      ],
    });
    const c = metrics.getMeter('host-app').createCounter('host.jobs');
    for (let i = 0; i < 5000; i++)
      c.add(1, { queue: i % 2 === 0 ? 'emails' : 'reports', job_id: `job-${i}` });
    assert.deepEqual(samples(await pull(jm), 'host_jobs_total').sort(), [
      'host_jobs_total{queue="emails"} 2500',
      'host_jobs_total{queue="reports"} 2500',
    ]);
  });

  test('a View that is not an object is a ConfigError naming it', async () => {
    await assert.rejects(
      createJobmeter({ listener: false, views: [42 as never] }),
      (err: unknown) => err instanceof ConfigError && err.key === 'views[0]',
    );
  });

  test('cardinalityLimit must be an integer ≥ 1', async () => {
    for (const bad of [0, -1, 1.5, '10']) {
      await assert.rejects(
        createJobmeter({ listener: false, cardinalityLimit: bad as number }),
        (err: unknown) => err instanceof ConfigError && err.key === 'cardinalityLimit',
      );
    }
  });
});
