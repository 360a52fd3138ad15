/**
 * `jobmeter/pg-boss`: a PgBoss instance's workers on jobmeter's domain API in one call.
 *
 *   import { instrumentBoss } from 'jobmeter/pg-boss';
 *   const stop = instrumentBoss(boss, { jobmeter: jm });   // before boss.work(…): after it, a ConfigError
 *
 * pg-boss has no per-job events, so the call wraps the instance's `work` (and `send`): every
 * handler registered afterwards is instrumented. Each job of a batch is a run from the handler's
 * call to its settling; a job pg-boss aborted (its `expireInSeconds` passed) is a `timeout`, a
 * retried job is one more run (`retryCount` is pg-boss's attempt number). Each run's queue wait,
 * lateness and attempt come from the job's row as pg-boss hands it out (`created_on`,
 * `start_after`, `started_on`, `retry_count`: the wrapped `work` asks for the jobs' metadata), the
 * oldest waiting job's age per queue from one query of the `job` table per interval. A `send` pg-boss refuses
 * (throttled, singleton or debounced: it returns null) is a rejection (`throttled`). The `error`
 * events are runner errors. Queue depth by state for the queues worked here comes from one count
 * of pg-boss's `job` table per interval: pg-boss's own counts (`getQueues`) are its monitor's,
 * written up to `monitorIntervalSeconds` (60 s) before, which the poll's age would not show.
 */
import type { Job, JobResult, JobWithMetadata, PgBoss, WorkHandler } from 'pg-boss';
import type { StartDetails } from '../domain/recorder.ts';
import {
  checkOptions,
  checkSchema,
  errorKind,
  JobRuns,
  rowStart,
  type IntegrationOptions,
} from './job-runs.ts';
import { ConfigError } from '../errors.ts';
import { instrumentation, refuseSecond, type Instrumentation } from './handle.ts';
import { depthOfRows, oldestOfRows, type DepthCounts } from './queue-depth.ts';

export type { Instrumentation, IntegrationOptions };

/** {@link instrumentBoss}'s options: where it records, and which queues' depth it counts. */
export interface PgBossOptions extends IntegrationOptions {
  /** More queues whose depth is read (besides those `work` is called for). @default none */
  readonly queues?: readonly string[];
  /** pg-boss's schema (its `schema` option), where the depth is counted. @default 'pgboss' */
  readonly schema?: string;
}

/** The calls that create a job; each returns null when pg-boss refuses it (throttle, singleton, debounce). */
const SENDS = ['send', 'sendAfter', 'sendThrottled', 'sendDebounced'] as const;

type Method = (...args: unknown[]) => Promise<unknown>;

/** Puts `make(original)` in place of `boss[method]` on the instance; returns what puts it back. */
function replace(
  boss: PgBoss,
  method: (typeof SENDS)[number] | 'work',
  make: (original: Method) => Method,
): () => void {
  const target = boss as unknown as Record<string, Method>;
  const had = Object.prototype.hasOwnProperty.call(boss, method);
  const original = target[method]!;
  target[method] = make(original);
  return () => {
    if (had) target[method] = original;
    else delete target[method];
  };
}

/**
 * The depth of the queues named in $1, by state, counted in pg-boss's `job` table (the partitioned
 * parent, or the plain table without partitioning: `name = any($1)` reaches the queues' partitions
 * alone) as pg-boss's monitor counts its live jobs: queued (`created`, `retry`) and due is waiting,
 * queued for later is delayed. A queue that exists and has none counts 0; one that does not exist
 * is left out. Only the columns every pg-boss 12 schema has.
 */
function depthSql(schema: string): string {
  return `select q.name as queue, coalesce(c.waiting, 0) as waiting, coalesce(c.delayed, 0) as delayed, coalesce(c.active, 0) as active, coalesce(c.failed, 0) as failed
from "${schema}".queue q left join (
  select name,
    count(*) filter (where state in ('created', 'retry') and start_after <= now())::int as waiting,
    count(*) filter (where state in ('created', 'retry') and start_after > now())::int as delayed,
    count(*) filter (where state = 'active')::int as active,
    count(*) filter (where state = 'failed')::int as failed
  from "${schema}".job where name = any($1::text[]) and state in ('created', 'retry', 'active', 'failed') group by name
) c on c.name = q.name
where q.name = any($1::text[])`;
}

/**
 * When the oldest due job of each queue named in $1 became ready, from the same rows the depth
 * counts as waiting: `start_after` is the send time unless a later start was asked, and a retry's
 * (its failure plus its retry delay). `min` over pg-boss's (name, state, …, start_after) index.
 */
function oldestSql(schema: string): string {
  return `select name as queue, min(start_after) as ready from "${schema}".job
where name = any($1::text[]) and state in ('created', 'retry') and start_after <= now() group by name`;
}

