/**
 * The domain API a host records through.
 *
 * Every instrument is an OpenTelemetry API instrument of `meter`: synchronous ones (runs,
 * rejections, errors, sessions, and the counters, histograms and gauges a host declares) and
 * observable ones (the host snapshot, build info, `observe`). On jobmeter's provider the
 * synchronous ones are its storages (a record is a few map lookups; meter-provider.ts); on a host's
 * provider they are its SDK's, behind their specs' folds (host-recorder.ts guards the meter as
 * jobmeter's provider guards an own instrument the SDK records), so they are bounded whatever
 * Views the host registered.
 */
import { type Attributes, type Context, type Meter } from '@opentelemetry/api';
import {
  DOMAIN_INSTRUMENTS,
  QUEUE_OLDEST_AGE,
  QUEUE_WAIT,
  REQUEST_REJECTED,
  RUN_ACTIVE,
  RUN_ATTEMPTS,
  RUN_DURATION,
  RUN_FINISHED,
  RUN_OUTPUT_TRUNCATED,
  RUN_STARTED,
  RUNNER_ERROR,
  SCHEDULE_LATENESS,
  SCHEDULE_MISSED,
  SESSION_CREATED,
  SNAPSHOT_FAILURES,
} from './catalog.ts';
import { conventionRecords, type Convention } from './convention.ts';
import { exemplarContext } from './exemplars.ts';
import { QueueAgePoll, type OldestWaiting, type QueueSourceOptions } from './queue-ages.ts';
import { describe, invalidValue, RecordGuard, type DropReason } from './record-guard.ts';
import {
  createInstrument,
  observeFolded,
  registerSnapshotInstruments,
} from './observed-instruments.ts';
import {
  SnapshotCache,
  type HostSnapshot,
  type SnapshotCallback,
  type SnapshotSourceOptions,
} from './snapshot.ts';
import type { DeclaredCounter, DeclaredGauge, DeclaredHistogram } from './storage/handles.ts';
import {
  isObserved,
  OUTCOMES,
  type BuildInfo,
  type DeclaredAttributes,
  type DeclaredInstrumentSpec,
  type DeclaredKeys,
  type DeclaredName,
  type InstrumentSpec,
  type ObservedKind,
  type Outcome,
} from './types.ts';
import { vocabularyCheck } from './vocabulary.ts';
import { attemptValue, epochMillis, secondsBetween, type StartDetails } from './run-timing.ts';

export type { OldestWaiting, QueueSourceOptions, StartDetails };

/** What identifies a run's series: task, kind and runner (each bounded by its spec's cap). */
export interface RunAttributes {
  /** Task (job definition) name. Bounded by a cap: never put a run id here. */
  readonly task: string;
  /** What sort of work: e.g. `task` or `service`; rm's job kinds (`backup`, `prune`...). @default 'task' */
  readonly kind?: string;
  /** Execution backend: e.g. `subprocess`, `wasm`, `container`. @default 'default' */
  readonly runner?: string;
}

/** What `RunHandle.finish` may add about a run besides its outcome. */
export interface FinishDetails {
  /** The run's captured output hit the output cap. */
  readonly outputTruncated?: boolean;
  /**
   * The run's duration as its runner timed it (a job library's own timestamps). Not a finite
   * number >= 0: the run leaves the in-flight count and is otherwise dropped (warned, counted).
   * @default the time since `startRun`
   */
  readonly durationSeconds?: number;
  /** Where the run's exemplar comes from. @default the context `startRun` was called in */
  readonly context?: Context;
}

/**
 * A run timed elsewhere, for `recordRun`: its attributes, outcome and duration.
 * @example
 *   jm.recordRun({ task: 'lint', outcome: 'failure', durationSeconds: 2.5 });
 */
export interface FinishedRun extends RunAttributes, StartDetails, FinishDetails {
  readonly outcome: Outcome;
  readonly durationSeconds: number;
  /**
   * The OpenTelemetry context the run ran in: its sampled span becomes the run's exemplar
   * (docs/exemplars.md). @default the context active at the call
   */
  readonly context?: Context;
}

