/**
 * A BullMQ worker on a real Redis, instrumented twice — under the runwisp profile and under the
 * crewshipd profile (its run events and queue aggregates fed to crewshipd's snapshot) — scraped by
 * a real Prometheus 3, which evaluates every alert and recording expression of
 * rules/runwisp.rules.yml and rules/crewshipd.rules.yml over those series. The ones the workload
 * should set off (failures, a run in flight, a failure rate above 20 %, a queue backlog) must
 * return a sample; every other must evaluate without error.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Queue, Worker } from 'bullmq';
import { parse } from 'yaml';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { instrumentWorker } from '../../src/integrations/bullmq.ts';
import type { Instrumentation } from '../../src/integrations/handle.ts';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';
import { startRedis, type StoreHandle } from './stores.ts';

const QUEUE = 'builds';
const HOSTNAME = 'jobs-host';

interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
}

function rules(file: string): Rule[] {
  const doc = parse(readFileSync(new URL(`../../rules/${file}`, import.meta.url), 'utf8')) as {
    groups: { rules: Rule[] }[];
  };
  return doc.groups.flatMap((g) => g.rules);
}

let redis: StoreHandle;
let runwisp: Jobmeter;
let crewshipd: Jobmeter;
let queue: Queue;
let worker: Worker;
let prom: PrometheusHandle;
const stops: Instrumentation[] = [];
let producing = true;
let producer: Promise<void> | undefined;
let release!: () => void;
const held = new Promise<void>((resolve) => (release = resolve));

before(async () => {
  redis = await startRedis();
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  runwisp = await createJobmeter({ profile: 'runwisp', listener: { port: 0 }, global: false });
  crewshipd = await createJobmeter({
    profile: 'crewshipd',
    listener: { port: 0 },
    hostname: HOSTNAME,
    global: false,
  });
  queue = new Queue(QUEUE, { connection });
  worker = new Worker(
    QUEUE,
    async (job) => {
      if (job.name === 'hold') return held;
      if (job.name === 'fail') throw new Error('build failed');
      return 'ok';
    },
    { connection, concurrency: 4 },
  );
  stops.push(instrumentWorker(worker, { jobmeter: runwisp, depthIntervalMillis: 500 }));
  const crew = instrumentWorker(worker, { jobmeter: crewshipd, depthIntervalMillis: 500 });
  stops.push(crew);
  crewshipd.setSnapshotSource(() => crew.snapshot(), { ttlMillis: 0 });
  await queue.add('hold', {});
  // A backlog that stays: three jobs an hour out.
  for (let i = 0; i < 3; i++) await queue.add('ok', {}, { delay: 3_600_000 });
  producer = (async () => {
    while (producing) {
      await queue.addBulk([
        { name: 'fail', data: {} },
        { name: 'ok', data: {} },
      ]);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  prom = await startPrometheus({
    major: 3,
    scrapeInterval: '1s',
    jobs: [
      { name: 'runwisp', target: `127.0.0.1:${runwisp.pullAddress!.port}` },
      { name: 'crewshipd', target: `127.0.0.1:${crewshipd.pullAddress!.port}` },
    ],
  });
  await prom.waitForTargetsUp();
});

after(async () => {
  producing = false;
  await producer;
  release();
  for (const stop of stops) stop();
  await prom?.stop();
  await worker?.close(true).catch(() => {});
  await queue?.close().catch(() => {});
  await runwisp?.shutdown();
  await crewshipd?.shutdown();
  await redis?.remove();
});

const WAIT_MS = 30_000;
const nonEmpty = (r: unknown[]): boolean => r.length > 0;

test("runwisp: the alert expressions fire on the worker's failures and its run in flight", async () => {
  const all = rules('runwisp.rules.yml');
  const expr = (name: string): string =>
    all.find((r) => r.alert === name || r.record === name)!.expr;
  await prom.waitFor(expr('RunwispRunFailedRecently'), nonEmpty, WAIT_MS);
  const ratio = await prom.waitFor(
    `(${expr('instance:runwisp_runs_failure_ratio:rate10m')}) > 0.2`,
    nonEmpty,
    WAIT_MS,
  );
  assert.equal(ratio[0]!.metric['job'], 'runwisp');
  // RunwispTaskRunLongRunning, without its `for: 6h`: the held job is in flight under task=builds.
  const long = await prom.waitFor(expr('RunwispTaskRunLongRunning'), nonEmpty, WAIT_MS);
  assert.equal(long[0]!.metric['task'], QUEUE);
  for (const rule of all) await prom.query(rule.expr); // every expression evaluates over these series
});

test('crewshipd: the failure-rate recipe fires on the run events, the backlog shows in the queue depth', async () => {
  const all = rules('crewshipd.rules.yml');
  const expr = (name: string): string =>
    all.find((r) => r.alert === name || r.record === name)!.expr;
  const rate = await prom.waitFor(expr('CrewshipdAgentRunFailureRateHigh'), nonEmpty, WAIT_MS);
  assert.ok(Number(rate[0]!.value[1]) > 0.2);
  const byHost = await prom.waitFor(
    expr('hostname:crewshipd_agent_run_failure_ratio:rate10m'),
    nonEmpty,
    WAIT_MS,
  );
  assert.equal(byHost[0]!.metric['hostname'], HOSTNAME);
  // The backlog alert's first term: the three delayed jobs (and whatever waits) are queued depth.
  const depth = await prom.waitFor('crewshipd_assignment_queue_depth >= 3', nonEmpty, WAIT_MS);
  assert.equal(depth[0]!.metric['hostname'], HOSTNAME);
  await prom.waitFor('crewshipd_assignment_queue_crews == 1', nonEmpty, WAIT_MS);
  for (const rule of all) await prom.query(rule.expr);
});
