/**
 * What held the event loop: a diagnostic for the event-loop scenario (`BENCH_LOOP_BLOCKS=<ms>`).
 *
 * `monitorEventLoopDelay` says how long the longest block was, not what it was. This records every
 * block longer than a threshold as a time span (a 1 ms timer chain: a block is the gap between two
 * ticks, minus the timer's own 1 ms), and the garbage collections (`PerformanceObserver` 'gc'
 * entries: kind and pause) and marks (`mark(label)`, e.g. "response written") inside each span,
 * on the same `performance.now()` clock. A block with a long mark-compact inside is GC; one with
 * none is JavaScript or a synchronous native call, and the marks around it say which phase.
 *
 * Each block also says how much of it the main thread was on a CPU (`process.threadCpuUsage`,
 * user and system), and, on Linux, how long it sat runnable on a run queue waiting for a core
 * (`/proc/thread-self/schedstat`, the scheduler's own account): on-CPU time is work done on the
 * loop (ours, V8's, or the kernel's for our syscalls: a loopback write also runs the receiving
 * side's TCP); run-queue time is the machine's (2 cores, a client and other work on them).
 *
 * Timers are checked once per loop iteration, so a block that ends in I/O callbacks is seen
 * slightly late; the spans are upper bounds, as `monitorEventLoopDelay`'s are.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

const GC_KIND: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export interface Block {
  readonly start: number;
  /** The same instant on the monotonic clock, µs: the clock of a `.cpuprofile`'s timestamps. */
  readonly startUs: number;
  readonly ms: number;
  /** Main-thread CPU time over the block, ms: user, system. */
  readonly userMs: number;
  readonly systemMs: number;
  /** Time the main thread was runnable but not running over the block, ms (NaN off Linux). */
  readonly waitMs: number;
  /** Page faults the process took over the block: major (the page read from disk) and minor. */
  readonly majorFaults: number;
  readonly minorFaults: number;
  /** GC pauses that started inside the block: kind and ms. */
  readonly gc: readonly { readonly kind: string; readonly ms: number }[];
  /** Marks inside the block, with their offset from its start. */
  readonly marks: readonly string[];
  /** Accounted calls (`account`) that started inside the block, by label: calls, ms, bytes. */
  readonly calls: Readonly<Record<string, { n: number; ms: number; bytes: number }>>;
}

export interface Blocks {
  readonly blocks: Block[];
  /** Every GC pause over the window, by kind. */
  readonly gcTotals: Record<string, { count: number; ms: number; maxMs: number }>;
}

export interface BlockRecorder {
  mark(label: string): void;
  /** One call of something worth counting per block (a socket write): when it started, how long, how many bytes. */
  account(label: string, start: number, ms: number, bytes: number): void;
  stop(): Blocks;
}

/** This thread's total run-queue wait so far, ms (Linux schedstat); NaN where there is none. */
export function runQueueMillis(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[1]) / 1e6;
  } catch {
    return NaN;
  }
}

export function recordBlocks(thresholdMs: number): BlockRecorder {
  const gcs: { start: number; ms: number; kind: string }[] = [];
  const marks: { at: number; label: string }[] = [];
  const accounted: { at: number; label: string; ms: number; bytes: number }[] = [];
  const spans: {
    start: number;
    end: number;
    userMs: number;
    systemMs: number;
    waitMs: number;
    majorFaults: number;
    minorFaults: number;
  }[] = [];
  // performance.now() and the monotonic clock V8's profiler stamps samples with, µs.
  const hr0 = Number(process.hrtime.bigint() / 1000n);
  const now0 = performance.now();
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      gcs.push({
        start: e.startTime,
        ms: e.duration,
        kind: GC_KIND[e.detail?.kind ?? -1] ?? String(e.detail?.kind),
      });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  // schedstat: "<ns on cpu> <ns waiting on a run queue> <timeslices>".
  let fd: number | undefined;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    fd = undefined;
  }
  const buf = Buffer.alloc(128);
  const waited = (): number => {
    if (fd === undefined) return NaN;
    const n = readSync(fd, buf, 0, buf.length, 0);
    return Number(buf.toString('latin1', 0, n).split(' ')[1]) / 1e6;
  };
  let last = performance.now();
  let lastCpu = process.threadCpuUsage();
  let lastWait = waited();
  let lastUsage = process.resourceUsage();
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const now = performance.now();
    const c = process.threadCpuUsage();
    const w = waited();
    const u = process.resourceUsage();
    if (now - last - 1 > thresholdMs) {
      spans.push({
        start: last,
        end: now,
        userMs: (c.user - lastCpu.user) / 1000,
        systemMs: (c.system - lastCpu.system) / 1000,
        waitMs: w - lastWait,
        majorFaults: u.majorPageFault - lastUsage.majorPageFault,
        minorFaults: u.minorPageFault - lastUsage.minorPageFault,
      });
    }
    last = now;
    lastCpu = c;
    lastWait = w;
    lastUsage = u;
    timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, 1);
  return {
    mark(label) {
      marks.push({ at: performance.now(), label });
    },
    account(label, start, ms, bytes) {
      accounted.push({ at: start, label, ms, bytes });
    },
    stop() {
      clearTimeout(timer);
      observer.disconnect();
      if (fd !== undefined) closeSync(fd);
      const gcTotals: Record<string, { count: number; ms: number; maxMs: number }> = {};
      for (const g of gcs) {
        const t = (gcTotals[g.kind] ??= { count: 0, ms: 0, maxMs: 0 });
        t.count++;
        t.ms += g.ms;
        t.maxMs = Math.max(t.maxMs, g.ms);
      }
      const blocks = spans.map((s) => ({
        start: s.start,
        startUs: hr0 + (s.start - now0) * 1000,
        ms: s.end - s.start - 1,
        userMs: s.userMs,
        systemMs: s.systemMs,
        waitMs: s.waitMs,
        majorFaults: s.majorFaults,
        minorFaults: s.minorFaults,
        gc: gcs
          .filter((g) => g.start >= s.start && g.start < s.end)
          .map((g) => ({ kind: g.kind, ms: g.ms })),
        marks: marks
          .filter((m) => m.at >= s.start && m.at <= s.end)
          .map((m) => `${m.label}@+${(m.at - s.start).toFixed(1)}`),
        calls: accounted
          .filter((a) => a.at >= s.start && a.at <= s.end)
          .reduce<Record<string, { n: number; ms: number; bytes: number }>>((acc, a) => {
            const c = (acc[a.label] ??= { n: 0, ms: 0, bytes: 0 });
            c.n++;
            c.ms += a.ms;
            c.bytes += a.bytes;
            return acc;
          }, {}),
      }));
      return { blocks, gcTotals };
    },
  };
}

export function describeBlock(b: Block): string {
  const gc =
    b.gc.length === 0 ? 'no gc' : b.gc.map((g) => `${g.kind} ${g.ms.toFixed(1)}`).join(', ');
  const calls = Object.entries(b.calls)
    .map(
      ([k, c]) =>
        ` ${k}: ${c.n} calls, ${(c.bytes / 1048576).toFixed(2)} MiB, ${c.ms.toFixed(1)} ms;`,
    )
    .join('');
  return `${b.ms.toFixed(1)} ms at ${b.start.toFixed(0)}: user ${b.userMs.toFixed(1)} + sys ${b.systemMs.toFixed(1)}, run queue ${b.waitMs.toFixed(1)}, faults ${b.majorFaults} major + ${b.minorFaults} minor (${gc})${calls}${b.marks.length > 0 ? ' marks: ' + b.marks.join(' ') : ''}`;
}
