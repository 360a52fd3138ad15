/**
 * One declarative panel list per profile: the only place a dashboard query is written.
 * `node scripts/dashboards/generate.ts` turns these into dashboards/<profile>.json and
 * docs/profiles/<profile>.md; test/dashboards/ runs every query against a real Prometheus.
 *
 * Conventions:
 * - `$sel` is the dashboard's label matchers (see spec.ts); every selector carries it, so the
 *   Job / Instance pickers filter every panel.
 * - Rates use `$__rate_interval` (Grafana: max($__interval + scrape interval, 4 × scrape
 *   interval)), except where the original's own document fixes a window (rm's p95 over 1h, the
 *   crewshipd spend over 1h).
 * - A ratio panel's threshold is the matching alert's threshold in rules/<profile>.rules.yml.
 */
import type { ProfileName } from '../../src/options.ts';
import type { DashboardSpec, PanelSpec, VariableSpec } from './spec.ts';

const jobVar = (anchor: string): VariableSpec => ({
  name: 'job',
  label: 'Job',
  query: `label_values(${anchor}, job)`,
});
const instanceVar = (anchor: string): VariableSpec => ({
  name: 'instance',
  label: 'Instance',
  query: `label_values(${anchor}{job=~"$job"}, instance)`,
});

/**
 * The otel and semconv pickers' family: on every pull endpoint and push of those profiles (each
 * reason at 0 from start) and never on serve's [telemetry] listener, which serves
 * jobmeter_build_info too (so a picker on that would list serve's own telemetry target).
 */
const JOBMETER_ANCHOR = 'jobmeter_records_dropped_total';

// ---------------------------------------------------------------------------------------------

const runwisp: DashboardSpec = {
  profile: 'runwisp',
  title: 'RunWisp (jobmeter)',
  description:
    'RunWisp task/service runner: did anything fail, how often runs fail, what is running now, and whether the daemon itself is healthy.',
  variables: [jobVar('runwisp_build_info'), instanceVar('runwisp_build_info')],
  panels: [
    {
      title: 'Time since last failed run',
      description:
        'Age of runwisp_runs_last_failure_timestamp_seconds. Under 10 minutes is what the RunwispRunFailedRecently alert fires on. No value: no run has ever failed.',
      kind: 'stat',
      unit: 's',
      w: 6,
      threshold: 600,
      main: true,
      targets: [
        {
          expr: 'time() - max by (job, instance) (runwisp_runs_last_failure_timestamp_seconds{$sel})',
          legend: '{{job}} {{instance}}',
        },
      ],
    },
    {
      title: 'Failed runs in range',
      description:
        'Runs that ended failed during the dashboard time range (runwisp counts cancelled and timed-out runs as failed).',
      kind: 'stat',
      unit: 'short',
      w: 6,
      targets: [{ expr: 'sum(increase(runwisp_runs_total{status="failed", $sel}[$__range]))' }],
    },
    {
      title: 'Run failure ratio',
      description:
        'Share of finished runs that failed. Above 20 % for 10 minutes fires RunwispRunFailureRatioHigh.',
      kind: 'timeseries',
      unit: 'percentunit',
      w: 12,
      min: 0,
      max: 1,
      threshold: 0.2,
      main: true,
      targets: [
        {
          expr: 'sum by (job, instance) (rate(runwisp_runs_total{status="failed", $sel}[$__rate_interval]))\n/\nsum by (job, instance) (rate(runwisp_runs_total{$sel}[$__rate_interval]))',
          legend: '{{job}} {{instance}}',
        },
      ],
    },
    {
      title: 'Runs finished by status',
      description: 'Terminal runs per second by status (success | failed).',
      kind: 'timeseries',
      unit: 'ops',
      main: true,
      targets: [
        {
          expr: 'sum by (status) (rate(runwisp_runs_total{$sel}[$__rate_interval]))',
          legend: '{{status}}',
        },
      ],
    },
    {
      title: 'Active runs by task',
      description:
        'In-flight runs per task; kind is task or service. A task that never drops to 0 may be stuck (RunwispTaskRunLongRunning).',
      kind: 'timeseries',
      unit: 'short',
      min: 0,
      main: true,
      targets: [
        {
          expr: 'sum by (task, kind) (runwisp_task_active_runs{$sel})',
          legend: '{{task}} ({{kind}})',
        },
      ],
    },
    {
      title: 'Host CPU',
      description: 'Host CPU usage as seen by the daemon.',
      kind: 'timeseries',
      unit: 'percent',
      w: 8,
      min: 0,
      max: 100,
      targets: [{ expr: 'runwisp_daemon_cpu_percent{$sel}', legend: '{{job}} {{instance}}' }],
    },
    {
      title: 'Host memory',
      description: 'Host memory in use against the total.',
      kind: 'timeseries',
      unit: 'bytes',
      w: 8,
      min: 0,
      targets: [
        { expr: 'runwisp_daemon_memory_used_bytes{$sel}', legend: 'used {{job}} {{instance}}' },
        { expr: 'runwisp_daemon_memory_total_bytes{$sel}', legend: 'total {{job}} {{instance}}' },
      ],
    },
    {
      title: 'Daemon uptime and version',
      description:
        'Seconds since the daemon started, per instance and version (runwisp_build_info). A drop is a restart.',
      kind: 'stat',
      unit: 's',
      w: 8,
      targets: [
        {
          expr: 'runwisp_daemon_uptime_seconds{$sel} * on (job, instance) group_left (version) runwisp_build_info{$sel}',
          legend: '{{job}} {{instance}} {{version}}',
        },
      ],
    },
  ],
};

