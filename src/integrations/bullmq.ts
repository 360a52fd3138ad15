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
 * state comes from one `getJobCounts` per interval. With BullMQ's tracing (bullmq-otel), a run's
 * exemplar is its job's `process` span.
 */
import { context } from '@opentelemetry/api';
import { Queue, type Job, type Worker } from 'bullmq';
import {
  checkOptions,
  errorKind,
  JobRuns,
  secondsBetween,
  type IntegrationOptions,
} from './job-runs.ts';
import { instrumentation, refuseSecond, type Instrumentation } from './handle.ts';
import { depthPoll, type DepthCounts } from './queue-depth.ts';

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

function outcomeOf(error: Error | undefined): 'failure' | 'cancelled' {
  return error?.name === 'AbortError' ? 'cancelled' : 'failure';
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
    if (runs.start(idOf(job), taskOf(job))) runs.reject('rate_limit');
  };
  // BullMQ emits `completed` and `failed` inside its `process` span (with bullmq-otel): the run's
  // exemplar is that span's trace, not the context `active` was emitted in.
  const onCompleted = (job: Job): void =>
    runs.finish(
      idOf(job),
      taskOf(job),
      'success',
      secondsBetween(job.processedOn, job.finishedOn),
      context.active(),
    );
  const onFailed = (job: Job | undefined, error: Error): void => {
    if (job === undefined) return runs.error(errorKind(error));
    if (error?.message === RATE_LIMIT_ERROR) return;
    runs.finish(
      idOf(job),
      taskOf(job),
      outcomeOf(error),
      secondsBetween(job.processedOn, job.finishedOn ?? Date.now()),
      context.active(),
    );
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
        ),
      () => runs.finish(jobId, taskOf(undefined), 'timeout', 0),
    );
  };
  const onError = (error: Error): void => runs.error(errorKind(error));

  worker.on('active', onActive);
  worker.on('completed', onCompleted);
  worker.on('failed', onFailed);
  worker.on('stalled', onStalled);
  worker.on('error', onError);

  const depth = depthPoll(opts, async (): Promise<DepthCounts> => {
    const c = await queue.getJobCounts(...COUNT_TYPES);
    return new Map([
      [
        worker.name,
        {
          waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0),
          active: c['active'] ?? 0,
          delayed: c['delayed'] ?? 0,
          failed: c['failed'] ?? 0,
        },
      ],
    ]);
  });

  return instrumentation(
    worker,
    () => {
      worker.off('active', onActive);
      worker.off('completed', onCompleted);
      worker.off('failed', onFailed);
      worker.off('stalled', onStalled);
      worker.off('error', onError);
      if (ownQueue) void queue.close().catch(quiet);
    },
    runs,
    depth,
  );
}
