/**
 * The ingest store's state across restarts: loaded from its state file at start, before the
 * listener takes a request, and written back (docs/collector.md "jobmeter's own restart"):
 *
 * - every {@link CHECKPOINT_INTERVAL_MILLIS} when something was ingested since the last write;
 * - before a collection is served (a pull scrape's series sets, an OTLP push's MetricData) that
 *   holds something not yet written, so no value a scraper has seen is missing from the file:
 *   after a crash the series go on from at least what was served, never back (a counter reset to
 *   Prometheus);
 * - at shutdown, once the listener is closed, so a SIGTERM loses nothing.
 *
 * A SIGKILL loses the delta increments received after the last write that no collection read: at
 * most one interval's. Cumulative senders lose nothing: their next point carries their total.
 *
 * What must stay true: what is served never runs ahead of what a restart would restore. A
 * collection whose values are not in the file once its write is over (the write failed, or is
 * still running after {@link SERVE_WAIT_MILLIS}) is not served: the last file written is read into
 * an empty store, the one a restart would make, and that store's collection is served instead
 * until a write succeeds; a series of it stays while any sender of it is alive in the store (one
 * new since the write included) and goes when every one has expired there, never as the file ages. The store goes on taking points meanwhile, and the next write holds them.
 * A failed write is retried at every occasion; the keeper's {@link StateKeeper.health} counts it
 * (`/ready`, the self-telemetry), one line says when writes start failing, when the reason changes
 * and when they succeed again, and {@link StateKeeper.close} rejects when the last one fails.
 *
 * A file that cannot be used is moved aside, kept, with one warning line naming both paths, and the
 * store starts afresh (state-file.ts, checkpoint.ts): never a failed start. A state directory that
 * cannot be made is a configuration error, as `validate` finds it too ({@link openStateDir}).
 */
import { join } from 'node:path';
import type { CheckpointFigures } from '../http/self-telemetry.ts';
import {
  CHECKPOINT_VERSION,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
} from './checkpoint.ts';
import type { SourceTotals } from '../series/carry.ts';
import type { IngestedPart } from '../series/collection.ts';
import type { IngestSeries, IngestStore, StoreRestore } from './ingest-store.ts';
import { ConfigError } from '../errors.ts';
import { buildCommit, VERSION } from '../version.ts';
import {
  ingestStateFileName,
  makeStateDir,
  moveAside,
  readStateFile,
  removeTempLeftovers,
  StateFileError,
  writeStateFile,
  type StateFileRead,
} from './state-file.ts';
import { messageOf } from '../common/message-of.ts';
import { withinMillis } from '../common/within-millis.ts';
import type { Log } from '../common/log.ts';

/** This build, as a state file it writes names its writer (checkpoint.ts `writer`); asked when used, not at import. */
const writer = (): string => `${VERSION} (commit ${buildCommit()})`;

/** How often held changes are written: the most a SIGKILL loses of delta senders' increments. */
export const CHECKPOINT_INTERVAL_MILLIS = 5_000;
/** How long a collection waits for its write before it is served anyway (a stalled disk must not stall scrapes). */
const SERVE_WAIT_MILLIS = 2_000;

export interface StateKeeperOptions {
  /** The directory of the state file (created if missing). */
  readonly dir: string;
  /** The ingest listener's configured address: the file's name (two services never share one). */
  readonly host: string;
  readonly port: number;
  /** The largest file written or read (the store's memory budget). */
  readonly maxBytes: number;
  /** One line per event worth an operator's eye (restored, unusable file, failed write). */
  readonly log: Log;
  /** A new, empty store configured as the kept one: what a restart would make (the last file written is read into it while writes fail). */
  readonly emptyStore: () => IngestStore;
  /**
   * What the profile's series carry of the ingested sources they merge (series/carry.ts): written
   * with each checkpoint and taken back at start, so a series that merges an expired source serves
   * the same after a restart.
   */
  readonly carry?: Pick<
    SourceTotals,
    'snapshot' | 'restore' | 'settledDepartures' | 'askIfWaiting'
  >;
}

/** How the checkpoints fare: what `/ready` and the self-telemetry (its figures) report. */
export interface CheckpointHealth extends CheckpointFigures {
  /** While the last write failed: its reason in a word that names no path (state-file.ts `StateFileError.code`), and the writes failed in a row. */
  readonly failing: { readonly reason: string; readonly inRow: number } | undefined;
}

