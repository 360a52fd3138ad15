/**
 * node:cluster's merge policies: its reading of the one merge-rule table, under the host's
 * overrides (`cluster.merge`). The table, both its readings and what each policy does are
 * domain/merge-rules.ts.
 */
export {
  DEFAULT_MERGE_POLICIES,
  MERGE_POLICIES,
  mergePolicies,
  type MergePolicy,
} from '../domain/merge-rules.ts';
