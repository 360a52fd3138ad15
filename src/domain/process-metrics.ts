/**
 * Node process and runtime metrics, under OpenTelemetry semantic-convention names. Legacy
 * profiles that reported Go runtime figures map their series onto these (see naming/profiles).
 * The runtime figures of `@opentelemetry/instrumentation-runtime-node` are runtime-metrics.ts's.
 */
import type { Meter } from '@opentelemetry/api';
import os from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { observableGauge, observableCounter, observableUpDownCounter } from './catalog.ts';
import { createObservable } from './observed-instruments.ts';
import {
  CONVENTION_HEAP_BY_SPACE,
  CONVENTION_RUNTIME_INSTRUMENTS,
  HEAP_BY_SPACE,
  registerHeapUsed,
  registerRuntimeMetrics,
  RUNTIME_INSTRUMENTS,
  V8_HEAP_USED,
} from './runtime-metrics.ts';
import type { InstrumentSpec } from './types.ts';

export const PROCESS_UPTIME = observableGauge(
  'process.uptime',
  's',
  'Seconds since the process started.',
);

export const PROCESS_CPU_TIME = observableCounter(
  'process.cpu.time',
  's',
  'CPU time used by the process, by mode.',
  [{ key: 'cpu.mode', values: ['user', 'system'] }],
);

export const PROCESS_MEMORY_USAGE = observableUpDownCounter(
  'process.memory.usage',
  'By',
  'Resident set size of the process.',
);

export const GC_COUNT = observableCounter(
  'jobmeter.process.gc.count',
  '{collection}',
  'Garbage collections completed since start.',
);

export const ACTIVE_RESOURCES = observableGauge(
  'jobmeter.process.active_resources',
  '{resource}',
  'Active libuv handles and requests keeping the event loop alive (the nearest Node figure to a goroutine count).',
);

export const SYSTEM_CPU_UTILIZATION = observableGauge(
  'system.cpu.utilization',
  '1',
  'Host CPU busy fraction (0\u20131) since the previous collection (since boot on the first).',
);

export const SYSTEM_MEMORY_USAGE = observableGauge(
  'system.memory.usage',
  'By',
  'Host memory in use (total minus available).',
);

export const SYSTEM_MEMORY_LIMIT = observableGauge(
  'system.memory.limit',
  'By',
  'Total host memory.',
);

/**
 * The active resources as the semantic conventions count them (`v8js.resource.active`): by the
 * type Node names each (`Timeout`, `TCPWrap`, ...). The semconv profile's, in place of
 * {@link ACTIVE_RESOURCES}; Node's types are a short list, capped all the same.
 */
export const V8JS_RESOURCE_ACTIVE = observableGauge(
  'v8js.resource.active',
  '{resource}',
  'Active resources keeping the event loop alive, by type.',
  [{ key: 'v8js.resource.type', cap: 64 }],
);

/** The host's memory figures as the conventions define them: updowncounters, the usage by state. */
const CONVENTION_SYSTEM_MEMORY_USAGE: InstrumentSpec = {
  ...SYSTEM_MEMORY_USAGE,
  kind: 'observableUpDownCounter',
  attributes: [{ key: 'system.memory.state', values: ['used'] }],
};
const CONVENTION_SYSTEM_MEMORY_LIMIT: InstrumentSpec = {
  ...SYSTEM_MEMORY_LIMIT,
  kind: 'observableUpDownCounter',
};

/**
 * The process and runtime instruments jobmeter observes when `processMetrics` is on.
 * @example
 *   console.log(PROCESS_INSTRUMENTS.map((spec) => spec.name));
 */
export const PROCESS_INSTRUMENTS: readonly InstrumentSpec[] = [
  PROCESS_UPTIME,
  PROCESS_CPU_TIME,
  PROCESS_MEMORY_USAGE,
  V8_HEAP_USED,
  GC_COUNT,
  ACTIVE_RESOURCES,
  SYSTEM_CPU_UTILIZATION,
  SYSTEM_MEMORY_USAGE,
  SYSTEM_MEMORY_LIMIT,
  ...RUNTIME_INSTRUMENTS,
];

/**
 * {@link PROCESS_INSTRUMENTS} as the semantic conventions define them (the semconv profile's):
 * `v8js.resource.active` by type for jobmeter's active-resource count, no GC count of jobmeter's
 * own (`v8js.gc.duration`'s count is the collections, by type), and the conventions' kinds for the
 * heap and host memory figures.
 * @example
 *   console.log(CONVENTION_PROCESS_INSTRUMENTS.map((spec) => `${spec.name} (${spec.kind})`));
 */
