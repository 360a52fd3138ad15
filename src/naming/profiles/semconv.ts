/**
 * The semconv profile, one module of data: OpenTelemetry's semantic conventions in place of
 * jobmeter's names where a convention defines the measure (its table, semconvConvention), named on
 * the pull endpoint by the native profile's rules (otel.ts otelProfile), and what the docs say of
 * it (doc); docs/profiles.md is generated from both and that naming.
 *
 * The words are written out here, not imported from `@opentelemetry/semantic-conventions`:
 * test/naming/semconv-conformance.test.ts holds them to that package's constants, so a convention
 * that moves fails a test instead of silently renaming a user's series.
 */
import type { Convention } from '../../domain/convention.ts';
import type { ProfileDoc } from './profile-doc.ts';

/** A run's task is its pipeline: the name the CI/CD conventions require on every run instrument. */
const PIPELINE_NAME = { key: 'cicd.pipeline.name', from: 'task' } as const;
/**
 * jobmeter records a run when it ends, from its start: the executing state, in which its result
 * is set (`cicd.pipeline.result` is conditionally required: "if and only if the pipeline run
 * result has been set during that state").
 */
const EXECUTING = {
  key: 'cicd.pipeline.run.state',
  value: 'executing',
  words: ['pending', 'executing', 'finalizing'],
} as const;
/**
 * A run's queue wait, when the run says when it was enqueued or due: the pending state, "from the
 * event triggering the pipeline run until the execution of the run starts (eg. time spent in a
 * queue)". No result is set in it.
 */
const PENDING = { ...EXECUTING, value: 'pending' } as const;
/**
 * A failed run's class of error: `timeout` for a run cut off (the convention's own example value),
 * `_OTHER` for any other failure, whose class jobmeter is not told. Set on failed runs only.
 */
const ERROR_TYPE = {
  key: 'error.type',
  from: 'outcome',
  only: ['failure', 'timeout'],
  values: { failure: '_OTHER' },
  // Open in the convention: a sender's own classes of error, as many as a runner's error kinds.
  cap: 32,
} as const;

/** The CI/CD conventions' instruments, each made from the canonical instrument it names. */
export const semconvConvention: Convention = {
  instruments: [
    {
      instrument: 'jobmeter.run.duration',
      name: 'cicd.pipeline.run.duration',
      kind: 'histogram',
      unit: 's',
      description: 'Duration of a pipeline run grouped by pipeline, state and result.',
      attributes: [
        PIPELINE_NAME,
        EXECUTING,
        // jobmeter's outcomes are the convention's results but one word: `cancelled` -> `cancellation`.
        {
          key: 'cicd.pipeline.result',
          from: 'outcome',
          values: { cancelled: 'cancellation' },
          words: ['success', 'failure', 'error', 'timeout', 'cancellation', 'skip'],
        },
        ERROR_TYPE,
      ],
    },
    {
      // Beside jobmeter.queue.wait, which keeps its name, attributes and buckets.
      instrument: 'jobmeter.queue.wait',
      name: 'cicd.pipeline.run.duration',
      kind: 'histogram',
      unit: 's',
      description: 'Duration of a pipeline run grouped by pipeline, state and result.',
      attributes: [PIPELINE_NAME, PENDING],
      alongside: true,
    },
    {
      instrument: 'jobmeter.run.active',
      name: 'cicd.pipeline.run.active',
      kind: 'upDownCounter',
      unit: '{run}',
      description: 'The number of pipeline runs currently active in the system by state.',
      attributes: [PIPELINE_NAME, EXECUTING],
    },
    {
      instrument: 'jobmeter.run.finished',
      name: 'cicd.pipeline.run.errors',
      kind: 'counter',
      unit: '{error}',
      description:
        'The number of errors encountered in pipeline runs (eg. compile, test failures).',
      // A finished run counts as one error when it failed or timed out; other runs are not counted.
      attributes: [PIPELINE_NAME, { ...ERROR_TYPE, required: true }],
    },
    {
      instrument: 'jobmeter.runner.error',
      name: 'cicd.system.errors',
      kind: 'counter',
      unit: '{error}',
      description:
        'The number of errors in a component of the CI/CD system (eg. controller, scheduler, agent).',
      attributes: [
        { key: 'cicd.system.component', from: 'runner' },
        { key: 'error.type', from: 'error' },
      ],
    },
  ],
  omitted: [
    {
      instrument: 'jobmeter.run.started',
      why: 'a run in flight is in `cicd.pipeline.run.active`, a finished one in the count of `cicd.pipeline.run.duration`',
    },
  ],
};

/** What docs/profiles.md says of the profile besides its table (scripts/gen-profile-docs.ts). */
export const doc: ProfileDoc = {
  original: 'OpenTelemetry semantic conventions (CI/CD, runtime)',
  about: [
    "The instruments themselves carry the OpenTelemetry semantic conventions' names, units,",
    'attributes and words where a convention defines the measure (the CI/CD metrics, release',
    'candidate since semantic-conventions v1.43; the process, V8 and Node.js runtime metrics), so a',
    'dashboard written for the conventions reads them unchanged: on the OTLP push exactly, on the',
    "pull endpoint under the native profile's OTel \u2192 Prometheus names",
    "(`cicd_pipeline_run_duration_seconds`). A finished run is the duration's executing state, with",
    'its result; a run that says when it was enqueued or due also records its wait as the pending',
    'state (the convention\'s "time spent in a queue"), beside `jobmeter.queue.wait`. What no',
    "convention defines yet (the queue wait by kind and runner, the oldest waiting job's age,",
    "attempts, schedule lateness and missed schedules, the host snapshot) keeps jobmeter's documented",
    'names. jobmeter has no worker slots of its own, so `cicd.worker.count` is not among them.',
  ],
  promtool: [],
};
