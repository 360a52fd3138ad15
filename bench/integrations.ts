/**
 * What a job library integration costs (src/integrations/):
 *
 * - Per job: a job's events, emitted as the library emits them, with the integration listening —
 *   BullMQ's `active` + `completed`, node-cron's runner hooks `onMatch` + `onFinished` (node-cron's
 *   own bodies, which build the contexts and emit the events, are no-ops in both rows),
 *   graphile-worker's `job:start` + `job:success` — against the same events with no listener
 *   and the run recorded by hand (`jm.startRun(…)`, `run.finish('success', { durationSeconds })`),
 *   as a processor instrumented by hand would. 8 tasks in rotation. The emitters are the libraries'
 *   own classes where they need no store (node-cron's task, graphile-worker's events emitter is a
 *   Node EventEmitter); BullMQ's Worker needs Redis to exist, so its events go through an
 *   EventEmitter with the Worker's name (the listeners are what is measured, not Redis).
 * - Per minute: the store round trips of the depth poll at its default interval, counted on a real
 *   Redis (`INFO commandstats`, calls before and after) and, for pg-boss, as statements its
 *   database adapter sends; graphile-worker's poll is one statement by construction.
 */
import { EventEmitter } from 'node:events';
import type { Queue, Worker } from 'bullmq';
import cron from 'node-cron';
import type { WorkerEvents } from 'graphile-worker';
import type { Jobmeter, StartDetails } from '../src/index.ts';
import { instrumentWorker } from '../src/integrations/bullmq.ts';
import { instrumentTask } from '../src/integrations/node-cron.ts';
import { instrumentRunner } from '../src/integrations/graphile-worker.ts';
import { DEFAULT_DEPTH_INTERVAL_MILLIS } from '../src/integrations/job-runs.ts';
import { benchJobmeter } from './contenders.ts';
import { cli, isMain, markdownTable, num, type Scenario } from './harness.ts';
import {
  expectTotals,
  hotPathJob,
  hotPathParams,
  hotPathTable,
  jobmeterTotals,
  measureHotPath,
  opsRecorded,
  TASKS,
  type HotPathArg,
  type HotPathParams,
  type HotPathResult,
} from './hot-path.ts';

type Arg = HotPathArg;
type Result = HotPathResult & { readonly callsPerPoll?: number; readonly commandsPerPoll?: number };

const LIBRARIES = ['bullmq', 'node-cron', 'graphile-worker'] as const;
type Library = (typeof LIBRARIES)[number];
const EMITS: Record<Library, string> = {
  bullmq: "worker.emit('active', job); worker.emit('completed', job, r, 'active')",
  'node-cron':
    "runner.onMatch(date, execution); runner.onFinished(date, execution) (node-cron's bodies: no-ops)",
  'graphile-worker': "events.emit('job:start', { job }); events.emit('job:success', { job })",
};
const perJob = (p: HotPathParams) =>
  LIBRARIES.flatMap((lib) => [
    hotPathJob(
      `${lib}-hand`,
      `${lib}, by hand`,
      `the same emits, unheard; jm.startRun({ task }, details); run.finish('success', { durationSeconds })`,
      p,
    ),
    hotPathJob(lib, `jobmeter/${lib}`, EMITS[lib], p),
  ]);

/** Job objects as the libraries hand them out: ids, names and their own timestamps. */
function bullJob(i: number) {
  return {
    id: String(i),
    name: TASKS[i & 7]!,
    timestamp: 900,
    opts: {},
    attemptsMade: 0,
    attemptsStarted: 1,
    processedOn: 1000,
    finishedOn: 1250,
  };
}

/** What each integration gives `startRun` for those jobs, given by hand in the by-hand rows. */
const DETAILS: Record<Library, StartDetails> = {
  bullmq: { enqueuedAt: 900, startedAt: 1000, attempt: 1 },
  'node-cron': { scheduledAt: new Date(1000), startedAt: new Date(1000) },
  'graphile-worker': { enqueuedAt: new Date(900), startedAt: new Date(1000), attempt: 1 },
};

