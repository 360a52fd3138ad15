/**
 * The process' readings for both that serve them: the process and runtime metrics
 * (domain/process-metrics.ts, runtime-metrics.ts) and jobmeter's own telemetry
 * (http/self-telemetry.ts), each read by one function here. The resident set size is
 * `process.memory.usage`'s figure; the CPU time is `process.cpu.time`'s, by `cpu.mode`; the start
 * time, /proc's memory figures, the open descriptors and their limit are the Prometheus client libraries'.
 *
 * The event-loop delay as `@opentelemetry/instrumentation-runtime-node` serves it
 * (`nodejs.eventloop.delay.*`). Like the
 * instrumentation, the figures cover the time since the previous read (the histogram is reset
 * after each); a read too soon for a sample gives the previous figures again, so a gauge does not
 * come and go between scrapes (Prometheus would mark it stale in between).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type Histogram } from 'node:perf_hooks';

/**
 * When the process started, whole Unix seconds, as the Prometheus client libraries serve it: read
 * once, so a clock step or the rounding never makes a scrape see another start (a restart to
 * `changes(process_start_time_seconds)`).
 */
export const PROCESS_START_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/** Bytes resident in memory (RSS), as `process.memory.usage` counts the process' memory. */
export const residentBytes = (): number => process.memoryUsage.rss();

/** CPU time the process has used since it started, seconds by mode (`cpu.mode`'s values). */
export function cpuSeconds(): { readonly user: number; readonly system: number } {
  const { user, system } = process.cpuUsage();
  return { user: user / 1e6, system: system / 1e6 };
}

/** /proc/self/status' VmRSS, VmSize and VmData in bytes (Linux; undefined elsewhere or unreadable). */
export function procStatus(): readonly (number | undefined)[] | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    return ['VmRSS', 'VmSize', 'VmData'].map((key) => {
      const kb = new RegExp(`^${key}:\\s*(\\d+) kB`, 'm').exec(status)?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    });
  } catch {
    return undefined;
  }
}

/** The open file descriptors, from /proc/self/fd (Linux; undefined elsewhere). */
export function openFds(): number | undefined {
  try {
    // Less the descriptor readdir itself holds open, as the clients count.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

/** The soft limit on open files, from /proc/self/limits (Linux; undefined elsewhere). */
export function maxFds(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const limit = Number(line?.split(/  +/)[1]);
    return Number.isFinite(limit) ? limit : undefined;
  } catch {
    return undefined;
  }
}

/** The figures in the instrumentation's order: name, description, how each reads the histogram (ns). */
export const DELAY_FIGURES: readonly (readonly [string, string, (h: Histogram) => number])[] = [
  ['min', 'Event loop minimum delay.', (h) => h.min],
  ['max', 'Event loop maximum delay.', (h) => h.max],
  ['mean', 'Event loop mean delay.', (h) => h.mean],
  ['stddev', 'Event loop standard deviation delay.', (h) => h.stddev],
  ['p50', 'Event loop 50 percentile delay.', (h) => h.percentile(50)],
  ['p90', 'Event loop 90 percentile delay.', (h) => h.percentile(90)],
  ['p99', 'Event loop 99 percentile delay.', (h) => h.percentile(99)],
];

/**
 * Samples the delay from now on, every 10 ms (the instrumentation's default `monitoringPrecision`):
 * `read` gives the figures in seconds (undefined before the first sample), `stop` ends it.
 */
export function sampleEventLoopDelay(): { read(): readonly number[] | undefined; stop(): void } {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let last: number[] | undefined;
  return {
    read() {
      if (delay.count > 0) {
        last = DELAY_FIGURES.map(([, , read]) => read(delay) / 1e9).map((s) =>
          Number.isFinite(s) ? s : 0,
        );
        delay.reset();
      }
      return last;
    },
    stop: () => delay.disable(),
  };
}
