/**
 * `jobmeter/bullmq`: a BullMQ Worker on jobmeter's domain API in one call.
 *
 *   import { instrumentWorker } from 'jobmeter/bullmq';
 *   const stop = instrumentWorker(worker, { jobmeter: jm });
 *
 * Each attempt is a run: `active` starts it, `completed` / `failed` end it with BullMQ's own
 * timestamps (processedOn → finishedOn); a failed attempt BullMQ retries is a `failure` like the
 * last one (retries show as more runs than jobs); an aborted job is `cancelled`; a `stalled` job
 * (its worker died or hung past the lock) is a `timeout`, recorded by the worker that found it.
 * A job handed back without an outcome (a `RateLimitError`) is counted as rejected (`rate_limit`)
 * when the worker takes it again. The worker's `error` events are runner errors. Queue depth by
 * state comes from one `getJobCounts` per interval, the oldest waiting job's age from one script
 * per interval. A job's first attempt carries its queue wait (and, delayed, its lateness) from
 * BullMQ's own record: `timestamp`, `opts.delay`, `processedOn`; every attempt its number,
 * `attemptsMade + 1`. With BullMQ's tracing (bullmq-otel), a run's exemplar is its job's `process`
 * span.
 */
import { context } from '@opentelemetry/api';
import { Queue, type Job, type RedisClient, type Worker } from 'bullmq';
import type { OldestWaiting, StartDetails } from '../domain/recorder.ts';
import type { Outcome } from '../domain/types.ts';
import {
  checkOptions,
  errorKind,
  JobRuns,
  secondsBetween,
  type IntegrationOptions,
} from './job-runs.ts';
import { instrumentation, listen, refuseSecond, type Instrumentation } from './handle.ts';
import type { DepthCounts } from './queue-depth.ts';

export type { Instrumentation, IntegrationOptions };

/** {@link instrumentWorker}'s options: where it records, and the Queue the depth is read from. */
export interface BullMQOptions extends IntegrationOptions {
  /**
   * The Queue the depth is read from and stalled jobs are looked up in. @default one made on the
   * worker's connection options (closed when the instrumentation is removed)
   */
  readonly queue?: Queue;
}

/** The error BullMQ throws for a job its processor hands back under a rate limit (bullmq's RATE_LIMIT_ERROR). */
const RATE_LIMIT_ERROR = 'bullmq:rateLimitExceeded';

/** The states asked of Redis: BullMQ keeps prioritized jobs apart from waiting ones; both are waiting. */
const COUNT_TYPES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

/**
 * What BullMQ's record says about an attempt as it starts. Only a job's first start has a ready
 * time there: `timestamp` (when it was added) and `opts.delay` (BullMQ zeroes the job's `delay`
 * when it promotes it, so the option is the one that stays). A failed or stalled attempt puts the
 * job back with no time kept (`processedOn` is overwritten by the next start), so a later start
 * says only its attempt. The attempt is BullMQ's: `attemptsMade` counts finished attempts (what
 * `attempts` limits), so a stalled attempt's rerun is the same attempt again.
 */
function startDetails(job: Job): StartDetails {
  const attempt = job.attemptsMade + 1;
  if (job.attemptsStarted !== 1) return { attempt };
  const delay = job.opts.delay;
  return {
    enqueuedAt: job.timestamp,
    scheduledAt: typeof delay === 'number' && delay > 0 ? job.timestamp + delay : undefined,
    startedAt: job.processedOn,
    attempt,
  };
}

/**
 * One read of the queue's next jobs in line, as BullMQ hands them out: the tail of `wait`, the
 * head of `prioritized` (each job's timestamp, options, starts and last start), and the first
 * `delayed` score (its due time × 0x1000: a due job no worker has promoted yet waits too). O(log n).
 */
const OLDEST_SCRIPT = `
local function fields(id)
  if not id then return {} end
  return redis.call('HMGET', ARGV[1] .. id, 'timestamp', 'opts', 'ats', 'processedOn')
end
local w = redis.call('LINDEX', KEYS[1], -1)
if w and string.sub(w, 1, 2) == '0:' then w = redis.call('LINDEX', KEYS[1], -2) end
local p = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
local d = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')[2]
return { fields(w), fields(p), d or false }
`;
const OLDEST_COMMAND = 'jobmeterOldestWaiting';
const DEFINED = new WeakSet<RedisClient>();

/**
 * When a job in line became ready, from its fields: added plus its delay; for a job put back by a
 * failed or stalled attempt, no earlier than that attempt's start (BullMQ keeps no time it was put
 * back, so its age reads up to that attempt's run and backoff too old).
 */
function readyAt(fields: readonly (string | null)[]): number | undefined {
  const [timestamp, opts, starts, processedOn] = fields;
  const added = Number(timestamp);
  if (timestamp == null || !Number.isFinite(added)) return undefined;
  let delay = 0;
  try {
    const d = (JSON.parse(opts ?? '{}') as { delay?: unknown }).delay;
    if (typeof d === 'number' && d > 0) delay = d;
  } catch {
    // Options BullMQ cannot have written: the job counts from when it was added.
  }
  const last = Number(starts) > 0 ? Number(processedOn) : NaN;
  return Number.isFinite(last) ? Math.max(added + delay, last) : added + delay;
}