// ---------------------------------------------------------------------------------------------

const wasmrun: DashboardSpec = {
  profile: 'wasmrun',
  title: 'wasmrun agent server (jobmeter)',
  description:
    'wasmrun agent server: is it healthy (error ratio, average duration), how busy (in-flight executions, sessions) and what it turns away (rejections by reason).',
  variables: [jobVar('wasmrun_agent_exec_total'), instanceVar('wasmrun_agent_exec_total')],
  panels: [
    {
      title: 'Execution error ratio',
      description:
        'Executions ending in error or timeout, as a share of all. Above 20 % for 10 minutes fires WasmrunExecErrorRatioHigh.',
      kind: 'timeseries',
      unit: 'percentunit',
      min: 0,
      max: 1,
      threshold: 0.2,
      main: true,
      targets: [
        {
          expr: 'sum by (job, instance) (rate(wasmrun_agent_exec_total{result=~"error|timeout", $sel}[$__rate_interval]))\n/\nsum by (job, instance) (rate(wasmrun_agent_exec_total{$sel}[$__rate_interval]))',
          legend: '{{job}} {{instance}}',
        },
      ],
    },
    {
      title: 'Executions by result',
      description:
        'Executions per second by terminal result: success, error (failed to run), timeout.',
      kind: 'timeseries',
      unit: 'ops',
      main: true,
      targets: [
        {
          expr: 'sum by (result) (rate(wasmrun_agent_exec_total{$sel}[$__rate_interval]))',
          legend: '{{result}}',
        },
      ],
    },
    {
      title: 'Average execution duration',
      description:
        'exec_duration_ms_sum / exec_duration_ms_count over the rate window, as wasmrun documents it. wasmrun keeps no histogram, so there is no p95 to show.',
      kind: 'timeseries',
      unit: 'ms',
      min: 0,
      main: true,
      targets: [
        {
          expr: 'sum by (job, instance) (rate(wasmrun_agent_exec_duration_ms_sum{$sel}[$__rate_interval]))\n/\nsum by (job, instance) (rate(wasmrun_agent_exec_duration_ms_count{$sel}[$__rate_interval]))',
          legend: '{{job}} {{instance}}',
        },
      ],
    },
    {
      title: 'Rejected requests by reason',
      description:
        'Requests turned away before doing work: concurrency (429: all exec workers busy), payload (413), unauthorized (401, also counted for scrapes with a bad key).',
      kind: 'timeseries',
      unit: 'reqps',
      main: true,
      targets: [
        {
          expr: 'sum by (reason) (rate(wasmrun_agent_exec_rejected_total{$sel}[$__rate_interval]))',
          legend: '{{reason}}',
        },
      ],
    },
    {
      title: 'Executions in flight',
      description: 'Exec workers currently running.',
      kind: 'timeseries',
      unit: 'short',
      w: 8,
      min: 0,
      targets: [
        {
          expr: 'sum by (job, instance) (wasmrun_agent_exec_in_flight{$sel})',
          legend: '{{job}} {{instance}}',
        },
      ],
    },
    {
      title: 'Sessions',
      description:
        'Active sessions and sessions tracked (including expired ones not cleaned yet). A lasting gap means the cleaner is behind (WasmrunExpiredSessionsNotCleaned).',
      kind: 'timeseries',
      unit: 'short',
      w: 8,
      min: 0,
      targets: [
        {
          expr: 'sum by (job, instance) (wasmrun_agent_sessions_active{$sel})',
          legend: 'active {{job}} {{instance}}',
        },
        {
          expr: 'sum by (job, instance) (wasmrun_agent_sessions_total{$sel})',
          legend: 'tracked {{job}} {{instance}}',
        },
      ],
    },
    {
      title: 'Session disk footprint',
      description: 'Total on-disk footprint across active sessions.',
      kind: 'timeseries',
      unit: 'bytes',
      w: 8,
      min: 0,
      targets: [
        {
          expr: 'sum by (job, instance) (wasmrun_agent_sessions_disk_bytes{$sel})',
          legend: '{{job}} {{instance}}',
        },
      ],
    },
    {
      title: 'Sessions created and output truncated',
      description:
        'Sessions created per second, and executions per second whose output hit the --max-output cap.',
      kind: 'timeseries',
      unit: 'ops',
      w: 24,
      targets: [
        {
          expr: 'sum(rate(wasmrun_agent_sessions_created_total{$sel}[$__rate_interval]))',
          legend: 'sessions created',
        },
        {
          expr: 'sum(rate(wasmrun_agent_output_truncated_total{$sel}[$__rate_interval]))',
          legend: 'output truncated',
        },
      ],
    },
  ],
};