/**
 * A run in flight. `finish` is idempotent: the second call is ignored.
 * @throws TypeError (from `finish`) when `outcome` is not one of {@link OUTCOMES}; the run stays in flight.
 */
export interface RunHandle {
  finish(outcome: Outcome, details?: FinishDetails): void;
}

/** One observation of an observable instrument; `A`: the attributes its declaration allows. */
export interface Observation<A extends Attributes = Attributes> {
  readonly value: number;
  readonly attributes?: A;
}

/**
 * What an `observe` callback returns: a single value or one per attribute set.
 * @example
 *   jm.observe('app.jobs.stored', () => [{ value: 12, attributes: { state: 'queued' } }]);
 */
export type ObservedValue<A extends Attributes = Attributes> =
  number | readonly Observation<A>[] | undefined;

export type { BuildInfo };

/**
 * The instruments a host declares, by name. `D`: the declarations; written literally in the
 * options (or `as const`), a name not declared, one of another kind, or an attribute key its
 * declaration does not list is a compile error. With plain `string` names (declarations built at
 * run time) any name compiles and an undeclared one throws.
 * @example
 *   const jm = await createJobmeter({
 *     instruments: [{ name: 'app.emails.sent', kind: 'counter', unit: '{email}', description: 'Emails sent.', attributes: [{ key: 'queue', cap: 20 }] }],
 *   });
 *   jm.counter('app.emails.sent').add(1, { queue: 'emails' });
 */
export interface DeclaredInstruments<D extends DeclaredInstrumentSpec = DeclaredInstrumentSpec> {
  /**
   * Feed an observable instrument declared in the options' `instruments` from a callback, called
   * at each collection. Returning `undefined` omits the series (e.g. "no failure yet").
   */
  observe<N extends DeclaredName<D, ObservedKind>>(
    name: N,
    callback: () => ObservedValue<DeclaredAttributes<DeclaredKeys<D, N>>>,
  ): void;
  /**
   * A counter or up-down counter declared in the options' `instruments` (kind `counter` or
   * `upDownCounter`), bounded like the domain's own. `bind(attributes)` gives a handle whose `add`
   * skips the attribute lookup. Same handle for the same name.
   * @throws Error when no such instrument is declared.
   */
  counter<N extends DeclaredName<D, 'counter' | 'upDownCounter'>>(
    name: N,
  ): DeclaredCounter<DeclaredAttributes<DeclaredKeys<D, N>>>;
  /** A histogram declared in the options' `instruments` (kind `histogram`, with its `buckets`). */
  histogram<N extends DeclaredName<D, 'histogram'>>(
    name: N,
  ): DeclaredHistogram<DeclaredAttributes<DeclaredKeys<D, N>>>;
  /** A synchronous gauge declared in the options' `instruments` (kind `gauge`): last value wins. */
  gauge<N extends DeclaredName<D, 'gauge'>>(
    name: N,
  ): DeclaredGauge<DeclaredAttributes<DeclaredKeys<D, N>>>;
}

/**
 * `R` (a {@link Recorder} or a `Jobmeter`) with its declared instruments typed by `D`, the
 * declarations written in the call; `R` itself when they are not literal. A separate type rather
 * than a parameter of `R`: it stays assignable to `R` wherever one is asked for (the integrations).
 */
export type Declared<
  R extends DeclaredInstruments,
  D extends DeclaredInstrumentSpec,
> = string extends D['name'] ? R : Omit<R, keyof DeclaredInstruments> & DeclaredInstruments<D>;

/**
 * jobmeter's domain API on a meter: runs, rejections, runner errors, sessions, the host snapshot,
 * and the instruments a host declares ({@link DeclaredInstruments}).
 * @example
 *   const jm = createRecorder(metrics.getMeter('jobmeter'), { profile: 'solti' });
 *   jm.recordRun({ task: 'build', runner: 'wasm', outcome: 'success', durationSeconds: 2.5 });
 */
