/**
 * The domain API a host records through. It only talks to an OpenTelemetry `Meter`; which
 * attributes survive and how they are bounded is decided downstream, by the views.
 */
import type { Attributes, Counter, Histogram, Meter, ObservableResult, UpDownCounter } from '@opentelemetry/api';
import {
  REQUEST_REJECTED,
  RUN_ACTIVE,
  RUN_DURATION,
  RUN_FINISHED,
  RUN_LAST_FAILURE,
  RUN_STARTED,
} from './catalog.ts';
import type { InstrumentSpec, Outcome } from './types.ts';

export interface RunAttributes {
  /** Task (job definition) name. Bounded by a cap: never put a run id here. */
  readonly task: string;
  /** What sort of work: e.g. `task` or `service`. */
  readonly kind?: string;
  /** Execution backend: e.g. `subprocess`, `wasm`, `container`. */
  readonly runner?: string;
}

export interface FinishedRun extends RunAttributes {
  readonly outcome: Outcome;
  readonly durationSeconds: number;
}

/** A run in flight. `finish` is idempotent: the second call is ignored. */
export interface RunHandle {
  finish(outcome: Outcome): void;
}

/** One observation of an observable instrument. */
export interface Observation {
  readonly value: number;
  readonly attributes?: Attributes;
}

/** What a snapshot callback returns: a single value or one per attribute set. */
export type ObservedValue = number | readonly Observation[] | undefined;

export interface Recorder {
  /** Count a run as started and in flight; returns the handle that finishes it. */
  startRun(attributes: RunAttributes): RunHandle;
  /** Record a run timed elsewhere (no in-flight tracking). */
  recordRun(run: FinishedRun): void;
  /** Count a request rejected before doing work. */
  reject(reason: string): void;
  /**
   * Feed an observable instrument declared in the options' `instruments` from a callback, called
   * at each collection. Returning `undefined` omits the series (e.g. "no failure yet").
   */
  observe(name: string, callback: () => ObservedValue): void;
}

function runAttributes(run: RunAttributes): Attributes {
  return { task: run.task, kind: run.kind ?? 'task', runner: run.runner ?? 'default' };
}

/**
 * Builds the recorder over `meter`. `declared` are the extra observable instruments a host may
 * feed with {@link Recorder.observe}; anything else is refused, so attributes stay declared.
 */
export function createRecorder(meter: Meter, declared: readonly InstrumentSpec[], now: () => number = Date.now): Recorder {
  const started: Counter = meter.createCounter(RUN_STARTED.name, { unit: RUN_STARTED.unit, description: RUN_STARTED.description });
  const finished: Counter = meter.createCounter(RUN_FINISHED.name, { unit: RUN_FINISHED.unit, description: RUN_FINISHED.description });
  const duration: Histogram = meter.createHistogram(RUN_DURATION.name, {
    unit: RUN_DURATION.unit,
    description: RUN_DURATION.description,
    advice: { explicitBucketBoundaries: [...RUN_DURATION.buckets] },
  });
  const active: UpDownCounter = meter.createUpDownCounter(RUN_ACTIVE.name, { unit: RUN_ACTIVE.unit, description: RUN_ACTIVE.description });
  const rejected: Counter = meter.createCounter(REQUEST_REJECTED.name, { unit: REQUEST_REJECTED.unit, description: REQUEST_REJECTED.description });

  // Kept as a tally rather than an instrument so that "no failure yet" is an absent series, not 0
  // (0 would read as a failure in 1970).
  let lastFailureSeconds: number | undefined;
  meter
    .createObservableGauge(RUN_LAST_FAILURE.name, { unit: RUN_LAST_FAILURE.unit, description: RUN_LAST_FAILURE.description })
    .addCallback((result) => {
      if (lastFailureSeconds !== undefined) result.observe(lastFailureSeconds);
    });

  function finishRun(attrs: Attributes, outcome: Outcome, seconds: number): void {
    const withOutcome = { ...attrs, outcome };
    finished.add(1, withOutcome);
    duration.record(seconds, withOutcome);
    if (outcome === 'failure') lastFailureSeconds = now() / 1000;
  }

  const observableByName = new Map(declared.map((spec) => [spec.name, spec]));
  const observed = new Set<string>();

  return {
    startRun(run) {
      const attrs = runAttributes(run);
      started.add(1, attrs);
      active.add(1, attrs);
      const t0 = performance.now();
      let done = false;
      return {
        finish(outcome) {
          if (done) return;
          done = true;
          active.add(-1, attrs);
          finishRun(attrs, outcome, (performance.now() - t0) / 1000);
        },
      };
    },
    recordRun(run) {
      finishRun(runAttributes(run), run.outcome, run.durationSeconds);
    },
    reject(reason) {
      rejected.add(1, { reason });
    },
    observe(name, callback) {
      const spec = observableByName.get(name);
      if (spec === undefined) throw new Error(`observe(${JSON.stringify(name)}): no such instrument declared in options.instruments`);
      if (observed.has(name)) throw new Error(`observe(${JSON.stringify(name)}): a callback is already registered`);
      observed.add(name);
      const options = { unit: spec.unit, description: spec.description };
      const report = (result: ObservableResult) => {
        const value = callback();
        if (value === undefined) return;
        if (typeof value === 'number') result.observe(value);
        else for (const o of value) result.observe(o.value, o.attributes);
      };
      switch (spec.kind) {
        case 'observableGauge':
          meter.createObservableGauge(name, options).addCallback(report);
          break;
        case 'observableCounter':
          meter.createObservableCounter(name, options).addCallback(report);
          break;
        case 'observableUpDownCounter':
          meter.createObservableUpDownCounter(name, options).addCallback(report);
          break;
        default:
          throw new Error(`observe(${JSON.stringify(name)}): instrument kind ${spec.kind} is not observable`);
      }
    },
  };
}