// ---------------------------------------------------------------------------------------------

const crewshipd: DashboardSpec = {
  profile: 'crewshipd',
  title: 'crewshipd (jobmeter)',
  description:
    'crewshipd agent crew orchestrator: agent run failure rate, the assignment queue (total backlog, spread across crews, and the wedged-crew case), LLM spend, containers and schema skew.',
  variables: [
    jobVar('crewshipd_uptime_seconds'),
    instanceVar('crewshipd_uptime_seconds'),
    {
      name: 'hostname',
      label: 'Host',
      query: 'label_values(crewshipd_uptime_seconds{job=~"$job", instance=~"$instance"}, hostname)',
    },
  ],
  panels: [
    {
      title: 'Agent run failure rate',
      description:
        "Failed agent runs per started run, the crewshipd document's recipe. Above 0.2 fires CrewshipdAgentRunFailureRateHigh (which uses a 10 m window).",
      kind: 'timeseries',
      unit: 'percentunit',
      min: 0,
      threshold: 0.2,
      main: true,
      targets: [
        {
          expr: 'sum by (hostname) (rate(crewshipd_agent_run_events_total{event="failed", $sel}[$__rate_interval]))\n/\nsum by (hostname) (rate(crewshipd_agent_run_events_total{event="started", $sel}[$__rate_interval]))',
          legend: '{{hostname}}',
        },
      ],
    },
    {
      title: 'Agent run events',
      description:
        'Agent run lifecycle events per second from the journal. Retention pruning shows as a counter reset, which rate() handles.',
      kind: 'timeseries',
      unit: 'ops',
      targets: [
        {
          expr: 'sum by (event) (rate(crewshipd_agent_run_events_total{$sel}[$__rate_interval]))',
          legend: '{{event}}',
        },
      ],
    },
    {
      title: 'Assignment queue',
      description:
        'QUEUED assignments in total, crews with something queued, and the most backlogged crew. Total growing: CrewshipdQueueBacklogGrowing; depth_max climbing while the rest is flat: CrewshipdCrewWedged.',
      kind: 'timeseries',
      unit: 'short',
      min: 0,
      main: true,
      targets: [
        {
          expr: 'sum by (hostname) (crewshipd_assignment_queue_depth{$sel})',
          legend: 'queued {{hostname}}',
        },
        {
          expr: 'sum by (hostname) (crewshipd_assignment_queue_crews{$sel})',
          legend: 'crews with a backlog {{hostname}}',
        },
        {
          expr: 'sum by (hostname) (crewshipd_assignment_queue_depth_max{$sel})',
          legend: 'most backlogged crew {{hostname}}',
        },
      ],
    },
    {
      title: 'Wedged crew: backlog outside the biggest crew',
      description:
        'depth − depth_max: what the other crews have queued. A wedged crew shows depth_max climbing while this stays flat or falls (the other crews keep draining).',
      kind: 'timeseries',
      unit: 'short',
      targets: [
        {
          expr: 'sum by (hostname) (crewshipd_assignment_queue_depth_max{$sel})',
          legend: 'biggest crew {{hostname}}',
        },
        {
          expr: 'sum by (hostname) (crewshipd_assignment_queue_depth{$sel}) - sum by (hostname) (crewshipd_assignment_queue_depth_max{$sel})',
          legend: 'all other crews {{hostname}}',
        },
      ],
    },
    {
      title: 'LLM spend rate',
      description:
        'USD per hour by provider (rate × 3600). The provider label is capped: overflow is provider="other".',
      kind: 'timeseries',
      unit: 'currencyUSD',
      min: 0,
      main: true,
      emptyFor: ['app'],
      targets: [
        {
          expr: 'sum by (provider) (rate(crewshipd_llm_cost_usd_total{$sel}[$__rate_interval])) * 3600',
          legend: '{{provider}}',
        },
      ],
    },
    {
      title: 'LLM spend, last hour',
      description:
        "sum(increase(crewshipd_llm_cost_usd_total[1h])), the document's spend-rate alert. Above $5 fires CrewshipdLLMSpendHigh.",
      kind: 'stat',
      unit: 'currencyUSD',
      w: 6,
      threshold: 5,
      emptyFor: ['app'],
      targets: [{ expr: 'sum(increase(crewshipd_llm_cost_usd_total{$sel}[1h]))' }],
    },
    {
      title: 'LLM calls by provider',
      description: 'LLM invocations per second recorded in the paymaster ledger.',
      kind: 'timeseries',
      unit: 'ops',
      w: 18,
      emptyFor: ['app'],
      targets: [
        {
          expr: 'sum by (provider) (rate(crewshipd_llm_calls_total{$sel}[$__rate_interval]))',
          legend: '{{provider}}',
        },
      ],
    },
    {
      title: 'Assignments by status',
      description:
        'Assignments currently in each status (zero-filled; unknown statuses fold into other).',
      kind: 'timeseries',
      unit: 'short',
      min: 0,
      targets: [{ expr: 'sum by (status) (crewshipd_assignments{$sel})', legend: '{{status}}' }],
    },
    {
      title: 'Pipeline runs by status',
      description: 'Pipeline runs by status (zero-filled).',
      kind: 'timeseries',
      unit: 'short',
      min: 0,
      targets: [{ expr: 'sum by (status) (crewshipd_pipeline_runs{$sel})', legend: '{{status}}' }],
    },
    {
      title: 'Containers not reporting stats',
      description:
        'tracked − reporting: above 0 for more than a couple of poll intervals means a container is not answering stats (CrewshipdContainersNotReporting).',
      kind: 'timeseries',
      unit: 'short',
      w: 8,
      min: 0,
      targets: [
        {
          expr: 'sum by (hostname) (crewshipd_containers_tracked{$sel})',
          legend: 'tracked {{hostname}}',
        },
        {
          expr: 'sum by (hostname) (crewshipd_containers_tracked{$sel}) - sum by (hostname) (crewshipd_containers_reporting{$sel})',
          legend: 'not reporting {{hostname}}',
        },
      ],
    },
    {
      title: 'Schema migration version',
      description:
        "Highest applied migration per host. Hosts behind the fleet's highest fire CrewshipdSchemaVersionSkew.",
      kind: 'table',
      unit: 'none',
      w: 8,
      targets: [
        {
          expr: 'max by (hostname) (crewshipd_db_migration_version{$sel})',
          column: { name: 'migration', unit: 'none' },
        },
      ],
    },
    {
      title: 'Process',
      description:
        "Heap in use and resident memory (Node's figures under the Go names), WebSocket connections and active handles (crewshipd_goroutines).",
      kind: 'timeseries',
      unit: 'bytes',
      w: 8,
      min: 0,
      targets: [
        {
          expr: 'sum by (hostname) (crewshipd_memory_alloc_bytes{$sel})',
          legend: 'heap {{hostname}}',
        },
        {
          expr: 'sum by (hostname) (crewshipd_memory_sys_bytes{$sel})',
          legend: 'resident {{hostname}}',
        },
      ],
    },
    {
      title: 'Connections, handles and GC',
      description: 'WebSocket connections, active handles (goroutines), and GC runs per second.',
      kind: 'timeseries',
      unit: 'short',
      w: 24,
      targets: [
        {
          expr: 'sum by (hostname) (crewshipd_ws_connections{$sel})',
          legend: 'websocket {{hostname}}',
        },
        { expr: 'sum by (hostname) (crewshipd_goroutines{$sel})', legend: 'handles {{hostname}}' },
        {
          expr: 'sum by (hostname) (rate(crewshipd_gc_runs_total{$sel}[$__rate_interval]))',
          legend: 'GC/s {{hostname}}',
        },
      ],
    },
  ],
};

