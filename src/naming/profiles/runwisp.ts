/**
 * The runwisp profile, one module of data: the naming table the engine reads (runwispProfile) and
 * what the docs say of it (runwispDoc); docs/profiles.md is generated from both.
 */
import type { TableProfile } from '../types.ts';
import type { ProfileDoc } from './profile-doc.ts';

export const runwispProfile: TableProfile = {
  kind: 'table',
  name: 'runwisp',
  // The document: "kind is task or service".
  vocabularies: { kind: ['task', 'service'] },
  prefix: 'runwisp_',
  format: 'openmetrics',
  snapshot: { ttlMillis: 0 },
  rules: [
    {
      instrument: 'jobmeter.run.history',
      name: 'runwisp_runs_total',
      type: 'counter',
      help: 'Total runs that reached a terminal status (success or failed) since the DB existed',
      labels: [['outcome', 'status']],
      // RunWisp's terminal statuses are success and failed: anything not a success failed.
      values: { outcome: { failure: 'failed', cancelled: 'failed', timeout: 'failed' } },
      zeroFill: { status: ['success', 'failed'] },
    },
    {
      instrument: 'jobmeter.run.last_failure.time',
      name: 'runwisp_runs_last_failure_timestamp_seconds',
      type: 'gauge',
      help: 'Unix time of the most recent failed run; omitted entirely when no failure recorded',
      unit: 'seconds',
    },
    {
      instrument: 'jobmeter.run.active',
      name: 'runwisp_task_active_runs',
      type: 'gauge',
      help: 'In-flight runs per task; kind is task or service',
      labels: [
        ['task', 'task'],
        ['kind', 'kind'],
      ],
    },
    {
      instrument: 'system.cpu.utilization',
      name: 'runwisp_daemon_cpu_percent',
      type: 'gauge',
      help: 'Host CPU usage as seen by the daemon (0\u2013100)',
      scale: 100,
    },
    {
      instrument: 'system.memory.usage',
      name: 'runwisp_daemon_memory_used_bytes',
      type: 'gauge',
      help: 'Host memory in use, in bytes',
      unit: 'bytes',
    },
    {
      instrument: 'system.memory.limit',
      name: 'runwisp_daemon_memory_total_bytes',
      type: 'gauge',
      help: 'Total host memory, in bytes',
      unit: 'bytes',
    },
    {
      instrument: 'process.uptime',
      name: 'runwisp_daemon_uptime_seconds',
      type: 'gauge',
      help: 'Seconds since the daemon started',
      unit: 'seconds',
    },
    {
      instrument: 'jobmeter.build.info',
      name: 'runwisp_build_info',
      type: 'gauge',
      help: "Always 1; the label carries the running daemon's version string",
      labels: [['version', 'version']],
    },
  ],
};

/** What docs/profiles.md says of the profile besides its table (scripts/gen-profile-docs.ts). */
export const runwispDoc: ProfileDoc = {
  original: 'RunWisp',
  about: [
    'RunWisp (`runwisp_`), from its metrics page: OpenMetrics 1.0 with `# EOF`, a deliberately small',
    'set. Nothing is cached: active runs and the last failure are fresh on every scrape.',
  ],
  promtool: [],
  openMetricsRecipe: ['runwisp_runs_total no help text'],
};
