/**
 * How a primary combines its members' series, per instrument: node:cluster's reading of the one
 * merge-rule table (domain/merge-rules.ts), which the ingest reads too, under the host's overrides.
 *
 * `sum` (the default): each process reports its share of the work. Counters and histograms are
 * summed over every member that ever reported, exited ones included (an exited member's last
 * totals stay in the aggregate, so a counter never goes backwards); up-down counters and gauges
 * are summed over the live members only (a dead worker has no runs in flight, no heap).
 * `max`: every process observes the same thing (the machine, the build, the host's database, a
 * moment): the largest value wins; for counters, the largest ever reported.
 */
import {
  CLUSTER_POLICY,
  MERGE_RULES,
  mergeRuleOf,
  type MergePolicy,
} from '../domain/merge-rules.ts';

export { MERGE_POLICIES, type MergePolicy } from '../domain/merge-rules.ts';

/** jobmeter's own instruments whose policy is not `sum`: the table's, as the cluster reads it. */
export const DEFAULT_MERGE_POLICIES: Readonly<Record<string, MergePolicy>> = Object.freeze(
  Object.fromEntries(
    Object.entries(MERGE_RULES).map(([name, rule]) => [name, CLUSTER_POLICY[rule]]),
  ),
);

/** The policy of each instrument name: the host's overrides, then jobmeter's table. */
export function mergePolicies(
  overrides: Readonly<Record<string, MergePolicy>> = {},
): (name: string) => MergePolicy {
  return (name) =>
    Object.hasOwn(overrides, name) ? overrides[name]! : CLUSTER_POLICY[mergeRuleOf(name)];
}
