/**
 * Ingest semantics that must survive restarts, merges and expiry, through real OpenTelemetry SDK
 * exporters into jobmeter's ingest, read on the pull side:
 *
 * - a daemon that reports totals it keeps (observable counters) restarts and sends the same totals
 *   with a new start time: they are not counted twice (crewshipd's journal and spend counters);
 * - `serve`'s own 401s and the daemon's pushed rejections add up in one wasmrun counter, which
 *   never goes back, also when the pushed series expire;
 * - a zero-filled legacy counter whose sender stopped keeps its value past expiry, and counts on
 *   from there when the sender comes back.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { Family } from '../../src/exposition/types.ts';

const started: Jobmeter[] = [];
after(async () => {
  await Promise.allSettled(started.map((jm) => jm.shutdown()));
});

async function served(options: Parameters<typeof createJobmeter>[0]): Promise<Jobmeter> {
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    hostname: 'host-1',
    ...options,
    ingest: { port: 0, ...(options?.ingest || {}) },
  });
  started.push(jm);
  return jm;
}

/** `labels → value` of one family on the pull side. */
async function seriesOf(jm: Jobmeter, name: string): Promise<Record<string, number>> {
  const family = (await jm.scrape()).find((f: Family) => f.name === name);
  if (family === undefined || family.type === 'histogram') return {};
  return Object.fromEntries(family.series.map((s) => [s.labels, s.value]));
}

/** One daemon process: its own provider (a new start time), exporting once on shutdown. */
async function daemonRun(jm: Jobmeter, record: (provider: MeterProvider) => void): Promise<void> {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'daemon' }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          url: `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`,
        }),
        exportIntervalMillis: 3_600_000,
      }),
    ],
  });
  record(provider);
  await provider.shutdown();
}

describe('a sender restart does not double-count', () => {
  it("crewshipd: journal and spend totals reported again after a restart stay the daemon's totals", async () => {
    const jm = await served({ profile: 'crewshipd' });
    const journal = (events: number, cost: number) => (provider: MeterProvider) => {
      const meter = provider.getMeter('crewshipd');
      meter
        .createObservableCounter('jobmeter.agent_run.events', { unit: '{event}' })
        .addCallback((r) => r.observe(events, { event: 'started' }));
      meter
        .createObservableCounter('jobmeter.llm.cost', { unit: '{USD}' })
        .addCallback((r) => r.observe(cost, { provider: 'p1' }));
    };
    const events = async () =>
      (await seriesOf(jm, 'crewshipd_agent_run_events_total'))['event="started",hostname="host-1"'];
    const cost = async () =>
      (await seriesOf(jm, 'crewshipd_llm_cost_usd_total'))['provider="p1",hostname="host-1"'];
    await daemonRun(jm, journal(1000, 500));
    assert.deepEqual([await events(), await cost()], [1000, 500]);
    await sleep(5); // a later start time
    await daemonRun(jm, journal(1000, 500)); // restarted: the same totals, a new start time
    assert.deepEqual([await events(), await cost()], [1000, 500], 'not 2000 and 1000');
    await daemonRun(jm, journal(1002, 501));
    assert.deepEqual([await events(), await cost()], [1002, 501]);
  });

  it('a restarted in-memory counter (it counts from zero) still never makes the series go down', async () => {
    const jm = await served({ profile: 'solti' });
    const errors = (n: number) => (provider: MeterProvider) => {
      provider
        .getMeter('solti')
        .createCounter('jobmeter.runner.error')
        .add(n, { runner: 'wasm', error: 'module_load_failed' });
    };
    // solti writes label pairs by name (the Rust crate's order).
    const value = async () =>
      (await seriesOf(jm, 'solti_runner_errors_total'))['error="module_load_failed",runner="wasm"'];
    await daemonRun(jm, errors(10));
    await daemonRun(jm, errors(3));
    assert.equal(await value(), 13);
  });
});

