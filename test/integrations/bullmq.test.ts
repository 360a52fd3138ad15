/**
 * `jobmeter/bullmq` against a real Redis (Debian's redis-server, started here) and BullMQ 6:
 * jobs that succeed, fail, retry and stall (a worker in a child process SIGKILLed mid-job), and
 * the scrape's counts checked against what BullMQ itself keeps in Redis — each job's
 * attemptsStarted / attemptsMade, getMetrics, getJobCounts. Then Redis goes away: every scrape
 * still answers, the depth series go stale and the failed polls are counted.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  ConfigError,
  createJobmeter,
  createRecorder,
  JobmeterReader,
  type Jobmeter,
} from '../../src/index.ts';
import { instrumentWorker } from '../../src/integrations/bullmq.ts';
import type { Instrumentation } from '../../src/integrations/handle.ts';
import { scrapeText, scrapeUntil, samples, value } from './scrape.ts';
import { startRedis, type StoreHandle } from './stores.ts';

const QUEUE = 'emails';
const STALL_WORKER = fileURLToPath(new URL('./fixtures/bullmq-stall-worker.ts', import.meta.url));

let redis: StoreHandle;
let jm: Jobmeter;
let queue: Queue;
let worker: Worker;
let stop: Instrumentation;
let port: number;

const connection = (): { host: string; port: number; maxRetriesPerRequest: null } => ({
  host: '127.0.0.1',
  port: redis.port,
  maxRetriesPerRequest: null,
});

/** Polls `check` every 50 ms until it says true. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}

/** Resolves once `total` jobs are completed or failed for good, as BullMQ counts them in Redis. */
async function finishedJobs(total: number): Promise<void> {
  for (;;) {
    const c = await queue.getJobCounts('completed', 'failed');
    if (c['completed']! + c['failed']! >= total) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A jobmeter of its own, a Queue and a worker nobody runs (its jobs wait), and what closes them. */
async function idleQueue(name: string): Promise<{
  own: Jobmeter;
  q: Queue;
  w: Worker;
  close(): Promise<void>;
}> {
  const own = await createJobmeter({
    serviceName: `bullmq-${name}`,
    listener: { port: 0 },
    global: false,
  });
  const q = new Queue(name, { connection: connection() });
  const w = new Worker(name, null, { connection: connection(), autorun: false });
  return {
    own,
    q,
    w,
    async close() {
      await w.close();
      await q.obliterate({ force: true });
      await q.close();
      await own.shutdown();
    },
  };
}

before(async () => {
  redis = await startRedis();
  jm = await createJobmeter({ serviceName: 'bullmq-test', listener: { port: 0 }, global: false });
  port = jm.pullAddress!.port;
  queue = new Queue(QUEUE, { connection: connection() });
  queue.on('error', () => {}); // the outage below is on purpose
  worker = new Worker(
    QUEUE,
    async (job) => {
      if (job.name === 'fail') throw new Error(`job ${job.id} failed`);
      if (job.name === 'flaky' && job.attemptsMade === 0) throw new Error('first attempt fails');
      if (job.name === 'retried' && job.attemptsMade < 2) throw new Error('two attempts fail');
      if (job.name === 'limited' && job.attemptsStarted === 1) {
        // The processor refuses under a rate limit: BullMQ hands the job back, with no event.
        // The path under test: BullMQ's rate limit as a processor sets it (deprecated, still served).
        // eslint-disable-next-line @typescript-eslint/no-deprecated
        await worker.rateLimit(200);
        throw Worker.RateLimitError();
      }
      return 'ok';
    },
    {
      connection: connection(),
      autorun: false,
      stalledInterval: 300,
      metrics: { maxDataPoints: 60 },
    },
  );
  // The depth is read when the test says (pollDepth), not on a timer.
  stop = instrumentWorker(worker, { jobmeter: jm, task: 'name', depthIntervalMillis: 3_600_000 });
});

after(async () => {
  stop?.();
  await worker?.close(true).catch(() => {});
  await queue?.close().catch(() => {});
  await jm?.shutdown();
  await redis?.remove();
});

test('a stalled job: its worker is killed mid-job, the next worker records the stall as a timeout and runs it again', async () => {
  await queue.add('stall', {});
  const child = spawn(process.execPath, [STALL_WORKER, String(redis.port), QUEUE], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: string) => {
      out += c;
      if (out.includes('started')) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`stall worker exited (${code}) before taking the job`)),
    );
  });
  child.kill('SIGKILL');
  await once(child, 'exit');

  const stalled = once(worker, 'stalled');
  void worker.run();
  await stalled;
  await finishedJobs(1);
  const text = await scrapeText(port);
  assert.equal(
    value(text, 'jobmeter_run_finished_total', {
      task: 'stall',
      outcome: 'timeout',
      runner: 'bullmq',
    }),
    1,
    text,
  );
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'stall', outcome: 'success' }),
    1,
  );
});