// ---------------------------------------------------------------------------------------------

/** The six panels restic-manager's docs/prometheus.md lists, in its order. */
const rm: DashboardSpec = {
  profile: 'rm',
  title: 'restic-manager (jobmeter)',
  description:
    'restic-manager fleet: the six panels of its own sample dashboard (fleet status, open alerts by severity, hosts table, repo size over time, backups failing, job duration p95 by kind).',
  variables: [jobVar('rm_hosts_total'), instanceVar('rm_hosts_total')],
  panels: [
    {
      title: 'Fleet status',
      description: 'Hosts online out of enrolled hosts (pending announces excluded).',
      kind: 'stat',
      unit: 'short',
      w: 6,
      main: true,
      targets: [
        { expr: 'sum(rm_hosts_online{$sel})', legend: 'online' },
        { expr: 'sum(rm_hosts_total{$sel})', legend: 'total' },
      ],
    },
    {
      title: 'Open alerts',
      description: "Open alerts by severity, as restic-manager's own alerting holds them.",
      kind: 'stat',
      unit: 'short',
      w: 6,
      main: true,
      targets: [{ expr: 'sum by (severity) (rm_active_alerts{$sel})', legend: '{{severity}}' }],
    },
    {
      title: 'Backups failing',
      description:
        'Hosts whose most recent backup did not succeed (hosts with no backup yet are not counted: see RmHostNeverBackedUp).',
      kind: 'stat',
      unit: 'short',
      w: 6,
      threshold: 1,
      main: true,
      targets: [{ expr: 'count(rm_host_last_backup_success{$sel} == 0) or vector(0)' }],
    },
    {
      title: 'Hosts',
      description:
        'One row per host: agent online, last backup (time and result), repo size, snapshots and open alerts. Empty cells: the host has no backup yet / unknown size.',
      kind: 'table',
      unit: 'short',
      w: 24,
      h: 9,
      main: true,
      emptyFor: ['app'],
      targets: [
        {
          expr: 'max by (host, host_id) (rm_host_agent_online{$sel})',
          column: { name: 'online', unit: 'bool_yes_no' },
        },
        {
          expr: 'max by (host, host_id) (rm_host_last_backup_timestamp_seconds{$sel}) * 1000',
          column: { name: 'last backup', unit: 'dateTimeFromNow' },
        },
        {
          expr: 'max by (host, host_id) (rm_host_last_backup_success{$sel})',
          column: { name: 'last backup ok', unit: 'bool_yes_no' },
        },
        {
          expr: 'max by (host, host_id) (rm_host_repo_size_bytes{$sel})',
          column: { name: 'repo size', unit: 'bytes' },
        },
        {
          expr: 'max by (host, host_id) (rm_host_snapshot_count{$sel})',
          column: { name: 'snapshots', unit: 'short' },
        },
        {
          expr: 'max by (host, host_id) (rm_host_open_alerts{$sel})',
          column: { name: 'open alerts', unit: 'short' },
        },
      ],
    },
    {
      title: 'Repo size over time',
      description: 'Latest reported repo size (restic stats --mode raw-data), one line per host.',
      kind: 'timeseries',
      unit: 'bytes',
      min: 0,
      main: true,
      emptyFor: ['app'],
      targets: [{ expr: 'max by (host) (rm_host_repo_size_bytes{$sel})', legend: '{{host}}' }],
    },
    {
      title: 'Job duration p95 by kind',
      description:
        "histogram_quantile(0.95, …) over a 1h window per kind, as restic-manager's dashboard draws it.",
      kind: 'timeseries',
      unit: 's',
      min: 0,
      main: true,
      // The example app's runs are of kind task or service, outside rm's nine job kinds, so the rm
      // profile drops them (a closed vocabulary stays closed): only the demo feeds this panel.
      emptyFor: ['app'],
      targets: [
        {
          expr: 'histogram_quantile(0.95, sum by (le, kind) (rate(rm_job_duration_seconds_bucket{$sel}[1h])))',
          legend: '{{kind}}',
          exemplar: true,
        },
      ],
    },
  ],
};

