/**
 * The canonical instruments. These names are also the contract for foreign SDKs pushing OTLP to
 * `jobmeter serve`: a Go or Rust daemon that records these names and attributes gets the same
 * profile series as an embedded Node host.
 */
import { DROP_REASONS } from './record-guard.ts';
import { OUTCOMES, type AttributeSpec, type InstrumentKind, type InstrumentSpec } from './types.ts';

/**
 * An instrument's spec: its kind, then its name, unit and description, with no attributes unless
 * given (process-metrics.ts spells its own with these too).
 */
const instrument =
  (kind: InstrumentKind) =>
  (
    name: string,
    unit: string,
    description: string,
    attributes: readonly AttributeSpec[] = [],
    more?: Pick<InstrumentSpec, 'buckets' | 'exemplars'>,
  ): InstrumentSpec => ({ name, kind, unit, description, attributes, ...more });
export const counter = instrument('counter');
const upDownCounter = instrument('upDownCounter');
export const histogram = instrument('histogram');
export const observableGauge = instrument('observableGauge');
export const observableCounter = instrument('observableCounter');
export const observableUpDownCounter = instrument('observableUpDownCounter');

/** Task names are host-chosen but few; cap them so a runaway host cannot explode the series set. */
const TASK: AttributeSpec = { key: 'task', cap: 500 };
const KIND: AttributeSpec = { key: 'kind', cap: 16 };
const RUNNER: AttributeSpec = { key: 'runner', cap: 16 };
const OUTCOME: AttributeSpec = { key: 'outcome', values: OUTCOMES };
/** A run's attributes, and a finished run's. */
const RUN = [TASK, KIND, RUNNER];
const FINISHED_RUN = [...RUN, OUTCOME];

/**
 * Default run-duration buckets (seconds): from 10 ms shell steps to hour-long backups. These are
 * solti's buckets, the widest-ranged of the five originals.
 * @example
 *   const spec: DeclaredInstrumentSpec = { name: 'app.job.duration', kind: 'histogram', unit: 's', description: 'Job time.', buckets: DEFAULT_RUN_DURATION_BUCKETS };
 */
export const DEFAULT_RUN_DURATION_BUCKETS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600,
];

export const RUN_STARTED = counter('jobmeter.run.started', '{run}', 'Runs started.', RUN);

export const RUN_FINISHED = counter(
  'jobmeter.run.finished',
  '{run}',
  'Runs that reached a terminal outcome.',
  FINISHED_RUN,
  { exemplars: true },
);

export const RUN_DURATION = histogram(
  'jobmeter.run.duration',
  's',
  'Wall-clock duration of finished runs.',
  FINISHED_RUN,
  { buckets: DEFAULT_RUN_DURATION_BUCKETS, exemplars: true },
);

export const RUN_ACTIVE = upDownCounter('jobmeter.run.active', '{run}', 'Runs in flight.', RUN);

export const RUN_LAST_FAILURE = observableGauge(
  'jobmeter.run.last_failure.time',
  's',
  'Unix time of the most recent failed run; absent until a run fails.',
);

export const REQUEST_REJECTED = counter(
  'jobmeter.request.rejected',
  '{request}',
  'Requests rejected before doing any work, by reason.',
  [{ key: 'reason', cap: 32 }],
);

// ---------------------------------------------------------------------------------------------
// Before a run: how long it waited, how late it started, which attempt it is. No semantic
// convention names these yet; a legacy profile serves them only through a rule a user adds.

/**
 * Buckets (seconds) for the time a run spent waiting before it started: from a millisecond (a
 * worker that was idle) to six hours (a backlog that built up overnight).
 * @example
 *   const spec: DeclaredInstrumentSpec = { name: 'app.job.wait', kind: 'histogram', unit: 's', description: 'Job wait.', buckets: WAIT_BUCKETS };
 */
export const WAIT_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600,
  7200, 21600,
];

/**
 * The values of a run's `attempt`: a retry past the third folds into `4+`, so retries stay four
 * series whatever a job's retry limit.
 * @example
 *   console.log(ATTEMPTS.at(-1)); // '4+'
 */
export const ATTEMPTS = ['1', '2', '3', '4+'] as const;
const ATTEMPT: AttributeSpec = { key: 'attempt', values: ATTEMPTS };

export const QUEUE_WAIT = histogram(
  'jobmeter.queue.wait',
  's',
  'Seconds a run waited between becoming ready (enqueued, or its delay or schedule passed) and starting.',
  RUN,
  { buckets: WAIT_BUCKETS },
);

export const QUEUE_OLDEST_AGE = observableGauge(
  'jobmeter.queue.oldest.age',
  's',
  'Seconds since the oldest job waiting in the queue at the last read of the job store was enqueued; 0 when none waits.',
  [{ key: 'queue', cap: 100 }],
);

export const RUN_ATTEMPTS = counter(
  'jobmeter.run.attempts',
  '{run}',
  "Finished runs by attempt: 1 is a job's first run, 2 its first retry, 4+ any later retry.",
  [...FINISHED_RUN, ATTEMPT],
);