test('success, failure and retries: the scrape counts the attempts BullMQ recorded in Redis', async () => {
  const jobs = [
    ...['ok', 'ok', 'ok'].map((name) => ({ name, data: {} })),
    { name: 'fail', data: {} },
    { name: 'fail', data: {}, opts: { attempts: 3 } },
    { name: 'flaky', data: {}, opts: { attempts: 2 } },
  ];
  await queue.addBulk(jobs);
  await finishedJobs(1 + jobs.length);

  const completedJobs = await queue.getJobs(['completed']);
  const failedJobs = await queue.getJobs(['failed']);
  const all = [...completedJobs, ...failedJobs];
  const text = await scrapeText(port);
  for (const name of ['ok', 'fail', 'flaky', 'stall']) {
    const mine = all.filter((j) => j.name === name);
    const attemptsStarted = mine.reduce((s, j) => s + j.attemptsStarted, 0);
    // A finished attempt is counted in attemptsMade; a stalled one only in attemptsStarted.
    const failedAttempts = mine.reduce(
      (s, j) => s + (failedJobs.includes(j) ? j.attemptsMade : j.attemptsMade - 1),
      0,
    );
    const stalled = attemptsStarted - mine.reduce((s, j) => s + j.attemptsMade, 0);
    assert.equal(
      value(text, 'jobmeter_run_started_total', { task: name }),
      attemptsStarted,
      `${name}: started = BullMQ's attemptsStarted`,
    );
    assert.equal(
      value(text, 'jobmeter_run_finished_total', { task: name, outcome: 'failure' }),
      failedAttempts,
      `${name}: failures = failed attempts`,
    );
    assert.equal(
      value(text, 'jobmeter_run_finished_total', { task: name, outcome: 'timeout' }),
      stalled,
      `${name}: timeouts = stalled attempts`,
    );
    assert.equal(
      value(text, 'jobmeter_run_finished_total', { task: name, outcome: 'success' }),
      mine.filter((j) => completedJobs.includes(j)).length,
    );
  }
  const counts = await queue.getJobCounts('completed', 'failed');
  const completed = await queue.getMetrics('completed');
  const failed = await queue.getMetrics('failed');
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { outcome: 'success' }),
    counts['completed'],
  );
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { outcome: 'success' }),
    completed.meta.count,
    "success = getMetrics('completed')",
  );
  assert.equal(counts['failed'], failed.meta.count);
  assert.equal(value(text, 'jobmeter_run_active'), 0, 'nothing in flight');
  // Durations are BullMQ's processedOn → finishedOn: one observation per finished attempt.
  assert.equal(
    value(text, 'jobmeter_run_duration_seconds_count'),
    value(text, 'jobmeter_run_finished_total'),
  );
});

