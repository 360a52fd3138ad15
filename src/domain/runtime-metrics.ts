/**
 * Node runtime metrics under the names, units, attributes and descriptions of
 * `@opentelemetry/instrumentation-runtime-node` (its semconv.ts and metrics/*Collector.ts): event-loop
 * delay and utilization, heap by space, GC duration by kind. Served by the native profile; no
 * legacy original had them, so the legacy profiles neither map nor register them. What each
 * observes is process-metrics.ts's (one table of reads for every process and runtime figure).
 *
 * Like the instrumentation: the event-loop delay figures cover the time since the previous
 * collection ({@link sampleEventLoopDelay}) and are not observed before it has a sample; the
 * utilization is the fraction of that time the loop was busy. Every attribute is bounded: GC kinds
 * are V8's four, heap spaces are V8's handful (capped all the same).
 */
import { constants, monitorEventLoopDelay, type Histogram } from 'node:perf_hooks';

import { observableGauge } from './catalog.ts';
import { SECONDS_BOUNDARIES } from './host-buckets.ts';
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