export const SCHEDULE_LATENESS = histogram(
  'jobmeter.schedule.lateness',
  's',
  'Seconds a scheduled run started after its scheduled time.',
  RUN,
  { buckets: WAIT_BUCKETS },
);

export const SCHEDULE_MISSED = counter(
  'jobmeter.schedule.missed',
  '{run}',
  'Scheduled runs that never started: their time passed while the scheduler was busy or down.',
  RUN,
);

// ---------------------------------------------------------------------------------------------
// Live events beyond the run lifecycle.

export const RUN_OUTPUT_TRUNCATED = counter(
  'jobmeter.run.output_truncated',
  '{run}',
  'Runs whose captured output hit the output cap.',
  RUN,
);

export const RUNNER_ERROR = counter(
  'jobmeter.runner.error',
  '{error}',
  'Runner setup/teardown errors (not task failures), by error kind.',
  [RUNNER, { key: 'error', cap: 32 }],
);

export const SESSION_CREATED = counter(
  'jobmeter.session.created',
  '{session}',
  'Sessions created since start.',
);

export const SNAPSHOT_FAILURES = counter(
  'jobmeter.snapshot.failures',
  '{failure}',
  'Snapshot callbacks that failed or timed out (the last good snapshot was served).',
  [{ key: 'reason', values: ['error', 'timeout'] }],
);

// ---------------------------------------------------------------------------------------------
// Snapshot instruments: observed from the host's snapshot callback (counts a host keeps in its
// database), see snapshot.ts.

/** Fleet sizes are host-chosen; the cap keeps a runaway enrolment from exploding the series set. */
const HOST: readonly AttributeSpec[] = [
  { key: 'host.id', cap: 5000 },
  { key: 'host.name', cap: 5000 },
];

export const RUN_HISTORY = observableCounter(
  'jobmeter.run.history',
  '{run}',
  "Runs that reached a terminal outcome since the host's records began (since start when it keeps none).",
  [OUTCOME],
);

export const AGENT_RUN_EVENTS = {
  name: 'jobmeter.agent_run.events',
  kind: 'observableCounter',
  unit: '{event}',
  description: "Agent run lifecycle events from the host's journal.",
  // crewshipd's journal events: a closed set with no `other` in its document (its profile
  // zero-fills this set, read from the literal type this spec keeps).
  attributes: [
    {
      key: 'event',
      values: ['started', 'completed', 'failed', 'cancelled', 'timeout'],
      outside: 'drop',
    },
  ],
} as const satisfies InstrumentSpec;

/** LLM providers are few; past the cap new ones fold into `other` (crewshipd's rule). */
export const LLM_PROVIDER_CAP = 10;
export const LLM_CALLS = observableCounter(
  'jobmeter.llm.calls',
  '{call}',
  'LLM invocations recorded in the cost ledger.',
  [{ key: 'provider', cap: LLM_PROVIDER_CAP }],
);
export const LLM_COST = observableCounter(
  'jobmeter.llm.cost',
  '{USD}',
  'Cumulative LLM spend in USD.',
  [{ key: 'provider', cap: LLM_PROVIDER_CAP }],
);

export const ASSIGNMENT_STATUSES = [
  'pending',
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
] as const;
export const PIPELINE_RUN_STATUSES = [
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'dry_run',
  'interrupted',
] as const;
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export const REPO_STATUSES = ['unknown', 'ready', 'init_failed'] as const;