export interface Recorder extends DeclaredInstruments {
  /**
   * Count a run as started and in flight; returns the handle that finishes it. Attributes that
   * are not strings drop the run (a `diag` warning, `jobmeter.records.dropped{reason="bad_attribute"}`)
   * and give a handle that records nothing. `details` say when the run was enqueued or due and
   * which attempt it is (its queue wait, lateness and attempt); a bad one is not recorded (warned
   * and counted), the run is.
   */
  startRun(attributes: RunAttributes, details?: StartDetails): RunHandle;
  /**
   * Record a run timed elsewhere: counted as started and finished, never in flight. A duration
   * that is not a finite number >= 0, or attributes that are not strings, drop the whole run
   * (warned and counted), so runs and durations keep counting the same runs.
   * @throws TypeError when `outcome` is not one of {@link OUTCOMES}.
   */
  recordRun(run: FinishedRun): void;
  /** Count a request rejected before doing work. A reason that is not a string is dropped (warned and counted). */
  reject(reason: string): void;
  /** Count a runner setup/teardown error (not a task failure). Non-string arguments are dropped (warned and counted). */
  runnerError(runner: string, error: string): void;
  /** Count a session created. */
  sessionCreated(): void;
  /**
   * Count a scheduled run that never started (its time passed while the scheduler was busy or
   * down). Attributes that are not strings drop the count (warned and counted).
   */
  missedSchedule(attributes: RunAttributes): void;
  /**
   * Adds a job store read behind `jobmeter.queue.oldest.age`: called once per interval, off the
   * collection path, it gives per queue when its oldest waiting job was enqueued (`undefined`:
   * none waits). Sources add up (a queue two of them read reports the older age); the function
   * returned stops this one and takes its queues off the gauge.
   * @throws ConfigError when `intervalMillis` is not an integer from 100 to 2147483647 (a timer's bound).
   */
  addQueueSource(
    read: () => OldestWaiting | Promise<OldestWaiting>,
    options?: QueueSourceOptions,
  ): () => void;
  /**
   * Sets the host's snapshot callback (replacing any earlier one). Options default to the
   * profile's policy (crewshipd: 15 s TTL).
   */
  setSnapshotSource(callback: SnapshotCallback, options?: SnapshotSourceOptions): void;
  /** The last good host snapshot (for the JSON view), without calling the host. */
  lastSnapshot(): HostSnapshot | undefined;
}

export interface RecorderOptions {
  /**
   * Registers what a collection of the synchronous instruments waits for first (the snapshot
   * callback's pending read, whose failures it counts): jobmeter's provider passes its storages'
   * `settleBeforeCollect`. @default none (the SDK reads its synchronous instruments after its callbacks)
   */
  readonly settleBeforeCollect?: (pending: () => PromiseLike<unknown> | undefined) => void;
  /**
   * Extra instruments a host declares: observable ones it feeds with {@link Recorder.observe},
   * synchronous ones it records through {@link Recorder.counter} and the like.
   */
  readonly declared?: readonly InstrumentSpec[];
  /** Cache policy for snapshot sources that do not set their own. */
  readonly snapshotDefaults?: SnapshotSourceOptions;
  /** Reported as `jobmeter.build.info`; omitted when absent. */
  readonly build?: BuildInfo;
  /** Where dropped records are reported (jobmeter's provider's guard). @default a guard of its own, warning only */
  readonly guard?: RecordGuard;
  /**
   * The profile's closed vocabularies over canonical attributes (naming/types.ts): a record with a
   * value outside them is dropped (reason `vocabulary`). @default none
   */
  readonly vocabularies?: Readonly<Record<string, readonly string[]>>;
  /**
   * A semantic convention's instruments in place of the canonical ones it replaces (a profile's,
   * e.g. semconv's `cicd.pipeline.run.duration` for `jobmeter.run.duration`). @default none
   */
  readonly convention?: Convention;
  /** The meter the recorder is the one of ({@link recorderOn}). @default `meter` itself */
  readonly recorderOf?: Meter;
  readonly now?: () => number;
}

