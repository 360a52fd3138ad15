/**
 * Queue depth by state, read from the job store (Redis, Postgres) by one poll per interval and
 * served from that cache: a collection never waits on the store. Each read counts the store
 * itself, never a library's cached counts, so the depth is the store's as of the read.
 * A poll that fails, or is still out when the next is due, is counted
 * (`jobmeter.queue.poll.failures{reason}`); the depth keeps the last good poll's counts (the SDK
 * keeps an observed series once seen) and `jobmeter.queue.poll.age` says how old they are —
 * measured from when the read was sent, so it is never younger than the counts — and an outage
 * shows as a climbing age rather than as old counts passed off as new. One poll at a time: a
 * hung store holds at most one call.
 */
import type { Counter, Meter, ObservableGauge, ObservableResult } from '@opentelemetry/api';
import { counter, observableGauge } from '../domain/catalog.ts';
import { createInstrument } from '../domain/observed-instruments.ts';
import { StorePoll } from '../common/store-poll.ts';
import type { OldestWaiting } from '../domain/recorder.ts';

/** The states served; a library's other states (completed, paused, …) are not depth. */
export const DEPTH_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type DepthState = (typeof DEPTH_STATES)[number];
/** Queue name → state → jobs in it. */
export type DepthCounts = ReadonlyMap<string, Readonly<Partial<Record<DepthState, number>>>>;

const QUEUE_DEPTH = observableGauge(
  'jobmeter.queue.jobs',
  '{job}',
  'Jobs in the queue by state, as the job store last reported them.',
);
const QUEUE_POLL_FAILURES = counter(
  'jobmeter.queue.poll.failures',
  '{poll}',
  'Queue-depth polls that failed, or were still out when the next was due.',
);
const QUEUE_POLL_AGE = observableGauge(
  'jobmeter.queue.poll.age',
  's',
  'Age of the queue depth served: seconds since the read that counted it was sent to the job store.',
);

/** Queues served per poller: the queues a worker or boss was given, never job data. */
const MAX_QUEUES = 100;

export class QueueDepthPoll {
  readonly #poll: StorePoll<DepthCounts>;
  readonly #failures;
  readonly #gauge;
  readonly #age;
  readonly #callback = (result: ObservableResult): void => {
    let queues = 0;
    for (const [queue, counts] of this.#last ?? []) {
      if (++queues > MAX_QUEUES) break;
      for (const state of DEPTH_STATES) {
        const n = counts[state];
        if (typeof n === 'number' && Number.isFinite(n) && n >= 0)
          result.observe(n, { queue, state });
      }
    }
  };
  readonly #ageCallback = (result: ObservableResult) => {
    if (this.#lastAt !== undefined) result.observe((performance.now() - this.#lastAt) / 1000);
  };
  #last: DepthCounts | undefined;
  /** When the read behind {@link #last} was sent (performance.now(): an age, never a date). */
  #lastAt: number | undefined;

  constructor(meter: Meter, read: () => Promise<DepthCounts>, intervalMillis: number) {
    this.#age = createInstrument(meter, QUEUE_POLL_AGE) as ObservableGauge;
    this.#age.addCallback(this.#ageCallback);
    this.#gauge = createInstrument(meter, QUEUE_DEPTH) as ObservableGauge;
    this.#failures = createInstrument(meter, QUEUE_POLL_FAILURES) as Counter;
    this.#gauge.addCallback(this.#callback);
    // While a read is still out (a hung store) no second is sent: the interval it missed is
    // counted as a timeout, and the depth goes stale.
    this.#poll = new StorePoll(read, intervalMillis, {
      ok: (got, sentAt) => {
        this.#last = got;
        this.#lastAt = sentAt;
      },
      fail: () => this.#failures.add(1, { reason: 'error' }),
      busy: () => this.#failures.add(1, { reason: 'timeout' }),
    });
  }

  /** Store round trips started (the cost the bench reports: calls per minute). */
  get polls(): number {
    return this.#poll.reads;
  }

  /** One read of the store, unless one is still out. Resolves when it settles (tests await it). */
  poll(): Promise<void> {
    return this.#poll.poll();
  }

  /** The last good poll (for a crewshipd snapshot); undefined before the first. */
  get last(): DepthCounts | undefined {
    return this.#last;
  }

  close(): void {
    this.#poll.close();
    this.#gauge.removeCallback(this.#callback);
    this.#age.removeCallback(this.#ageCallback);
  }
}

/** Depth rows as SQL gives them (`queue`, then a count per state, numbers or numeric strings). */
export function depthOfRows(rows: readonly Record<string, unknown>[]): DepthCounts {
  return new Map(
    rows.map((r) => [
      String(r['queue']),
      Object.fromEntries(DEPTH_STATES.map((s) => [s, Number(r[s])])),
    ]),
  );
}

/**
 * When each queue's oldest waiting job became ready, from SQL rows (`queue`, `ready`: a Date, its
 * text, or null when none waits); each of `queues` without a row has none waiting.
 */
export function oldestOfRows(
  rows: readonly Record<string, unknown>[],
  queues: Iterable<string> = [],
): OldestWaiting {
  const ready = new Map<string, Date | undefined>([...queues].map((q) => [q, undefined]));
  for (const r of rows)
    ready.set(String(r['queue']), r['ready'] == null ? undefined : new Date(r['ready'] as string));
  return ready;
}

/** crewshipd's queue aggregates from the last poll: waiting + delayed jobs, queues with any, the biggest. */
export function queueAggregates(
  counts: DepthCounts | undefined,
): { depth: number; groups: number; depthMax: number } | undefined {
  if (counts === undefined) return undefined;
  let depth = 0;
  let groups = 0;
  let depthMax = 0;
  for (const c of counts.values()) {
    const queued = (c.waiting ?? 0) + (c.delayed ?? 0);
    depth += queued;
    if (queued > 0) groups++;
    depthMax = Math.max(depthMax, queued);
  }
  return { depth, groups, depthMax };
}