/** One job's events as `lib` emits them; `instrument` attaches the integration (else nothing listens). */
function emitter(
  lib: Library,
  jm: Jobmeter,
  instrument: boolean,
): { emitJob(i: number, between?: () => void): void; close(): Promise<void> } {
  switch (lib) {
    case 'bullmq': {
      const worker = Object.assign(new EventEmitter(), {
        name: 'emails',
        opts: {},
      }) as unknown as Worker;
      const queue = { on() {}, getJob: async () => undefined } as unknown as Queue;
      if (instrument) instrumentWorker(worker, { jobmeter: jm, queue, depthIntervalMillis: false });
      return {
        emitJob(i, between) {
          const job = bullJob(i);
          worker.emit('active', job as never, 'waiting');
          between?.();
          worker.emit('completed', job as never, 'ok', 'active');
        },
        close: async () => {},
      };
    }
    case 'node-cron': {
      const task = cron.createTask('0 0 1 1 *', () => {}, { name: 'emails' });
      // The hooks node-cron's runner calls around each execution. Their own bodies (a context with
      // Intl-formatted dates for each event) are what node-cron costs with or without jobmeter: no-ops
      // in both rows, so what differs is jobmeter's part.
      const runner = (
        task as unknown as {
          runner: {
            onMatch(d: Date, e: unknown): unknown;
            onFinished(d: Date, e: unknown): unknown;
          };
        }
      ).runner;
      runner.onMatch = () => true;
      runner.onFinished = () => true;
      if (instrument) instrumentTask(task, { jobmeter: jm });
      const startedAt = new Date(1000);
      const finishedAt = new Date(1250);
      return {
        emitJob(i, between) {
          const execution = { id: String(i), reason: 'scheduled', startedAt, finishedAt };
          runner.onMatch(startedAt, execution);
          between?.();
          runner.onFinished(startedAt, execution);
        },
        close: async () => {
          await task.destroy();
        },
      };
    }
    case 'graphile-worker': {
      const events = new EventEmitter() as unknown as WorkerEvents;
      if (instrument) instrumentRunner(events, { jobmeter: jm });
      return {
        emitJob(i, between) {
          const job = {
            id: String(i),
            attempts: 1,
            task_identifier: 'emails',
            created_at: new Date(900),
            run_at: new Date(900),
            locked_at: new Date(1000),
          };
          events.emit('job:start', { job } as never);
          between?.();
          events.emit('job:success', { job } as never);
        },
        close: async () => {},
      };
    }
  }
}

async function measureJob(arg: Arg): Promise<Result> {
  const jm: Jobmeter = await benchJobmeter([]);
  const byHand = arg.id.endsWith('-hand');
  const lib = (byHand ? arg.id.slice(0, -'-hand'.length) : arg.id) as Library;
  const e = emitter(lib, jm, !byHand);
  let run: ReturnType<Jobmeter['startRun']> | undefined;
  const start = (): void => {
    run = jm.startRun({ task: 'emails' }, DETAILS[lib]);
  };
  const result = byHand
    ? measureHotPath(arg, (i) => {
        e.emitJob(i, start);
        run!.finish('success', { durationSeconds: 0.25 });
      })
    : measureHotPath(arg, (i) => e.emitJob(i));
  await e.close();
  expectTotals(arg.id, await jobmeterTotals(jm, 'jobmeter_run_finished_total'), {
    total: opsRecorded(arg),
    series: 1,
  });
  return result;
}

/** Redis commands one BullMQ depth poll sends, from a real redis-server's commandstats. */
async function bullmqCallsPerPoll(): Promise<{ sent: number; ran: number }> {
  const { startRedis } = await import('../test/integrations/stores.ts');
  const { Queue: BullQueue } = await import('bullmq');
  const redis = await startRedis();
  const jm = await benchJobmeter([]);
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const queue = new BullQueue('emails', { connection });
  const { Redis } = await import('ioredis');
  const client = new Redis({ host: '127.0.0.1', port: redis.port });
  await queue.getJobCounts(); // scripts loaded, connection ready
  // Commands sent by a client (round trips, scripts counted once) and every command Redis ran.
  const calls = async (): Promise<{ sent: number; ran: number }> => {
    const info = await client.info('commandstats');
    const count = (m: RegExpMatchArray) => Number(/calls=(\d+)/.exec(m[0])![1]);
    const all = [...info.matchAll(/^cmdstat_(\w+):.*$/gm)];
    const scripted = all
      .filter((m) => m[1] === 'evalsha' || m[1] === 'eval')
      .reduce((s, m) => s + count(m), 0);
    return { sent: scripted, ran: all.reduce((s, m) => s + count(m), 0) };
  };
  const worker = Object.assign(new EventEmitter(), {
    name: 'emails',
    opts: { connection },
  }) as unknown as Worker;
  const stop = instrumentWorker(worker, { jobmeter: jm, queue, depthIntervalMillis: 3_600_000 });
  await stop.pollDepth(); // the first poll, sent by instrumentWorker itself
  const polls = 50;
  const before = await calls();
  for (let i = 0; i < polls; i++) await stop.pollDepth();
  // The INFO that read `before` is in the second count (a command counts once it has run).
  const after = await calls();
  const per = {
    sent: (after.sent - before.sent) / polls,
    ran: (after.ran - before.ran - 1) / polls,
  };
  stop();
  client.disconnect();
  await queue.close();
  await jm.shutdown();
  await redis.remove();
  return per;
}

