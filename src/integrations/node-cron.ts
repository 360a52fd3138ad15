/**
 * `jobmeter/node-cron`: node-cron's scheduled tasks on jobmeter's domain API in one call.
 *
 *   import { instrumentTask } from 'jobmeter/node-cron';
 *   const stop = instrumentTask(cron.schedule('* * * * *', backup, { name: 'backup' }), { jobmeter: jm });
 *
 * Each execution is a run named after the task (`name` option; give one: node-cron's default is a
 * random id): its start starts it, its finish or failure ends it with node-cron's own startedAt →
 * finishedAt (a failure past `executeTimeout` is a `timeout`), taken where node-cron starts and
 * ends it (see instrumentTask). A scheduled execution's lateness (and queue wait) runs from its
 * slot — the time node-cron scheduled it for — to its startedAt, past any `maxRandomDelay`.
 * An execution node-cron refuses is a rejection: `overlap` (`noOverlap` and still busy), `missed`
 * (the process was late past the tolerance: also a missed schedule; node-cron's own warning is
 * then left to us), `skipped` (another instance was elected by the run coordinator). A task that
 * fails to start (`task:failed`) is a runner error. There is no queue, so no depth.
 */
import type { ScheduledTask, TaskContext } from 'node-cron';
import type { StartDetails } from '../domain/recorder.ts';
import {
  checkOptions,
  errorKind,
  JobRuns,
  secondsBetween,
  type IntegrationOptions,
} from './job-runs.ts';
import { instrumentation, listen, refuseSecond, type Instrumentation } from './handle.ts';

export type { Instrumentation, IntegrationOptions };

/** {@link instrumentTask}'s options: where it records (node-cron keeps no queue, so no depth). */
export type NodeCronOptions = Omit<IntegrationOptions, 'task' | 'depthIntervalMillis' | 'meter'>;

type Listener = (context: TaskContext) => void;
type Execution = NonNullable<TaskContext['execution']>;
type Hook = (date: Date, execution: Execution, error?: Error) => unknown;
/**
 * An inline task's runner: the hooks node-cron calls as an execution starts (`onMatch`, the task's
 * own call, right after it set `startedAt`), finishes or fails.
 */
interface Runner {
  noOverlap?: unknown;
  onMatch?: Hook;
  onFinished?: Hook;
  onError?: (date: Date, error: Error, execution: Execution) => unknown;
}

function runnerOf(task: ScheduledTask): Runner | undefined {
  const runner = (task as { runner?: Runner }).runner;
  return typeof runner?.onMatch === 'function' &&
    typeof runner.onFinished === 'function' &&
    typeof runner.onError === 'function'
    ? runner
    : undefined;
}

/**
 * Records `task`'s executions as runs on `options.jobmeter`.
 *
 * An inline task's start, finish and failure are taken at its runner's own hooks, which carry
 * the same execution: node-cron calls each event listener inside two promises, which would be
 * most of what a job costs. A background task (its runner in a child process) is heard through
 * its events. The rare events (overlap, missed, skipped, task:failed) are always listened to:
 * a `missed` listener is also what quiets node-cron's own warning. A started task is heard
 * from its next execution.
 * @throws ConfigError for a bad option, or a task instrumented into that recorder now (one instrumentation per object and recorder, handle.ts).
 * @example
 *   const task = cron.schedule('0 3 * * *', () => prune(), { name: 'prune' });
 *   instrumentTask(task, { jobmeter: jm });
 */
export function instrumentTask(task: ScheduledTask, options: NodeCronOptions): Instrumentation {
  const opts = checkOptions(
    'instrumentTask',
    { ...options, depthIntervalMillis: false },
    'node-cron',
  );
  const runs = new JobRuns(opts);
  const name = task.name ?? task.id;
  refuseSecond('instrumentTask', task, opts.recorder, `task ${JSON.stringify(name)}`);
  const time = (d: Date | undefined): number | undefined => d?.getTime();
  // A scheduled execution's slot is `date`; an invoked one's (task.execute()) is just its call.
  const details = (date: Date, execution: Execution | undefined): StartDetails | undefined =>
    execution?.reason === 'scheduled'
      ? { scheduledAt: date, startedAt: execution.startedAt }
      : undefined;
  const started = (date: Date, execution: Execution | undefined): void =>
    void runs.start(execution?.id ?? '', name, details(date, execution));
  const finished = (execution: Execution | undefined): void =>
    runs.finish(
      execution?.id ?? '',
      name,
      'success',
      secondsBetween(time(execution?.startedAt), time(execution?.finishedAt)),
    );
  const failed = (execution: Execution | undefined, error: Error | undefined, date: Date): void =>
    runs.finish(
      execution?.id ?? '',
      name,
      /timed? ?out/i.test(error?.message ?? '') ? 'timeout' : 'failure',
      secondsBetween(time(execution?.startedAt), time(execution?.finishedAt) ?? date.getTime()),
    );

  const listeners: Array<[Parameters<ScheduledTask['on']>[0], Listener]> = [
    // node-cron says `overlap` whether or not it refuses; it refuses when the task has noOverlap.
    [
      'execution:overlap',
      () => {
        if ((task as { runner?: Runner }).runner?.noOverlap === true) runs.reject('overlap');
      },
    ],
    [
      'execution:missed',
      () => {
        runs.reject('missed');
        runs.missed(name);
      },
    ],
    ['execution:skipped', () => runs.reject('skipped')],
    ['task:failed', (ctx) => runs.error(errorKind(ctx.error))],
  ];
  const runner = runnerOf(task);
  let unhook = (): void => {};
  if (runner === undefined) {
    listeners.push(
      // A background task's start is heard as its child process reports it (no startedAt yet).
      ['execution:started', (ctx) => started(ctx.date, ctx.execution)],
      ['execution:finished', (ctx) => finished(ctx.execution)],
      [
        'execution:failed',
        (ctx) => failed(ctx.execution, ctx.execution?.error ?? ctx.error, ctx.date),
      ],
    );
  } else {
    const { onMatch, onFinished, onError } = runner as Required<Runner>;
    runner.onMatch = (date, execution) => {
      started(date, execution);
      return onMatch.call(runner, date, execution);
    };
    runner.onFinished = (date, execution) => {
      finished(execution);
      return onFinished.call(runner, date, execution);
    };
    runner.onError = (date, error, execution) => {
      failed(execution, execution?.error ?? error, date);
      return onError.call(runner, date, error, execution);
    };
    unhook = () => Object.assign(runner, { onMatch, onFinished, onError });
  }
  const unlisten = listen(task, Object.fromEntries(listeners));
  return instrumentation(
    task,
    () => {
      unhook();
      unlisten();
    },
    runs,
  );
}
