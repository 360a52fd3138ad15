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
 * - **boot** (optional): the system's monotonic clock, in milliseconds since the boot it names,
 *   one clock for every process of that boot: how long jobmeter was down between two of its
 *   processes, for expiry across a restart ({@link resumedTimes}).
 *
 * What must stay true: no expiry, staleness or age is decided by comparing two wall readings, so
 * a step of the wall clock either way expires nothing and resets nothing.
 */
import type { HrTime } from '@opentelemetry/api';
const { readFileSync, readlinkSync } = process.getBuiltinModule('node:fs');

export interface Clock {
  wallMillis(): number;
  monotonicMillis(): number;
  /** The point clock; without it, {@link pointMillis} anchors one on the first wall reading. */
  pointMillis?(): number;
  /** A reading of the system's monotonic clock and the boot it counts from; undefined where there is none to read. */
  boot?(): BootReading | undefined;
  /**
   * Points from now on are stamped after `millis`, a point time an earlier process of this
   * jobmeter reached ({@link pointFloor}), while this clock reads earlier (a wall clock stepped back
   * before the restart): see {@link SYSTEM_CLOCK}.
   */
  holdPointsAfter?(millis: number): void;
}

/** A reading of a monotonic clock every process of one boot shares. */
interface BootReading {
  /** What names the boot (and the time namespace): two readings compare only under one id. */
  readonly id: string;
  readonly monotonicMillis: number;
}

/**
 * How fast a held point clock moves (ms a second) until the system's overtakes it: slow enough
 * that a step back is soon made up, fast enough that every export is newer than the last.
 */
const HELD_POINT_RATE = 1 / 1000;

/** SYSTEM_CLOCK's hold: the point time it went on from, and when (monotonic); undefined: none. */
let hold: { from: number; at: number } | undefined;

export const SYSTEM_CLOCK: Clock = {
  wallMillis: () => Date.now(),
  monotonicMillis: () => performance.now(),
  // The SDK's own anchor (the wall clock when the process started), so jobmeter's points and the
  // SDK's in one export are on one clock. Held (a restart after the wall clock stepped back), it
  // goes on slowly from the last process's until its own passes: a Collector, a TSDB, keep only a
  // point newer than the one they hold, and would drop every point until the step is made up.
  pointMillis: () => {
    const now = performance.now();
    const own = performance.timeOrigin + now;
    if (hold === undefined) return own;
    const held = hold.from + (now - hold.at) * HELD_POINT_RATE;
    if (own > held) hold = undefined;
    return Math.max(own, held);
  },
  holdPointsAfter: (millis) => {
    const now = performance.now();
    if (millis > performance.timeOrigin + now) hold = { from: millis, at: now };
  },
  boot: systemBoot,
};

/**
 * Where a restored process's point clock must be after (Clock.holdPointsAfter): the point clock
 * `point` of the process that wrote at `at`, advanced by the time since on the boot's monotonic
 * clock when this is that boot (every point that process stamped is before it); else `point`.
 */
export function pointFloor(clock: Clock, point: number, at: WrittenAt | undefined): number {
  const since = sinceWritten(clock, at);
  return since >= 0 ? point + since : point;
}

/**
 * Milliseconds since the write `at` on the boot's monotonic clock, when this is that boot; NaN
 * otherwise (another boot, no boot reading, or a clock that went back: not this boot's).
 */
function sinceWritten(clock: Clock, at: WrittenAt | undefined): number {
  const boot = at?.boot === undefined ? undefined : clock.boot?.();
  return boot === undefined || boot.id !== at!.boot!.id
    ? Number.NaN
    : boot.monotonicMillis - at!.boot!.monotonicMillis;
}

/** The anchors of clocks that have no point clock of their own: wall minus monotonic, at first use. */
/** Whether point time `a` is before `b`. */
export const before = (a: HrTime, b: HrTime): boolean =>
  a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

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
 * Linux's CLOCK_MONOTONIC (what `process.hrtime` reads) counts from the boot, for every process
 * alike, under the boot id the kernel makes anew at each boot. A time namespace (Linux 5.6+) may
 * offset that clock for its processes, so its identity is part of the id: two processes of one
 * boot in different namespaces never compare readings. Read at each call (a few bytes of /proc,
 * once per checkpoint written or read). Elsewhere, or without /proc: none.
 */
function systemBoot(): BootReading | undefined {
  if (process.platform !== 'linux') return undefined;
  let id: string;
  try {
    id = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
  } catch {
    return undefined;
  }
  if (id === '') return undefined;
  let namespace = '';
  try {
    namespace = ` ${readlinkSync('/proc/self/ns/time')}`;
  } catch {
    // A kernel without time namespaces: one monotonic clock per boot.
  }
  return { id: id + namespace, monotonicMillis: Number(process.hrtime.bigint()) / 1e6 };
}

/** The instant a checkpoint was made, as it writes it ({@link writtenTimes}). */
export interface WrittenAt {
  /** The wall reading its times are against. */
  readonly wall: number;
  /** The system's monotonic clock then, where there is one. */
  readonly boot: BootReading | undefined;
}

/**
 * Monotonic readings as a checkpoint writes them (`times`): each as the wall time it was, all
 * against one wall reading (`at.wall`), so the distances between them, and to `at.wall`, are
 * monotonic ones whatever steps came before.
 */
export function writtenTimes(clock: Clock): {
  readonly at: WrittenAt;
  readonly times: (monotonic: number) => number;
} {
  const boot = clock.boot?.();
  const wall = clock.wallMillis();
  const offset = wall - clock.monotonicMillis();
  return { at: { wall, boot }, times: (monotonic) => monotonic + offset };
}

/**
 * Wall times one process wrote at one instant ({@link writtenTimes}), as monotonic readings of this
 * one (whose origin is another), so each source keeps the idle time it has now. No wall reading of
 * this process is compared with the written ones: a step between the two processes (NTP at boot)
 * changes nothing.
 * - Written in this boot (`at.boot` of this boot's id): each is as far from now as it was from the
 *   write, plus the time since the write on the system's monotonic clock — the time jobmeter was
 *   down counted exactly (`downtime`).
 * - Else (another boot, a file written without `at`): the newest of `written` is taken as now, and
 *   each keeps its distance to it; the time between the newest and now is not counted.
 */
export function resumedTimes(
  clock: Clock,
  written: Iterable<number>,
  at: WrittenAt | undefined,
): { readonly downtime: boolean; readonly time: (wall: number) => number } {
  const now = clock.monotonicMillis();
  const since = sinceWritten(clock, at);
  // A clock that went back cannot be this boot's: the rule that needs no shared clock.
  if (since >= 0) {
    const wallAt = at!.wall;
    return { downtime: true, time: (wall) => now - (wallAt - wall) - since };
  }
  let newest = Number.NEGATIVE_INFINITY;
  for (const w of written) if (w > newest) newest = w;
  return { downtime: false, time: (wall) => now - (newest - wall) };
}