/** The oldest ready time of `queue`'s jobs in line (undefined: none waits), by one script. */
async function oldestReady(queue: Queue, now: number): Promise<number | undefined> {
  const client = await queue.getBackend().client;
  if (!DEFINED.has(client)) {
    client.defineCommand(OLDEST_COMMAND, { numberOfKeys: 3, lua: OLDEST_SCRIPT, readOnly: true });
    DEFINED.add(client);
  }
  const [wait, prioritized, delayedScore] = (await client.runCommand(OLDEST_COMMAND, [
    queue.keys.wait,
    queue.keys.prioritized,
    queue.keys.delayed,
    queue.toKey(''),
  ])) as [(string | null)[], (string | null)[], string | false];
  const times = [readyAt(wait), readyAt(prioritized)];
  if (delayedScore !== false && delayedScore !== null) {
    const due = Math.floor(Number(delayedScore) / 0x1000);
    if (due <= now) times.push(due);
  }
  const ready = times.filter((t): t is number => t !== undefined);
  return ready.length === 0 ? undefined : Math.min(...ready);
}

/**
 * Records `worker`'s jobs as runs on `options.jobmeter`, from now on: a worker already running
 * is heard from its next event (a job it had taken is recorded when it ends, with BullMQ's times).
 * @throws ConfigError for a bad option, or a worker instrumented into that recorder now (one instrumentation per object and recorder, handle.ts).
 * @example
 *   const worker = new Worker('emails', async (job) => send(job.data), { connection });
 *   instrumentWorker(worker, { jobmeter: jm });
 */
export function instrumentWorker(worker: Worker, options: BullMQOptions): Instrumentation {
  const opts = checkOptions('instrumentWorker', options, 'bullmq');
  refuseSecond('instrumentWorker', worker, opts.recorder, `Worker ${JSON.stringify(worker.name)}`);
  const runs = new JobRuns(opts);
  const taskOf = (job: Pick<Job, 'name'> | undefined): string =>
    opts.task === 'name' && job !== undefined ? job.name : worker.name;
  const idOf = (job: Job): string => job.id ?? '';
  const ownQueue = options.queue === undefined;
  const queue =
    options.queue ??
    new Queue(worker.name, {
      connection: worker.opts.connection,
      ...(worker.opts.prefix !== undefined && { prefix: worker.opts.prefix }),
    });
  // Our own queue's connection errors are the depth poll's to count; unheard, they would throw.
  const quiet = (): void => {};
  if (ownQueue) queue.on('error', quiet);

  const onActive = (job: Job): void => {
    // Taken again while its last attempt is open here: the processor handed it back (rate limit).
    if (runs.start(idOf(job), taskOf(job), startDetails(job))) runs.reject('rate_limit');
  };
  // BullMQ emits `completed` and `failed` inside its `process` span (with bullmq-otel): the run's
  // exemplar is that span's trace, not the context `active` was emitted in. The attempt is
  // `attemptsMade`, counted by BullMQ as it finished.
  const ended = (job: Job, outcome: Outcome, finishedOn: number | undefined): void =>
    runs.finish(
      idOf(job),
      taskOf(job),
      outcome,
      secondsBetween(job.processedOn, finishedOn),
      context.active(),
      job.attemptsMade,
    );
  const onCompleted = (job: Job): void => ended(job, 'success', job.finishedOn);
  const onFailed = (job: Job | undefined, error: Error): void => {
    if (job === undefined) return runs.error(errorKind(error));
    if (error?.message === RATE_LIMIT_ERROR) return;
    const outcome = error?.name === 'AbortError' ? 'cancelled' : 'failure';
    ended(job, outcome, job.finishedOn ?? Date.now());
  };
  const onStalled = (jobId: string): void => {
    // The stalled job ran in another worker (or this one, hung): its name and start are in Redis.
    queue.getJob(jobId).then(
      (job) =>
        runs.finish(
          jobId,
          taskOf(job),
          'timeout',
          secondsBetween(job?.processedOn, Date.now()) ?? 0,
          undefined,
          job === undefined ? undefined : job.attemptsMade + 1,
        ),
      () => runs.finish(jobId, taskOf(undefined), 'timeout', 0),
    );
  };
  const onError = (error: Error): void => runs.error(errorKind(error));

  const unlisten = listen(worker, {
    active: onActive,
    completed: onCompleted,
    failed: onFailed,
    stalled: onStalled,
    error: onError,
  });

  const depth = async (): Promise<DepthCounts> => {
    // A count per state asked (0 when none); the prioritized are waiting too.
    const c = await queue.getJobCounts(...COUNT_TYPES);
    return new Map([
      [worker.name, { ...c, waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0) }],
    ]);
  };
  const oldest = async (): Promise<OldestWaiting> =>
    new Map([[worker.name, await oldestReady(queue, Date.now())]]);

  return instrumentation(
    worker,
    () => {
      unlisten();
      if (ownQueue) void queue.close().catch(quiet);
    },
    runs,
    { depth, oldest },
  );
}
