/**
 * `jobmeter/pg-boss` against a real PostgreSQL (Debian's, started here) and pg-boss 12: jobs that
 * succeed, fail, retry, outlive their expiry and stall (a worker in a child process SIGKILLed
 * mid-job), sends pg-boss refuses, and the scrape checked against pg-boss's own records —
 * each job's state and retryCount (findJobs), which the depth is checked against too. Then PostgreSQL goes
 * away: every scrape still answers and the failed depth polls are counted.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PgBoss, type JobWithMetadata, type QueueResult } from 'pg-boss';
import { ConfigError, createJobmeter, type Jobmeter } from '../../src/index.ts';
import { instrumentBoss } from '../../src/integrations/pg-boss.ts';
import type { Instrumentation } from '../../src/integrations/handle.ts';
import { scrapeText, scrapeUntil, samples, value } from './scrape.ts';
import { assertStartTimes, TIMED, type AttemptTimes } from './start-times.ts';
import { startPostgres, type StoreHandle } from './stores.ts';

const STALL_WORKER = fileURLToPath(new URL('./fixtures/pg-boss-stall-worker.ts', import.meta.url));
const WORK = { pollingIntervalSeconds: 0.5, localConcurrency: 4 };

let pg: StoreHandle;
let jm: Jobmeter;
let boss: PgBoss;
let stop: Instrumentation;
let port: number;

/** Resolves once no job of `queue` is queued or active any more, as pg-boss counts them. */
async function drained(queue: string): Promise<void> {
  await until(`queue ${queue} to drain`, 120_000, async () => {
    const left = (await boss.findJobs(queue)).filter(
      (j) => j.state !== 'completed' && j.state !== 'failed',
    );
    return left.length === 0 ? true : left.map((j) => `${j.id} ${j.state}`).join(', ');
  });
}

/** Polls `check` every 250 ms until it says true; after `ms`, fails naming `what` and the last state seen. */
async function until(what: string, ms: number, check: () => Promise<true | string>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const seen = await check();
    if (seen === true) return;
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}; last seen: ${seen}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** pg-boss's queue counts are its monitor's (here every second): waits until they satisfy `ready`. */
async function queueCounts(queue: string, ready: (q: QueueResult) => boolean): Promise<void> {
  for (;;) {
    const [q] = await boss.getQueues([queue]);
    if (q !== undefined && ready(q)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Another PgBoss on the same database, started (the test stops it). */
async function startedBoss(): Promise<PgBoss> {
  const b = new PgBoss({ connectionString: pg.url, supervise: false, schedule: false });
  b.on('error', () => {});
  return b.start();
}

before(async () => {
  pg = await startPostgres();
  jm = await createJobmeter({ serviceName: 'pg-boss-test', listener: { port: 0 }, global: false });
  port = jm.pullAddress!.port;
  boss = new PgBoss({
    connectionString: pg.url,
    superviseIntervalSeconds: 1,
    monitorIntervalSeconds: 1,
  });
  boss.on('error', () => {}); // the outage below is on purpose
  // Before start and work: every handler registered from here on is instrumented.
  stop = instrumentBoss(boss, { jobmeter: jm, depthIntervalMillis: 3_600_000 });
  await boss.start();
});

after(async () => {
  stop?.();
  await boss?.stop({ graceful: false, timeout: 1000 }).catch(() => {});
  await jm?.shutdown();
  await pg?.remove();
});

test('a stalled job: its worker is killed mid-job, pg-boss retries it here, and only the attempt made here is a run here', async () => {
  await boss.createQueue('stall', { retryLimit: 1, retryDelay: 0, expireInSeconds: 1 });
  const id = await boss.send('stall', {});
  const child = spawn(process.execPath, [STALL_WORKER, pg.url, 'stall'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: string) => c.includes('started') && resolve());
    child.once('exit', (code) =>
      reject(new Error(`stall worker exited (${code}) before taking the job`)),
    );
  });
  child.kill('SIGKILL');
  await once(child, 'exit');
  // The observable condition, not a sleep: pg-boss's own supervision (asked for here through its
  // public supervise(), besides its 1 s timer) fails the expired attempt back to retry. A loaded
  // machine only makes this slower; the bound is far inside the 180 s test timeout.
  await until('pg-boss to fail the stalled attempt back to retry', 120_000, async () => {
    await boss.supervise('stall');
    const [j] = await boss.findJobs('stall', { id: id! });
    return j?.state === 'retry' ? true : `job ${id} is ${j?.state}`;
  });
  await boss.work('stall', WORK, async () => 'ok');
  await drained('stall');
  const [job] = await boss.findJobs('stall', { id: id! });
  assert.equal(job!.state, 'completed');
  assert.equal(job!.retryCount, 1, 'pg-boss failed the stalled attempt back to retry');
  const text = await scrapeText(port);
  assert.equal(value(text, 'jobmeter_run_started_total', { task: 'stall', runner: 'pg-boss' }), 1);
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'stall', outcome: 'success' }),
    1,
  );
});

