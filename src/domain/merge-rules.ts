/**
 * How one instrument's series from several sources combine into one series: one table, data, read
 * by node:cluster (a primary's members, under the host's `cluster.merge`: {@link mergePolicies})
 * by the ingest (its senders' resources: ingest/series-registry.ts) and by the naming (series of
 * one served family that land on one label set), each through its reading below; a level's merge
 * itself is series/aggregation.ts `LEVEL`.
 *
 * A rule says what the instrument's figure is:
 * - `sum` (any instrument not listed): each process's share of the work. Counters and histograms
 *   add up in both. A level (gauge, up-down counter) adds up over the processes that run side by
 *   side (a cluster's live members). The ingest's senders of one series are one daemon's processes
 *   one after another (docs/collector.md "One jobmeter, one target"): a new `service.instance.id`
 *   is the daemon restarted, its old process dead but not yet expired, so there a level is the
 *   newest sender's -- added, it would count the dead process's runs, cpu and memory again.
 * - `max`: one figure every process observes now (the machine, the host's database, the job
 *   store, the service's age, the busiest event loop): the largest of a cluster's live members;
 *   in the ingest the newest sender's (an older sender's reading is stale, not larger).
 * - `latest`: a figure that only moves forward -- a Unix time, the highest version applied, an
 *   info's 1: the largest any source sent, in both. An older sender's is still true, never more
 *   than the newest figure sent, and two of them are never added (a time would read decades ahead).
 *
 * What must stay true: every name here is an instrument jobmeter declares (catalog.ts,
 * process-metrics.ts), and the rule is given by naming the declaration, never
 * by matching a name's shape.
 */
import { LEVEL, type LevelRule } from '../series/aggregation.ts';
import { BUILD_INFO, QUEUE_OLDEST_AGE, RUN_LAST_FAILURE, SNAPSHOT_INSTRUMENTS } from './catalog.ts';
import {
  EVENT_LOOP_DELAY,
  EVENT_LOOP_UTILIZATION,
  PROCESS_UPTIME,
  SYSTEM_CPU_UTILIZATION,
  SYSTEM_MEMORY_LIMIT,
  SYSTEM_MEMORY_USAGE,
} from './process-metrics.ts';
import type { InstrumentSpec } from './types.ts';

/** What a host may set per instrument for a cluster (`cluster.merge`). */
export const MERGE_POLICIES = ['sum', 'max'] as const;
export type MergePolicy = (typeof MERGE_POLICIES)[number];

/** What an instrument's figure is, for combining its sources (see the module's comment). */
export type MergeRule = MergePolicy | 'latest';

/** Each of `specs` with its rule. */
const rules = (
  specs: readonly InstrumentSpec[],
  of: (spec: InstrumentSpec) => MergeRule,
): [string, MergeRule][] => specs.map((spec) => [spec.name, of(spec)]);

/**
 * jobmeter's instruments whose rule is not `sum`: the host's snapshot (its database, read by
 * whichever processes set a snapshot source), the oldest waiting job's age (its job store), the
 * oldest process's uptime, the machine's CPU and memory, the busiest event loop (a delay or a
 * utilization summed over processes means nothing); the build and the last failure's time.
 */
export const MERGE_RULES: Readonly<Record<string, MergeRule>> = Object.freeze(
  Object.fromEntries([
    // Of the host's snapshot, what only moves forward: a backup's time, a version applied, an
    // always-1 status.
    ...rules(SNAPSHOT_INSTRUMENTS, (s) =>
      [
        'jobmeter.host.last_backup.time',
        'jobmeter.db.migration.version',
        'jobmeter.host.repo.status',
      ].includes(s.name)
        ? 'latest'
        : 'max',
    ),
    ...rules(
      [
        QUEUE_OLDEST_AGE,
        PROCESS_UPTIME,
        SYSTEM_CPU_UTILIZATION,
        SYSTEM_MEMORY_USAGE,
        SYSTEM_MEMORY_LIMIT,
        ...EVENT_LOOP_DELAY,
        EVENT_LOOP_UTILIZATION,
      ],
      () => 'max',
    ),
    ...rules([BUILD_INFO, RUN_LAST_FAILURE], () => 'latest'),
  ]),
);

/** The rule of the instrument named `name`: its entry, else `sum`. */
export function mergeRuleOf(name: string): MergeRule {
  return Object.hasOwn(MERGE_RULES, name) ? MERGE_RULES[name]! : 'sum';
}

/**
 * node:cluster's reading of a rule: the policy its primary combines members' series by. `sum`:
 * counters and histograms over every member that ever reported (an exited member's last totals
 * stay, so a counter never goes backwards), levels over the live members; `max`: the largest live
 * member's level, a counter's largest total ever reported.
 */
export const CLUSTER_POLICY: Readonly<Record<MergeRule, MergePolicy>> = Object.freeze({
  sum: 'sum',
  max: 'max',
  latest: 'max',
});

/** The cluster policy of each instrument name: the host's overrides, then the table's. */
export function mergePolicies(
  overrides: Readonly<Record<string, MergePolicy>> = {},
): (name: string) => MergePolicy {
  return (name) =>
    Object.hasOwn(overrides, name) ? overrides[name]! : CLUSTER_POLICY[mergeRuleOf(name)];
}

/**
 * The ingest's reading of a rule for a level (a gauge, an up-down sum): how an output series
 * combines its senders' streams. Counters and histograms add up whatever the rule (events of
 * several senders are all counted; a restart's carry rule depends on it).
 */
export const SENDER_LEVEL_RULE: Readonly<Record<MergeRule, LevelRule>> = Object.freeze({
  sum: 'last',
  max: 'last',
  latest: 'max',
});

/**
 * The naming's reading of a rule for a level: how two series of one served family that land on
 * one label set combine -- one instrument from several producers served without scope labels, or
 * a profile's table that drops the attribute telling them apart. Side by side, as a cluster's live
 * members: `sum` adds them, `max` and `latest` take the largest.
 */
export function namingLevelMerge(name: string): (previous: number, next: number) => number {
  return LEVEL[CLUSTER_POLICY[mergeRuleOf(name)]];
}
