/**
 * The canonical instruments. These names are also the contract for foreign SDKs pushing OTLP to
 * `jobmeter serve`: a Go or Rust daemon that records these names and attributes gets the same
 * profile series as an embedded Node host.
 */
import { OUTCOMES, type AttributeSpec, type InstrumentSpec } from './types.ts';

/** Task names are host-chosen but few; cap them so a runaway host cannot explode the series set. */
const TASK: AttributeSpec = { key: 'task', cap: 500 };
const KIND: AttributeSpec = { key: 'kind', cap: 16 };
const RUNNER: AttributeSpec = { key: 'runner', cap: 16 };
const OUTCOME: AttributeSpec = { key: 'outcome', values: OUTCOMES };

/**
 * Default run-duration buckets (seconds): from 10 ms shell steps to hour-long backups. These are
 * solti's buckets, the widest-ranged of the five originals.
 */
export const DEFAULT_RUN_DURATION_BUCKETS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600,
];

export const RUN_STARTED = {
  name: 'jobmeter.run.started',
  kind: 'counter',
  unit: '{run}',
  description: 'Runs started.',
  attributes: [TASK, KIND, RUNNER],
} as const satisfies InstrumentSpec;

export const RUN_FINISHED = {
  name: 'jobmeter.run.finished',
  kind: 'counter',
  unit: '{run}',
  description: 'Runs that reached a terminal outcome.',
  attributes: [TASK, KIND, RUNNER, OUTCOME],
} as const satisfies InstrumentSpec;

export const RUN_DURATION = {
  name: 'jobmeter.run.duration',
  kind: 'histogram',
  unit: 's',
  description: 'Wall-clock duration of finished runs.',
  attributes: [TASK, KIND, RUNNER, OUTCOME],
  buckets: DEFAULT_RUN_DURATION_BUCKETS,
} as const satisfies InstrumentSpec;

export const RUN_ACTIVE = {
  name: 'jobmeter.run.active',
  kind: 'upDownCounter',
  unit: '{run}',
  description: 'Runs in flight.',
  attributes: [TASK, KIND, RUNNER],
} as const satisfies InstrumentSpec;

export const RUN_LAST_FAILURE = {
  name: 'jobmeter.run.last_failure.time',
  kind: 'observableGauge',
  unit: 's',
  description: 'Unix time of the most recent failed run; absent until a run fails.',
  attributes: [],
} as const satisfies InstrumentSpec;

export const REQUEST_REJECTED = {
  name: 'jobmeter.request.rejected',
  kind: 'counter',
  unit: '{request}',
  description: 'Requests rejected before doing any work, by reason.',
  attributes: [{ key: 'reason', cap: 32 }],
} as const satisfies InstrumentSpec;

/** Every instrument the domain API records, in exposition order. */
export const DOMAIN_INSTRUMENTS: readonly InstrumentSpec[] = [
  RUN_STARTED,
  RUN_FINISHED,
  RUN_DURATION,
  RUN_ACTIVE,
  RUN_LAST_FAILURE,
  REQUEST_REJECTED,
];
