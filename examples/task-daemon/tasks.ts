/**
 * The example daemon's tasks: real shell commands on fixed intervals. Chosen so every kind of
 * outcome shows up on the dashboards within a minute: successes, failures, a timeout, a task
 * slower than its interval (it queues, then gets turned away), truncated output, a command that
 * cannot even be spawned (a runner error), and a long-running service.
 */

export interface TaskSpec {
  /** Unique; becomes the `task` label (jobmeter caps its distinct values). */
  readonly name: string;
  /** A `/bin/sh -c` command line, or an argv run without a shell. */
  readonly command: string | readonly string[];
  /** Seconds between triggers. A service is started once and restarted when it exits. */
  readonly everySeconds: number;
  /** Killed (SIGTERM, then SIGKILL after 1 s) and recorded as `timeout` past this. @default none */
  readonly timeoutSeconds?: number;
  /** `task` (a scheduled run) or `service` (kept running). @default 'task' */
  readonly kind?: 'task' | 'service';
  /** Triggers that may wait while a run of this task is in progress; more are rejected. @default 1 */
  readonly maxQueued?: number;
}

export const TASKS: readonly TaskSpec[] = [
  // A service: started first, holds one of the run slots, restarted if it ever exits.
  { name: 'heartbeat', command: 'while sleep 1; do :; done', everySeconds: 1, kind: 'service' },
  { name: 'disk-usage', command: 'df -k / | tail -n 1', everySeconds: 2 },
  { name: 'count-processes', command: 'ls /proc | grep -c "^[0-9]"', everySeconds: 3 },
  // Fails when its shell's pid is a multiple of 3: about one run in three.
  { name: 'flaky-probe', command: 'exit $(( $$ % 3 == 0 ))', everySeconds: 1 },
  // Slower than its interval: one trigger waits, the next ones are turned away (concurrency).
  { name: 'slow-report', command: 'sleep 2.5; echo report done', everySeconds: 1 },
  // Never finishes in time.
  { name: 'hung-sync', command: 'sleep 30', everySeconds: 4, timeoutSeconds: 1.5 },
  // Prints ~110 KiB: more than the captured-output cap.
  { name: 'verbose-dump', command: 'seq 1 20000', everySeconds: 5 },
  // No such program, no shell: the spawn itself fails (a runner error, and a failed run).
  {
    name: 'missing-tool',
    command: ['jobmeter-example-no-such-tool', '--version'],
    everySeconds: 5,
  },
];