// ---------------------------------------------------------------------------------------------

const solti: DashboardSpec = {
  profile: 'solti',
  title: 'solti runners (jobmeter)',
  description:
    'solti task supervisor runner backend: task failure ratio and outcomes per runner, tasks in flight, p95 duration, and runner-level (setup/teardown) errors.',
  variables: [
    jobVar('solti_runner_tasks_started_total'),
    instanceVar('solti_runner_tasks_started_total'),
  ],
  panels: [
    {
      title: 'Task failure ratio by runner',
      description:
        'Tasks ending in failure or timeout as a share of completed tasks. Above 20 % for 10 minutes fires SoltiTaskFailureRatioHigh.',
      kind: 'timeseries',
      unit: 'percentunit',
      min: 0,
      max: 1,
      threshold: 0.2,
      main: true,
      targets: [
        {
          expr: 'sum by (runner) (rate(solti_runner_tasks_completed_total{outcome=~"failure|timeout", $sel}[$__rate_interval]))\n/\nsum by (runner) (rate(solti_runner_tasks_completed_total{$sel}[$__rate_interval]))',
          legend: '{{runner}}',
        },
      ],
    },
    {
      title: 'Tasks completed by outcome',
      description: 'Completions per second by outcome (success, failure, canceled, timeout).',
      kind: 'timeseries',
      unit: 'ops',
      main: true,
      targets: [
        {
          expr: 'sum by (outcome) (rate(solti_runner_tasks_completed_total{$sel}[$__rate_interval]))',
          legend: '{{outcome}}',
        },
      ],
    },
    {
      title: 'Task duration p95 by runner',
      description: "Per-attempt execution duration, 95th percentile, from solti's histogram.",
      kind: 'timeseries',
      unit: 's',
      min: 0,
      main: true,
      targets: [
        {
          expr: 'histogram_quantile(0.95, sum by (le, runner) (rate(solti_runner_task_duration_seconds_bucket{$sel}[$__rate_interval])))',
          exemplar: true,
          legend: '{{runner}}',
        },
      ],
    },
    {
      title: 'Tasks in flight by runner',
      description:
        'Started minus completed (solti has no in-flight gauge). Growing without completions: SoltiTasksNotCompleting.',
      kind: 'timeseries',
      unit: 'short',
      min: 0,
      main: true,
      targets: [
        {
          expr: 'sum by (runner) (solti_runner_tasks_started_total{$sel})\n- (sum by (runner) (solti_runner_tasks_completed_total{$sel}) or 0 * sum by (runner) (solti_runner_tasks_started_total{$sel}))',
          legend: '{{runner}}',
        },
      ],
    },
    {
      title: 'Tasks started by runner',
      description: 'Task spawn events per second.',
      kind: 'timeseries',
      unit: 'ops',
      targets: [
        {
          expr: 'sum by (runner) (rate(solti_runner_tasks_started_total{$sel}[$__rate_interval]))',
          legend: '{{runner}}',
        },
      ],
    },
    {
      title: 'Runner errors',
      description:
        'Runner setup/teardown errors per second (spawn_failed, cgroup_prepare_failed…): the runner, not the task, is broken. Any fires SoltiRunnerErrors.',
      kind: 'timeseries',
      unit: 'ops',
      targets: [
        {
          expr: 'sum by (runner, error) (rate(solti_runner_errors_total{$sel}[$__rate_interval]))',
          legend: '{{runner}} {{error}}',
        },
      ],
    },
  ],
};