export class StateKeeper {
  /** The state file. */
  readonly path: string;
  readonly #store: IngestStore;
  readonly #options: StateKeeperOptions;
  /**
   * What the file took last (the last write, or the read at start): the store's `changes` and its
   * series made then (the held copy forgets series made again since), when (Unix ms), the file's
   * size and, a write's, how long it took.
   */
  #last: {
    changes: number;
    made: number;
    at?: number;
    bytes?: number;
    seconds?: number;
    /** The carry's settled departures then (carry.ts `settledDepartures`). */
    settled?: number;
  } = { changes: -1, made: 0 };
  #timer: NodeJS.Timeout | undefined;
  /** The last write queued or running; writes run one after another. */
  #tail: Promise<void> = Promise.resolve();
  /** A write queued and not started yet: later callers share it (it reads the store when it starts). */
  #next: Promise<void> | undefined;
  /** The last write's failure, while it stands: its line (said once per reason) and its code. */
  #failing: { line: string; reason: string; inRow: number } | undefined;
  #failures = 0;
  /** Told each successful write's duration (the self-telemetry's histogram). */
  #onWritten: ((seconds: number) => void) | undefined;
  /** While writes fail: the last file written, read into an empty store (served in the store's place). */
  #held: IngestStore | undefined;
  /** Why the file found at start is unusable, while it is still in the way (not moved aside yet). */
  #unusable: string | undefined;
  #closed = false;

  /**
   * Loads the state file of `options.dir` into `store` (empty): what it held is served again.
   * @throws {ConfigError} when the directory cannot be made ({@link openStateDir}).
   */
  static open(store: IngestStore, options: StateKeeperOptions): StateKeeper {
    openStateDir(options.dir);
    const keeper = new StateKeeper(store, options);
    // No write is under way yet: what a crash left of one goes now, or crashes would pile them up.
    removeTempLeftovers(keeper.path);
    keeper.#load();
    return keeper;
  }

  private constructor(store: IngestStore, options: StateKeeperOptions) {
    this.#store = store;
    this.#options = options;
    this.path = join(options.dir, ingestStateFileName(options.host, options.port));
  }

  /** Writes every interval from now on, when something changed; `onWritten` is told each successful write's duration. */
  start(onWritten?: (seconds: number) => void): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#onWritten = onWritten;
    this.#timer = setInterval(() => void this.save(), CHECKPOINT_INTERVAL_MILLIS);
    this.#timer.unref();
  }

  /**
   * Writes the store's state if it changed since the last write, after any write under way; the
   * state is read when the write starts. Never rejects: a failure is a warning line.
   */
  save(): Promise<void> {
    if (this.#next !== undefined) return this.#next;
    const next = this.#tail.then(() => {
      this.#next = undefined;
      return this.#write();
    });
    this.#next = next;
    this.#tail = next;
    return next;
  }

  /**
   * The store's series (`IngestStore.collectSeries`) written before they are served (see the top
   * of this file): read them in the store's place (the push's MetricData too: `ingestProducer`).
   */
  series(): IngestSeries {
    return { collectSeries: () => this.#served() };
  }

  /** How the checkpoints fare. */
  health(): CheckpointHealth {
    const failing = this.#failing;
    return {
      failures: this.#failures,
      failing: failing === undefined ? undefined : { reason: failing.reason, inRow: failing.inRow },
      writtenSeconds: this.#last.at === undefined ? undefined : this.#last.at / 1000,
      bytes: this.#last.bytes,
      lastWriteSeconds: this.#last.seconds,
    };
  }

  /**
   * The store's series once what they read is written; when it is not (the write failed, or is
   * still running after {@link SERVE_WAIT_MILLIS}), the series of the last file written instead.
   */
  async #served(): Promise<IngestedPart> {
    const part = await this.#store.collectSeries();
    // Read after the collection: what it expired is written with it.
    const changes = this.#store.changes;
    if (changes !== this.#last.changes) await withinMillis(this.save(), SERVE_WAIT_MILLIS, true);
    if (this.#last.changes >= changes) {
      // The pass may settle what series that left since the last one keep (series/carry.ts):
      // written before its scrape is served, as the store's changes were.
      const carry = this.#options.carry;
      if (carry === undefined) return part;
      const settled = carry.settledDepartures;
      const passed = async (): Promise<void> => {
        if (carry.settledDepartures !== settled)
          await withinMillis(this.save(), SERVE_WAIT_MILLIS, true);
      };
      return { ...part, passed };
    }
    part.done();
    return { ...(await this.#heldStore().collectSeries()), held: true };
  }

  /**
   * What a restart would serve: the last file written, read into an empty store (once per failing
   * spell). A series of it stays, frozen, while the store holds that series (any sender of it alive)
   * and goes when the store no longer does, never as the file ages: a failing disk freezes a series
   * whose sender is alive, it does not remove it. The refused points are the store's, counting on
   * (IngestStore `holdFor`).
   */
  #heldStore(): IngestStore {
    if (this.#held === undefined) {
      this.#held = this.#options.emptyStore();
      this.#read(this.#held);
    }
    this.#held.holdFor(this.#store, this.#last.made);
    return this.#held;
  }

  /**
   * Stops the timer and writes what changed: call it once nothing more is ingested.
   * @throws {StateFileError} when that write fails (a restart restores the last file written).
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.save();
    const failing = this.#failing;
    if (failing !== undefined) {
      throw new StateFileError(
        `ingest state ${this.path} at shutdown: ${failing.line}; a restart restores the last checkpoint written, without what was received since`,
        failing.reason,
      );
    }
  }

  #load(): void {
    const { log } = this.#options;
    const read = this.#read(this.#store, true);
    if (read.status === 'missing') {
      log(
        'info',
        'ingest state: none yet (kept from now on)',
        { path: this.path },
        `ingest state: none yet in ${this.path} (kept there from now on)`,
      );
    } else if (read.status === 'unusable') {
      this.#unusable = read.reason;
      this.#moveAside();
    } else {
      const { summary } = read;
      const [changes, made] = [this.#store.changes, this.#store.seriesMade()];
      const settled = this.#options.carry?.settledDepartures ?? 0;
      // The file holds awake what the restore put dormant: written again (as a sweep's dormancy
      // is), or the copy served while writes fail would serve what the store no longer does.
      const taken = summary.dormantStreams === 0 ? changes : -1;
      this.#last = { changes: taken, made, at: Date.now(), bytes: read.bytes, settled };
      const skipped =
        summary.skippedStreams === 0
          ? ''
          : `; ${summary.skippedStreams} left out (past this configuration's caps or budget, or of instruments that no longer fit)`;
      const dormant =
        summary.dormantStreams === 0
          ? ''
          : `; ${summary.dormantStreams} source series dormant (silent for expiry_ms as far as the file knows, the time jobmeter was down included): not served until their senders push again, gone if they do not within expiry_ms`;
      const idle =
        summary.downtimeCounted || summary.streams === 0
          ? ''
          : '; written in another boot (or without its boot clock): each source series is as idle as it was at the newest point the file holds, the time jobmeter was down not counted';
      const self = writer();
      const wroteIt =
        read.writer === self
          ? ''
          : `; written by ${read.writer === undefined ? 'a jobmeter that did not record its version' : `jobmeter ${read.writer}`} (this is ${self})`;
      log(
        'info',
        'ingest state restored',
        {
          path: this.path,
          series: summary.series,
          source_series: summary.streams,
          instruments: summary.instruments,
          skipped: summary.skippedStreams,
          dormant: summary.dormantStreams,
          writer: read.writer ?? 'unknown',
        },
        `ingest state: restored ${summary.series} series (${summary.streams} source series, ${summary.instruments} instruments) from ${this.path}${skipped}${dormant}${idle}${wroteIt}`,
      );
      if (summary.refused.rejectedDataPoints > 0)
        log(
          'warn',
          'ingest state file holds values the ingest refuses, left out',
          { path: this.path, error: summary.refused.errorMessage },
          `warning: ingest state file ${this.path} holds values the ingest refuses, left out (counted in jobmeter.ingest.refused): ${summary.refused.errorMessage}`,
        );
    }
  }

  /** The state file read into `store` (empty), as a restart reads it; at start (`start`) the carry too. */
  #read(
    store: IngestStore,
    start = false,
  ):
    | Exclude<StateFileRead, { status: 'ok' }>
    | { status: 'restored'; summary: StoreRestore; writer: string | undefined; bytes: number } {
    const read = readStateFile(this.path, CHECKPOINT_VERSION, this.#options.maxBytes);
    if (read.status !== 'ok') return read;
    let snapshot;
    try {
      snapshot = decodeCheckpoint(read.payload);
    } catch (err) {
      if (!(err instanceof CheckpointError)) throw err;
      return { status: 'unusable', reason: `unreadable (${err.message})` };
    }
    if (start && snapshot.carry !== undefined) this.#options.carry?.restore(snapshot.carry);
    // At start, dormant as now; the held copy, as at the write (its expiry is the store's).
    return {
      status: 'restored',
      summary: store.restore(snapshot, !start),
      writer: snapshot.writer,
      bytes: read.bytes,
    };
  }

  /**
   * The unusable file moved aside, one line naming both paths. When it cannot be moved, one line
   * says so and it stays {@link #unusable}: no write replaces it until the move succeeds.
   * @throws {StateFileError} when the move fails and `throws` (a write's attempt).
   */
  #moveAside(throws = false): void {
    const reason = this.#unusable!;
    try {
      const aside = moveAside(this.path);
      this.#unusable = undefined;
      this.#options.log(
        'warn',
        'ingest state file unusable, moved aside: starting afresh',
        { path: this.path, reason, moved_to: aside },
        `warning: ingest state file ${this.path} is unusable: ${reason}; moved to ${aside} (kept), starting afresh`,
      );
    } catch (err) {
      if (throws)
        throw new StateFileError(
          `not written: the unusable file cannot be moved aside (${messageOf(err)})`,
          (err as NodeJS.ErrnoException).code ?? 'error',
        );
      this.#options.log(
        'warn',
        'ingest state file unusable, starting afresh: moved aside before the first checkpoint',
        { path: this.path, reason, error: messageOf(err) },
        `warning: ingest state file ${this.path} is unusable: ${reason}; starting afresh, and it is moved aside before the first checkpoint (it cannot be now: ${messageOf(err)})`,
      );
    }
  }

  async #write(): Promise<void> {
    const changes = this.#store.changes;
    const settled = this.#options.carry?.settledDepartures ?? 0;
    if (changes === this.#last.changes && settled === this.#last.settled) return;
    const made = this.#store.seriesMade();
    const began = performance.now();
    let bytes: number;
    try {
      if (this.#unusable !== undefined) this.#moveAside(true);
      const carry = this.#options.carry?.snapshot();
      const payload = encodeCheckpoint({
        ...this.#store.snapshot(),
        ...(carry !== undefined && { carry }),
        writer: writer(),
      });
      bytes = await writeStateFile(this.path, CHECKPOINT_VERSION, payload, this.#options.maxBytes);
    } catch (err) {
      this.#failed(err);
      return;
    }
    const seconds = (performance.now() - began) / 1000;
    this.#last = { changes, made, at: Date.now(), bytes, seconds, settled };
    this.#store.written(made);
    this.#onWritten?.(seconds);
    this.#held = undefined;
    if (this.#failing !== undefined) {
      this.#options.log(
        'info',
        'ingest state written again: the ingested series are served as received again',
        {
          path: this.path,
          result: 'written',
          failed_writes: this.#failing.inRow,
          bytes,
          duration_ms: Math.round(seconds * 1000),
        },
        `ingest state written again to ${this.path} after ${this.#failing.inRow} failed writes: the ingested series are served as received again`,
      );
      this.#options.carry?.askIfWaiting();
    }
    this.#failing = undefined;
  }

  #failed(err: unknown): void {
    this.#failures++;
    const line = messageOf(err);
    const reason = err instanceof StateFileError ? err.code : 'error';
    const before = this.#failing;
    this.#failing = { line, reason, inRow: (before?.inRow ?? 0) + 1 };
    if (line === before?.line) return;
    this.#options.log(
      'warn',
      'ingest state not written: served as of the last checkpoint written until a write succeeds',
      {
        path: this.path,
        result: 'failed',
        error: line,
        reason,
        retry_s: CHECKPOINT_INTERVAL_MILLIS / 1000,
      },
      `warning: ingest state ${this.path}: ${line}; the ingested series are served as of the last checkpoint written (what a restart restores) until a write succeeds, retried every ${CHECKPOINT_INTERVAL_MILLIS / 1000} s`,
    );
  }
}

/**
 * Where the ingest state is kept under `ingest`: nowhere when it is off (`stateDir: false`) or the
 * ingest port is 0 (a new port each start, so no sender finds the same service again).
 */
export function stateDirOf(ingest: {
  readonly stateDir: string | false;
  readonly port: number;
}): string | undefined {
  return ingest.stateDir === false || ingest.port === 0 ? undefined : ingest.stateDir;
}

/**
 * Creates the state directory `dir` if it is missing (state-file.ts `makeStateDir`: bounded in
 * time), as `serve` and `validate` both check it before anything starts.
 * @throws {ConfigError} naming `ingest.stateDir` when it cannot be made or is not a directory.
 */
export function openStateDir(dir: string): void {
  try {
    makeStateDir(dir);
  } catch (err) {
    throw new ConfigError(
      'ingest.stateDir',
      dir,
      `a directory jobmeter can create or use, or false to keep no state file (${messageOf(err)})`,
      { cause: err },
    );
  }
}