test('success, failure, retries and an expired handler: the scrape counts the attempts pg-boss recorded', async () => {
  await boss.createQueue('reports', { retryLimit: 1, retryDelay: 0, expireInSeconds: 1 });
  await boss.work('reports', WORK, async ([job]) => {
    const kind = (job!.data as { kind: string }).kind;
    if (kind === 'fail' || (kind === 'flaky' && job!.retryCount === 0))
      throw new Error(`${kind} job`);
    // Outlives its expireInSeconds: pg-boss aborts its signal and fails the attempt.
    if (kind === 'expire' && job!.retryCount === 0) await once(job!.signal, 'abort');
    return 'ok';
  });
  for (const kind of ['ok', 'ok', 'ok', 'fail', 'fail', 'flaky', 'expire'])
    await boss.send('reports', { kind });
  await drained('reports');
  const jobs = await boss.findJobs('reports');
  const text = await scrapeText(port);
  const attempts = jobs.reduce((s, j) => s + j.retryCount + 1, 0);
  const failedAttempts = jobs.reduce(
    (s, j) => s + (j.state === 'failed' ? j.retryCount + 1 : j.retryCount),
    0,
  );
  const timeouts = value(text, 'jobmeter_run_finished_total', {
    task: 'reports',
    outcome: 'timeout',
  });
  assert.equal(
    value(text, 'jobmeter_run_started_total', { task: 'reports' }),
    attempts,
    "started = pg-boss's attempts (retryCount + 1)",
  );
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'reports', outcome: 'failure' }) + timeouts,
    failedAttempts,
  );
  assert.equal(timeouts, 1, 'the attempt pg-boss expired is a timeout');
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'reports', outcome: 'success' }),
    jobs.filter((j) => j.state === 'completed').length,
  );
  assert.equal(value(text, 'jobmeter_run_active', { task: 'reports' }), 0);

  // The depth against the jobs' states as pg-boss keeps them (getQueues' counts are its monitor's, older).
  await stop.pollDepth();
  const live = await boss.findJobs('reports');
  const after = await scrapeText(port);
  assert.equal(
    value(after, 'jobmeter_queue_jobs', { queue: 'reports', state: 'failed' }),
    live.filter((j) => j.state === 'failed').length,
  );
  assert.equal(value(after, 'jobmeter_queue_jobs', { queue: 'reports', state: 'failed' }), 2);
  assert.equal(
    value(after, 'jobmeter_queue_jobs', { queue: 'reports', state: 'active' }),
    live.filter((j) => j.state === 'active').length,
  );
});

test("queue wait, lateness and attempt: pg-boss's started_on less created_on, or start_after when later (a start asked for, a retry's), exact, as its rows say", async () => {
  const claims = new Map<string, AttemptTimes[]>();
  for (const name of TIMED) {
    await boss.createQueue(name, { retryLimit: 1, retryDelay: 1 });
    claims.set(name, []);
    await boss.work(name, WORK, async ([job]) => {
      // The rows as pg-boss handed them out (instrumentBoss asked for their metadata).
      const { createdOn, startAfter, startedOn, retryCount } = job as JobWithMetadata;
      claims.get(name)!.push({ added: createdOn, due: startAfter, started: startedOn });
      if (name === 'w-retried' && retryCount === 0) throw new Error('first attempt fails');
      return 'ok';
    });
  }
  await boss.send('w-prompt', {});
  await boss.send('w-later', {}, { startAfter: 1 });
  await boss.send('w-catchup', {}, { startAfter: new Date(Date.now() - 60_000) });
  await boss.send('w-retried', {});
  for (const name of TIMED) await drained(name);
  assertStartTimes(await scrapeText(port), 'pg-boss', claims);
  // The retry's times are the row's, as pg-boss keeps it.
  const [row] = await boss.findJobs('w-retried');
  const second = claims.get('w-retried')![1]!;
  assert.equal(row!.retryCount, 1);
  assert.deepEqual([row!.startedOn, row!.startAfter], [second.started, second.due]);
});