/** Statements one pg-boss depth poll sends, counted at its database adapter. */
async function pgBossCallsPerPoll(): Promise<number> {
  const { startPostgres } = await import('../test/integrations/stores.ts');
  const { PgBoss } = await import('pg-boss');
  const { instrumentBoss } = await import('../src/integrations/pg-boss.ts');
  const pg = await startPostgres();
  const jm = await benchJobmeter([]);
  const boss = new PgBoss({ connectionString: pg.url, supervise: false, schedule: false });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('emails');
  const db = boss.getDb() as { executeSql(...a: unknown[]): Promise<unknown> };
  let statements = 0;
  const execute = db.executeSql.bind(db);
  db.executeSql = (...a: unknown[]) => {
    statements++;
    return execute(...a);
  };
  const stop = instrumentBoss(boss, {
    jobmeter: jm,
    queues: ['emails'],
    depthIntervalMillis: 3_600_000,
  });
  await stop.pollDepth();
  const polls = 50;
  statements = 0;
  for (let i = 0; i < polls; i++) await stop.pollDepth();
  const per = statements / polls;
  stop();
  await boss.stop({ graceful: true, close: true, timeout: 5000 });
  await jm.shutdown();
  await pg.remove();
  return per;
}

const storeJobs = (p: HotPathParams) => [
  hotPathJob('poll-bullmq', 'jobmeter/bullmq', 'queue.getJobCounts(…)', p),
  hotPathJob('poll-pg-boss', 'jobmeter/pg-boss', 'count(*) … from pgboss.job', p),
];

export const scenario: Scenario<HotPathParams, Arg, Result> = {
  name: 'integrations',
  title: 'Job libraries: per-job cost and depth-poll round trips',
  params: hotPathParams,
  processes: (p) => p.processes,
  jobs: (p) => [...perJob(p), ...storeJobs(p)],
  async measure(arg) {
    if (arg.id === 'poll-bullmq') {
      const { sent, ran } = await bullmqCallsPerPoll();
      return { ns: [], callsPerPoll: sent, commandsPerPoll: ran };
    }
    if (arg.id === 'poll-pg-boss') return { ns: [], callsPerPoll: await pgBossCallsPerPoll() };
    return measureJob(arg);
  },
  table(p, results) {
    const perMinute = 60_000 / DEFAULT_DEPTH_INTERVAL_MILLIS;
    const rows = storeJobs(p).map((j) => {
      const r = results.get(j.id)![0]!;
      const per = r.callsPerPoll!;
      const ran =
        r.commandsPerPoll === undefined
          ? ''
          : ` (Redis runs ${num(r.commandsPerPoll, 0)} commands in the script)`;
      return [j.arg.contender, '`' + j.arg.call + '`' + ran, num(per, 1), num(per * perMinute, 1)];
    });
    rows.push([
      'jobmeter/graphile-worker',
      'one `select … from graphile_worker.jobs group by task_identifier`',
      '1',
      num(perMinute, 1),
    ]);
    const polls = markdownTable(
      [
        'integration',
        'depth poll',
        'round trips a poll',
        `a minute (every ${DEFAULT_DEPTH_INTERVAL_MILLIS / 1000} s)`,
      ],
      rows,
      ['l', 'l', 'r', 'r'],
    );
    const tables = LIBRARIES.map((lib) =>
      hotPathTable(
        p,
        perJob(p).filter((j) => j.id.startsWith(lib)),
        results,
        `${lib}-hand`,
        lib === LIBRARIES.at(-1),
      ),
    );
    return (
      tables.join('\n\n') +
      '\n\n' +
      polls +
      "\n\nRound trips counted on a real Redis (`INFO commandstats`: one EVALSHA a poll) and at pg-boss's database adapter, over 50 polls; a scrape sends none."
    );
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
