/**
 * `jobmeter/graphile-worker` against a real PostgreSQL (Debian's, started here) and
 * graphile-worker 0.18: jobs that succeed, fail, retry and stall (a runner in a child process
 * SIGKILLed mid-job, its job unlocked with graphile_worker.force_unlock_workers), checked against
 * graphile-worker's own reports — its job events and its `jobs` view — and the queue depth read
 * from that view.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EventEmitter } from 'node:events';
import {
  Logger,
  run,
  runMigrations,
  type Job,
  type Runner,
  type WorkerEvents,
} from 'graphile-worker';
import pg from 'pg';
import { ConfigError, createJobmeter, type Jobmeter } from '../../src/index.ts';
import { instrumentRunner } from '../../src/integrations/graphile-worker.ts';
import type { Instrumentation } from '../../src/integrations/handle.ts';
import { samples, scrapeText, scrapeUntil, value } from './scrape.ts';
import { assertStartTimes, TIMED } from './start-times.ts';
import { startPostgres, type StoreHandle } from './stores.ts';

const STALL_WORKER = fileURLToPath(new URL('./fixtures/graphile-stall-worker.ts', import.meta.url));
const QUIET = new Logger(() => () => {});

let store: StoreHandle;
let pool: pg.Pool;
let jm: Jobmeter;
let runner: Runner;
let stop: Instrumentation;
let port: number;
/** The rows graphile-worker handed each timed task's attempts, as the task saw them. */
const claims = new Map<string, Job[]>();
/** graphile-worker's own events, counted by the test: what the library reports. */
const reported = { start: 0, success: 0, error: 0 };

async function settled(): Promise<void> {
  for (;;) {
    const { rows } = await pool.query(
      `select count(*)::int as n from graphile_worker.jobs where attempts < max_attempts or locked_at is not null`,
    );
    if (rows[0].n === 0 && reported.start === reported.success + reported.error) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  store = await startPostgres();
  pool = new pg.Pool({ connectionString: store.url });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  jm = await createJobmeter({ serviceName: 'graphile-test', listener: { port: 0 }, global: false });
  port = jm.pullAddress!.port;
});

after(async () => {
  stop?.();
  await runner?.stop().catch(() => {});
  await pool?.end().catch(() => {});
  await jm?.shutdown();
  await store?.remove();
});

test('a stalled job: its runner is killed mid-job, force_unlock_workers hands it back, the next attempt runs here', async () => {
  // The schema first (graphile-worker's own migrations), then the child takes the job before any runner of ours exists.
  await runMigrations({ pgPool: pool, logger: QUIET });
  await pool.query(`select graphile_worker.add_job('hang', '{}'::json)`);
  const child = spawn(process.execPath, [STALL_WORKER, store.url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  let out = '';
  const started = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: string) => {
      out += c;
      const m = /started (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) =>
      reject(new Error(`stall runner exited (${code}) before taking the job`)),
    );
  });
  const workerId = await started;
  child.kill('SIGKILL');
  await once(child, 'exit');

  runner = await run({
    pgPool: pool,
    concurrency: 2,
    noHandleSignals: true,
    pollInterval: 200,
    logger: QUIET,
    taskList: {
      hang: async () => {},
      ok: async () => {},
      fail: async () => {
        throw new Error('fails');
      },
      flaky: async (_payload, helpers) => {
        if (helpers.job.attempts === 1) throw new Error('first attempt fails');
      },
      ...Object.fromEntries(
        TIMED.map((task) => [
          task,
          async (_payload: unknown, helpers: { job: Job }) => {
            claims.set(task, [...(claims.get(task) ?? []), { ...helpers.job }]);
            if (task === 'w-retried' && helpers.job.attempts === 1)
              throw new Error('first attempt fails');
          },
        ]),
      ),
    },
  });
  runner.events.on('job:start', () => reported.start++);
  runner.events.on('job:success', () => reported.success++);
  runner.events.on('job:error', () => reported.error++);
  stop = instrumentRunner(runner, { jobmeter: jm, pgPool: pool, depthIntervalMillis: 3_600_000 });
  await pool.query(`select graphile_worker.force_unlock_workers(array[$1])`, [workerId]);
  await settled();
  const text = await scrapeText(port);
  assert.equal(
    value(text, 'jobmeter_run_started_total', { task: 'hang', runner: 'graphile-worker' }),
    1,
  );
  assert.equal(value(text, 'jobmeter_run_finished_total', { task: 'hang', outcome: 'success' }), 1);
  // The rerun is attempt 2; its run_at predates the attempt that died, so it records no wait.
  assert.equal(
    value(text, 'jobmeter_run_attempts_total', { task: 'hang', attempt: '2', outcome: 'success' }),
    1,
  );
  assert.equal(value(text, 'jobmeter_queue_wait_seconds_count', { task: 'hang' }), 0);
});

