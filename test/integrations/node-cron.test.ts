/**
 * `jobmeter/node-cron` against node-cron 4's real scheduler (every second): executions that
 * succeed and fail, with node-cron's own startedAt → finishedAt as the duration, and executions it
 * refuses (noOverlap) as rejections. What the scrape says is checked against node-cron's own
 * events, counted by a listener of the test's.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import cron, { type ScheduledTask, type TaskContext } from 'node-cron';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { instrumentTask } from '../../src/integrations/node-cron.ts';
import { ConfigError } from '../../src/errors.ts';
import { scrapeText, value } from './scrape.ts';

/** node-cron logs every failed execution: these fail on purpose. */
const QUIET = { info() {}, warn() {}, error() {}, debug() {} };

let jm: Jobmeter;
let port: number;
const tasks: ScheduledTask[] = [];

before(async () => {
  jm = await createJobmeter({ serviceName: 'cron-test', listener: { port: 0 }, global: false });
  port = jm.pullAddress!.port;
});

after(async () => {
  for (const t of tasks) await t.destroy();
  await jm?.shutdown();
});

/** Resolves at the `n`th `event` of `task`, with every context seen so far. */
function nth(
  task: ScheduledTask,
  event: Parameters<ScheduledTask['on']>[0],
  n: number,
): Promise<TaskContext[]> {
  const seen: TaskContext[] = [];
  return new Promise((resolve) => {
    const on = (ctx: TaskContext): void => {
      seen.push(ctx);
      if (seen.length === n) {
        task.off(event, on);
        resolve(seen);
      }
    };
    task.on(event, on);
  });
}

test('executions that succeed and fail are runs timed by node-cron', async () => {
  let calls = 0;
  const task = cron.schedule(
    '* * * * * *',
    () => {
      calls++;
      if (calls % 2 === 0) throw new Error('even runs fail');
    },
    { name: 'tick', logger: QUIET },
  );
  tasks.push(task);
  const stop = instrumentTask(task, { jobmeter: jm });
  const finished = nth(task, 'execution:finished', 2);
  const failed = nth(task, 'execution:failed', 2);
  const [ok, bad] = await Promise.all([finished, failed]);
  await task.stop();
  stop();

  const text = await scrapeText(port);
  assert.equal(
    value(text, 'jobmeter_run_finished_total', {
      task: 'tick',
      runner: 'node-cron',
      outcome: 'success',
    }),
    ok.length,
  );
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'tick', outcome: 'failure' }),
    bad.length,
  );
  assert.equal(value(text, 'jobmeter_run_started_total', { task: 'tick' }), calls);
  assert.equal(value(text, 'jobmeter_run_active', { task: 'tick' }), 0);
  const took = [...ok, ...bad].reduce(
    (s, c) => s + (c.execution!.finishedAt!.getTime() - c.execution!.startedAt!.getTime()) / 1000,
    0,
  );
  assert.ok(
    Math.abs(value(text, 'jobmeter_run_duration_seconds_sum', { task: 'tick' }) - took) < 1e-9,
    "the duration is node-cron's startedAt → finishedAt",
  );
  const events = stop.snapshot().agentRunEvents!;
  assert.equal(events['completed'], ok.length);
  assert.equal(events['failed'], bad.length);
});

test("a scheduled execution's lateness runs from its slot to node-cron's startedAt, past its random delay, exact", async () => {
  const task = cron.schedule('* * * * * *', () => {}, {
    name: 'late',
    maxRandomDelay: 400,
    logger: QUIET,
  });
  tasks.push(task);
  const stop = instrumentTask(task, { jobmeter: jm });
  const done = await nth(task, 'execution:finished', 3);
  await task.stop();
  stop();
  const text = await scrapeText(port);
  // node-cron's own record of each execution: the slot it ran for, and when it started.
  const late = done.reduce(
    (s, c) => s + (c.execution!.startedAt!.getTime() - c.date.getTime()) / 1000,
    0,
  );
  const started = value(text, 'jobmeter_run_started_total', { task: 'late' });
  assert.equal(started, done.length);
  for (const family of ['jobmeter_schedule_lateness_seconds', 'jobmeter_queue_wait_seconds']) {
    assert.equal(value(text, `${family}_count`, { task: 'late' }), started, family);
    assert.equal(value(text, `${family}_sum`, { task: 'late' }), late, family);
  }
});

test('ticks missed while the process was busy are missed schedules (and missed rejections), as many as node-cron reports', async () => {
  const task = cron.schedule('* * * * * *', () => {}, { name: 'blocked', logger: QUIET });
  tasks.push(task);
  const stop = instrumentTask(task, { jobmeter: jm });
  const missed: TaskContext[] = [];
  task.on('execution:missed', (c) => void missed.push(c));
  const rejectedBefore = value(await scrapeText(port), 'jobmeter_request_rejected_total', {
    reason: 'missed',
  });
  await nth(task, 'execution:finished', 1);
  // Busy past node-cron's tolerance (1 s): the slots of those seconds are missed.
  const busyUntil = Date.now() + 3500;
  while (Date.now() < busyUntil);
  await nth(task, 'execution:finished', 1);
  await task.stop();
  stop();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(missed.length >= 1, 'node-cron reported missed slots');
  const text = await scrapeText(port);
  assert.equal(value(text, 'jobmeter_schedule_missed_total', { task: 'blocked' }), missed.length);
  assert.equal(
    value(text, 'jobmeter_request_rejected_total', { reason: 'missed' }) - rejectedBefore,
    missed.length,
  );
});