export const SNAPSHOT_INSTRUMENTS: readonly InstrumentSpec[] = [
  RUN_HISTORY,
  observableGauge('jobmeter.session.active', '{session}', 'Active (non-expired) sessions.'),
  observableGauge(
    'jobmeter.session.tracked',
    '{session}',
    'Sessions tracked, including expired but not yet cleaned.',
  ),
  observableGauge('jobmeter.session.disk.usage', 'By', 'On-disk footprint across active sessions.'),
  observableGauge('jobmeter.assignments', '{assignment}', 'Assignments by status.', [
    { key: 'status', values: ASSIGNMENT_STATUSES },
  ]),
  observableGauge('jobmeter.pipeline_runs', '{run}', 'Pipeline runs by status.', [
    { key: 'status', values: PIPELINE_RUN_STATUSES },
  ]),
  observableGauge('jobmeter.queue.depth', '{assignment}', 'Queued work across all groups.'),
  observableGauge(
    'jobmeter.queue.groups',
    '{group}',
    'Groups (crews) with at least one queued item.',
  ),
  observableGauge(
    'jobmeter.queue.depth.max',
    '{assignment}',
    'Queued items in the most backlogged group.',
  ),
  AGENT_RUN_EVENTS,
  LLM_CALLS,
  LLM_COST,
  observableGauge(
    'jobmeter.container.tracked',
    '{container}',
    'Containers registered with the stats collector.',
  ),
  observableGauge(
    'jobmeter.container.reporting',
    '{container}',
    'Tracked containers with a collected stats sample.',
  ),
  observableGauge(
    'jobmeter.db.migration.version',
    '{version}',
    'Highest applied schema migration version.',
  ),
  observableGauge(
    'jobmeter.websocket.connections',
    '{connection}',
    'Active WebSocket connections.',
  ),
  observableGauge('jobmeter.fleet.hosts', '{host}', 'Enrolled hosts.'),
  observableGauge('jobmeter.fleet.hosts.online', '{host}', 'Hosts currently online.'),
  observableGauge('jobmeter.alert.open', '{alert}', 'Open alerts by severity.', [
    { key: 'severity', values: ALERT_SEVERITIES, outside: 'drop' },
  ]),
  observableGauge(
    'jobmeter.host.agent.online',
    '',
    "1 if the host's agent is online, 0 otherwise.",
    HOST,
  ),
  observableGauge(
    'jobmeter.host.last_backup.time',
    's',
    "Unix time of the host's most recent backup; absent before the first.",
    HOST,
  ),
  observableGauge(
    'jobmeter.host.last_backup.success',
    '',
    "1 if the host's most recent backup succeeded; absent before the first.",
    HOST,
  ),
  observableGauge(
    'jobmeter.host.repo.size',
    'By',
    'Latest reported repository size; absent when unknown.',
    HOST,
  ),
  observableGauge(
    'jobmeter.host.snapshots',
    '{snapshot}',
    "Snapshots known in the host's repository.",
    HOST,
  ),
  observableGauge('jobmeter.host.alert.open', '{alert}', 'Open alerts attached to the host.', HOST),
  observableGauge(
    'jobmeter.host.repo.status',
    '',
    'Always 1; the status attribute carries the repository state.',
    [...HOST, { key: 'status', values: REPO_STATUSES, outside: 'drop' }],
  ),
];

/** No unit: a '1' would make the native name `..._info_ratio`. */
export const BUILD_INFO = observableGauge(
  'jobmeter.build.info',
  '',
  'Always 1; the attributes carry the running build.',
  [
    { key: 'version', cap: 4 },
    { key: 'commit', cap: 4 },
    { key: 'runtime.version', cap: 4 },
  ],
);

/**
 * Every instrument the domain API records (process metrics are in process-metrics.ts).
 * @example
 *   console.log(DOMAIN_INSTRUMENTS.map((spec) => `${spec.name} (${spec.kind}, ${spec.unit})`));
 */
export const DOMAIN_INSTRUMENTS: readonly InstrumentSpec[] = [
  RUN_STARTED,
  RUN_FINISHED,
  RUN_DURATION,
  RUN_ACTIVE,
  RUN_LAST_FAILURE,
  REQUEST_REJECTED,
  RUN_OUTPUT_TRUNCATED,
  RUNNER_ERROR,
  SESSION_CREATED,
  SNAPSHOT_FAILURES,
  ...SNAPSHOT_INSTRUMENTS,
  BUILD_INFO,
  QUEUE_WAIT,
  QUEUE_OLDEST_AGE,
  RUN_ATTEMPTS,
  SCHEDULE_LATENESS,
  SCHEDULE_MISSED,
];

/**
 * jobmeter's own health, not the host's work: records refused by the value checks
 * (record-guard.ts). Served under the native profile; a legacy profile has no rule for it, so its
 * surface stays exactly its original's (as with `jobmeter_scrape_errors_total`).
 */
export const RECORDS_DROPPED = counter(
  'jobmeter.records.dropped',
  '{record}',
  'Records not recorded because a value or an attribute was invalid, by reason.',
  [{ key: 'reason', values: DROP_REASONS }],
);

/**
 * jobmeter's own health too: a host's attribute values cut to the attribute value length limit
 * (record-guard.ts `cut`), so that a label never carries an unbounded value unsaid.
 */
export const ATTRIBUTE_VALUES_TRUNCATED = counter(
  'jobmeter.attribute_values.truncated',
  '{value}',
  'Host attribute values cut to the attribute value length limit.',
);

/**
 * jobmeter's own health too: instruments a scrape's naming pass left out because their family's
 * name is another family's (naming/to-families.ts `unserved`), at every pass that leaves one out.
 */
export const INSTRUMENTS_UNSERVED = counter(
  'jobmeter.instruments.unserved',
  '{instrument}',
  'Instruments a scrape left out because their family takes a name another family served before it has, or has with another type; each scrape counts each one it leaves out.',
);

/** The ingest's self-metric counting refused data points by reason (ingest/ingest-report.ts); a sender may not use the name. */
export const REFUSED_METRIC = 'jobmeter.ingest.refused';

export const SELF_INSTRUMENTS: readonly InstrumentSpec[] = [
  RECORDS_DROPPED,
  ATTRIBUTE_VALUES_TRUNCATED,
  INSTRUMENTS_UNSERVED,
];
