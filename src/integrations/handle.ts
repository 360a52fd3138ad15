/**
 * What each integration's one call returns: a function that removes its listeners (and stops its
 * depth poll), which also gives the integration's figures as a crewshipd-shaped snapshot and reads
 * the depth on demand; and the one rule every integration keeps: one instrumentation per object and recorder.
 */
import { ConfigError } from '../errors.ts';
import type { Recorder } from '../domain/recorder.ts';
import type { HostSnapshot } from '../domain/snapshot.ts';
import type { OldestWaiting } from '../domain/recorder.ts';
import type { JobRuns } from './job-runs.ts';
import { QueueDepthPoll, queueAggregates, type DepthCounts } from './queue-depth.ts';

/**
 * What an integration returns: call it to remove the instrumentation; it also reads the queue
 * depth now and gives the snapshot fields a profile serves from its snapshot.
 * @example
 *   const stop = instrumentWorker(worker, { jobmeter: jm });
 *   stop();
 */
export interface Instrumentation {
  /** Removes the listeners and stops the depth poll; runs still open end as `cancelled`. Idempotent. */
  (): void;
  /**
   * Run events since start (`agentRunEvents`) and the queue aggregates of the last good depth poll
   * (`queue`), for a host whose profile serves them from its snapshot (crewshipd):
   * `jm.setSnapshotSource(() => stop.snapshot())`.
   */
  snapshot(): HostSnapshot;
  /** Reads the queue depth now (it is read once per interval anyway); resolves when the read settles. */
  pollDepth(): Promise<void>;
  /** Depth reads sent to the store so far (each is one round trip per queue). */
  readonly depthPolls: number;
}

/** Per recorder, the library objects (a worker, a boss, a task, a runner's events) instrumented into it now. */
const INSTRUMENTED = new WeakMap<Recorder, WeakSet<object>>();

/**
 * One instrumentation per library object and recorder: a second into the same recorder would add
 * a second set of listeners (or wrappers) and record every run twice, so it throws, naming the
 * object, until the first call's function has removed the first. (One object into two recorders —
 * two jobmeters serving two profiles — records each run once in each.) Called before the
 * integration touches the object; {@link instrumentation} marks it once the call has succeeded.
 * @throws ConfigError naming the object (`what`: e.g. `Worker "emails"`).
 */
export function refuseSecond(call: string, target: object, recorder: Recorder, what: string): void {
  if (!INSTRUMENTED.get(recorder)?.has(target)) return;
  throw new ConfigError(
    `${call}(…)`,
    what,
    `one instrumentation per object and recorder, and ${what} has one into this recorder from an earlier ${call}: keep the function that call returned (calling it removes that instrumentation; then ${call} may be called again)`,
  );
}

/**
 * Adds `listeners` to `emitter` (a library's event emitter: `on` and `off` by event name); returns
 * what takes them off.
 */
export function listen(
  emitter: object,
  listeners: Readonly<Record<string, (...args: never[]) => unknown>>,
): () => void {
  const e = emitter as Record<'on' | 'off', (event: string, f: unknown) => void>;
  for (const [event, f] of Object.entries(listeners)) e.on(event, f);
  return () => {
    for (const [event, f] of Object.entries(listeners)) e.off(event, f);
  };
}

/** The reads of the job store an integration makes once per depth interval (none: it reads none). */
export interface StoreReads {
  /** Queue depth by state (queue-depth.ts). */
  readonly depth?: () => Promise<DepthCounts>;
  /** When each queue's oldest waiting job became ready (the domain's queue source). */
  readonly oldest?: () => Promise<OldestWaiting>;
}

/**
 * The function an integration returns for `target`, now instrumented into `runs`' recorder
 * ({@link refuseSecond}), reading the store as `reads` say, at the options' interval (none with
 * `depthIntervalMillis: false`); `remove` takes its listeners off.
 */
export function instrumentation(
  target: object,
  remove: () => void,
  runs: JobRuns,
  reads: StoreReads = {},
): Instrumentation {
  const opts = runs.options;
  // checkOptions made sure of a meter unless depthIntervalMillis is false.
  const interval = opts.depthIntervalMillis;
  const depth =
    reads.depth && interval !== false && opts.meter !== undefined
      ? new QueueDepthPoll(opts.meter, reads.depth, interval)
      : undefined;
  const stopOldest =
    reads.oldest &&
    interval !== false &&
    opts.recorder.addQueueSource(reads.oldest, { intervalMillis: interval });
  let objects = INSTRUMENTED.get(opts.recorder);
  if (objects === undefined) INSTRUMENTED.set(opts.recorder, (objects = new WeakSet()));
  objects.add(target);
  let removed = false;
  const stop = (() => {
    if (removed) return;
    removed = true;
    objects.delete(target);
    if (stopOldest) stopOldest();
    remove();
    depth?.close();
    runs.close();
  }) as Instrumentation;
  const queue = (): HostSnapshot['queue'] => queueAggregates(depth?.last);
  Object.defineProperties(stop, {
    snapshot: {
      value: (): HostSnapshot => ({
        agentRunEvents: runs.events(),
        ...(queue() !== undefined && { queue: queue() }),
      }),
    },
    pollDepth: { value: () => depth?.poll() ?? Promise.resolve() },
    depthPolls: { get: () => depth?.polls ?? 0 },
  });
  return stop;
}
