/**
 * What every job-library integration shares: its options, checked once (ConfigError), and the
 * runs of one worker — a job attempt is a run on the domain API (`startRun` when the library
 * hands it out, `finish` when the library says how it ended, with the library's own duration),
 * keyed by what the library hands to both events (its job id, or the attempt's own object: a key
 * built per event would be hashed anew each time). A run the library ends
 * without having started it here (a stalled job another process held) is recorded after the fact.
 */
import type { Context, Meter } from '@opentelemetry/api';
import {
  INTEGRATION_OPTIONS,
  resolveSection,
  type OptionsOf,
  type Resolved,
} from '../common/option-table.ts';
import { ConfigError } from '../errors.ts';
import { AGENT_RUN_EVENTS } from '../domain/catalog.ts';
import type { Recorder, RunHandle, StartDetails } from '../domain/recorder.ts';
import type { HostSnapshot } from '../domain/snapshot.ts';
import type { Outcome } from '../domain/types.ts';

/**
 * Where an integration records, how its runs are named, how often it reads the store: the option
 * table's integration rows (common/option-table.ts, docs/options.md).
 */
export type IntegrationOptions = OptionsOf<
  typeof INTEGRATION_OPTIONS,
  { jobmeter: Recorder & { readonly meter?: Meter }; meter: Meter }
>;

export const DEFAULT_DEPTH_INTERVAL_MILLIS = INTEGRATION_OPTIONS.depthIntervalMillis.default;

/** The options after their checks: one place that says what each accepts. */
export type CheckedOptions = Omit<Resolved<typeof INTEGRATION_OPTIONS>, 'runner'> & {
  readonly runner: string;
  readonly recorder: Recorder;
  readonly meter: Meter | undefined;
};

/** @throws ConfigError naming the option that is not what it should be. */
export function checkOptions(
  call: string,
  options: IntegrationOptions,
  runner: string,
): CheckedOptions {
  const jm = options?.jobmeter;
  if (typeof jm?.startRun !== 'function' || typeof jm.recordRun !== 'function') {
    throw new ConfigError(
      `${call}.jobmeter`,
      jm,
      'the instance createJobmeter() resolves to, or a recorder from createRecorder(meter)',
    );
  }
  const checked = resolveSection(options, INTEGRATION_OPTIONS, call);
  const meter = options.meter ?? jm.meter;
  if (checked.depthIntervalMillis !== false && meter === undefined) {
    throw new ConfigError(
      `${call}.meter`,
      undefined,
      'the Meter the recorder was created on (createRecorder(meter) has none of its own), or depthIntervalMillis: false',
    );
  }
  return { ...checked, recorder: jm, meter, runner: checked.runner ?? runner };
}

/**
 * The schema a library keeps its tables in (`options.schema`), put into the depth query's SQL.
 * @throws ConfigError unless it is a plain PostgreSQL identifier.
 */
export function checkSchema(call: string, schema: string): string {
  if (typeof schema === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) return schema;
  throw new ConfigError(`${call}.schema`, schema, 'a PostgreSQL identifier (letters, digits, _)');
}

/** crewshipd's journal words for a finished run. */
const EVENT_OF: Record<Outcome, string> = {
  success: 'completed',
  failure: 'failed',
  cancelled: 'cancelled',
  timeout: 'timeout',
};

