/**
 * How the series of several processes combine into one, per instrument: data, not code.
 *
 * `sum` (the default): each process reports its share of the work. Counters and histograms are
 * summed over every member that ever reported, exited ones included (an exited member's last
 * totals stay in the aggregate, so a counter never goes backwards); up-down counters and gauges
 * are summed over the live members only (a dead worker has no runs in flight, no heap).
 * `max`: every process observes the same thing (the machine, the build, the host's database, a
 * moment): the largest value wins; for counters, the largest ever reported.
 */
import { QUEUE_OLDEST_AGE, SNAPSHOT_INSTRUMENTS } from '../domain/catalog.ts';
import { EVENT_LOOP_DELAY, EVENT_LOOP_UTILIZATION } from '../domain/runtime-metrics.ts';

export const MERGE_POLICIES = ['sum', 'max'] as const;
export type MergePolicy = (typeof MERGE_POLICIES)[number];

/**
 * jobmeter's own instruments that are not a process's share: the host's snapshot (its database,
 * read by whichever processes set a snapshot source), the oldest waiting job's age (its job
 * store, read by whichever processes added a queue source), the build, the last failure's time, the
 * oldest process's uptime, the machine's CPU and memory, and the busiest event loop (a delay or a
 * utilization summed over processes means nothing).
 */
export const DEFAULT_MERGE_POLICIES: Readonly<Record<string, MergePolicy>> = Object.freeze({
  ...Object.fromEntries(SNAPSHOT_INSTRUMENTS.map((s) => [s.name, 'max' as const])),
  [QUEUE_OLDEST_AGE.name]: 'max',
  'jobmeter.build.info': 'max',
  'jobmeter.run.last_failure.time': 'max',
  'process.uptime': 'max',
  'system.cpu.utilization': 'max',
  'system.memory.usage': 'max',
  'system.memory.limit': 'max',
  ...Object.fromEntries(
    [...EVENT_LOOP_DELAY, EVENT_LOOP_UTILIZATION].map((s) => [s.name, 'max' as const]),
  ),
});

/** The policy of each instrument name: the host's overrides, then jobmeter's defaults, then `sum`. */
export function mergePolicies(
  overrides: Readonly<Record<string, MergePolicy>> = {},
): (name: string) => MergePolicy {
  return (name) => overrides[name] ?? DEFAULT_MERGE_POLICIES[name] ?? 'sum';
}
