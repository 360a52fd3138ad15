/**
 * The queue measures of four timed tasks, checked against the times a job library's own rows gave
 * their attempts: `w-prompt` (ready when added), `w-later` (due after it was added), `w-catchup`
 * (added after it was due) and `w-retried` (failed once, retried when the library said).
 */
import assert from 'node:assert/strict';
import { value } from './scrape.ts';

/** The timed tasks, each added once. */
export const TIMED = ['w-prompt', 'w-later', 'w-catchup', 'w-retried'] as const;

/** One attempt's times as the library's row gave them. */
export interface AttemptTimes {
  /** When the job was added. */
  readonly added: Date;
  /** When it was due: the row's run-at time (a retry's, for a retry). */
  readonly due: Date;
  /** When this attempt started. */
  readonly started: Date;
}

const seconds = (to: Date, from: Date): number => (to.getTime() - from.getTime()) / 1000;

/**
 * Asserts, on the scrape `text` of `runner`'s runs: each task's queue wait from the later of
 * added and due (a retry: from its due) to its start, exactly; lateness only where a time was
 * asked for; and the retried task's attempts 1 (failure) and 2 (success). `rows`: by task.
 */
export function assertStartTimes(
  text: string,
  runner: string,
  rows: ReadonlyMap<string, readonly AttemptTimes[]>,
): void {
  const histogram = (family: string, task: string) => ({
    sum: value(text, `${family}_sum`, { task, runner }),
    count: value(text, `${family}_count`, { task, runner }),
  });
  const [prompt] = rows.get('w-prompt')!;
  assert.equal(prompt!.due.getTime(), prompt!.added.getTime(), 'no time asked for');
  assert.deepEqual(histogram('jobmeter_queue_wait_seconds', 'w-prompt'), {
    sum: seconds(prompt!.started, prompt!.added),
    count: 1,
  });
  assert.equal(histogram('jobmeter_schedule_lateness_seconds', 'w-prompt').count, 0);
  const [later] = rows.get('w-later')!;
  assert.ok(later!.due > later!.added);
  for (const family of ['jobmeter_queue_wait_seconds', 'jobmeter_schedule_lateness_seconds'])
    assert.deepEqual(
      histogram(family, 'w-later'),
      { sum: seconds(later!.started, later!.due), count: 1 },
      family,
    );
  // Added a minute after it was due: it waited from when it was added, and ran a minute late.
  const [catchup] = rows.get('w-catchup')!;
  assert.deepEqual(histogram('jobmeter_queue_wait_seconds', 'w-catchup'), {
    sum: seconds(catchup!.started, catchup!.added),
    count: 1,
  });
  assert.deepEqual(histogram('jobmeter_schedule_lateness_seconds', 'w-catchup'), {
    sum: seconds(catchup!.started, catchup!.due),
    count: 1,
  });
  // The retry waited from when the library put it back (its failure plus the retry delay).
  const [first, second] = rows.get('w-retried')!;
  assert.ok(second!.due > first!.started);
  assert.deepEqual(histogram('jobmeter_queue_wait_seconds', 'w-retried'), {
    sum: seconds(first!.started, first!.added) + seconds(second!.started, second!.due),
    count: 2,
  });
  const attempts = (attempt: string, outcome: string) =>
    value(text, 'jobmeter_run_attempts_total', { task: 'w-retried', attempt, outcome });
  assert.deepEqual([attempts('1', 'failure'), attempts('2', 'success')], [1, 1]);
  assert.equal(attempts('1', 'success') + attempts('2', 'failure'), 0);
}