const OUTCOME_SET: ReadonlySet<unknown> = new Set(OUTCOMES);

/** The TypeError for an outcome outside the vocabulary, thrown at the call that passed it. */
function checkOutcome(outcome: unknown, call: string): asserts outcome is Outcome {
  if (OUTCOME_SET.has(outcome)) return;
  throw new TypeError(
    `jobmeter ${call}: outcome ${describe(outcome)} is not one of ${OUTCOMES.join(', ')}`,
  );
}

/** A run's attributes are strings (kind and runner may be absent). */
const stringAttributes = (run: RunAttributes): boolean =>
  typeof run?.task === 'string' &&
  (run.kind === undefined || typeof run.kind === 'string') &&
  (run.runner === undefined || typeof run.runner === 'string');

/** A handle for a run that was dropped: it still checks its outcome, and records nothing. */
const DROPPED_RUN: RunHandle = {
  finish(outcome) {
    checkOutcome(outcome, 'finish()');
  },
};

/** The run's attributes with their defaults (one object shape for every run). A type, not an interface: it is an `Attributes`. */
type RunLabels = { readonly task: string; readonly kind: string; readonly runner: string };

/** A synchronous instrument as the recorder holds it: a handle of its kind, the kind of its method. */
type Handle = DeclaredCounter & DeclaredHistogram & DeclaredGauge;

/**
 * The OpenTelemetry API instrument of `spec` on `meter`, which bounds it by its spec and checks its
 * values itself: jobmeter's provider's (a storage, or an SDK instrument behind its spec's folds),
 * or a host meter guarded with the recorder's specs (host-recorder.ts); each with a `bind`.
 */
type MakeSync = (spec: InstrumentSpec) => Handle;

/**
 * `make` under `convention`: a canonical instrument it names records on the convention's
 * instruments, each record's attributes made theirs (a record a convention's instrument does not
 * take skipped on it), in place of its own or beside it (`alongside`); an omitted one records
 * nothing; every other instrument is `make`'s. A convention instrument several canonical ones
 * feed is made once.
 */
function conventionInstruments(make: MakeSync, convention: Convention): MakeSync {
  const made = new Map<string, Handle>();
  return (spec) => {
    const records = conventionRecords(convention, DOMAIN_INSTRUMENTS, spec, (s) => {
      if (!made.has(s.name)) made.set(s.name, make(s));
      return made.get(s.name)!;
    });
    if (records === undefined) return make(spec);
    const method = spec.kind === 'counter' || spec.kind === 'upDownCounter' ? 'add' : 'record';
    // Its own instrument first when recorded alongside.
    const targets = records.alongside
      ? [{ handle: make(spec), attributes: (a?: Attributes) => a ?? {} }, ...records.targets]
      : records.targets;
    /** One canonical record made on each target that takes it, with its attributes. */
    const write = (v: number, a?: Attributes, ctx?: Context): void => {
      for (const t of targets) {
        const b = t.attributes(a);
        if (b !== undefined) t.handle[method](v, b, ctx);
      }
    };
    const bind = (a?: Attributes) => ({ [method]: (v: number) => write(v, a) });
    return { [method]: write, bind } as unknown as Handle;
  };
}

/**
 * The recorder of each meter. A meter has one: the history and last-failure instruments are
 * observed from the recorder's counts, and a second recorder's callback on the same instruments
 * would report its own counts over the first's (each run counted by one of them only).
 */
const RECORDERS = new WeakMap<Meter, Recorder>();

/** The recorder already made on `meter`, if any. */
export function recorderOn(meter: Meter): Recorder | undefined {
  return RECORDERS.get(meter);
}

/**
 * Builds the recorder over `meter`'s instruments.
 * @throws Error when `meter` (or `recorderOf`) has one already ({@link recorderOn}: the caller shares it or refuses).
 */