test("the oldest waiting job's age: now less the oldest due start_after of the queue in pg-boss's job table", async (t) => {
  const other = await startedBoss();
  const own = await createJobmeter({
    serviceName: 'pg-boss-age',
    listener: { port: 0 },
    global: false,
  });
  await other.createQueue('aged');
  const off = instrumentBoss(other, { jobmeter: own, queues: ['aged'], depthIntervalMillis: 100 });
  const at = own.pullAddress!.port;
  try {
    const old = await other.send('aged', {}, { startAfter: new Date(Date.now() - 45_000) });
    await other.send('aged', {});
    await other.send('aged', {}, { startAfter: 3600 }); // not due: not waiting
    const due = (await other.findJobs('aged')).filter((j) => j.startAfter.getTime() <= Date.now());
    assert.equal(due.length, 2);
    // An injected clock for the age: jobmeter's now fixed while it is read.
    const now = Date.now();
    t.mock.method(Date, 'now', () => now);
    const oldest = Math.min(...due.map((j) => j.startAfter.getTime()));
    await scrapeUntil(
      at,
      'jobmeter_queue_oldest_age_seconds',
      { queue: 'aged' },
      (now - oldest) / 1000,
      3000,
    );
    await other.deleteJob('aged', old!);
    const next = due.find((j) => j.id !== old)!;
    await scrapeUntil(
      at,
      'jobmeter_queue_oldest_age_seconds',
      { queue: 'aged' },
      (now - next.startAfter.getTime()) / 1000,
      3000,
    );
    await other.deleteJob('aged', next.id);
    // Only a job not yet due: the queue is served, at 0.
    const none = await scrapeUntil(
      at,
      'jobmeter_queue_oldest_age_seconds',
      { queue: 'aged' },
      0,
      3000,
    );
    assert.equal(samples(none, 'jobmeter_queue_oldest_age_seconds', { queue: 'aged' }).length, 1);
  } finally {
    t.mock.restoreAll();
    off();
    await other.stop({ graceful: false, timeout: 1000 });
    await own.shutdown();
  }
});

test('perJobResults: each job of a batch ends as the handler says', async () => {
  await boss.createQueue('batch', { retryLimit: 0 });
  await boss.work(
    'batch',
    { pollingIntervalSeconds: 0.5, batchSize: 4, perJobResults: true },
    async (jobs) =>
      jobs.map((job) => ({
        id: job.id,
        status: (job.data as { ok: boolean }).ok ? ('completed' as const) : ('failed' as const),
      })),
  );
  for (const ok of [true, true, false]) await boss.send('batch', { ok });
  await drained('batch');
  const jobs = await boss.findJobs('batch');
  const text = await scrapeText(port);
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'batch', outcome: 'success' }),
    jobs.filter((j) => j.state === 'completed').length,
  );
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'batch', outcome: 'failure' }),
    jobs.filter((j) => j.state === 'failed').length,
  );
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'batch', outcome: 'failure' }),
    1,
  );
});

test('queue depth: deferred jobs are delayed, queued ones waiting, as getQueues counts them', async () => {
  await boss.createQueue('later');
  await boss.send('later', {}, { startAfter: 3600 });
  await boss.send('later', {});
  await boss.send('later', {});
  await stop.pollDepth(); // nothing works `later` here, and it is not in `queues`
  const text0 = await scrapeText(port);
  assert.deepEqual(
    samples(text0, 'jobmeter_queue_jobs', { queue: 'later' }),
    [],
    'a queue nobody works here is not read',
  );
  const other = await startedBoss();
  const withQueue = instrumentBoss(other, {
    jobmeter: jm,
    queues: ['later'],
    depthIntervalMillis: 3_600_000,
  });
  try {
    await queueCounts('later', (q) => q.queuedCount === 3);
    await withQueue.pollDepth();
    const [q] = await boss.getQueues(['later']);
    const text = await scrapeText(port);
    assert.equal(
      value(text, 'jobmeter_queue_jobs', { queue: 'later', state: 'delayed' }),
      q!.deferredCount,
    );
    assert.equal(
      value(text, 'jobmeter_queue_jobs', { queue: 'later', state: 'waiting' }),
      q!.queuedCount - q!.deferredCount,
    );
    assert.equal(value(text, 'jobmeter_queue_jobs', { queue: 'later', state: 'waiting' }), 2);
  } finally {
    withQueue();
    await other.stop({ graceful: false });
  }
});