export const CONVENTION_PROCESS_INSTRUMENTS: readonly InstrumentSpec[] = [
  PROCESS_UPTIME,
  PROCESS_CPU_TIME,
  PROCESS_MEMORY_USAGE,
  CONVENTION_HEAP_BY_SPACE.find((s) => s.name === V8_HEAP_USED.name)!,
  V8JS_RESOURCE_ACTIVE,
  SYSTEM_CPU_UTILIZATION,
  CONVENTION_SYSTEM_MEMORY_USAGE,
  CONVENTION_SYSTEM_MEMORY_LIMIT,
  ...CONVENTION_RUNTIME_INSTRUMENTS,
];

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    const sum = t.user + t.nice + t.sys + t.idle + t.irq;
    total += sum;
    busy += sum - t.idle;
  }
  return { busy, total };
}

export interface ProcessMetricsOptions {
  /**
   * Register {@link RUNTIME_INSTRUMENTS} too (event-loop delay and utilization, heap by space, GC
   * duration): the native profile serves them, no legacy profile does. @default true
   */
  readonly runtime?: boolean;
  /**
   * Observe {@link CONVENTION_PROCESS_INSTRUMENTS} instead of {@link PROCESS_INSTRUMENTS} (the
   * semconv profile). @default false
   */
  readonly conventions?: boolean;
}

/** Registers the process instruments on `meter`; returns a function that stops their observers. */
export function registerProcessMetrics(
  meter: Meter,
  options: ProcessMetricsOptions = {},
): () => void {
  const conventions = options.conventions === true;
  const specs = conventions ? CONVENTION_PROCESS_INSTRUMENTS : PROCESS_INSTRUMENTS;
  const spec = (name: string): InstrumentSpec => specs.find((s) => s.name === name)!;
  const startedAt = performance.timeOrigin;
  let gcCount = 0;
  const gcObserver = conventions
    ? undefined
    : new PerformanceObserver((list) => {
        gcCount += list.getEntries().length;
      });
  gcObserver?.observe({ entryTypes: ['gc'] });

  createObservable(meter, PROCESS_UPTIME).addCallback((r) => {
    r.observe((Date.now() - startedAt) / 1000);
  });
  createObservable(meter, PROCESS_CPU_TIME).addCallback((r) => {
    const usage = process.cpuUsage();
    r.observe(usage.user / 1e6, { 'cpu.mode': 'user' });
    r.observe(usage.system / 1e6, { 'cpu.mode': 'system' });
  });
  createObservable(meter, PROCESS_MEMORY_USAGE).addCallback((r) => {
    r.observe(process.memoryUsage.rss());
  });
  registerHeapUsed(meter, spec(V8_HEAP_USED.name));
  if (conventions) {
    createObservable(meter, V8JS_RESOURCE_ACTIVE).addCallback((r) => {
      const byType = new Map<string, number>();
      for (const type of process.getActiveResourcesInfo())
        byType.set(type, (byType.get(type) ?? 0) + 1);
      for (const [type, n] of byType) r.observe(n, { 'v8js.resource.type': type });
    });
  } else {
    createObservable(meter, GC_COUNT).addCallback((r) => {
      r.observe(gcCount);
    });
    createObservable(meter, ACTIVE_RESOURCES).addCallback((r) => {
      r.observe(process.getActiveResourcesInfo().length);
    });
  }
  let prevCpu = { busy: 0, total: 0 };
  let lastUtilization: number | undefined;
  createObservable(meter, SYSTEM_CPU_UTILIZATION).addCallback((r) => {
    const cur = cpuTimes();
    const total = cur.total - prevCpu.total;
    // Two collections within one kernel tick see no CPU time pass: repeat the last figure rather
    // than let the series blink out.
    if (total > 0) {
      lastUtilization = (cur.busy - prevCpu.busy) / total;
      prevCpu = cur;
    }
    if (lastUtilization !== undefined) r.observe(lastUtilization);
  });
  const memoryUsage = spec(SYSTEM_MEMORY_USAGE.name);
  // The conventions' usage is by state: this figure is the `used` one.
  const usedState =
    memoryUsage.attributes.length === 0 ? undefined : { 'system.memory.state': 'used' };
  createObservable(meter, memoryUsage).addCallback((r) => {
    // libuv's free memory is MemAvailable on Linux, so this is what `free` calls used.
    r.observe(os.totalmem() - os.freemem(), usedState);
  });
  createObservable(meter, spec(SYSTEM_MEMORY_LIMIT.name)).addCallback((r) => {
    r.observe(os.totalmem());
  });
  const stopRuntime =
    options.runtime === false
      ? () => {}
      : registerRuntimeMetrics(meter, conventions ? CONVENTION_HEAP_BY_SPACE : HEAP_BY_SPACE);
  return () => {
    gcObserver?.disconnect();
    stopRuntime();
  };
}
