/**
 * The process' readings for both that serve them: the process and runtime metrics
 * (domain/process-metrics.ts, runtime-metrics.ts) and jobmeter's own telemetry
 * (http/self-telemetry.ts). The resident set size is `process.memory.usage`'s figure; the CPU
 * time is `process.cpu.time`'s, by `cpu.mode`.
 *
 * The event-loop delay as `@opentelemetry/instrumentation-runtime-node` serves it
 * (`nodejs.eventloop.delay.*`). Like the
 * instrumentation, the figures cover the time since the previous read (the histogram is reset
 * after each); a read too soon for a sample gives the previous figures again, so a gauge does not
 * come and go between scrapes (Prometheus would mark it stale in between).
 */
import { monitorEventLoopDelay, type Histogram } from 'node:perf_hooks';

/** Bytes resident in memory (RSS), as `process.memory.usage` counts the process' memory. */
export const residentBytes = (): number => process.memoryUsage.rss();

/** CPU time the process has used since it started, seconds by mode (`cpu.mode`'s values). */
export function cpuSeconds(): { readonly user: number; readonly system: number } {
  const { user, system } = process.cpuUsage();
  return { user: user / 1e6, system: system / 1e6 };
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