test('instrumentBoss twice on one PgBoss: a ConfigError naming it, and every job one run', async () => {
  assert.throws(
    () => instrumentBoss(boss, { jobmeter: jm, depthIntervalMillis: false }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message.includes('this PgBoss') &&
      /keep the function that call returned/.test(e.message),
  );
  await boss.createQueue('once');
  await boss.work('once', WORK, async () => 'ok');
  for (let i = 0; i < 5; i++) await boss.send('once', {});
  await drained('once');
  const text = await scrapeText(port);
  assert.equal(value(text, 'jobmeter_run_started_total', { task: 'once' }), 5);
  assert.equal(value(text, 'jobmeter_run_finished_total', { task: 'once', outcome: 'success' }), 5);
});

test('instrumentBoss after boss.work(): a ConfigError naming the queues already worked, nothing wrapped', async () => {
  const other = await startedBoss();
  try {
    await other.createQueue('early');
    await other.work('early', WORK, async () => 'ok');
    const { work } = other;
    assert.throws(
      () => instrumentBoss(other, { jobmeter: jm, depthIntervalMillis: false }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.includes('"early"') &&
        /before boss\.work/.test(e.message),
    );
    assert.equal(other.work, work, 'nothing of the instance is replaced');
  } finally {
    await other.stop({ graceful: false });
  }
});

test("50 jobs queued show in the depth within two poll intervals, whatever pg-boss's monitor has counted", async () => {
  const interval = 1000;
  const own = await createJobmeter({
    serviceName: 'pg-boss-depth',
    listener: { port: 0 },
    global: false,
  });
  // pg-boss's defaults: once its monitor has counted a queue, it counts it again a minute later.
  const other = new PgBoss({ connectionString: pg.url });
  other.on('error', () => {});
  const off = instrumentBoss(other, {
    jobmeter: own,
    queues: ['backlog'],
    depthIntervalMillis: interval,
  });
  const at = own.pullAddress!.port;
  try {
    await other.start();
    await other.createQueue('backlog');
    await other.send('backlog', {});
    await until("pg-boss's monitor to count the queue", 120_000, async () => {
      const [q] = await other.getQueues(['backlog']);
      return q?.queuedCount === 1 ? true : `queuedCount ${q?.queuedCount}`;
    });
    await other.insert(
      'backlog',
      Array.from({ length: 50 }, () => ({ data: {} })),
    );
    const text = await scrapeUntil(
      at,
      'jobmeter_queue_jobs',
      { queue: 'backlog', state: 'waiting' },
      51,
      2 * interval,
    );
    assert.ok(
      value(text, 'jobmeter_queue_poll_age_seconds') < (2 * interval) / 1000,
      'the counts served are from a read sent since the jobs were queued',
    );
  } finally {
    off();
    await other.stop({ graceful: false });
    await own.shutdown();
  }
});

test('a send pg-boss refuses is a rejection', async () => {
  await boss.createQueue('nightly');
  const ids = [
    await boss.sendThrottled('nightly', {}, null, 3600),
    await boss.sendThrottled('nightly', {}, null, 3600),
  ];
  const refused = ids.filter((id) => id === null).length;
  assert.equal(refused, 1, 'pg-boss throttled the second');
  assert.equal(
    value(await scrapeText(port), 'jobmeter_request_rejected_total', { reason: 'throttled' }),
    refused,
  );
});

test('removing the instrumentation stops the handlers it wrapped from recording: pg-boss keeps calling them, no run is counted', async () => {
  const other = new PgBoss({ connectionString: pg.url, supervise: false, schedule: false });
  other.on('error', () => {});
  const own = await createJobmeter({ listener: { port: 0 }, global: false });
  const off = instrumentBoss(other, { jobmeter: own, depthIntervalMillis: false });
  try {
    await other.start();
    await other.createQueue('removed');
    let handled = 0;
    await other.work('removed', WORK, async () => {
      handled++;
    });
    await other.send('removed', {});
    await until('the first job to be handled', 60_000, async () =>
      handled === 1 ? true : `${handled} handled`,
    );
    await drained('removed');
    off();
    await other.send('removed', {});
    await until('the second job to be handled', 60_000, async () =>
      handled === 2 ? true : `${handled} handled`,
    );
    await drained('removed');
    const text = await scrapeText(own.pullAddress!.port);
    assert.equal(value(text, 'jobmeter_run_started_total', { task: 'removed' }), 1);
    assert.equal(
      value(text, 'jobmeter_run_finished_total', { task: 'removed', outcome: 'success' }),
      1,
    );
  } finally {
    await other.stop({ graceful: false, timeout: 1000 }).catch(() => {});
    await own.shutdown();
  }
});

test('PostgreSQL goes away: scrapes still answer, the failed polls are counted', async () => {
  await pg.stop();
  void stop.pollDepth();
  await stop.pollDepth();
  const text = await scrapeText(port);
  assert.ok(value(text, 'jobmeter_queue_poll_failures_total') >= 1, text);
  assert.equal(samples(text, 'jobmeter_queue_poll_age_seconds').length, 1);
  await pg.start();
});

test('the returned function puts work and send back', () => {
  const b = new PgBoss({ connectionString: pg.url });
  const { work, send, sendThrottled } = b;
  const off = instrumentBoss(b, { jobmeter: jm, depthIntervalMillis: false });
  assert.notEqual(b.work, work);
  off();
  assert.equal(b.work, work);
  assert.equal(b.send, send);
  assert.equal(b.sendThrottled, sendThrottled);
  assert.equal(b.listenerCount('error'), 0);
});
