/**
 * `jobmeter/graphile-worker`: a graphile-worker Runner on jobmeter's domain API in one call.
 *
 *   import { instrumentRunner } from 'jobmeter/graphile-worker';
 *   const stop = instrumentRunner(runner, { jobmeter: jm, pgPool });
 *
 * Each attempt is a run named after the job's task identifier: `job:start` starts it (`attempts`
 * is graphile-worker's attempt number), `job:success` / `job:error` end it (timed here: the job
 * row keeps no end time); a job a crashed worker held comes back after
 * `graphile_worker.force_unlock_workers` (or the 4-hour reset) as one more attempt. The
 * `worker:fatalError`, `worker:getJob:error` and `pool:listen:error` events are runner errors.
 * A run's queue wait, lateness and attempt come from the row `job:start` carries (`created_at`,
 * `run_at`, `locked_at`, `attempts`). With a `pgPool`, the depth by state and the oldest waiting
 * job's age per task come from one query each of the `jobs` view per interval.
 */
import type { Job, Runner, WorkerEvents } from 'graphile-worker';
import type { StartDetails } from '../domain/recorder.ts';
import { ConfigError } from '../errors.ts';
import {
  checkOptions,
  checkSchema,
  errorKind,
  JobRuns,
  rowStart,
  type IntegrationOptions,
} from './job-runs.ts';
import { instrumentation, listen, refuseSecond, type Instrumentation } from './handle.ts';
import { depthOfRows, oldestOfRows, type DepthCounts } from './queue-depth.ts';

export type { Instrumentation, IntegrationOptions };

/** What the depth query needs of a `pg.Pool` (or client). */
export interface Queryable {
  query(sql: string): Promise<{ rows: readonly Record<string, unknown>[] }>;
}

/** {@link instrumentRunner}'s options: where it records, and the pool the depth is read with. */
export interface GraphileWorkerOptions extends Omit<IntegrationOptions, 'task'> {
  /** The pool the depth is read with (the one given to `run()`). @default none: no depth */
  readonly pgPool?: Queryable;
  /** graphile-worker's schema. @default 'graphile_worker' */
  readonly schema?: string;
}

/** Counts by task and state in one statement; a job past its max_attempts and unlocked has failed for good. */
function depthSql(schema: string): string {
  return `select task_identifier as queue,
  count(*) filter (where locked_at is null and attempts < max_attempts and run_at <= now()) as waiting,
  count(*) filter (where locked_at is null and attempts < max_attempts and run_at > now()) as delayed,
  count(*) filter (where locked_at is not null) as active,
  count(*) filter (where locked_at is null and attempts >= max_attempts) as failed
from "${schema}".jobs group by task_identifier order by task_identifier limit 100`;
}

/**
 * Per task with jobs (as the depth), when its oldest waiting job became ready: the least `run_at`
 * of the jobs the depth counts as waiting (null: none waits).
 */
function oldestSql(schema: string): string {
  return `select task_identifier as queue,
  min(run_at) filter (where locked_at is null and attempts < max_attempts and run_at <= now()) as ready
from "${schema}".jobs group by task_identifier order by task_identifier limit 100`;
}

/**
 * What graphile-worker's row says about an attempt as it is locked (job-runs.ts rowStart): added
 * (`created_at`), due (`run_at`: the insert's now() unless a time is asked for; after a failed
 * attempt, its failure plus the backoff), locked (`locked_at`), and `attempts` (counting this
 * one). A later attempt with no error before it follows one that died and was unlocked
 * (`force_unlock_workers`), which leaves `run_at` before that attempt: it records its attempt only.
 */
function startDetails(job: Job): StartDetails {
  return rowStart(job.created_at, job.run_at, job.locked_at, job.attempts, job.last_error != null);
}

/**
 * Records the jobs `runner` (or its `events`) reports as runs on `options.jobmeter`, from its next
 * event: a running runner is heard as well as a new one.
 * @throws ConfigError for a bad option, or a runner instrumented into that recorder now (one instrumentation per object and recorder, handle.ts).
 * @example
 *   const runner = await run({ pgPool, taskList: { send: async (payload) => send(payload) } });
 *   instrumentRunner(runner, { jobmeter: jm, pgPool });
 */
export function instrumentRunner(
  runner: Pick<Runner, 'events'> | WorkerEvents,
  options: GraphileWorkerOptions,
): Instrumentation {
  const pool = options.pgPool;
  const opts = checkOptions(
    'instrumentRunner',
    { ...options, ...(pool === undefined && { depthIntervalMillis: false }) },
    'graphile-worker',
  );
  const schema = checkSchema('instrumentRunner', options.schema ?? 'graphile_worker');
  if (pool !== undefined && typeof pool.query !== 'function')
    throw new ConfigError('instrumentRunner.pgPool', pool, 'a pg Pool (an object with query())');
  const events: WorkerEvents = 'events' in runner ? runner.events : runner;
  refuseSecond('instrumentRunner', events, opts.recorder, "this runner's events");
  const runs = new JobRuns(opts);

  // An attempt is keyed by its job object: graphile-worker hands the same one to its start and end.
  const listeners = {
    'job:start': ({ job }: { job: Job }) => runs.start(job, job.task_identifier, startDetails(job)),
    'job:success': ({ job }: { job: Job }) =>
      runs.finish(job, job.task_identifier, 'success', undefined),
    'job:error': ({ job }: { job: Job }) =>
      runs.finish(job, job.task_identifier, 'failure', undefined),
    'worker:fatalError': ({ error }: { error: unknown }) => runs.error(errorKind(error)),
    'worker:getJob:error': ({ error }: { error: unknown }) => runs.error(errorKind(error)),
    'pool:listen:error': ({ error }: { error: unknown }) => runs.error(errorKind(error)),
  };
  const unlisten = listen(events, listeners);

  const sql = depthSql(schema);
  const oldestQuery = oldestSql(schema);
  // Without a pool, checkOptions was told depthIntervalMillis: false: neither read is made.
  return instrumentation(events, unlisten, runs, {
    depth: async (): Promise<DepthCounts> => depthOfRows((await pool!.query(sql)).rows),
    oldest: async () => oldestOfRows((await pool!.query(oldestQuery)).rows),
  });
}
