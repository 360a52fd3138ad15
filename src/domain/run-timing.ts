/**
 * What a run may say about itself before it ran -- when it was enqueued or scheduled, which attempt
 * it is -- and the figures drawn from it: its queue wait and schedule lateness (seconds) and its
 * attempt as a bounded attribute. Times come from the host's or its job store's clock, so each is
 * checked as any value from code is: a bad one is not recorded (the guard warns and counts it).
 */
import { ATTEMPTS } from './catalog.ts';
import { invalidValue, type DropReason } from './record-guard.ts';

/** A point in time as the domain API takes it: epoch milliseconds (`Date.now()`) or a `Date`. */
export type TimeValue = number | Date;

/** What a run may say about its start, on `startRun` (and `recordRun`). */
export interface StartDetails {
  /**
   * When the job was put in the queue. The run's queue wait runs from the later of this and
   * `scheduledAt` to its start (`jobmeter.queue.wait`).
   */
  readonly enqueuedAt?: TimeValue;
  /**
   * When the run was due: its schedule's time (a cron tick), or the end of its delay. Gives its
   * lateness (`jobmeter.schedule.lateness`) and, with `enqueuedAt`, when it became ready.
   */
  readonly scheduledAt?: TimeValue;
  /**
   * When the run started as its runner timed it (a job library's own timestamp).
   * @default now (`startRun`); for `recordRun`, its end less its duration
   */
  readonly startedAt?: TimeValue;
  /**
   * Which attempt at its job the run is: 1 for the first, 2 for the first retry. Counted on
   * `jobmeter.run.attempts` when the run finishes, 4 and later as `4+`. A whole number >= 1.
   */
  readonly attempt?: number;
}

/**
 * How far a time may lie after the run's start and still read as no wait at all: the clocks of
 * the producer that stamped a job and of the worker that starts it differ by a few milliseconds.
 * Further than this, the time is wrong (a unit mistake, a clock far off): refused, not clamped.
 */
export const CLOCK_SKEW_MILLIS = 1000;

/**
 * The times a job's may be: a number outside them is a unit mistake (epoch seconds read as
 * milliseconds fall in January 1970, microseconds tens of thousands of years ahead), not a time.
 */
const EARLIEST_MILLIS = Date.UTC(2000, 0, 1);
const LATEST_MILLIS = Date.UTC(2100, 0, 1);

/** `value` as epoch milliseconds, or why it cannot be one. */
export function epochMillis(value: unknown): number | DropReason {
  const ms = value instanceof Date ? value.getTime() : value;
  const invalid = invalidValue(ms, false);
  if (invalid !== undefined) return invalid;
  return (ms as number) >= EARLIEST_MILLIS && (ms as number) < LATEST_MILLIS
    ? (ms as number)
    : 'not_a_time';
}

/**
 * Seconds from `fromMillis` to `toMillis` (epoch ms, both checked), 0 when `to` is at most
 * {@link CLOCK_SKEW_MILLIS} before `from`, or `negative` when it is further before.
 */
export function secondsBetween(fromMillis: number, toMillis: number): number | DropReason {
  const ms = toMillis - fromMillis;
  if (ms >= 0) return ms / 1000;
  return ms >= -CLOCK_SKEW_MILLIS ? 0 : 'negative';
}

/** The `attempt` attribute of attempt `n`, or undefined when `n` is not a whole number >= 1. */
export function attemptValue(n: unknown): (typeof ATTEMPTS)[number] | undefined {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) return undefined;
  return n >= 4 ? '4+' : ATTEMPTS[n - 1];
}
