/**
 * The two clocks every writer of the series store reads (jobmeter's storages, the ingest, the
 * cluster):
 *
 * - **wall**: Unix milliseconds, for the times that leave the process: a point's time and start
 *   time, the time window a sender's point times must fall in (they are the sender's wall clock),
 *   the times a checkpoint writes. The system may step it at any moment (NTP at boot, a VM's
 *   resume, `date -s`), forwards or back.
 * - **monotonic**: milliseconds from an origin of this process's, never stepped: every duration
 *   that decides something (how long a source series has been idle, when the next expiry sweep is
 *   due).
 *
 * What must stay true: no expiry, staleness or age is decided by comparing two wall readings, so
 * a step of the wall clock either way expires nothing and resets nothing.
 */
export interface Clock {
  wallMillis(): number;
  monotonicMillis(): number;
}

export const SYSTEM_CLOCK: Clock = {
  wallMillis: () => Date.now(),
  monotonicMillis: () => performance.now(),
};

/**
 * Monotonic readings as a checkpoint writes them: each as the wall time it was, all against one
 * wall reading, so the distances between them are monotonic ones whatever steps came before.
 */
export function wallTimes(clock: Clock): (monotonic: number) => number {
  const offset = clock.wallMillis() - clock.monotonicMillis();
  return (monotonic) => monotonic + offset;
}

/**
 * Wall times one process wrote at one instant ({@link wallTimes}), as monotonic readings of this
 * one (whose origin is another): the newest of `written` is taken as now, and each keeps its
 * distance to it. No wall reading of this process is compared with the written ones, so a step
 * between the two processes (NTP at boot) changes nothing; the time between the newest and now
 * (jobmeter down, restarting) is not counted.
 */
export function resumedTimes(clock: Clock, written: Iterable<number>): (wall: number) => number {
  let newest = Number.NEGATIVE_INFINITY;
  for (const w of written) if (w > newest) newest = w;
  const now = clock.monotonicMillis();
  return (wall) => now - (newest - wall);
}