export function createRecorder(meter: Meter, options: RecorderOptions = {}): Recorder {
  const of = options.recorderOf ?? meter;
  if (RECORDERS.has(of))
    throw new Error('createRecorder: this meter has a recorder already (recorderOn(meter))');
  // Date.now looked up at each call, not bound once: a clock that replaces it times every run.
  const now = options.now ?? (() => Date.now());
  const guard = options.guard ?? new RecordGuard();
  const outside = vocabularyCheck(options.vocabularies);
  /** Drops a record whose attributes leave the profile's closed vocabularies; true when dropped. */
  const refused = (instrument: string, attributes: Readonly<Record<string, unknown>>): boolean => {
    const value = outside?.(attributes);
    if (value === undefined) return false;
    guard.drop(instrument, 'vocabulary', value);
    return true;
  };
  /**
   * A run's attributes with their defaults, for a record of `instrument`; undefined when the record
   * is dropped (warned, counted): an attribute not a string, or a value outside the vocabularies.
   */
  const runLabels = (run: RunAttributes, instrument: string): RunLabels | undefined => {
    if (!stringAttributes(run)) {
      guard.drop(instrument, 'bad_attribute', run?.task);
      return undefined;
    }
    const attrs = { task: run.task, kind: run.kind ?? 'task', runner: run.runner ?? 'default' };
    return refused(instrument, attrs) ? undefined : attrs;
  };
  const api: MakeSync = (spec) => createInstrument(meter, spec) as unknown as Handle;
  const sync =
    options.convention === undefined ? api : conventionInstruments(api, options.convention);
  const started = sync(RUN_STARTED);
  const finished = sync(RUN_FINISHED);
  const duration = sync(RUN_DURATION);
  const active = sync(RUN_ACTIVE);
  const rejected = sync(REQUEST_REJECTED);
  const truncated = sync(RUN_OUTPUT_TRUNCATED);
  const runnerErrors = sync(RUNNER_ERROR);
  const sessions = sync(SESSION_CREATED);
  const snapshotFailures = sync(SNAPSHOT_FAILURES);
  const waits = sync(QUEUE_WAIT);
  const attempts = sync(RUN_ATTEMPTS);
  const lateness = sync(SCHEDULE_LATENESS);
  const missed = sync(SCHEDULE_MISSED);
  const queueSources = new Set<QueueAgePoll>();
  // A queue two sources read, or that the attribute's cap folds into `other` with another,
  // reports the oldest of their ages (none read: no series).
  observeFolded(
    meter,
    [QUEUE_OLDEST_AGE],
    guard,
    (observe) => {
      const at = now();
      for (const poll of queueSources)
        for (const [queue, age] of poll.ages(at)) observe(QUEUE_OLDEST_AGE.name, age, { queue });
    },
    Math.max,
  );

  /**
   * Records the queue wait and lateness `details` give for a run that started at `startedAt` (or
   * now), and returns its attempt attribute. Each figure a bad time leaves unknown is dropped
   * through the guard (warned, counted) on its own instrument; the run itself is not.
   */
  function recordStart(
    attrs: RunLabels,
    details: StartDetails | undefined,
    startedAt: unknown,
  ): string | undefined {
    if (typeof details !== 'object' || details === null) return undefined;
    const { enqueuedAt, scheduledAt, attempt } = details;
    const attemptLabel = attemptValue(attempt);
    if (attempt !== undefined && attemptLabel === undefined)
      guard.drop(RUN_ATTEMPTS.name, 'bad_attribute', attempt);
    if (enqueuedAt === undefined && scheduledAt === undefined) return attemptLabel;
    const start = startedAt === undefined ? now() : epochMillis(startedAt);
    const enqueued = enqueuedAt === undefined ? undefined : epochMillis(enqueuedAt);
    const scheduled = scheduledAt === undefined ? undefined : epochMillis(scheduledAt);
    /** Seconds from `from` to the start into `instrument`, or the drop of what was wrong. */
    const record = (
      instrument: DeclaredHistogram,
      name: string,
      from: number | DropReason,
      given: unknown,
    ): void => {
      if (typeof start !== 'number') return guard.drop(name, start, startedAt);
      if (typeof from !== 'number') return guard.drop(name, from, given);
      const seconds = secondsBetween(from, start);
      // The warning shows the wait it would have been (a negative one), not the time given.
      if (typeof seconds !== 'number') return guard.drop(name, seconds, (start - from) / 1000);
      instrument.record(seconds, attrs);
    };
    // Ready once both enqueued and due: the later of the times the run gave.
    if (typeof enqueued !== 'number' && enqueued !== undefined)
      record(waits, QUEUE_WAIT.name, enqueued, enqueuedAt);
    else if (typeof scheduled !== 'number' && scheduled !== undefined)
      record(waits, QUEUE_WAIT.name, scheduled, scheduledAt);
    else {
      const ready = Math.max(enqueued ?? -Infinity, scheduled ?? -Infinity);
      record(waits, QUEUE_WAIT.name, ready, ready === enqueued ? enqueuedAt : scheduledAt);
    }
    if (scheduled !== undefined) record(lateness, SCHEDULE_LATENESS.name, scheduled, scheduledAt);
    return attemptLabel;
  }

  // Counts behind the "since records began" instruments when the host keeps no records.
  // The last failure is a plain variable, not an instrument, so "no failure yet" is an absent
  // series rather than 0 (which would read as a failure in 1970).
  let lastFailureSeconds: number | undefined;
  const outcomes: Record<Outcome, number> = { success: 0, failure: 0, cancelled: 0, timeout: 0 };

  let cache: SnapshotCache | undefined;
  options.settleBeforeCollect?.(() => cache?.pending);
  registerSnapshotInstruments(
    meter,
    () => cache,
    () => ({ lastFailureSeconds, outcomes }),
    options.build,
    guard,
  );

  /** `ctx`: where the run's trace-linked exemplar comes from (the context its start was in). */
  function finishRun(
    attrs: RunLabels,
    outcome: Outcome,
    seconds: number,
    details: FinishDetails | undefined,
    ctx: Context | undefined,
    attempt: string | undefined,
  ): void {
    // A literal rather than a spread: one fixed shape, so the lookups below stay monomorphic.
    const withOutcome = { task: attrs.task, kind: attrs.kind, runner: attrs.runner, outcome };
    finished.add(1, withOutcome, ctx);
    duration.record(seconds, withOutcome, ctx);
    if (attempt !== undefined) attempts.add(1, { ...withOutcome, attempt });
    outcomes[outcome]++;
    if (details?.outputTruncated) truncated.add(1, attrs);
    if (outcome === 'failure') lastFailureSeconds = now() / 1000;
  }

  const declaredByName = new Map((options.declared ?? []).map((spec) => [spec.name, spec]));
  const observed = new Set<string>();
  // Declared synchronous instruments, made on first use (one handle per name).
  const handles = new Map<string, Handle>();
  /** The declared instrument `name` of one of `kinds`; a host's own instruments are its names: no convention renames them. */
  function declared(name: string, ...kinds: string[]): Handle {
    const spec = declaredByName.get(name);
    if (spec === undefined || !kinds.includes(spec.kind)) {
      throw new Error(
        `${JSON.stringify(name)}: no ${kinds.join(' or ')} instrument of that name declared in options.instruments`,
      );
    }
    let handle = handles.get(name);
    if (handle === undefined) handles.set(name, (handle = api(spec)));
    return handle;
  }

  const recorder: Recorder = {
    startRun(run, details) {
      const attrs = runLabels(run, RUN_STARTED.name);
      if (attrs === undefined) return DROPPED_RUN;
      started.add(1, attrs);
      active.add(1, attrs);
      const attempt = recordStart(attrs, details, details?.startedAt);
      // The span the run started in, for its exemplars, even when it finishes in another context.
      const ctx = exemplarContext(undefined);
      const t0 = performance.now();
      let done = false;
      return {
        finish(outcome, details) {
          checkOutcome(outcome, 'finish()');
          if (done) return;
          done = true;
          active.add(-1, attrs);
          const seconds = details?.durationSeconds ?? (performance.now() - t0) / 1000;
          const bad = invalidValue(seconds, true);
          if (bad !== undefined) return guard.drop(RUN_DURATION.name, bad, seconds);
          finishRun(
            attrs,
            outcome,
            seconds,
            details,
            details?.context === undefined ? ctx : exemplarContext(details.context),
            attempt,
          );
        },
      };
    },
    recordRun(run) {
      checkOutcome(run?.outcome, 'recordRun()');
      if (!stringAttributes(run)) return guard.drop(RUN_FINISHED.name, 'bad_attribute', run.task);
      const bad = invalidValue(run.durationSeconds, true);
      if (bad !== undefined) return guard.drop(RUN_DURATION.name, bad, run.durationSeconds);
      // A run reported after the fact was started too: keep started >= finished.
      const attrs = runLabels(run, RUN_FINISHED.name);
      if (attrs === undefined) return;
      started.add(1, attrs);
      // Timed elsewhere: it started its duration before now, unless its runner says when.
      const startedAt = run.startedAt ?? now() - run.durationSeconds * 1000;
      const attempt = recordStart(attrs, run, startedAt);
      finishRun(
        attrs,
        run.outcome,
        run.durationSeconds,
        run,
        exemplarContext(run.context),
        attempt,
      );
    },
    reject(reason) {
      if (typeof reason !== 'string')
        return guard.drop(REQUEST_REJECTED.name, 'bad_attribute', reason);
      rejected.add(1, { reason });
    },
    runnerError(runner, error) {
      if (typeof runner !== 'string' || typeof error !== 'string')
        return guard.drop(
          RUNNER_ERROR.name,
          'bad_attribute',
          typeof runner !== 'string' ? runner : error,
        );
      const attributes = { runner, error };
      if (refused(RUNNER_ERROR.name, attributes)) return;
      runnerErrors.add(1, attributes);
    },
    sessionCreated() {
      sessions.add(1);
    },
    missedSchedule(run) {
      const attrs = runLabels(run, SCHEDULE_MISSED.name);
      if (attrs !== undefined) missed.add(1, attrs);
    },
    addQueueSource(read, sourceOptions = {}) {
      const poll = new QueueAgePoll(read, sourceOptions, guard, now);
      queueSources.add(poll);
      return () => {
        poll.close();
        queueSources.delete(poll);
      };
    },
    setSnapshotSource(callback, sourceOptions) {
      const merged = { ...options.snapshotDefaults, ...sourceOptions };
      cache = new SnapshotCache(
        callback,
        merged,
        (reason) => snapshotFailures.add(1, { reason }),
        now,
      );
    },
    lastSnapshot() {
      return cache?.last;
    },
    counter: (name) => declared(name, 'counter', 'upDownCounter'),
    histogram: (name) => declared(name, 'histogram'),
    gauge: (name) => declared(name, 'gauge'),
    observe(name, callback) {
      const spec = declaredByName.get(name);
      if (spec === undefined)
        throw new Error(
          `observe(${JSON.stringify(name)}): no such instrument declared in options.instruments`,
        );
      if (!isObserved(spec.kind))
        throw new Error(`instrument ${JSON.stringify(name)}: kind ${spec.kind} is not observable`);
      if (observed.has(name))
        throw new Error(`observe(${JSON.stringify(name)}): a callback is already registered`);
      observed.add(name);
      // Bad values (an observed counter is a running total: never negative) are dropped by the folding, not served.
      observeFolded(meter, [spec], guard, (observe) => {
        const value = callback();
        if (value === undefined) return;
        if (!Array.isArray(value)) observe(name, value as number);
        else for (const o of value as readonly Observation[]) observe(name, o.value, o.attributes);
      });
    },
  };
  RECORDERS.set(of, recorder);
  return recorder;
}
