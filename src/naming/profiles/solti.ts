/**
 * The solti profile, one module of data: the naming table the engine reads (profile) and what the
 * docs say of it (doc); docs/profiles.md is generated from both.
 */
import { DEFAULT_RUN_DURATION_BUCKETS } from '../../domain/catalog.ts';
import type { TableProfile } from '../types.ts';
import type { ProfileDoc } from './profile-doc.ts';
import { asLabels, rule } from './rule.ts';

/** solti spells it `canceled`; every other canonical outcome is its own word. */
const OUTCOME_WORDS = { cancelled: 'canceled' };

export const profile: TableProfile = {
  kind: 'table',
  name: 'solti',
  prefix: 'solti_runner_',
  format: 'text',
  // solti is a Rust program on the `prometheus` crate: label pairs by name, families by name,
  // series by label values.
  order: 'sorted',
  // RunnerType and RunnerErrorKind, the enums behind its labels.
  vocabularies: {
    runner: ['subprocess', 'wasm', 'container'],
    error: ['cgroup_prepare_failed', 'backend_config_failed', 'spawn_failed', 'module_load_failed'],
  },
  buckets: {
    // 0.01 ... 3600 s, exactly solti's list (also jobmeter's default).
    'jobmeter.run.duration': DEFAULT_RUN_DURATION_BUCKETS,
  },
  rules: [
    rule('counter', 'jobmeter.run.started', 'solti_runner_tasks_started_total', {
      help: 'Total number of tasks started',
      labels: asLabels('runner'),
    }),
    rule('counter', 'jobmeter.run.finished', 'solti_runner_tasks_completed_total', {
      help: 'Total number of tasks completed',
      labels: asLabels('outcome', 'runner'),
      values: { outcome: OUTCOME_WORDS },
    }),
    rule('histogram', 'jobmeter.run.duration', 'solti_runner_task_duration_seconds', {
      help: 'Task execution duration in seconds',
      unit: 'seconds',
      labels: asLabels('outcome', 'runner'),
      values: { outcome: OUTCOME_WORDS },
    }),
    rule('counter', 'jobmeter.runner.error', 'solti_runner_errors_total', {
      help: 'Total runner-level errors',
      labels: asLabels('error', 'runner'),
    }),
  ],
};

/** What docs/profiles.md says of the profile besides its table (scripts/gen-profile-docs.ts). */
export const doc: ProfileDoc = {
  original: 'solti task supervisor, runner backend',
  about: [
    'solti task supervisor, runner backend (`solti_runner_`), from its `backend.rs`: counters and a',
    'duration histogram from a shared registry, text 0.0.4. Written in the order of the Rust',
    '`prometheus` crate it uses: families by name, label pairs by name, series by label values.',
  ],
  promtool: [],
};
