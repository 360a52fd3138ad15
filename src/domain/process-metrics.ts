/**
 * Node process and runtime metrics: their instruments and the one table of reads that observes
 * every one of them, under three namings.
 *
 * - OpenTelemetry semantic-convention names (process.*, system.*, and jobmeter's own): legacy
 *   profiles that reported Go runtime figures map their series onto these (see naming/profiles).
 * - The runtime figures of `@opentelemetry/instrumentation-runtime-node` (its semconv.ts and
 *   metrics/*Collector.ts): event-loop delay and utilization, heap by space, GC duration by kind.
 *   Served by the native profile; no legacy original had them, so the legacy profiles neither map
 *   nor register them. Like the instrumentation: the event-loop delay figures cover the time since
 *   the previous collection ({@link sampleEventLoopDelay}) and are not observed before it has a
 *   sample; the utilization is the fraction of that time the loop was busy.
 * - The names the Prometheus client libraries give them -- prom-client's
 *   `collectDefaultMetrics()` and `@prometheus-io/client`'s, which are the same (`process_*`,
 *   `nodejs_*`): names, types, label names, help and the GC histogram's buckets -- so the common
 *   Node.js dashboards answer. Served beside the OpenTelemetry names when a host asks
 *   (`prometheusClientNames`). Each name is the instrument's own, with no unit: the native naming
 *   then serves it as it is under every translation strategy (a counter's name already ends in
 *   `_total`, no unit suffix is added).
 *
 * Every attribute is bounded: GC kinds are V8's four, heap spaces V8's handful, handle and request
 * types Node's class names, resource types its type names, the version labels one set (capped all
 * the same).
 */
import type { Attributes, Meter, Observable } from '@opentelemetry/api';
import type { Histogram, PerformanceEntry } from 'node:perf_hooks';
const { readdirSync, readFileSync } = process.getBuiltinModule('node:fs');
const os = process.getBuiltinModule('node:os');
const { constants, monitorEventLoopDelay, PerformanceObserver, performance } =
  process.getBuiltinModule('node:perf_hooks');
const { getHeapSpaceStatistics } = process.getBuiltinModule('node:v8');

import { observableGauge, observableCounter, observableUpDownCounter } from './catalog.ts';
import { SECONDS_BOUNDARIES } from './host-buckets.ts';
import { createInstrument } from './observed-instruments.ts';
import type { InstrumentSpec } from './types.ts';

