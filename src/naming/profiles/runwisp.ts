/**
 * The runwisp profile, one module of data: the naming table the engine reads (profile) and what the
 * docs say of it (doc); docs/profiles.md is generated from both.
 */
import type { TableProfile } from '../types.ts';
import type { ProfileDoc } from './profile-doc.ts';
import { asLabels, rule } from './rule.ts';

export const profile: TableProfile = {
  kind: 'table',
  name: 'runwisp',
  // The document: "kind is task or service".
  vocabularies: { kind: ['task', 'service'] },
  prefix: 'runwisp_',
  format: 'openmetrics',
  snapshot: { ttlMillis: 0 },
  rules: [
    rule('counter', 'jobmeter.run.history', 'runwisp_runs_total', {
      help: 'Total runs that reached a terminal status (success or failed) since the DB existed',
      labels: [['outcome', 'status']],
      // RunWisp's terminal statuses are success and failed: anything not a success failed.
      values: { outcome: { failure: 'failed', cancelled: 'failed', timeout: 'failed' } },
      zeroFill: { status: ['success', 'failed'] },
    }),
    rule('gauge', 'jobmeter.run.last_failure.time', 'runwisp_runs_last_failure_timestamp_seconds', {
      help: 'Unix time of the most recent failed run; omitted entirely when no failure recorded',
      unit: 'seconds',
    }),
    rule('gauge', 'jobmeter.run.active', 'runwisp_task_active_runs', {
      help: 'In-flight runs per task; kind is task or service',
      labels: asLabels('task', 'kind'),
    }),
    rule('gauge', 'system.cpu.utilization', 'runwisp_daemon_cpu_percent', {
      help: 'Host CPU usage as seen by the daemon (0\u2013100)',
      scale: 100,
    }),
    rule('gauge', 'system.memory.usage', 'runwisp_daemon_memory_used_bytes', {
      help: 'Host memory in use, in bytes',
      unit: 'bytes',
    }),
    rule('gauge', 'system.memory.limit', 'runwisp_daemon_memory_total_bytes', {
      help: 'Total host memory, in bytes',
      unit: 'bytes',
    }),
    rule('gauge', 'process.uptime', 'runwisp_daemon_uptime_seconds', {
      help: 'Seconds since the daemon started',
      unit: 'seconds',
    }),
    rule('gauge', 'jobmeter.build.info', 'runwisp_build_info', {
      help: "Always 1; the label carries the running daemon's version string",
      labels: asLabels('version'),
    }),
  ],
};

/** What docs/profiles.md says of the profile besides its table (scripts/gen-profile-docs.ts). */
export const doc: ProfileDoc = {
  original: 'RunWisp',
  about: [
    'RunWisp (`runwisp_`), from its metrics page: OpenMetrics 1.0 with `# EOF`, a deliberately small',
    'set. Nothing is cached: active runs and the last failure are fresh on every scrape.',
  ],
  promtool: [],
  openMetricsRecipe: ['runwisp_runs_total no help text'],
};
