/**
 * The rm profile, one module of data: the naming table the engine reads (profile) and what the
 * docs say of it (doc); docs/profiles.md is generated from both.
 */
import { ALERT_SEVERITIES } from '../../domain/catalog.ts';
import type { TableProfile } from '../types.ts';
import type { ProfileDoc } from './profile-doc.ts';
import { asLabels, rule } from './rule.ts';

const HOST_LABELS = [
  ['host.id', 'host_id'],
  ['host.name', 'host'],
] as const;

/** rm's job kinds; jobmeter's `kind` attribute carries them. */
export const RM_JOB_KINDS = [
  'backup',
  'forget',
  'prune',
  'check',
  'unlock',
  'restore',
  'diff',
  'init',
  'update',
] as const;

export const profile: TableProfile = {
  kind: 'table',
  name: 'rm',
  vocabularies: { kind: RM_JOB_KINDS },
  prefix: 'rm_',
  format: 'text',
  buckets: {
    // 1s 5s 30s 1m 5m 30m 1h 6h 24h (+Inf), rm's list.
    'jobmeter.run.duration': [1, 5, 30, 60, 300, 1800, 3600, 21600, 86400],
  },
  rules: [
    rule('gauge', 'jobmeter.fleet.hosts', 'rm_hosts_total', {
      help: 'Total number of enrolled hosts (excludes pending announces).',
      emitZero: true,
    }),
    rule('gauge', 'jobmeter.fleet.hosts.online', 'rm_hosts_online', {
      help: "Number of hosts with status='online'.",
      emitZero: true,
    }),
    rule('gauge', 'jobmeter.alert.open', 'rm_active_alerts', {
      help: 'Open alerts by severity.',
      labels: asLabels('severity'),
      zeroFill: { severity: [...ALERT_SEVERITIES] },
    }),
    rule('gauge', 'jobmeter.build.info', 'rm_build_info', {
      help: 'Always 1; pure label-bag for joining.',
      // go_version carries the runtime's version string (Node's, e.g. v24.21.0): same label, same join.
      labels: [
        ['version', 'version'],
        ['commit', 'commit'],
        ['runtime.version', 'go_version'],
      ],
    }),
    rule('gauge', 'jobmeter.host.agent.online', 'rm_host_agent_online', {
      help: '1 if the agent is currently online, 0 otherwise.',
      labels: HOST_LABELS,
    }),
    rule('gauge', 'jobmeter.host.last_backup.time', 'rm_host_last_backup_timestamp_seconds', {
      help: "Unix timestamp of the host's most recent backup. Omitted for hosts with no backup yet.",
      labels: HOST_LABELS,
      unit: 'seconds',
    }),
    rule('gauge', 'jobmeter.host.last_backup.success', 'rm_host_last_backup_success', {
      help: '1 if the most recent backup succeeded, 0 otherwise. Omitted for hosts with no backup yet.',
      labels: HOST_LABELS,
    }),
    rule('gauge', 'jobmeter.host.repo.size', 'rm_host_repo_size_bytes', {
      help: 'Latest reported repo size from restic stats --mode raw-data. Omitted when unknown.',
      labels: HOST_LABELS,
      unit: 'bytes',
    }),
    rule('gauge', 'jobmeter.host.snapshots', 'rm_host_snapshot_count', {
      help: "Number of restic snapshots known on the host's repo.",
      labels: HOST_LABELS,
    }),
    rule('gauge', 'jobmeter.host.alert.open', 'rm_host_open_alerts', {
      help: 'Number of currently open alerts attached to this host.',
      labels: HOST_LABELS,
    }),
    rule('gauge', 'jobmeter.host.repo.status', 'rm_host_repo_status', {
      help: 'Always 1; the status label carries unknown / ready / init_failed.',
      labels: [...HOST_LABELS, ['status', 'status']],
    }),
    rule('histogram', 'jobmeter.run.duration', 'rm_job_duration_seconds', {
      help: 'Duration of finished jobs by kind and terminal status.',
      unit: 'seconds',
      labels: [
        ['kind', 'kind'],
        ['outcome', 'status'],
      ],
      // rm has no timeout status: a job that timed out failed.
      values: {
        outcome: {
          success: 'succeeded',
          failure: 'failed',
          cancelled: 'cancelled',
          timeout: 'failed',
        },
      },
    }),
  ],
};

/** What docs/profiles.md says of the profile besides its table (scripts/gen-profile-docs.ts). */
export const doc: ProfileDoc = {
  original: 'restic-manager',
  about: [
    'restic-manager (`rm_`), from its docs/prometheus.md: server gauges, per-host gauges labelled',
    '`host_id` + `host`, and the job duration histogram. Text 0.0.4. No `job_id` label anywhere.',
  ],
  promtool: [
    {
      metric: 'rm_host_snapshot_count',
      problems: ['non-histogram and non-summary metrics should not have "_count" suffix'],
      why: "A per-host gauge (snapshots in the host's repo) that rm names `_count`.",
    },
    {
      metric: 'rm_hosts_total',
      problems: ['non-counter metrics should not have "_total" suffix'],
      why: 'A gauge (enrolled hosts) that rm names `_total`.',
    },
  ],
};
