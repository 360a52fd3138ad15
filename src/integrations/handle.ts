/**
 * What each integration's one call returns: a function that removes its listeners (and stops its
 * depth poll), which also gives the integration's figures as a crewshipd-shaped snapshot and reads
 * the depth on demand.
 */
import type { HostSnapshot } from '../domain/snapshot.ts';
import type { JobRuns } from './job-runs.ts';
import { queueAggregates, type QueueDepthPoll } from './queue-depth.ts';

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

export function instrumentation(remove: () => void, runs: JobRuns, depth: QueueDepthPoll | undefined): Instrumentation {
  let removed = false;
  const stop = (() => {
    if (removed) return;
    removed = true;
    remove();
    depth?.close();
    runs.close();
  }) as Instrumentation;
  const queue = (): HostSnapshot['queue'] => queueAggregates(depth?.last);
  Object.defineProperties(stop, {
    snapshot: { value: (): HostSnapshot => ({ agentRunEvents: runs.events(), ...(queue() !== undefined && { queue: queue() }) }) },
    pollDepth: { value: () => depth?.poll() ?? Promise.resolve() },
    depthPolls: { get: () => depth?.polls ?? 0 },
  });
  return stop;
}