/** The runs of one instrumented worker, by the library's job id. */
export class JobRuns {
  /** The integration's checked options: where the runs are recorded, their kind and runner. */
  readonly options: CheckedOptions;
  readonly #open = new Map<unknown, RunHandle>();
  /**
   * Set when the integration is removed: a library may still call what it was handed (a handler
   * pg-boss or graphile-worker holds, a listener a library fires once more), and from then on
   * nothing of it is a run here.
   */
  #closed = false;
  /** Run events since start, in crewshipd's journal words, the catalog's (for {@link JobRuns.events}). */
  readonly #events: Record<string, number> = Object.fromEntries(
    AGENT_RUN_EVENTS.attributes[0].values.map((event) => [event, 0]),
  );

  constructor(options: CheckedOptions) {
    this.options = options;
  }

  /**
   * A job attempt was handed out: it is in flight until {@link finish}. Returns whether the same id
   * was still open here: the library took that attempt back without saying how it ended (BullMQ's
   * rate limit and delay errors), so it ends without an outcome of its own (`cancelled`).
   * `details`: when the job was enqueued or due, when it started and which attempt it is, from
   * the library's own record (its queue wait, lateness and attempt).
   */
  start(id: unknown, task: string, details?: StartDetails): boolean {
    if (this.#closed) return false;
    const stale = this.#open.get(id);
    stale?.finish('cancelled');
    const { recorder, kind, runner } = this.options;
    this.#open.set(id, recorder.startRun({ task, kind, runner }, details));
    this.#events['started']!++;
    return stale !== undefined;
  }

  /**
   * The attempt `id` ended. `seconds`: the library's own duration (undefined: timed here).
   * A run not started here (before instrumenting, or in another process) is recorded as started
   * and finished, with `attempt` (its wait was the starting process's to record).
   */
  finish(
    id: unknown,
    task: string,
    outcome: Outcome,
    seconds: number | undefined,
    context?: Context,
    attempt?: number,
  ): void {
    if (this.#closed) return;
    const open = this.#open.get(id);
    this.#events[EVENT_OF[outcome]]!++;
    if (open !== undefined) {
      this.#open.delete(id);
      // One literal, no spreads: this runs once a job. Undefined fields take the domain's defaults.
      open.finish(outcome, { durationSeconds: seconds, context });
      return;
    }
    this.#events['started']!++;
    const { recorder, kind, runner } = this.options;
    recorder.recordRun({
      task,
      kind,
      runner,
      outcome,
      durationSeconds: seconds ?? 0,
      context,
      attempt,
    });
  }

  reject(reason: string): void {
    if (!this.#closed) this.options.recorder.reject(reason);
  }

  /** A scheduled run of `task` whose time passed without it starting. */
  missed(task: string): void {
    const { recorder, kind, runner } = this.options;
    if (!this.#closed) recorder.missedSchedule({ task, kind, runner });
  }

  /** A runner error (the worker's `error` event): `error` is a bounded word, never a message. */
  error(kind: string): void {
    if (!this.#closed) this.options.recorder.runnerError(this.options.runner, kind);
  }

  /** Run events since start, in crewshipd's journal words (`HostSnapshot.agentRunEvents`). */
  events(): NonNullable<HostSnapshot['agentRunEvents']> {
    return { ...this.#events };
  }

  /**
   * The integration is removed: runs still open stay in flight no longer (ended as cancelled), and
   * nothing after is recorded.
   */
  close(): void {
    this.#closed = true;
    for (const run of this.#open.values()) run.finish('cancelled');
    this.#open.clear();
  }
}

/**
 * What a job store's row says about an attempt as it starts (pg-boss's, graphile-worker's):
 * `startedAt` (its claim), and when the job was ready — added (`createdAt`), or due (`dueAt`: a
 * time asked for, also the run's lateness; for a later attempt, its failure plus its retry delay,
 * when it was put back). The store sets the due time to the insert's own unless one was asked
 * for: only that is a schedule. A later attempt not `putBack` says its attempt only, as does a row
 * without the three times.
 */
export function rowStart(
  createdAt: unknown,
  dueAt: unknown,
  startedAt: unknown,
  attempt: number | undefined,
  putBack = true,
): StartDetails {
  if (!(createdAt instanceof Date && dueAt instanceof Date && startedAt instanceof Date))
    return { attempt };
  if (attempt !== 1) return putBack ? { enqueuedAt: dueAt, startedAt, attempt } : { attempt };
  const scheduledAt = dueAt.getTime() !== createdAt.getTime() ? dueAt : undefined;
  return { enqueuedAt: createdAt, scheduledAt, startedAt, attempt };
}

/** Seconds between two of the library's millisecond timestamps, when both are there. */
export function secondsBetween(
  fromMillis: number | undefined | null,
  toMillis: number | undefined | null,
): number | undefined {
  if (typeof fromMillis !== 'number' || typeof toMillis !== 'number') return undefined;
  return Math.max(0, toMillis - fromMillis) / 1000;
}

/** A bounded word for an error (its class name), never its message: messages carry ids and paths. */
export function errorKind(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{2,32}$/.test(code)) return code;
  return typeof name === 'string' && /^[A-Za-z0-9_]{1,32}$/.test(name) ? name : 'Error';
}