// ---------------------------------------------------------------------------------------------

/**
 * The process panels of the profiles named by the native naming (otel, semconv): the same
 * semantic-convention series under both.
 */
const PROCESS_CPU: PanelSpec = {
  title: 'Process CPU',
  description: 'CPU seconds per second used by the process (user + system).',
  kind: 'timeseries',
  unit: 'percentunit',
  min: 0,
  targets: [
    {
      expr: 'sum by (job, instance) (rate(process_cpu_time_seconds_total{$sel}[$__rate_interval]))',
      legend: '{{job}} {{instance}}',
    },
  ],
};
const PROCESS_MEMORY: PanelSpec = {
  title: 'Process memory',
  description: 'Resident set size and V8 heap in use.',
  kind: 'timeseries',
  unit: 'bytes',
  min: 0,
  targets: [
    {
      expr: 'sum by (job, instance) (process_memory_usage_bytes{$sel})',
      legend: 'resident {{job}} {{instance}}',
    },
    {
      expr: 'sum by (job, instance) (v8js_memory_heap_used_bytes{$sel})',
      legend: 'heap {{job}} {{instance}}',
    },
  ],
};

const otel: DashboardSpec = {
  profile: 'otel',
  title: 'jobmeter (OpenTelemetry names)',
  description:
    'Any host on the native profile: run failure ratio, outcomes, runs in flight, p95 duration per task, rejected requests, runner errors, queue backlog, LLM spend and the process; before the runs: how long they waited in their queue, the oldest job still waiting, how many are retries, and scheduled runs that started late or never.',
  variables: [jobVar(JOBMETER_ANCHOR), instanceVar(JOBMETER_ANCHOR)],
  panels: [
    {
      title: 'Run failure ratio',
      description:
        'Runs ending in failure or timeout as a share of finished runs. Above 20 % for 10 minutes fires JobmeterRunFailureRatioHigh.',
      kind: 'timeseries',
      unit: 'percentunit',
      min: 0,
      max: 1,
      threshold: 0.2,
      main: true,
      targets: [
        {
          expr: 'sum by (job, instance) (rate(jobmeter_run_finished_total{outcome=~"failure|timeout", $sel}[$__rate_interval]))\n/\nsum by (job, instance) (rate(jobmeter_run_finished_total{$sel}[$__rate_interval]))',
          legend: '{{job}} {{instance}}',
        },
      ],
    },
    {
      title: 'Runs finished by outcome',
      description: 'Finished runs per second by outcome.',
      kind: 'timeseries',
      unit: 'ops',
      main: true,
      targets: [
        {
          expr: 'sum by (outcome) (rate(jobmeter_run_finished_total{$sel}[$__rate_interval]))',
          legend: '{{outcome}}',
        },
      ],
    },
    {
      title: 'Run duration p95 by task',
      description: '95th percentile of run wall-clock duration per task.',
      kind: 'timeseries',
      unit: 's',
      min: 0,
      main: true,
      targets: [
        {
          expr: 'histogram_quantile(0.95, sum by (le, task) (rate(jobmeter_run_duration_seconds_bucket{$sel}[$__rate_interval])))',
          exemplar: true,
          legend: '{{task}}',
        },
      ],
    },
    {
      title: 'Runs in flight by task',
      description: 'Runs started and not finished yet.',
      kind: 'timeseries',
      unit: 'short',
      min: 0,
      main: true,
      targets: [{ expr: 'sum by (task) (jobmeter_run_active{$sel})', legend: '{{task}}' }],
    },
    {
      title: 'Rejected requests by reason',
      description: 'Requests (or scheduled runs) turned away before doing work, by reason.',
      kind: 'timeseries',
      unit: 'reqps',
      targets: [
        {
          expr: 'sum by (reason) (rate(jobmeter_request_rejected_total{$sel}[$__rate_interval]))',
          legend: '{{reason}}',
        },
      ],
    },
    {
      title: 'Runner errors',
      description: 'Runner setup/teardown errors per second (not task failures).',
      kind: 'timeseries',
      unit: 'ops',
      targets: [
        {
          expr: 'sum by (runner, error) (rate(jobmeter_runner_error_total{$sel}[$__rate_interval]))',
          legend: '{{runner}} {{error}}',
        },
      ],
    },
    {
      title: 'Queue backlog',
      description:
        'Queued work in total, groups with a backlog, and the most backlogged group (from the host snapshot).',
      kind: 'timeseries',
      unit: 'short',
      min: 0,
      targets: [
        {
          expr: 'sum by (job, instance) (jobmeter_queue_depth{$sel})',
          legend: 'queued {{job}} {{instance}}',
        },
        {
          expr: 'sum by (job, instance) (jobmeter_queue_groups{$sel})',
          legend: 'groups with a backlog {{job}} {{instance}}',
        },
        {
          expr: 'sum by (job, instance) (jobmeter_queue_depth_max{$sel})',
          legend: 'biggest group {{job}} {{instance}}',
        },
      ],
    },
    {
      title: 'LLM spend rate',
      description: 'USD per hour by provider (rate × 3600).',
      kind: 'timeseries',
      unit: 'currencyUSD',
      min: 0,
      emptyFor: ['app'],
      targets: [
        {
          expr: 'sum by (provider) (rate(jobmeter_llm_cost_total{$sel}[$__rate_interval])) * 3600',
          legend: '{{provider}}',
        },
      ],
    },
    {
      title: 'Time since last failed run',
      description:
        'Age of jobmeter_run_last_failure_time_seconds; under 10 minutes fires JobmeterRunFailedRecently.',
      kind: 'stat',
      unit: 's',
      w: 8,
      threshold: 600,
      targets: [
        {
          expr: 'time() - max by (job, instance) (jobmeter_run_last_failure_time_seconds{$sel})',
          legend: '{{job}} {{instance}}',
        },
      ],
    },
    { ...PROCESS_CPU, w: 8 },
    { ...PROCESS_MEMORY, w: 8 },
    // Before a run: the host's startRun / recordRun details (enqueuedAt, scheduledAt, attempt),
    // missedSchedule, and addQueueSource's reads of its job store. The live demo records them all,
    // examples/task-daemon its own triggers' (it never retries: its retry ratio is 0).
    {
      title: 'Queue wait p95 by task',
      description:
        '95th percentile of the time runs waited between becoming ready (enqueued, or their delay or schedule passed) and starting. Above 5 minutes for 10 minutes fires JobmeterQueueWaitHigh: too few workers for the work, or workers stuck.',
      kind: 'timeseries',
      unit: 's',
      min: 0,
      threshold: 300,
      targets: [
        {
          expr: 'histogram_quantile(0.95, sum by (le, task) (rate(jobmeter_queue_wait_seconds_bucket{$sel}[$__rate_interval])))',
          legend: '{{task}}',
        },
      ],
    },
    {
      title: 'Oldest waiting job by queue',
      description:
        'Age of the oldest job still waiting in each queue, from the job store (read every 10 s by default); 0 when none waits. Over 15 minutes for 5 minutes fires JobmeterQueueOldestJobOld. A climbing line with a flat wait p95 is a queue no worker takes from.',
      kind: 'timeseries',
      unit: 's',
      min: 0,
      threshold: 900,
      targets: [
        {
          expr: 'max by (queue) (jobmeter_queue_oldest_age_seconds{$sel})',
          legend: '{{queue}}',
        },
      ],
    },
    {
      title: 'Retry ratio by task',
      description:
        'Share of finished runs that were retries (attempt 2 or later); 0 for a task none of whose runs was. Above 20 % for 15 minutes fires JobmeterRetryRatioHigh: a dependency failing intermittently, or retries hiding a real failure.',
      kind: 'timeseries',
      unit: 'percentunit',
      w: 8,
      min: 0,
      max: 1,
      threshold: 0.2,
      targets: [
        {
          expr: '(\n  sum by (task) (rate(jobmeter_run_attempts_total{attempt!="1", $sel}[$__rate_interval]))\n  or 0 * sum by (task) (rate(jobmeter_run_attempts_total{$sel}[$__rate_interval]))\n)\n/\nsum by (task) (rate(jobmeter_run_attempts_total{$sel}[$__rate_interval]))',
          legend: '{{task}}',
        },
      ],
    },
    {
      title: 'Schedule lateness p95 by task',
      description:
        '95th percentile of how long after their scheduled time scheduled runs started: a busy scheduler or a slow start.',
      kind: 'timeseries',
      unit: 's',
      w: 8,
      min: 0,
      targets: [
        {
          expr: 'histogram_quantile(0.95, sum by (le, task) (rate(jobmeter_schedule_lateness_seconds_bucket{$sel}[$__rate_interval])))',
          legend: '{{task}}',
        },
      ],
    },
    {
      title: 'Missed schedules in range',
      description:
        'Scheduled runs that never started during the dashboard time range, per task: their time passed while the scheduler was busy or down. Any fires JobmeterScheduleMissed.',
      kind: 'stat',
      unit: 'short',
      w: 8,
      targets: [
        {
          expr: 'sum by (task) (increase(jobmeter_schedule_missed_total{$sel}[$__range]))',
          legend: '{{task}}',
        },
      ],
    },
  ],
};