test('an execution refused by noOverlap is a rejection; the one still running is in flight', async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const task = cron.schedule('* * * * * *', () => held, {
    name: 'slow',
    noOverlap: true,
    logger: QUIET,
  });
  tasks.push(task);
  const stop = instrumentTask(task, { jobmeter: jm });
  await nth(task, 'execution:overlap', 2);
  const during = await scrapeText(port);
  assert.equal(
    value(during, 'jobmeter_run_active', { task: 'slow' }),
    1,
    'the held execution is in flight',
  );
  assert.equal(value(during, 'jobmeter_request_rejected_total', { reason: 'overlap' }), 2);
  const done = nth(task, 'execution:finished', 1);
  release();
  await done;
  await task.stop();
  stop();
  const text = await scrapeText(port);
  assert.equal(value(text, 'jobmeter_run_active', { task: 'slow' }), 0);
  assert.equal(value(text, 'jobmeter_run_finished_total', { task: 'slow', outcome: 'success' }), 1);
});

test('overlap without noOverlap is not a refusal: node-cron runs both', async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const task = cron.schedule('* * * * * *', () => held, { name: 'overlapping' });
  tasks.push(task);
  const rejectedBefore = value(await scrapeText(port), 'jobmeter_request_rejected_total', {
    reason: 'overlap',
  });
  const stop = instrumentTask(task, { jobmeter: jm });
  await nth(task, 'execution:overlap', 1);
  await nth(task, 'execution:started', 1);
  const text = await scrapeText(port);
  assert.ok(
    value(text, 'jobmeter_run_active', { task: 'overlapping' }) >= 2,
    'both executions in flight',
  );
  assert.equal(
    value(text, 'jobmeter_request_rejected_total', { reason: 'overlap' }),
    rejectedBefore,
  );
  release();
  await task.stop();
  stop();
});

test('instrumentTask twice on one task: a ConfigError naming it, and every execution one run', async () => {
  const task = cron.createTask('0 0 1 1 *', () => {}, { name: 'twice', logger: QUIET });
  tasks.push(task);
  const stop = instrumentTask(task, { jobmeter: jm });
  assert.throws(
    () => instrumentTask(task, { jobmeter: jm }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message.includes('task "twice"') &&
      /keep the function that call returned/.test(e.message),
  );
  for (let i = 0; i < 3; i++) await task.execute();
  stop();
  const again = instrumentTask(task, { jobmeter: jm });
  await task.execute();
  again();
  const text = await scrapeText(port);
  assert.equal(value(text, 'jobmeter_run_started_total', { task: 'twice' }), 4);
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'twice', outcome: 'success' }),
    4,
  );
});

test('bad options are one ConfigError naming the key', () => {
  const task = cron.createTask('* * * * *', () => {}, { name: 'idle' });
  assert.throws(
    () => instrumentTask(task, { jobmeter: {} as Jobmeter }),
    (e: unknown) => e instanceof ConfigError && e.key === 'instrumentTask.jobmeter',
  );
  assert.throws(
    () => instrumentTask(task, { jobmeter: jm, kind: '' }),
    (e: unknown) => e instanceof ConfigError && e.key === 'instrumentTask.kind',
  );
  return task.destroy();
});

test("an inline task is heard at its runner's hooks, not through listeners node-cron wraps in promises; stop() restores them", async () => {
  let fail = false;
  const task = cron.createTask(
    '0 0 1 1 *',
    () => {
      if (fail) throw new Error('invoked to fail');
    },
    { name: 'hooked', logger: QUIET },
  );
  tasks.push(task);
  const events = (task as unknown as { emitter: import('node:events').EventEmitter }).emitter;
  const perExecution = ['execution:started', 'execution:finished', 'execution:failed'] as const;
  const stop = instrumentTask(task, { jobmeter: jm });
  for (const event of perExecution) assert.equal(events.listenerCount(event), 0, event);
  const heard = nth(task, 'execution:finished', 1);
  await task.execute();
  fail = true;
  await task.execute().catch(() => {});
  await heard;
  stop();
  await task.execute().catch(() => {}); // after stop(): not recorded
  const text = await scrapeText(port);
  assert.equal(value(text, 'jobmeter_run_started_total', { task: 'hooked' }), 2);
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'hooked', outcome: 'success' }),
    1,
  );
  assert.equal(
    value(text, 'jobmeter_run_finished_total', { task: 'hooked', outcome: 'failure' }),
    1,
  );
  // Invoked, not scheduled: no slot to be late for.
  assert.equal(value(text, 'jobmeter_schedule_lateness_seconds_count', { task: 'hooked' }), 0);
  for (const event of [...perExecution, 'execution:missed'])
    assert.equal(events.listenerCount(event), 0, event);
});
