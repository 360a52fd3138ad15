/**
 * `jobmeter/node-cron`: node-cron's scheduled tasks on jobmeter's domain API in one call.
 *
 *   import { instrumentTask } from 'jobmeter/node-cron';
 *   const stop = instrumentTask(cron.schedule('* * * * *', backup, { name: 'backup' }), { jobmeter: jm });
 *
 * Each execution is a run named after the task (`name` option; give one: node-cron's default is a
 * random id): `execution:started` starts it, `execution:finished` / `execution:failed` end it
 * with node-cron's own startedAt → finishedAt (a failure past `executeTimeout` is a `timeout`).
 * An execution node-cron refuses is a rejection: `overlap` (`noOverlap` and still busy), `missed`
 * (the process was late past the tolerance; node-cron's own warning is then left to us),
 * `skipped` (another instance was elected by the run coordinator). A task that
 * fails to start (`task:failed`) is a runner error. There is no queue, so no depth.
 */
import type { ScheduledTask, TaskContext } from 'node-cron';
import { checkOptions, errorKind, JobRuns, secondsBetween, type IntegrationOptions } from './job-runs.ts';
import { instrumentation, type Instrumentation } from './handle.ts';

export type { Instrumentation, IntegrationOptions };

export type NodeCronOptions = Omit<IntegrationOptions, 'task' | 'depthIntervalMillis' | 'meter'>;

type Listener = (context: TaskContext) => void;

function isTimeout(error: Error | undefined): boolean {
  return error !== undefined && /timed? ?out/i.test(error.message);
}

/** Whether node-cron refuses an execution while the last is running (the task's `noOverlap`, kept on its runner). */
function refusesOverlap(task: ScheduledTask): boolean {
  return (task as { runner?: { noOverlap?: unknown } }).runner?.noOverlap === true;
}

/**
 * Records `task`'s executions as runs on `options.jobmeter`.
 * @throws ConfigError for a bad option.
 */
export function instrumentTask(task: ScheduledTask, options: NodeCronOptions): Instrumentation {
  const opts = checkOptions('instrumentTask', { ...options, depthIntervalMillis: false }, 'node-cron');
  const runs = new JobRuns(opts);
  const name = task.name ?? task.id;
  const idOf = (ctx: TaskContext): string => ctx.execution?.id ?? '';
  const time = (d: Date | undefined): number | undefined => d?.getTime();

  const listeners: Array<[Parameters<ScheduledTask['on']>[0], Listener]> = [
    ['execution:started', (ctx) => runs.start(idOf(ctx), name)],
    ['execution:finished', (ctx) => runs.finish(idOf(ctx), name, 'success', secondsBetween(time(ctx.execution?.startedAt), time(ctx.execution?.finishedAt)))],
    [
      'execution:failed',
      (ctx) => {
        const error = ctx.execution?.error ?? ctx.error;
        const end = time(ctx.execution?.finishedAt) ?? ctx.date.getTime();
        runs.finish(idOf(ctx), name, isTimeout(error) ? 'timeout' : 'failure', secondsBetween(time(ctx.execution?.startedAt), end));
      },
    ],
    // node-cron says `overlap` whether or not it refuses; it refuses when the task has noOverlap.
    ['execution:overlap', () => {
      if (refusesOverlap(task)) runs.reject('overlap');
    }],
    ['execution:missed', () => runs.reject('missed')],
    ['execution:skipped', () => runs.reject('skipped')],
    ['task:failed', (ctx) => runs.error(errorKind(ctx.error))],
  ];
  for (const [event, fn] of listeners) task.on(event, fn);
  return instrumentation(() => {
    for (const [event, fn] of listeners) task.off(event, fn);
  }, runs, undefined);
}
