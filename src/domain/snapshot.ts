/**
 * Snapshot metrics: figures a host keeps in its own database (assignments by status, hosts,
 * sessions, runs since its records began...). The host gives one callback returning a typed
 * {@link HostSnapshot}; jobmeter calls it at collection time, at most once per TTL, never longer
 * than a timeout, and serves the last good snapshot when a call fails or hangs.
 */
import { resolveSection, SNAPSHOT_OPTIONS, type OptionsOf } from '../common/option-table.ts';
import { withinMillis } from '../common/within-millis.ts';
import type { Outcome } from './types.ts';

/** One host of crewshipd's fleet, in a {@link HostSnapshot}. */
export interface HostRecord {
  /** Stable id (immune to renames). */
  readonly id: string;
  /** Human-readable name. */
  readonly name: string;
  readonly online: boolean;
  /** Absent before the host's first backup: the series are omitted, not zero. */
  readonly lastBackup?: { readonly timeSeconds: number; readonly success: boolean };
  /** Absent when unknown: the series is omitted. */
  readonly repoSizeBytes?: number;
  readonly snapshotCount: number;
  readonly openAlerts: number;
  readonly repoStatus: string;
}

/** One session in a {@link HostSnapshot}, served as JSON only (open mode), never as labels. */
export interface SessionRecord {
  readonly id: string;
  readonly diskBytes: number;
  /** In WASM pages of 64 KiB; null means unlimited. */
  readonly memoryCapPages: number | null;
}

/** Every field is optional: a host reports what it has, and absent fields emit no series. */
export interface HostSnapshot {
  /** Runs by terminal outcome since the host's records began. Default: counted since start. */
  readonly runsByOutcome?: Partial<Record<Outcome, number>>;
  /** Unix seconds of the most recent failure on record. Default: the last failure seen since start. */
  readonly lastFailureSeconds?: number;
  readonly sessions?: {
    readonly active: number;
    readonly tracked: number;
    readonly diskBytes: number;
    /** Per-session detail; only ever served as JSON in open mode, never as labels. */
    readonly list?: readonly SessionRecord[];
  };
  /** Assignments by status; unknown statuses fold into `other`. */
  readonly assignments?: Readonly<Record<string, number>>;
  /** Pipeline runs by status; unknown statuses fold into `other`. */
  readonly pipelineRuns?: Readonly<Record<string, number>>;
  /** Queue aggregates; never per group (groups are user-created and unbounded). */
  readonly queue?: { readonly depth: number; readonly groups: number; readonly depthMax: number };
  /** Agent run events from the journal, by event. */
  readonly agentRunEvents?: Readonly<Record<string, number>>;
  /** LLM cost ledger per provider. */
  readonly llm?: readonly {
    readonly provider: string;
    readonly calls: number;
    readonly costUsd: number;
  }[];
  readonly containers?: { readonly tracked: number; readonly reporting: number };
  readonly dbMigrationVersion?: number;
  readonly websocketConnections?: number;
  /** Fleet totals; default: derived from `hosts`. */
  readonly fleet?: { readonly total: number; readonly online: number };
  /** Open alerts by severity. */
  readonly alerts?: Readonly<Record<string, number>>;
  readonly hosts?: readonly HostRecord[];
}

/**
 * What `setSnapshotSource` calls at collection time (at most once per TTL, never longer than the timeout).
 * @example
 *   jm.setSnapshotSource(async () => ({ queue: { depth: 4, groups: 1, depthMax: 4 } }), { ttlMillis: 15_000 });
 */
export type SnapshotCallback = () => HostSnapshot | Promise<HostSnapshot>;

/** The option `snapshot`, and `setSnapshotSource`'s: how the host's snapshot callback is cached. */
export type SnapshotSourceOptions = OptionsOf<typeof SNAPSHOT_OPTIONS>;

export type SnapshotFailure = 'error' | 'timeout';

/**
 * Calls the host's callback at most once per TTL, shares one call between concurrent readers,
 * bounds each call by a timeout and falls back to the last good snapshot.
 * @throws ConfigError (from the constructor) for a TTL or timeout that is not a usable duration.
 */
export class SnapshotCache {
  readonly #callback: SnapshotCallback;
  readonly #ttl: number;
  readonly #timeout: number;
  readonly #onFailure: (reason: SnapshotFailure) => void;
  readonly #now: () => number;
  #last: HostSnapshot | undefined;
  #lastAt = -Infinity;
  #inflight: Promise<HostSnapshot | undefined> | undefined;
  /** A call that outlived its timeout and has not settled: no new call until it does. */
  #hung = false;

  constructor(
    callback: SnapshotCallback,
    options: SnapshotSourceOptions,
    onFailure: (reason: SnapshotFailure) => void,
    now: () => number = () => performance.now(),
  ) {
    this.#callback = callback;
    // A ttl of 0: no reuse, the host is called at every collection.
    const { ttlMillis, timeoutMillis } = resolveSection(options, SNAPSHOT_OPTIONS, 'snapshot');
    this.#ttl = ttlMillis;
    this.#timeout = timeoutMillis;
    this.#onFailure = onFailure;
    this.#now = now;
  }

  /** The last good snapshot without calling the host (undefined before the first success). */
  get last(): HostSnapshot | undefined {
    return this.#last;
  }

  /** The call in flight, if any (settles once its failure, if it fails, has been reported). */
  get pending(): Promise<HostSnapshot | undefined> | undefined {
    return this.#inflight;
  }

  get(): Promise<HostSnapshot | undefined> {
    if (this.#last !== undefined && this.#now() - this.#lastAt < this.#ttl)
      return Promise.resolve(this.#last);
    // Calling again while a call hangs would pile up calls on a host that is already struggling.
    if (this.#hung) return Promise.resolve(this.#last);
    this.#inflight ??= this.#refresh().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #refresh(): Promise<HostSnapshot | undefined> {
    let answered = false;
    // A late answer is still the freshest snapshot there is: kept whenever it comes.
    const call = Promise.resolve()
      .then(this.#callback)
      .then((got) => {
        answered = true;
        this.#last = got;
        this.#lastAt = this.#now();
      });
    try {
      await withinMillis(call, this.#timeout, true);
    } catch {
      this.#onFailure('error');
      return this.#last;
    }
    if (!answered) {
      this.#onFailure('timeout');
      this.#hung = true;
      void call.catch(() => {}).finally(() => (this.#hung = false));
    }
    return this.#last;
  }
}