/** The figures in the instrumentation's order: name, description, how each reads the histogram (ns). */
const DELAY_FIGURES: readonly (readonly [string, string, (h: Histogram) => number])[] = [
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
 * `read` gives the figures in seconds since the previous read (undefined before the first sample),
 * `stop` ends it. A read too soon for a sample gives the previous figures again, so a gauge does
 * not come and go between scrapes (Prometheus would mark it stale in between).
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

export const EVENT_LOOP_DELAY: readonly InstrumentSpec[] = DELAY_FIGURES.map(
  ([figure, description]) => observableGauge(`nodejs.eventloop.delay.${figure}`, 's', description),
);

export const EVENT_LOOP_UTILIZATION = observableGauge(
  'nodejs.eventloop.utilization',
  '1',
  'Event loop utilization',
);

/** V8's heap spaces (about ten in Node 22-24); more than this many distinct names fold into `other`. */
const HEAP_SPACE = [{ key: 'v8js.heap.space.name', cap: 24 }] as const;

/**
 * The instrumentation's four figures per heap space, in its order. The semantic conventions (the
 * semconv profile) make every one an updowncounter, where the instrumentation observes three as
 * gauges.
 */
export const HEAP_BY_SPACE: readonly InstrumentSpec[] = (
  [
    [
      'v8js.memory.heap.space.size',
      'observableUpDownCounter',
      'Total heap memory size pre-allocated for a heap space.',
    ],
    ['v8js.memory.heap.used', 'observableGauge', 'Heap Memory size allocated.'],
    ['v8js.memory.heap.space.available_size', 'observableGauge', 'Heap space available size.'],
    ['v8js.memory.heap.space.physical_size', 'observableGauge', 'Committed size of a heap space.'],
  ] as const
).map(([name, kind, description]) => ({
  name,
  kind,
  unit: 'By',
  description,
  attributes: HEAP_SPACE,
}));

/** `v8js.memory.heap.used` by space: also the legacy profiles' heap figure (crewshipd sums the spaces). */
export const V8_HEAP_USED = HEAP_BY_SPACE[1]!;

/** V8's GC kinds by the `kind` of a `gc` performance entry's detail. */
export const GC_KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export const GC_DURATION = {
  name: 'v8js.gc.duration',
  kind: 'histogram',
  unit: 's',
  description: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
  attributes: [{ key: 'v8js.gc.type', values: Object.values(GC_KINDS) }],
  // The instrumentation's DEFAULT_GC_DURATION_BUCKETS: the conventions' duration buckets.
  buckets: SECONDS_BOUNDARIES,
} as const satisfies InstrumentSpec;

/** Served by the native profile only (the heap's `v8js.memory.heap.used` is a process instrument). */
export const RUNTIME_INSTRUMENTS: readonly InstrumentSpec[] = [
  ...EVENT_LOOP_DELAY,
  EVENT_LOOP_UTILIZATION,
  ...HEAP_BY_SPACE.filter((s) => s !== V8_HEAP_USED),
  GC_DURATION,
];

// ---------------------------------------------------------------------------------------------
// The Prometheus client libraries' names.

const TYPE = [{ key: 'type', cap: 64 }] as const;
const SPACE = [{ key: 'space', cap: 24 }] as const;

const gauge = (
  name: string,
  help: string,
  attributes: readonly { key: string; cap: number }[] = [],
) => observableGauge(name, '', help, attributes);

/**
 * The process' CPU time since it started, as client_golang counts it (user, system, both): the
 * Node clients count from their own registration (a smaller figure, the same rate).
 */
export const PROCESS_CPU: readonly InstrumentSpec[] = (
  [
    ['process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.'],
    ['process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.'],
    ['process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.'],
  ] as const
).map(([name, help]) => observableCounter(name, '', help));
export const PROCESS_START_TIME = gauge(
  'process_start_time_seconds',
  'Start time of the process since unix epoch in seconds.',
);
/** From /proc/self/status (VmRSS, VmSize, VmData): Linux only, as the clients read them. */
export const PROCESS_MEMORY: readonly InstrumentSpec[] = [
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.'),
  gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.'),
  gauge('process_heap_bytes', 'Process heap size in bytes.'),
];
/** From /proc/self: Linux only. */
export const PROCESS_FDS: readonly InstrumentSpec[] = [
  gauge('process_open_fds', 'Number of open file descriptors.'),
  gauge('process_max_fds', 'Maximum number of open file descriptors.'),
];

export const EVENTLOOP_LAG = gauge('nodejs_eventloop_lag_seconds', 'Lag of event loop in seconds.');
/** In EVENT_LOOP_DELAY's order: min, max, mean, stddev, p50, p90, p99. */
export const EVENTLOOP_LAG_FIGURES: readonly InstrumentSpec[] = (
  [
    ['min', 'The minimum recorded event loop delay.'],
    ['max', 'The maximum recorded event loop delay.'],
    ['mean', 'The mean of the recorded event loop delays.'],
    ['stddev', 'The standard deviation of the recorded event loop delays.'],
    ['p50', 'The 50th percentile of the recorded event loop delays.'],
    ['p90', 'The 90th percentile of the recorded event loop delays.'],
    ['p99', 'The 99th percentile of the recorded event loop delays.'],
  ] as const
).map(([figure, help]) => gauge(`nodejs_eventloop_lag_${figure}_seconds`, help));

/** By type, then the total: resources, handles, requests. */
export const ACTIVE: readonly InstrumentSpec[] = [
  gauge(
    'nodejs_active_resources',
    'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
    TYPE,
  ),
  gauge('nodejs_active_resources_total', 'Total number of active resources.'),
  gauge(
    'nodejs_active_handles',
    'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.',
    TYPE,
  ),
  gauge('nodejs_active_handles_total', 'Total number of active handles.'),
  gauge(
    'nodejs_active_requests',
    'Number of active libuv requests grouped by request type. Every request type is C++ class name.',
    TYPE,
  ),
  gauge('nodejs_active_requests_total', 'Total number of active requests.'),
];

/** `process.memoryUsage()`'s heapTotal, heapUsed and external. */
export const HEAP: readonly InstrumentSpec[] = [
  gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.'),
  gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.'),
  gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.'),
];

/** By V8 heap space (its name without `_space`): total, used, available. */
export const HEAP_SPACES: readonly InstrumentSpec[] = (['total', 'used', 'available'] as const).map(
  (figure) =>
    gauge(
      `nodejs_heap_space_size_${figure}_bytes`,
      `Process heap space size ${figure} from Node.js in bytes.`,
      SPACE,
    ),
);

export const VERSION_INFO = gauge('nodejs_version_info', 'Node.js version info.', [
  { key: 'version', cap: 1 },
  { key: 'major', cap: 1 },
  { key: 'minor', cap: 1 },
  { key: 'patch', cap: 1 },
]);

/** {@link GC_DURATION} under the clients' name, label and buckets. */
export const GC_DURATION_SECONDS = {
  ...GC_DURATION,
  name: 'nodejs_gc_duration_seconds',
  unit: '',
  attributes: [{ key: 'kind', values: Object.values(GC_KINDS) }],
  // The clients' DEFAULT_GC_DURATION_BUCKETS.
  buckets: [0.001, 0.01, 0.1, 1, 2, 5],
} as const satisfies InstrumentSpec;

/**
 * Every instrument under the Prometheus clients' names, in their registration order.
 * @example
 *   console.log(PROMETHEUS_CLIENT_INSTRUMENTS.map((spec) => spec.name));
 */
export const PROMETHEUS_CLIENT_INSTRUMENTS: readonly InstrumentSpec[] = [
  ...PROCESS_CPU,
  PROCESS_START_TIME,
  ...PROCESS_MEMORY,
  ...PROCESS_FDS,
  EVENTLOOP_LAG,
  ...EVENTLOOP_LAG_FIGURES,
  ...ACTIVE,
  ...HEAP,
  ...HEAP_SPACES,
  VERSION_INFO,
  GC_DURATION_SECONDS,
];

// ---------------------------------------------------------------------------------------------
// The OpenTelemetry process and system figures, and the reads.

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

/** The conventions' kinds (and the usage's `used` state) where they differ from jobmeter's. */
const UP_DOWN = 'observableUpDownCounter';
const CONVENTION_KINDS: Readonly<Record<string, Partial<InstrumentSpec>>> = {
  ...Object.fromEntries(HEAP_BY_SPACE.map((s) => [s.name, { kind: UP_DOWN }])),
  [SYSTEM_MEMORY_USAGE.name]: {
    kind: UP_DOWN,
    attributes: [{ key: 'system.memory.state', values: ['used'] }],
  },
  [SYSTEM_MEMORY_LIMIT.name]: { kind: UP_DOWN },
};

/**
 * {@link PROCESS_INSTRUMENTS} as the semantic conventions define them (the semconv profile's):
 * `v8js.resource.active` by type for jobmeter's active-resource count, no GC count of jobmeter's
 * own (`v8js.gc.duration`'s count is the collections, by type), and the conventions' kinds for the
 * heap and host memory figures.
 * @example
 *   console.log(CONVENTION_PROCESS_INSTRUMENTS.map((spec) => `${spec.name} (${spec.kind})`));
 */
export const CONVENTION_PROCESS_INSTRUMENTS: readonly InstrumentSpec[] = PROCESS_INSTRUMENTS.filter(
  (s) => s !== GC_COUNT,
).map((s) =>
  s === ACTIVE_RESOURCES ? V8JS_RESOURCE_ACTIVE : { ...s, ...CONVENTION_KINDS[s.name] },
);

/**
 * When the process started, whole Unix seconds, as the Prometheus client libraries serve it: read
 * once, so a clock step or the rounding never makes a scrape see another start (a restart to
 * `changes(process_start_time_seconds)`).
 */
const PROCESS_START_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/** Bytes resident in memory (RSS), as `process.memory.usage` counts the process' memory. */
const residentBytes = (): number => process.memoryUsage.rss();

/** What `read` gives from /proc/self (Linux); undefined elsewhere, or when it cannot be read. */
function fromProc<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** /proc/self/status' VmRSS, VmSize and VmData in bytes. */
const procStatus = () =>
  fromProc(() => {
    const status = readFileSync('/proc/self/status', 'utf8');
    return ['VmRSS', 'VmSize', 'VmData'].map((key) => {
      const kb = new RegExp(`^${key}:\\s*(\\d+) kB`, 'm').exec(status)?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    });
  });

/** The open file descriptors, less the one readdir itself holds open (as the clients count). */
const openFds = () => fromProc(() => readdirSync('/proc/self/fd').length - 1);

/** The soft limit on open files, from /proc/self/limits. */
const maxFds = () =>
  fromProc(() => {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const limit = Number(line?.split(/  +/)[1]);
    return Number.isFinite(limit) ? limit : undefined;
  });

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

/** V8's figures of a heap space, in the order of HEAP_BY_SPACE (HEAP_SPACES: the first three). */
const SPACE_FIGURES = [
  'space_size',
  'space_used_size',
  'space_available_size',
  'physical_space_size',
] as const;

/** Observes the figure of the `i`th instrument of a reading. */
type Observe = (i: number, value: number, attributes?: Attributes) => void;

/** Instruments observed by one read per collection (a batch callback): each by its index in `specs`. */
interface Reading {
  readonly specs: readonly InstrumentSpec[];
  readonly read: (observe: Observe) => void;
}

/** Observes `figures` as the instruments of a reading, in order; one unknown (undefined) is left out. */
const inOrder = (o: Observe, figures: readonly (number | undefined)[] | undefined): void =>
  figures?.forEach((value, i) => value !== undefined && o(i, value));

/** A reading of one instrument. */
const one = (spec: InstrumentSpec, read: (observe: Observe) => void): Reading => ({
  specs: [spec],
  read,
});

/** `names` (resource types, or handles' and requests' class names) by name: each name's count is its length. */
const byType = (names: readonly string[]) => Map.groupBy(names, (name) => name);

/** The class names of libuv's active handles or requests, as the Prometheus clients read them. */
function classNames(list: (() => unknown[]) | undefined): string[] | undefined {
  return list?.()
    .filter((o) => (o as object | null)?.constructor !== undefined)
    .map((o) => (o as object).constructor.name);
}

const internals = process as unknown as {
  _getActiveHandles?: () => unknown[];
  _getActiveRequests?: () => unknown[];
};

/**
 * Observes on `meter` the figures `instruments` gives, each as the instrument given for it, by the
 * name of the instrument whose reading it takes (itself, or a name of jobmeter's own telemetry:
 * http/self-telemetry.ts); returns a function that stops their samplers. `delayOf`: where the
 * event-loop delay figures are read (default: a sampler of its own, from now on).
 */
export function registerProcessMetrics(
  meter: Meter,
  instruments: Readonly<Record<string, InstrumentSpec>>,
  delayOf?: () => readonly number[] | undefined,
): () => void {
  const wanted = new Map(Object.entries(instruments));
  // One observer of V8's collections: their count (GC_COUNT) and durations (GC_DURATION, and
  // under the clients' name), each naming by the attribute it says the kind by.
  let gcCount = 0;
  const gcDurations = [GC_DURATION, GC_DURATION_SECONDS]
    .filter((spec) => wanted.has(spec.name))
    .map((spec) => [createInstrument(meter, spec), spec.attributes[0].key] as const);
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount++;
      const kind =
        GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1];
      if (kind === undefined) continue;
      for (const [durations, key] of gcDurations)
        durations.record(entry.duration / 1000, { [key]: kind });
    }
  });
  if (gcDurations.length > 0 || wanted.has(GC_COUNT.name))
    gcObserver.observe({ entryTypes: ['gc'] });
  const sampler =
    delayOf === undefined &&
    (wanted.has(EVENT_LOOP_DELAY[0]!.name) || wanted.has(EVENTLOOP_LAG_FIGURES[0]!.name))
      ? sampleEventLoopDelay()
      : undefined;
  const delay = delayOf ?? (() => sampler?.read());
  // The clients' lag: the time a setImmediate queued at a collection waits, seen at the next.
  let lag = 0;
  const [major, minor, patch] = process.version.slice(1).split('.');
  const version = { version: process.version, major, minor, patch };

  const memoryState =
    wanted.get(SYSTEM_MEMORY_USAGE.name)?.attributes.length === 0
      ? {}
      : { 'system.memory.state': 'used' };
  const startedAt = performance.timeOrigin;
  let prevCpu = { busy: 0, total: 0 };
  let lastUtilization: number | undefined;
  let lastElu = performance.eventLoopUtilization();
  const readings: Reading[] = [
    one(PROCESS_UPTIME, (o) => o(0, (Date.now() - startedAt) / 1000)),
    // Each source is read once for every naming of its figures.
    {
      specs: [PROCESS_CPU_TIME, ...PROCESS_CPU],
      read(o) {
        const usage = process.cpuUsage();
        const [user, system] = [usage.user / 1e6, usage.system / 1e6];
        o(0, user, { 'cpu.mode': 'user' });
        o(0, system, { 'cpu.mode': 'system' });
        o(1, user);
        o(2, system);
        o(3, user + system);
      },
    },
    one(PROCESS_MEMORY_USAGE, (o) => o(0, residentBytes())),
    one(GC_COUNT, (o) => o(0, gcCount)),
    one(ACTIVE_RESOURCES, (o) => o(0, process.getActiveResourcesInfo().length)),
    one(V8JS_RESOURCE_ACTIVE, (o) => {
      for (const [type, all] of byType(process.getActiveResourcesInfo()))
        o(0, all.length, { 'v8js.resource.type': type });
    }),
    one(SYSTEM_CPU_UTILIZATION, (o) => {
      const cur = cpuTimes();
      const total = cur.total - prevCpu.total;
      // Two collections within one kernel tick see no CPU time pass: repeat the last figure rather
      // than let the series blink out.
      if (total > 0) {
        lastUtilization = (cur.busy - prevCpu.busy) / total;
        prevCpu = cur;
      }
      if (lastUtilization !== undefined) o(0, lastUtilization);
    }),
    // libuv's free memory is MemAvailable on Linux, so this is what `free` calls used; the
    // conventions' usage is by state (its spec says so), and this figure is the `used` one.
    one(SYSTEM_MEMORY_USAGE, (o) => o(0, os.totalmem() - os.freemem(), memoryState)),
    one(SYSTEM_MEMORY_LIMIT, (o) => o(0, os.totalmem())),
    // The conventions' four figures by space, and the clients' first three by its short name.
    {
      specs: [...HEAP_BY_SPACE, ...HEAP_SPACES],
      read(o) {
        for (const space of getHeapSpaceStatistics()) {
          const name = space.space_name;
          const short = { space: name.slice(0, Math.max(0, name.indexOf('_space'))) };
          SPACE_FIGURES.forEach((figure, i) => {
            o(i, space[figure], { 'v8js.heap.space.name': name });
            if (i < 3) o(HEAP_BY_SPACE.length + i, space[figure], short);
          });
        }
      },
    },
    // One read of the delay for its seven figures: a read starts the next interval (the clients'
    // names read it in the same collection: the same figures).
    { specs: EVENT_LOOP_DELAY, read: (o) => inOrder(o, delay()) },
    one(PROCESS_START_TIME, (o) => o(0, PROCESS_START_SECONDS)),
    { specs: PROCESS_MEMORY, read: (o) => inOrder(o, procStatus() ?? [residentBytes()]) },
    { specs: PROCESS_FDS, read: (o) => inOrder(o, [openFds(), maxFds()]) },
    one(EVENTLOOP_LAG, (o) => {
      o(0, lag);
      const start = process.hrtime.bigint();
      setImmediate(() => {
        lag = Number(process.hrtime.bigint() - start) / 1e9;
      });
    }),
    { specs: EVENTLOOP_LAG_FIGURES, read: (o) => inOrder(o, delay()) },
    {
      specs: ACTIVE,
      read(o) {
        const lists = [
          process.getActiveResourcesInfo(),
          classNames(internals._getActiveHandles?.bind(process)),
          classNames(internals._getActiveRequests?.bind(process)),
        ];
        lists.forEach((names, i) => {
          if (names === undefined) return;
          for (const [type, all] of byType(names)) o(2 * i, all.length, { type });
          o(2 * i + 1, names.length);
        });
      },
    },
    {
      specs: HEAP,
      read(o) {
        const { heapTotal, heapUsed, external } = process.memoryUsage();
        inOrder(o, [heapTotal, heapUsed, external]);
      },
    },
    one(VERSION_INFO, (o) => o(0, 1, version)),
    one(EVENT_LOOP_UTILIZATION, (o) => {
      const now = performance.eventLoopUtilization();
      o(0, performance.eventLoopUtilization(now, lastElu).utilization);
      lastElu = now;
    }),
  ];
  for (const { specs, read } of readings) {
    const instruments = specs.map((s) => {
      const spec = wanted.get(s.name);
      return spec && (createInstrument(meter, spec) as Observable);
    });
    const observed = instruments.filter((o) => o !== undefined);
    if (observed.length > 0)
      meter.addBatchObservableCallback((r) => {
        read((i, value, attributes) => {
          const o = instruments[i];
          if (o !== undefined) r.observe(o, value, attributes);
        });
      }, observed);
  }
  return () => {
    gcObserver.disconnect();
    sampler?.stop();
  };
}
