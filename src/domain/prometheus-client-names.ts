/**
 * The Node runtime figures under the names the Prometheus client libraries give them --
 * prom-client's `collectDefaultMetrics()` and `@prometheus-io/client`'s, which are the same
 * (`process_*`, `nodejs_*`): names, types, label names, help and the GC histogram's buckets -- so
 * the common Node.js dashboards answer. Served beside the OpenTelemetry names when a host asks
 * (`prometheusClientNames`); what each observes is process-metrics.ts's (one table of reads).
 *
 * Each name is the instrument's own, with no unit: the native naming then serves it as it is under
 * every translation strategy (a counter's name already ends in `_total`, no unit suffix is added).
 * Label values are bounded: handle and request types are Node's class names, resource types its
 * type names, heap spaces V8's handful, the version labels one set (capped all the same).
 */
import { observableCounter, observableGauge } from './catalog.ts';
import { GC_KINDS } from './runtime-metrics.ts';
import type { InstrumentSpec } from './types.ts';

const TYPE = [{ key: 'type', cap: 64 }] as const;
const SPACE = [{ key: 'space', cap: 24 }] as const;

const gauge = (
  name: string,
  help: string,
  attributes: readonly { key: string; cap: number }[] = [],
) => observableGauge(name, '', help, attributes);

/**
 * The process' CPU time since it started, as client_golang counts it: the Node clients count from
 * their own registration (a smaller figure, the same rate).
 */
export const PROCESS_CPU_USER = observableCounter(
  'process_cpu_user_seconds_total',
  '',
  'Total user CPU time spent in seconds.',
);
export const PROCESS_CPU_SYSTEM = observableCounter(
  'process_cpu_system_seconds_total',
  '',
  'Total system CPU time spent in seconds.',
);
export const PROCESS_CPU_TOTAL = observableCounter(
  'process_cpu_seconds_total',
  '',
  'Total user and system CPU time spent in seconds.',
);
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
/** In runtime-metrics.ts EVENT_LOOP_DELAY's order: min, max, mean, stddev, p50, p90, p99. */
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

export const GC_DURATION_SECONDS = {
  name: 'nodejs_gc_duration_seconds',
  kind: 'histogram',
  unit: '',
  description: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
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
  PROCESS_CPU_USER,
  PROCESS_CPU_SYSTEM,
  PROCESS_CPU_TOTAL,
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
