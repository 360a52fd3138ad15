/**
 * The oldest waiting job's age per queue (`jobmeter.queue.oldest.age`), from the job store: the
 * host's read runs once per interval, off the collection path (a scrape never waits on the
 * store), and gives per queue when its oldest waiting job was enqueued. The age is taken at each
 * collection from that time, so while that job still waits the age is exact whenever the read
 * ran; it can only be too old, by at most one interval, when the job was taken since. A read that
 * fails keeps the last good times (the ages keep climbing, never reset to a comforting 0); one
 * warning (common/warn.ts) until a read succeeds again. The poll is common/store-poll.ts's.
 */
import { messageOf } from '../common/message-of.ts';
import { warn } from '../common/warn.ts';
import { pollMillis } from '../common/option-rules.ts';
import { StorePoll } from '../common/store-poll.ts';
import { QUEUE_OLDEST_AGE } from './catalog.ts';
import type { RecordGuard } from './record-guard.ts';
import { CLOCK_SKEW_MILLIS, epochMillis, type TimeValue } from './run-timing.ts';

/**
 * What a queue source's read gives: per queue name, when its oldest waiting job was enqueued
 * (epoch milliseconds or a `Date`), or `undefined` when no job waits (age 0).
 */
export type OldestWaiting =
  ReadonlyMap<string, TimeValue | undefined> | Readonly<Record<string, TimeValue | undefined>>;

/** How often a queue source is read. */
export interface QueueSourceOptions {
  /** Milliseconds between reads of the store (an integer from 100 to 2147483647). @default 10000 */
  readonly intervalMillis?: number;
}

export const DEFAULT_QUEUE_INTERVAL_MILLIS = 10_000;

/** The queues of one read that are kept (the attribute's cap folds the rest into `other`). */
const MAX_QUEUES = 1000;

export class QueueAgePoll {
  readonly #guard: RecordGuard;
  readonly #now: () => number;
  readonly #poll: StorePoll<OldestWaiting>;
  /** Queue -> enqueue time of its oldest waiting job (epoch ms), undefined when none waits. */
  #last = new Map<string, number | undefined>();
  #failing = false;

  /** @throws ConfigError when `intervalMillis` is not an integer from 100 to 2^31-1 (a timer's bound). */
  constructor(
    read: () => OldestWaiting | Promise<OldestWaiting>,
    options: QueueSourceOptions,
    guard: RecordGuard,
    now: () => number,
  ) {
    const interval = pollMillis(
      options.intervalMillis ?? DEFAULT_QUEUE_INTERVAL_MILLIS,
      'addQueueSource.intervalMillis',
    );
    this.#guard = guard;
    this.#now = now;
    this.#poll = new StorePoll(read, interval, {
      ok: (got) => {
        this.#last = this.#check(got);
        this.#failing = false;
      },
      fail: (err) => {
        if (this.#failing) return;
        this.#failing = true;
        warn(
          `jobmeter: ${QUEUE_OLDEST_AGE.name}: the queue source's read failed (${messageOf(err)}); serving the last good read (one warning until a read succeeds)`,
        );
      },
      // After shutdown nothing is collected: stop calling the host's store.
      stopped: () => this.#guard.closed,
    });
  }

  /** Reads of the store started. */
  get reads(): number {
    return this.#poll.reads;
  }

  /** One read of the store, unless one is still out. Resolves when it settles (tests await it). */
  poll(): Promise<void> {
    return this.#poll.poll();
  }

  /** The read's entries that can be served; each bad one dropped through the guard. */
  #check(got: OldestWaiting): Map<string, number | undefined> {
    const out = new Map<string, number | undefined>();
    const entries = got instanceof Map ? got.entries() : Object.entries(got ?? {});
    const now = this.#now();
    for (const [queue, at] of entries as Iterable<[unknown, unknown]>) {
      if (out.size >= MAX_QUEUES) break;
      if (typeof queue !== 'string') {
        this.#guard.drop(QUEUE_OLDEST_AGE.name, 'bad_attribute', queue);
        continue;
      }
      if (at === undefined || at === null) {
        out.set(queue, undefined);
        continue;
      }
      const ms = epochMillis(at);
      if (typeof ms !== 'number') this.#guard.drop(QUEUE_OLDEST_AGE.name, ms, at);
      // A job enqueued in the future (past the clocks' skew) is a wrong time, not a waiting job.
      else if (ms - now > CLOCK_SKEW_MILLIS)
        this.#guard.drop(QUEUE_OLDEST_AGE.name, 'negative', (now - ms) / 1000);
      else out.set(queue, ms);
    }
    return out;
  }

  /** Each queue's age in seconds at `now`, from the last good read. */
  *ages(now: number): Generator<[queue: string, seconds: number]> {
    for (const [queue, at] of this.#last)
      yield [queue, at === undefined ? 0 : Math.max(0, (now - at) / 1000)];
  }

  close(): void {
    this.#poll.close();
  }
}