test("queue wait and lateness are BullMQ's processedOn less the job's timestamp (and its delay), exact; the attempt is attemptsMade + 1", async () => {
  const before = await queue.getJobCounts('completed', 'failed');
  // The producer's clock, given to BullMQ as the job's timestamp: added two minutes ago, and one
  // job with a delay that ended a minute ago (it waited from then, not from when it was added).
  const added = Date.now() - 120_000;
  await queue.add('waited', {}, { timestamp: added });
  await queue.add('delayed', {}, { timestamp: added, delay: 60_000 });
  await queue.add('retried', {}, { attempts: 3 });
  await finishedJobs(before['completed']! + before['failed']! + 3);
  const done = await queue.getJobs(['completed']);
  const job = (name: string) => done.find((j) => j.name === name)!;
  const text = await scrapeText(port);
  const histogram = (family: string, task: string) => ({
    sum: value(text, `${family}_sum`, { task }),
    count: value(text, `${family}_count`, { task }),
  });
  const waited = job('waited');
  assert.deepEqual(histogram('jobmeter_queue_wait_seconds', 'waited'), {
    sum: (waited.processedOn! - waited.timestamp) / 1000,
    count: 1,
  });
  assert.equal(histogram('jobmeter_schedule_lateness_seconds', 'waited').count, 0, 'no delay');
  const delayed = job('delayed');
  const due = delayed.timestamp + delayed.opts.delay!;
  assert.equal(due, added + 60_000);
  for (const family of ['jobmeter_queue_wait_seconds', 'jobmeter_schedule_lateness_seconds'])
    assert.deepEqual(
      histogram(family, 'delayed'),
      { sum: (delayed.processedOn! - due) / 1000, count: 1 },
      family,
    );
  // Only the first start has a ready time in BullMQ's record: a retry records no wait.
  assert.equal(histogram('jobmeter_queue_wait_seconds', 'retried').count, 1);
  assert.equal(job('retried').attemptsMade, 3);
  const attempts = (attempt: string, outcome: string) =>
    value(text, 'jobmeter_run_attempts_total', { task: 'retried', attempt, outcome });
  assert.deepEqual(
    [attempts('1', 'failure'), attempts('2', 'failure'), attempts('3', 'success')],
    [1, 1, 1],
  );
  assert.equal(attempts('1', 'success') + attempts('2', 'success'), 0);
});

test("the oldest waiting job's age: now less when the next job in line became ready (wait, prioritized, or a due delayed job), from BullMQ's record", async (t) => {
  const name = 'aged';
  // An injected clock: BullMQ and jobmeter read the same fixed now.
  const now = Date.now();
  t.mock.method(Date, 'now', () => now);
  const { own, q, w, close } = await idleQueue(name);
  await q.add('first', {}, { timestamp: now - 50_000 });
  await q.add('later', {}, { timestamp: now - 10_000 });
  await q.add('urgent', {}, { timestamp: now - 30_000, priority: 1 });
  // Due 80 s ago: no worker asked for a job since, so BullMQ has not moved it out of `delayed`.
  const due = await q.add('due', {}, { timestamp: now - 200_000, delay: 120_000 });
  await q.add('future', {}, { delay: 3_600_000 });
  const off = instrumentWorker(w, { jobmeter: own, depthIntervalMillis: 100 });
  const at = own.pullAddress!.port;
  const age = (seconds: number) =>
    scrapeUntil(at, 'jobmeter_queue_oldest_age_seconds', { queue: name }, seconds, 3000);
  try {
    const stored = (await q.getJob(due.id!))!;
    await age((now - (stored.timestamp + stored.opts.delay!)) / 1000);
    await due.remove();
    await age(50); // the wait list's next in line
    await (await q.getJobs(['wait'])).find((j) => j.name === 'first')!.remove();
    await age(30); // the prioritized job, older than the wait list's next
    await q.drain();
    // Only a delayed job not yet due: the queue is served, at 0.
    const none = await age(0);
    assert.equal(samples(none, 'jobmeter_queue_oldest_age_seconds', { queue: name }).length, 1);
  } finally {
    off();
    await close();
  }
});

test('a job handed back under a rate limit is a rejection, and its refused attempt leaves flight', async () => {
  const before = await queue.getJobCounts('completed', 'failed');
  await queue.add('limited', {});
  await finishedJobs(before['completed']! + before['failed']! + 1);
  const [job] = (await queue.getJobs(['completed'])).filter((j) => j.name === 'limited');
  const text = await scrapeText(port);
  assert.equal(value(text, 'jobmeter_request_rejected_total', { reason: 'rate_limit' }), 1);
  assert.equal(
    value(text, 'jobmeter_run_started_total', { task: 'limited' }),
    job!.attemptsStarted,
    "started = BullMQ's attemptsStarted",
  );
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'limited', outcome: 'cancelled' }),
    1,
    'the refused attempt',
  );
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'limited', outcome: 'success' }),
    1,
  );
  assert.equal(value(text, 'jobmeter_run_active', { task: 'limited' }), 0);
});