// ---------------------------------------------------------------------------------------------

/**
 * A finished run, counted by result: the count of the conventions' run-duration histogram in the
 * executing state (a run's queue wait is its pending state's, with no result).
 */
const RUNS = 'cicd_pipeline_run_duration_seconds_count';
const EXECUTING = 'cicd_pipeline_run_state="executing"';

const semconv: DashboardSpec = {
  profile: 'semconv',
  title: 'jobmeter (OpenTelemetry semantic conventions)',
  description:
    "Any host on the semconv profile, read through the CI/CD semantic conventions' names: pipeline run failure ratio, results, p95 duration per pipeline, runs in flight, run and system errors by error.type, and the process.",
  variables: [jobVar(JOBMETER_ANCHOR), instanceVar(JOBMETER_ANCHOR)],
  panels: [
    {
      title: 'Pipeline run failure ratio',
      description:
        'Runs whose cicd.pipeline.result is failure or timeout as a share of finished runs. Above 20 % for 10 minutes fires SemconvPipelineRunFailureRatioHigh.',
      kind: 'timeseries',
      unit: 'percentunit',
      min: 0,
      max: 1,
      threshold: 0.2,
      main: true,
      targets: [
        {
          expr: `sum by (job, instance) (rate(${RUNS}{${EXECUTING}, cicd_pipeline_result=~"failure|timeout", $sel}[$__rate_interval]))\n/\nsum by (job, instance) (rate(${RUNS}{${EXECUTING}, $sel}[$__rate_interval]))`,
          legend: '{{job}} {{instance}}',
        },
      ],
    },
    {
      title: 'Pipeline runs finished by result',
      description:
        'Finished runs per second by cicd.pipeline.result (success, failure, timeout, cancellation).',
      kind: 'timeseries',
      unit: 'ops',
      main: true,
      targets: [
        {
          expr: `sum by (cicd_pipeline_result) (rate(${RUNS}{${EXECUTING}, $sel}[$__rate_interval]))`,
          legend: '{{cicd_pipeline_result}}',
        },
      ],
    },
    {
      title: 'Pipeline run duration p95 by pipeline',
      description:
        '95th percentile of the executing state of pipeline runs (a run from its start to its result), per cicd.pipeline.name.',
      kind: 'timeseries',
      unit: 's',
      min: 0,
      main: true,
      targets: [
        {
          expr: 'histogram_quantile(0.95, sum by (le, cicd_pipeline_name) (rate(cicd_pipeline_run_duration_seconds_bucket{cicd_pipeline_run_state="executing", $sel}[$__rate_interval])))',
          exemplar: true,
          legend: '{{cicd_pipeline_name}}',
        },
      ],
    },
    {
      title: 'Pipeline runs active by pipeline',
      description: 'Runs executing now (cicd.pipeline.run.active), per cicd.pipeline.name.',
      kind: 'timeseries',
      unit: 'short',
      min: 0,
      main: true,
      targets: [
        {
          expr: 'sum by (cicd_pipeline_name) (cicd_pipeline_run_active{$sel})',
          legend: '{{cicd_pipeline_name}}',
        },
      ],
    },
    {
      title: 'Pipeline run errors by type',
      description:
        'Failed runs per second (cicd.pipeline.run.errors) by pipeline and error.type: timeout for a run cut off, _OTHER for any other failure.',
      kind: 'timeseries',
      unit: 'ops',
      targets: [
        {
          expr: 'sum by (cicd_pipeline_name, error_type) (rate(cicd_pipeline_run_errors_total{$sel}[$__rate_interval]))',
          legend: '{{cicd_pipeline_name}} {{error_type}}',
        },
      ],
    },
    {
      title: 'System errors by component',
      description:
        'Runner setup/teardown errors per second (cicd.system.errors, not run failures) by cicd.system.component and error.type.',
      kind: 'timeseries',
      unit: 'ops',
      targets: [
        {
          expr: 'sum by (cicd_system_component, error_type) (rate(cicd_system_errors_total{$sel}[$__rate_interval]))',
          legend: '{{cicd_system_component}} {{error_type}}',
        },
      ],
    },
    PROCESS_CPU,
    PROCESS_MEMORY,
  ],
};

export const DASHBOARDS: Readonly<Record<ProfileName, DashboardSpec>> = {
  otel,
  runwisp,
  wasmrun,
  crewshipd,
  rm,
  solti,
  semconv,
};
export const DASHBOARD_PROFILES = Object.keys(DASHBOARDS) as readonly ProfileName[];