test('success, failure and retries: the scrape counts what graphile-worker reported', async () => {
  for (const task of ['ok', 'ok', 'ok']) await runner.addJob(task, {});
  await runner.addJob('fail', {}, { maxAttempts: 1 });
  await runner.addJob('flaky', {}, { maxAttempts: 2 });
  await settled();
  const text = await scrapeText(port);
  assert.equal(value(text, 'jobmeter_run_started_total'), reported.start);
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { outcome: 'success' }),
    reported.success,
  );
  assert.equal(value(text, 'jobmeter_run_finished_total', { outcome: 'failure' }), reported.error);
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'flaky', outcome: 'failure' }),
    1,
  );
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'flaky', outcome: 'success' }),
    1,
  );
  assert.equal(value(text, 'jobmeter_run_active'), 0);
  // The failed job stays in the jobs view with its attempts: the failures the table keeps.
  const { rows } = await pool.query(
    `select task_identifier, attempts from graphile_worker.jobs where attempts >= max_attempts`,
  );
  assert.deepEqual(
    rows.map((r) => [r.task_identifier, r.attempts]),
    [['fail', 1]],
  );
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'fail', outcome: 'failure' }),
    rows[0].attempts,
  );
});

test("queue wait, lateness and attempt: graphile-worker's locked_at less created_at, or run_at when later (a time asked for, a retry's), exact, as its rows say", async () => {
  await runner.addJob('w-prompt', {});
  await runner.addJob('w-later', {}, { runAt: new Date(Date.now() + 1000) });
  await runner.addJob('w-catchup', {}, { runAt: new Date(Date.now() - 60_000) });
  await runner.addJob('w-retried', {}, { maxAttempts: 2 });
  await settled();
  assert.deepEqual(
    claims.get('w-retried')!.map((j) => j.attempts),
    [1, 2],
  );
  const rows = new Map(
    TIMED.map((task) => [
      task,
      claims.get(task)!.map((j) => ({ added: j.created_at, due: j.run_at, started: j.locked_at! })),
    ]),
  );
  assertStartTimes(await scrapeText(port), 'graphile-worker', rows);
});

test("the oldest waiting job's age per task: now less the least due run_at of its unlocked jobs in the jobs view", async (t) => {
  const own = await createJobmeter({
    serviceName: 'graphile-age',
    listener: { port: 0 },
    global: false,
  });
  // Events of no runner: only the store is read. Nobody runs task `aged`.
  const events = new EventEmitter() as unknown as WorkerEvents;
  const off = instrumentRunner(events, { jobmeter: own, pgPool: pool, depthIntervalMillis: 100 });
  const at = own.pullAddress!.port;
  const add = async (runAt: Date) =>
    (
      await pool.query(
        `select id, run_at from graphile_worker.add_job('aged', '{}'::json, run_at => $1)`,
        [runAt],
      )
    ).rows[0] as { id: string; run_at: Date };
  const age = (seconds: number) =>
    scrapeUntil(at, 'jobmeter_queue_oldest_age_seconds', { queue: 'aged' }, seconds, 3000);
  try {
    const old = await add(new Date(Date.now() - 45_000));
    const recent = await add(new Date(Date.now() - 5_000));
    await add(new Date(Date.now() + 3_600_000)); // not due: not waiting
    // An injected clock for the age: jobmeter's now fixed while it is read.
    const now = Date.now();
    t.mock.method(Date, 'now', () => now);
    await age((now - old.run_at.getTime()) / 1000);
    await pool.query(`delete from graphile_worker._private_jobs where id = $1`, [old.id]);
    await age((now - recent.run_at.getTime()) / 1000);
    await pool.query(`delete from graphile_worker._private_jobs where id = $1`, [recent.id]);
    // Only a job not yet due: the task is served, at 0.
    const none = await age(0);
    assert.equal(samples(none, 'jobmeter_queue_oldest_age_seconds', { queue: 'aged' }).length, 1);
  } finally {
    t.mock.restoreAll();
    off();
    await own.shutdown();
    await pool.query(
      `delete from graphile_worker._private_jobs where task_id = (select id from graphile_worker._private_tasks where identifier = 'aged')`,
    );
  }
});