test('queue depth by state equals getJobCounts, read from one cached poll', async () => {
  await worker.pause();
  await queue.add('ok', {}, { delay: 3_600_000 });
  await queue.addBulk([
    { name: 'ok', data: {} },
    { name: 'ok', data: {} },
    { name: 'ok', data: {}, opts: { priority: 5 } },
  ]);
  const pollsBefore = stop.depthPolls;
  await stop.pollDepth();
  assert.equal(stop.depthPolls, pollsBefore + 1);
  const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
  const text = await scrapeText(port);
  const depth = (state: string): number =>
    value(text, 'jobmeter_queue_jobs', { queue: QUEUE, state });
  assert.equal(depth('waiting'), c['waiting']! + c['prioritized']!);
  assert.equal(depth('waiting'), 3);
  assert.equal(depth('delayed'), c['delayed']);
  assert.equal(depth('active'), c['active']);
  assert.equal(depth('failed'), c['failed']);
  // Scrapes read the cache: three more scrapes send no more reads.
  for (let i = 0; i < 3; i++) await scrapeText(port);
  assert.equal(stop.depthPolls, pollsBefore + 1);
  // crewshipd's aggregates from the same poll.
  assert.deepEqual(stop.snapshot().queue, { depth: 4, groups: 1, depthMax: 4 });
});

test('Redis goes away: scrapes still answer, the depth goes stale, the failed polls and the worker errors are counted', async () => {
  const good = await scrapeText(port);
  const depthBefore = samples(good, 'jobmeter_queue_jobs').map((s) => [s.labels, s.value]);
  await redis.stop();
  const errors = new Promise<void>((resolve) => worker.once('error', () => resolve()));
  // The first read hangs on the lost connection (or fails); the next interval finds it still out.
  void stop.pollDepth();
  void stop.pollDepth();
  await errors;
  const text = await scrapeText(port);
  assert.deepEqual(
    samples(text, 'jobmeter_queue_jobs').map((s) => [s.labels, s.value]),
    depthBefore,
    'the last good counts, not new ones',
  );
  assert.ok(value(text, 'jobmeter_queue_poll_failures_total') >= 1, text);
  assert.equal(
    samples(text, 'jobmeter_queue_poll_age_seconds').length,
    1,
    'the age of the counts is served',
  );
  assert.ok(
    value(text, 'jobmeter_runner_error_total', { runner: 'bullmq' }) >= 1,
    "the worker's error events are runner errors",
  );
  // Back again: the next poll serves the depth again.
  await redis.start();
  await stop.pollDepth();
  await stop.pollDepth();
  const back = await scrapeText(port);
  const c = await queue.getJobCounts('waiting', 'prioritized');
  assert.equal(
    value(back, 'jobmeter_queue_jobs', { state: 'waiting' }),
    c['waiting']! + c['prioritized']!,
    'read again once Redis is back',
  );
  assert.ok(
    value(back, 'jobmeter_queue_poll_age_seconds') <=
      value(text, 'jobmeter_queue_poll_age_seconds'),
    'the age starts again from the new read',
  );
});

test("on a host's own Meter: createRecorder's recorder and that Meter, read by a JobmeterReader", async () => {
  const reader = new JobmeterReader({ listener: { port: 0 } });
  const provider = new MeterProvider({ readers: [reader] });
  await reader.ready;
  const meter = provider.getMeter('jobmeter');
  const host = createRecorder(meter);
  const w = new Worker(QUEUE, async () => 'ok', { connection: connection(), autorun: false });
  assert.throws(
    () => instrumentWorker(w, { jobmeter: host }),
    (e: unknown) => e instanceof ConfigError && e.key === 'instrumentWorker.meter',
  );
  const off = instrumentWorker(w, { jobmeter: host, meter, depthIntervalMillis: 3_600_000 });
  try {
    void w.run();
    const before = (await queue.getJobCounts('completed'))['completed']!;
    await queue.add('ok', {});
    await finishedJobs(before + 1 + (await queue.getJobCounts('failed'))['failed']!);
    await off.pollDepth();
    const text = await scrapeText(reader.pullAddress!.port);
    assert.ok(
      value(text, 'jobmeter_run_finished_total', {
        task: QUEUE,
        outcome: 'success',
        runner: 'bullmq',
      }) >= 1,
      text,
    );
    assert.equal(samples(text, 'jobmeter_queue_jobs', { queue: QUEUE }).length, 4);
  } finally {
    off();
    await w.close();
    await provider.shutdown();
  }
});