describe("serve's own counts and pushed counts add up", () => {
  /** A wasmrun serve that has counted 5 401s itself and been pushed 2 payload, 1 concurrency, 4 unauthorized. */
  async function wasmrunServe() {
    const jm = await served({ profile: 'wasmrun', ingest: { expiryMillis: 300 } });
    const rejected = () => seriesOf(jm, 'wasmrun_agent_exec_rejected_total');
    for (let i = 0; i < 3; i++) jm.reject('unauthorized');
    assert.equal((await rejected())['reason="unauthorized"'], 3);
    await daemonRun(jm, (provider) => {
      const c = provider.getMeter('wasmrun').createCounter('jobmeter.request.rejected');
      c.add(2, { reason: 'payload' });
      c.add(1, { reason: 'concurrency' });
      c.add(4, { reason: 'unauthorized' });
    });
    assert.deepEqual(await rejected(), {
      'reason="concurrency"': 1,
      'reason="payload"': 2,
      'reason="unauthorized"': 7,
    });
    jm.reject('unauthorized');
    jm.reject('unauthorized');
    assert.equal((await rejected())['reason="unauthorized"'], 9, 'serve keeps counting');
    return { jm, rejected };
  }

  it('wasmrun: 401s counted by serve and rejections pushed by the daemon, in one counter', async () => {
    await wasmrunServe();
  });

  it('wasmrun: when the pushed series expire, the counter keeps the value it served and counts on from there', async () => {
    const { jm, rejected } = await wasmrunServe();
    await sleep(400); // the pushed series expire
    // docs/collector.md: a zero-filled counter whose source goes away keeps the last value it was
    // served; serve's own 5 still count, so the served 9 stays 9, and each new 401 adds one.
    assert.deepEqual(await rejected(), {
      'reason="concurrency"': 1,
      'reason="payload"': 2,
      'reason="unauthorized"': 9,
    });
    jm.reject('unauthorized');
    assert.equal((await rejected())['reason="unauthorized"'], 10);
    await daemonRun(jm, (provider) =>
      provider
        .getMeter('wasmrun')
        .createCounter('jobmeter.request.rejected')
        .add(1, { reason: 'payload' }),
    );
    assert.deepEqual(await rejected(), {
      'reason="concurrency"': 1,
      'reason="payload"': 3,
      'reason="unauthorized"': 10,
    });
  });
});

describe('expiry never looks like a reset', () => {
  it('a zero-filled legacy counter keeps its value when its sender stops, and counts on when it comes back', async () => {
    const jm = await served({ profile: 'wasmrun', ingest: { expiryMillis: 300 } });
    const success = async () =>
      (await seriesOf(jm, 'wasmrun_agent_exec_total'))['result="success"'];
    const runs = (n: number) => (provider: MeterProvider) => {
      provider
        .getMeter('wasmrun')
        .createCounter('jobmeter.run.finished')
        .add(n, { task: 't', outcome: 'success' });
    };
    await daemonRun(jm, runs(3));
    assert.equal(await success(), 3);
    await sleep(400);
    assert.equal(await success(), 3, 'not 0 once expiry_ms has passed');
    await daemonRun(jm, runs(2)); // the sender is back, counting from zero
    assert.equal(await success(), 5);
  });
});

describe('library and ingest derive a profile series the same way', () => {
  it('runwisp: a daemon pushing only jobmeter.run.finished gets runs_total and the last failure, as an embedded host', async () => {
    const ingesting = await served({ profile: 'runwisp' });
    const embedded = await createJobmeter({
      profile: 'runwisp',
      listener: false,
      processMetrics: false,
      global: false,
    });
    started.push(embedded);
    const runs = [
      ['success', 2],
      ['failure', 1],
    ] as const;
    const t0 = Date.now() / 1000;
    await daemonRun(ingesting, (provider) => {
      const finished = provider.getMeter('runwisp').createCounter('jobmeter.run.finished');
      for (const [outcome, n] of runs) finished.add(n, { task: 'backup', kind: 'task', outcome });
    });
    for (const [outcome, n] of runs)
      for (let i = 0; i < n; i++)
        embedded.recordRun({ task: 'backup', kind: 'task', outcome, durationSeconds: 1 });
    const t1 = Date.now() / 1000;
    assert.deepEqual(
      await seriesOf(ingesting, 'runwisp_runs_total'),
      await seriesOf(embedded, 'runwisp_runs_total'),
    );
    assert.deepEqual(await seriesOf(ingesting, 'runwisp_runs_total'), {
      'status="success"': 2,
      'status="failed"': 1,
    });
    for (const jm of [ingesting, embedded]) {
      const last = (await seriesOf(jm, 'runwisp_runs_last_failure_timestamp_seconds'))[''];
      assert.ok(
        last !== undefined && last >= t0 - 1 && last <= t1 + 1,
        `last failure ${last}, runs between ${t0} and ${t1}`,
      );
    }
  });
});