test('instrumentRunner twice on one runner (or its events): a ConfigError naming it, and every job one run', async () => {
  for (const target of [runner, runner.events]) {
    assert.throws(
      () => instrumentRunner(target, { jobmeter: jm, depthIntervalMillis: false }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.includes("this runner's events") &&
        /keep the function that call returned/.test(e.message),
    );
  }
  const before = value(await scrapeText(port), 'jobmeter_run_started_total', { task: 'ok' });
  for (let i = 0; i < 5; i++) await runner.addJob('ok', {});
  await settled();
  assert.equal(
    value(await scrapeText(port), 'jobmeter_run_started_total', { task: 'ok' }),
    before + 5,
  );
});

test('queue depth by state from one query of the jobs view', async () => {
  await runner.addJob('ok', {}, { runAt: new Date(Date.now() + 3_600_000) });
  await stop.pollDepth();
  const text = await scrapeText(port);
  const { rows } = await pool.query(
    `select task_identifier, count(*) filter (where run_at > now())::int as delayed, count(*) filter (where attempts >= max_attempts)::int as failed from graphile_worker.jobs group by 1`,
  );
  const by = new Map(rows.map((r) => [r.task_identifier, r]));
  assert.equal(
    value(text, 'jobmeter_queue_jobs', { queue: 'ok', state: 'delayed' }),
    by.get('ok').delayed,
  );
  assert.equal(value(text, 'jobmeter_queue_jobs', { queue: 'ok', state: 'delayed' }), 1);
  assert.equal(
    value(text, 'jobmeter_queue_jobs', { queue: 'fail', state: 'failed' }),
    by.get('fail').failed,
  );
});

test('50 jobs queued show in the depth within two poll intervals', async () => {
  const interval = 1000;
  const own = await createJobmeter({
    serviceName: 'graphile-depth',
    listener: { port: 0 },
    global: false,
  });
  const off = instrumentRunner(runner, {
    jobmeter: own,
    pgPool: pool,
    depthIntervalMillis: interval,
  });
  const at = own.pullAddress!.port;
  try {
    // A task no runner here has: the jobs stay queued.
    await pool.query(
      `select graphile_worker.add_job('backlog', '{}'::json) from generate_series(1, 50)`,
    );
    const text = await scrapeUntil(
      at,
      'jobmeter_queue_jobs',
      { queue: 'backlog', state: 'waiting' },
      50,
      2 * interval,
    );
    assert.ok(
      value(text, 'jobmeter_queue_poll_age_seconds') < (2 * interval) / 1000,
      'the counts served are from a read sent since the jobs were queued',
    );
  } finally {
    off();
    await own.shutdown();
  }
});

test('PostgreSQL goes away: scrapes still answer, the failed depth polls are counted', async () => {
  await store.stop();
  await stop.pollDepth();
  const text = await scrapeText(port);
  assert.ok(value(text, 'jobmeter_queue_poll_failures_total', { reason: 'error' }) >= 1, text);
  assert.equal(
    value(text, 'jobmeter_queue_jobs', { queue: 'ok', state: 'delayed' }),
    1,
    'the last good counts',
  );
  await store.start();
});