test('instrumentWorker twice on one worker: a ConfigError naming it, and every job one run; once removed, it can be instrumented again', async () => {
  const name = 'twice';
  const q = new Queue(name, { connection: connection() });
  const w = new Worker(name, async () => 'ok', { connection: connection(), autorun: false });
  const first = instrumentWorker(w, { jobmeter: jm, depthIntervalMillis: false });
  try {
    assert.throws(
      () => instrumentWorker(w, { jobmeter: jm, depthIntervalMillis: false }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.includes('Worker "twice"') &&
        /keep the function that call returned/.test(e.message),
    );
    void w.run();
    await q.addBulk(Array.from({ length: 5 }, () => ({ name: 'ok', data: {} })));
    await until(async () => (await q.getJobCounts('completed'))['completed'] === 5);
    assert.equal(
      value(await scrapeText(port), 'jobmeter_run_finished_total', {
        task: name,
        outcome: 'success',
      }),
      5,
    );
  } finally {
    first();
  }
  const again = instrumentWorker(w, { jobmeter: jm, depthIntervalMillis: false });
  again();
  await w.close();
  await q.close();
});

test('a worker instrumented while it runs: the jobs it takes from then on are runs', async () => {
  const name = 'running';
  const q = new Queue(name, { connection: connection() });
  const w = new Worker(name, async () => 'ok', { connection: connection() });
  try {
    await q.addBulk(Array.from({ length: 3 }, () => ({ name: 'ok', data: {} })));
    await until(async () => (await q.getJobCounts('completed'))['completed'] === 3);
    const off = instrumentWorker(w, { jobmeter: jm, depthIntervalMillis: false });
    await q.addBulk(Array.from({ length: 4 }, () => ({ name: 'ok', data: {} })));
    await until(async () => (await q.getJobCounts('completed'))['completed'] === 7);
    off();
    const text = await scrapeText(port);
    assert.equal(value(text, 'jobmeter_run_started_total', { task: name }), 4);
    assert.equal(value(text, 'jobmeter_run_finished_total', { task: name, outcome: 'success' }), 4);
  } finally {
    await w.close();
    await q.close();
  }
});

test('50 jobs queued show in the depth within two poll intervals (one getJobCounts script over the Redis keys)', async () => {
  const name = 'backlog';
  const interval = 1000;
  const { own, w, q, close } = await idleQueue(name);
  const off = instrumentWorker(w, { jobmeter: own, depthIntervalMillis: interval });
  const at = own.pullAddress!.port;
  try {
    await scrapeUntil(
      at,
      'jobmeter_queue_jobs',
      { queue: name, state: 'waiting' },
      0,
      2 * interval,
    );
    await q.addBulk(Array.from({ length: 50 }, () => ({ name: 'ok', data: {} })));
    const text = await scrapeUntil(
      at,
      'jobmeter_queue_jobs',
      { queue: name, state: 'waiting' },
      50,
      2 * interval,
    );
    assert.ok(
      value(text, 'jobmeter_queue_poll_age_seconds') < (2 * interval) / 1000,
      'the counts served are from a read sent since the jobs were queued',
    );
  } finally {
    off();
    await close();
  }
});

test('the returned function removes every listener it added', () => {
  const w = new Worker('idle', null, { connection: connection(), autorun: false });
  const before = w.eventNames().map((e) => [e, w.listenerCount(e)]);
  const off = instrumentWorker(w, { jobmeter: jm, depthIntervalMillis: false });
  assert.ok(w.listenerCount('active') > 0);
  off();
  assert.deepEqual(
    w.eventNames().map((e) => [e, w.listenerCount(e)]),
    before,
  );
  return w.close();
});