/**
 * What pg-boss's row says about an attempt as it is handed out (job-runs.ts rowStart): sent
 * (`created_on`), due (`start_after`: the send time unless a start was asked for; a retry's, when
 * it was put back), claimed (`started_on`). The attempt is `retry_count + 1`: pg-boss adds one at
 * every claim after the first, a stalled or expired attempt's included. Without the metadata (a
 * handler that asked for none): nothing.
 */
function startDetails(job: Job<unknown>): StartDetails {
  const { createdOn, startAfter, startedOn, retryCount } = job as Partial<JobWithMetadata<unknown>>;
  const attempt = typeof retryCount === 'number' ? retryCount + 1 : undefined;
  return rowStart(createdOn, startAfter, startedOn, attempt);
}

/**
 * Records the jobs of the handlers `boss.work` registers from now on as runs on `options.jobmeter`.
 * @throws ConfigError for a bad option, a boss instrumented into that recorder now (one instrumentation per
 * object and recorder, handle.ts), or one whose `work` was called already (those handlers would record nothing).
 * @example
 *   instrumentBoss(boss, { jobmeter: jm });
 *   await boss.work('emails', async (jobs) => { for (const job of jobs) await send(job.data); });
 */
export function instrumentBoss(boss: PgBoss, options: PgBossOptions): Instrumentation {
  const opts = checkOptions('instrumentBoss', options, 'pg-boss');
  const schema = checkSchema('instrumentBoss', options.schema ?? 'pgboss');
  const sql = depthSql(schema);
  refuseSecond('instrumentBoss', boss, opts.recorder, 'this PgBoss');
  // The handlers of workers registered before are pg-boss's already: none of their jobs would be a run.
  const working = [...new Set(boss.getWipData().map((w) => w.name))];
  if (working.length > 0) {
    throw new ConfigError(
      'instrumentBoss(…)',
      working,
      "a PgBoss with no worker yet: call instrumentBoss before boss.work(…) (these queues' handlers are registered already and would record nothing)",
    );
  }
  const runs = new JobRuns(opts);
  const queues = new Set<string>(options.queues ?? []);
  const restore = SENDS.map((method) =>
    replace(
      boss,
      method,
      (send) =>
        async function (this: PgBoss, ...args: unknown[]) {
          const id = await send.apply(this, args);
          if (id === null) runs.reject('throttled');
          return id;
        },
    ),
  );

  const wrap =
    (name: string, handler: WorkHandler<unknown>, perJob: boolean): WorkHandler<unknown> =>
    async (jobs: Job<unknown>[], ...rest: unknown[]) => {
      const t0 = performance.now();
      const task = (job: Job<unknown>): string => (opts.task === 'name' ? job.name : name);
      // One attempt, one run, keyed by the job object this call was handed.
      for (const job of jobs) runs.start(job, task(job), startDetails(job));
      const end = (failed: (job: Job<unknown>) => boolean): void => {
        const seconds = (performance.now() - t0) / 1000;
        for (const job of jobs)
          runs.finish(
            job,
            task(job),
            job.signal?.aborted ? 'timeout' : failed(job) ? 'failure' : 'success',
            seconds,
          );
      };
      try {
        const result = await (
          handler as (jobs: Job<unknown>[], ...rest: unknown[]) => Promise<unknown>
        )(jobs, ...rest);
        // `perJobResults`: the handler says how each job ended (JobResult[]).
        const statuses =
          perJob && Array.isArray(result)
            ? new Map((result as JobResult[]).map((r) => [r.id, r.status]))
            : undefined;
        end((job) => statuses !== undefined && statuses.get(job.id) !== 'completed');
        return result;
      } catch (error) {
        end(() => true);
        throw error;
      }
    };

  restore.push(
    replace(
      boss,
      'work',
      (work) =>
        function (this: PgBoss, name: unknown, ...args: unknown[]) {
          queues.add(String(name));
          const handler = args.at(-1);
          const given = args.length > 1 ? (args[0] as Record<string, unknown> | null) : undefined;
          const perJob = given?.perJobResults === true;
          // The jobs' times are in their metadata; a handler that said `includeMetadata: false` keeps it off.
          if (typeof handler === 'function') {
            const withTimes = { includeMetadata: true, ...given };
            if (args.length > 1) args[0] = withTimes;
            else args.unshift(withTimes);
            args[args.length - 1] = wrap(String(name), handler as WorkHandler<unknown>, perJob);
          }
          return work.call(this, name, ...args);
        },
    ),
  );
  const onError = (error: Error): void => runs.error(errorKind(error));
  boss.on('error', onError);

  const oldestQuery = oldestSql(schema);
  // Each read asks only of the queues worked or named here; with none yet, nothing is asked.
  const rows = async (query: string) =>
    queues.size === 0
      ? []
      : ((await boss.getDb().executeSql(query, [[...queues]])).rows as Record<string, unknown>[]);
  return instrumentation(
    boss,
    () => {
      for (const undo of restore) undo();
      boss.off('error', onError);
    },
    runs,
    {
      depth: async (): Promise<DepthCounts> => depthOfRows(await rows(sql)),
      oldest: async () => oldestOfRows(await rows(oldestQuery), queues),
    },
  );
}
