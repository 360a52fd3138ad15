/**
 * Node runtime metrics under the names, units, attributes and descriptions of
 * `@opentelemetry/instrumentation-runtime-node` (its semconv.ts and metrics/*Collector.ts): event-loop
 * delay and utilization, heap by space, GC duration by kind. Served by the native profile; no
 * legacy original had them, so the legacy profiles neither map nor register them.
 *
 * Like the instrumentation: the event-loop delay figures cover the time since the previous
 * collection (common/event-loop-delay.ts) and are not observed before it has a sample; the
 * utilization is the fraction of that time the loop was busy. Every attribute is bounded: GC kinds
 * are V8's four, heap spaces are V8's handful (capped all the same).
 */
import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import {
  constants,
  PerformanceObserver,
  performance,
  type EventLoopUtilization,
  type PerformanceEntry,
} from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

import { DELAY_FIGURES, sampleEventLoopDelay } from '../common/event-loop-delay.ts';
import { observableGauge } from './catalog.ts';
import { createObservable } from './observed-instruments.ts';
import type { InstrumentSpec } from './types.ts';

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

/** The instrumentation's four figures per heap space, in its order, with the `HeapSpaceInfo` field each reads. */
const HEAP_FIGURES = [
  [
    'v8js.memory.heap.space.size',
    'observableUpDownCounter',
    'Total heap memory size pre-allocated for a heap space.',
    'space_size',
  ],
  ['v8js.memory.heap.used', 'observableGauge', 'Heap Memory size allocated.', 'space_used_size'],
  [
    'v8js.memory.heap.space.available_size',
    'observableGauge',
    'Heap space available size.',
    'space_available_size',
  ],
  [
    'v8js.memory.heap.space.physical_size',
    'observableGauge',
    'Committed size of a heap space.',
    'physical_space_size',
  ],
] as const;

export const HEAP_BY_SPACE: readonly InstrumentSpec[] = HEAP_FIGURES.map(
  ([name, kind, description]) => ({ name, kind, unit: 'By', description, attributes: HEAP_SPACE }),
);

/**
 * The heap figures as the semantic conventions define them (v8js metrics): every one an
 * updowncounter, where the instrumentation observes three as gauges. The semconv profile's.
 */
export const CONVENTION_HEAP_BY_SPACE: readonly InstrumentSpec[] = HEAP_BY_SPACE.map((spec) => ({
  ...spec,
  kind: 'observableUpDownCounter',
}));

/** `v8js.memory.heap.used` by space: also the legacy profiles' heap figure (crewshipd sums the spaces). */
export const V8_HEAP_USED = HEAP_BY_SPACE[1]!;

const GC_KINDS: Readonly<Record<number, string>> = {
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
  // The instrumentation's DEFAULT_GC_DURATION_BUCKETS.
  buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
} as const satisfies InstrumentSpec;

/** The runtime instruments, the heap's figures as `heap` gives them (`v8js.memory.heap.used` is a process instrument). */
function runtimeInstruments(heap: readonly InstrumentSpec[]): InstrumentSpec[] {
  return [
    ...EVENT_LOOP_DELAY,
    EVENT_LOOP_UTILIZATION,
    ...heap.filter((s) => s.name !== V8_HEAP_USED.name),
    GC_DURATION,
  ];
}

/** Served by the native profile only (the heap's `v8js.memory.heap.used` is a process instrument). */
export const RUNTIME_INSTRUMENTS: readonly InstrumentSpec[] = runtimeInstruments(HEAP_BY_SPACE);

/** {@link RUNTIME_INSTRUMENTS} with the heap figures' kinds the conventions' (the semconv profile's). */
export const CONVENTION_RUNTIME_INSTRUMENTS: readonly InstrumentSpec[] =
  runtimeInstruments(CONVENTION_HEAP_BY_SPACE);

/** Observes `v8js.memory.heap.used` by space on `meter` as `spec` declares it, for every profile. */
export function registerHeapUsed(meter: Meter, spec: InstrumentSpec = V8_HEAP_USED): void {
  createObservable(meter, spec).addCallback((r) => {
    for (const space of getHeapSpaceStatistics())
      r.observe(space.space_used_size, { 'v8js.heap.space.name': space.space_name });
  });
}

/**
 * Registers {@link RUNTIME_INSTRUMENTS} on `meter` (the heap figures of kinds `heap` declares);
 * returns a function that stops their samplers.
 */
export function registerRuntimeMetrics(
  meter: Meter,
  heap: readonly InstrumentSpec[] = HEAP_BY_SPACE,
): () => void {
  const delay = sampleEventLoopDelay();
  const delayGauges = EVENT_LOOP_DELAY.map((spec) => createObservable(meter, spec));
  meter.addBatchObservableCallback((r: BatchObservableResult) => {
    const figures = delay.read();
    if (figures !== undefined) delayGauges.forEach((g, i) => r.observe(g, figures[i]!));
  }, delayGauges);

  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  createObservable(meter, EVENT_LOOP_UTILIZATION).addCallback((r) => {
    const now = performance.eventLoopUtilization();
    r.observe(performance.eventLoopUtilization(now, lastElu).utilization);
    lastElu = now;
  });

  const others = HEAP_FIGURES.filter(([name]) => name !== V8_HEAP_USED.name);
  const heapInstruments: Observable[] = others.map(([name]) =>
    createObservable(
      meter,
      heap.find((s) => s.name === name)!,
    ),
  );
  meter.addBatchObservableCallback((r: BatchObservableResult) => {
    for (const space of getHeapSpaceStatistics()) {
      const attributes = { 'v8js.heap.space.name': space.space_name };
      others.forEach(([, , , field], i) =>
        r.observe(heapInstruments[i]!, space[field], attributes),
      );
    }
  }, heapInstruments);

  const gcDuration = meter.createHistogram(GC_DURATION.name, {
    unit: GC_DURATION.unit,
    description: GC_DURATION.description,
    advice: { explicitBucketBoundaries: [...GC_DURATION.buckets] },
  });
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind =
        GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1];
      if (kind !== undefined) gcDuration.record(entry.duration / 1000, { 'v8js.gc.type': kind });
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });

  return () => {
    gcObserver.disconnect();
    delay.stop();
  };
}
