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
 * Writes are one at a time; a failed write is one warning line (again only when the reason
 * changes) and is retried at the next occasion. A file that cannot be used is one warning line and
 * a fresh start (state-file.ts, checkpoint.ts): never a failed start.
 */
import type { CollectionResult, MetricProducer } from '@opentelemetry/sdk-metrics';
import { join } from 'node:path';
import { CHECKPOINT_VERSION, CheckpointError, decodeCheckpoint, encodeCheckpoint } from './checkpoint.ts';
import type { IngestSeries, IngestStore } from './ingest-store.ts';
import { ingestStateFileName, makeStateDir, readStateFile, writeStateFile } from './state-file.ts';

/** How often held changes are written: the most a SIGKILL loses of delta senders' increments. */
export const CHECKPOINT_INTERVAL_MILLIS = 5_000;
/** How long a collection waits for its write before it is served anyway (a stalled disk must not stall scrapes). */
const SERVE_WAIT_MILLIS = 2_000;
const KIND = 'ingest';

export interface StateKeeperOptions {
  /** The directory of the state file (created if missing). */
  readonly dir: string;
  /** The ingest listener's configured address: the file's name (two services never share one). */
  readonly host: string;
  readonly port: number;
  /** The largest file written or read (the store's memory budget). */
  readonly maxBytes: number;
  /** One line per event worth an operator's eye (restored, unusable file, failed write). */
  readonly log: (line: string) => void;
  /** @default CHECKPOINT_INTERVAL_MILLIS */
  readonly intervalMillis?: number;
}

export class StateKeeper {
  /** The state file. */
  readonly path: string;
  readonly #store: IngestStore;
  readonly #options: StateKeeperOptions;
  /** The store's `changes` when the file was last written (or read). */
  #written = -1;
  #timer: NodeJS.Timeout | undefined;
  /** The last write queued or running; writes run one after another. */
  #tail: Promise<void> = Promise.resolve();
  /** A write queued and not started yet: later callers share it (it reads the store when it starts). */
  #next: Promise<void> | undefined;
  #lastWarning: string | undefined;
  #closed = false;

  /**
   * Loads the state file of `options.dir` into `store` (empty): what it held is served again.
   * Undefined (one line said why) when the directory cannot be made: the service runs without.
   */
  static open(store: IngestStore, options: StateKeeperOptions): StateKeeper | undefined {
    try {
      makeStateDir(options.dir);
    } catch (err) {
      options.log(`ingest state not kept: cannot create ${options.dir} (${messageOf(err)}); a restart will start the ingested series afresh`);
      return undefined;
    }
    const keeper = new StateKeeper(store, options);
    keeper.#load();
    return keeper;
  }

  private constructor(store: IngestStore, options: StateKeeperOptions) {
    this.#store = store;
    this.#options = options;
    this.path = join(options.dir, ingestStateFileName(options.host, options.port));
  }

  /** Writes every interval from now on, when something changed. */
  start(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.save(), this.#options.intervalMillis ?? CHECKPOINT_INTERVAL_MILLIS);
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
   * `store` as a producer whose collections are written before they are served (see the top of
   * this file); give it to the readers in the store's place.
   */
  producer(): MetricProducer {
    return { collect: (): Promise<CollectionResult> => this.#served(this.#store.collect()) };
  }

  /** The store's series for a scrape (`IngestStore.collectSeries`), written before they are served as {@link producer}'s are. */
  series(): IngestSeries {
    return { collectSeries: () => this.#served(this.#store.collectSeries()) };
  }

  /** `collected` once what it read is written (or after {@link SERVE_WAIT_MILLIS}). */
  async #served<T>(collected: Promise<T>): Promise<T> {
    const result = await collected;
    if (this.#store.changes !== this.#written) await withinMillis(this.save(), SERVE_WAIT_MILLIS);
    return result;
  }

  /** Stops the timer and writes what changed: call it once nothing more is ingested. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.save();
  }

  #load(): void {
    const { maxBytes, log } = this.#options;
    const read = readStateFile(this.path, KIND, CHECKPOINT_VERSION, maxBytes);
    if (read.status === 'missing') {
      log(`ingest state: none yet in ${this.path} (kept there from now on)`);
      return;
    }
    if (read.status === 'unusable') {
      this.#unusable(read.reason);
      return;
    }
    let snapshot;
    try {
      snapshot = decodeCheckpoint(read.payload);
    } catch (err) {
      if (!(err instanceof CheckpointError)) throw err;
      this.#unusable(`unreadable (${err.message})`);
      return;
    }
    const summary = this.#store.restore(snapshot);
    this.#written = this.#store.changes;
    const skipped = summary.skippedStreams === 0 ? '' : `; ${summary.skippedStreams} left out (past this configuration's caps or budget, or of instruments that no longer fit)`;
    log(`ingest state: restored ${summary.series} series (${summary.streams} source series, ${summary.instruments} instruments) from ${this.path}${skipped}`);
  }

  #unusable(reason: string): void {
    this.#options.log(`warning: ingest state file ${this.path} is unusable: ${reason}; starting afresh (the file is replaced at the next checkpoint)`);
  }

  async #write(): Promise<void> {
    const changes = this.#store.changes;
    if (changes === this.#written) return;
    try {
      const payload = encodeCheckpoint(this.#store.snapshot());
      await writeStateFile(this.path, KIND, CHECKPOINT_VERSION, payload, this.#options.maxBytes);
      this.#written = changes;
      if (this.#lastWarning !== undefined) this.#options.log(`ingest state written again to ${this.path}`);
      this.#lastWarning = undefined;
    } catch (err) {
      const warning = `warning: ingest state ${this.path}: ${messageOf(err)}; the last checkpoint written stays, retried at the next one`;
      if (warning !== this.#lastWarning) this.#options.log(warning);
      this.#lastWarning = warning;
    }
  }
}

/** `promise`, or nothing after `millis`. */
async function withinMillis(promise: Promise<void>, millis: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, millis);
    timer.unref();
  });
  try {
    await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
