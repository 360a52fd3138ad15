/**
 * The clocks every writer of the series store reads (jobmeter's storages, the ingest, the
 * cluster):
 *
 * - **wall**: Unix milliseconds as the system says now: the time window a sender's point times
 *   must fall in (they are the sender's wall clock), the times a checkpoint writes. The system may
 *   step it at any moment (NTP at boot, a VM's resume, `date -s`), forwards or back.
 * - **point**: Unix milliseconds stamped on the points this process makes, pushed and pulled (a
 *   point's time, a series' start time): the wall clock at one anchor advanced by the monotonic
 *   clock, the OpenTelemetry SDK's `hrTime()`, so they never go back within a process whatever the
 *   wall clock does: a Collector, a TSDB keep only a point newer than the one they hold
 *   ({@link pointMillis}).
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
  /** The point clock; without it, {@link pointMillis} anchors one on the first wall reading. */
  pointMillis?(): number;
}

export const SYSTEM_CLOCK: Clock = {
  wallMillis: () => Date.now(),
  monotonicMillis: () => performance.now(),
  // The SDK's own anchor (the wall clock when the process started), so jobmeter's points and the
  // SDK's in one export are on one clock.
  pointMillis: () => performance.timeOrigin + performance.now(),
};

/** The anchors of clocks that have no point clock of their own: wall minus monotonic, at first use. */
const anchors = new WeakMap<Clock, number>();

/**
 * `clock`'s point clock (Unix ms): its own, or the wall clock of its first reading here advanced
 * by its monotonic clock. A step of the wall clock moves no point time; a correction of it reaches
 * them at the next process, as with an OpenTelemetry SDK.
 */
export function pointMillis(clock: Clock): number {
  if (clock.pointMillis !== undefined) return clock.pointMillis();
  let anchor = anchors.get(clock);
  if (anchor === undefined) {
    anchor = clock.wallMillis() - clock.monotonicMillis();
    anchors.set(clock, anchor);
  }
  return anchor + clock.monotonicMillis();
}

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
