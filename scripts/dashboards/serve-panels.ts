/**
 * The dashboard of `jobmeter serve` itself: its `[telemetry]` listener's families (src/http/
 * self-telemetry.ts), as an SRE reads Prometheus' or the Collector's own. Written in panels.ts'
 * vocabulary and conventions; `node scripts/dashboards/generate.ts` writes dashboards/serve.json,
 * test/dashboards/serve-queries.test.ts runs every query against a real Prometheus scraping a real
 * serve. A panel's threshold is the matching alert's in rules/serve.rules.yml.
 */
import type { DashboardSpec } from './spec.ts';

/**
 * The family the pickers list targets by: served by the [telemetry] listener alone (always, at 0 or
 * 1), where jobmeter_build_info is on every otel and semconv pull endpoint too.
 */
const ANCHOR = 'jobmeter_ready';

export const SERVE_DASHBOARD: DashboardSpec = {
  profile: 'serve',
  title: 'jobmeter serve',
  description:
    "jobmeter serve's own health, from its [telemetry] listener: is it ready, what the ingest refuses and why, whether its state reaches the disk, how close it is to its series and memory caps, whether the last reload took, and how the process and its scrapes fare.",
  variables: [
    { name: 'job', label: 'Job', query: `label_values(${ANCHOR}, job)` },
    {
      name: 'instance',
      label: 'Instance',
      query: `label_values(${ANCHOR}{job=~"$job"}, instance)`,
    },
  ],
  panels: [
    {
      title: 'Up',
      description:
        "Whether Prometheus' last scrape of the telemetry listener succeeded. 0 for 5 minutes fires JobmeterServeDown: the process is gone, or its listener does not answer.",
      kind: 'stat',
      unit: 'bool_yes_no',
      w: 4,
      targets: [{ expr: 'min by (job, instance) (up{$sel})', legend: '{{instance}}' }],
    },
    {
      title: 'Ready',
      description:
        "Whether /ready answers 200: no push failing 3 exports in a row, the ingest under 95 % of its memory budget, its last checkpoint written. 0 for 5 minutes fires JobmeterServeNotReady; /ready's text says which.",
      kind: 'stat',
      unit: 'bool_yes_no',
      w: 5,
      main: true,
      targets: [{ expr: 'min by (job, instance) (jobmeter_ready{$sel})', legend: '{{instance}}' }],
    },
    {
      title: 'Last reload successful',
      description:
        "Whether the last configuration load (start, SIGHUP or POST /-/reload) took. 0 for 10 minutes fires JobmeterServeReloadFailed; serve's log has the error line.",
      kind: 'stat',
      unit: 'bool_yes_no',
      w: 5,
      targets: [
        {
          expr: 'min by (job, instance) (jobmeter_config_last_reload_successful{$sel})',
          legend: '{{instance}}',
        },
      ],
    },
    {
      title: 'Time since last checkpoint',
      description:
        "Age of the ingest state file's last successful write (or its read at start). Nothing is written while nothing arrives, so age alone is no failure: see Checkpoint failures.",
      kind: 'stat',
      unit: 's',
      w: 5,
      targets: [
        {
          expr: 'time() - max by (job, instance) (jobmeter_ingest_checkpoint_last_success_timestamp_seconds{$sel})',
          legend: '{{instance}}',
        },
      ],
    },
    {
      title: 'Version',
      description:
        'The running build (jobmeter_build_info): a new line is an upgrade or a restart onto another build.',
      kind: 'stat',
      unit: 'none',
      w: 5,
      targets: [{ expr: 'count by (version) (jobmeter_build_info{$sel})', legend: '{{version}}' }],
    },
    {
      title: 'Ingest requests by code and reason',
      description:
        'OTLP/HTTP requests the ingest answered per second: accepted, partial (some points refused), or what refused the whole request (401/403 auth, 413 too large, 415, 503 busy).',
      kind: 'timeseries',
      unit: 'reqps',
      min: 0,
      main: true,
      targets: [
        {
          expr: 'sum by (code, reason) (rate(jobmeter_ingest_requests_total{$sel}[$__rate_interval]))',
          legend: '{{code}} {{reason}}',
        },
      ],
    },
    {
      title: 'Ingest requests refused',
      description:
        'Share of ingest requests refused whole (neither accepted nor partial). Above 5 % for 10 minutes fires JobmeterServeIngestRequestsRefused.',
      kind: 'timeseries',
      unit: 'percentunit',
      min: 0,
      max: 1,
      threshold: 0.05,
      targets: [
        {
          expr: 'sum by (job, instance) (rate(jobmeter_ingest_requests_total{reason!~"accepted|partial", $sel}[$__rate_interval])) / sum by (job, instance) (rate(jobmeter_ingest_requests_total{$sel}[$__rate_interval]))',
          legend: '{{instance}}',
        },
      ],
    },
    {
      title: 'Points refused by reason',
      description:
        'OTLP data points the ingest refused per second, by reason (series_cap, memory_budget, unsupported_type, …), as each partial_success told the sender.',
      kind: 'timeseries',
      unit: 'ops',
      min: 0,
      main: true,
      targets: [
        {
          expr: 'sum by (reason) (rate(jobmeter_ingest_refused_points_total{$sel}[$__rate_interval]))',
          legend: '{{reason}}',
        },
      ],
    },
    {
      title: 'Connections shed',
      description:
        'Connections the ingest listener closed at its connection cap to make room, by what they held (idle, headers, slow_body, full). Sustained: raise [ingest] max_connections or find the slow senders.',
      kind: 'timeseries',
      unit: 'ops',
      min: 0,
      targets: [
        {
          expr: 'sum by (reason) (rate(jobmeter_ingest_connections_shed_total{$sel}[$__rate_interval]))',
          legend: '{{reason}}',
        },
      ],
    },
    {
      title: 'Checkpoint failures',
      description:
        'Failed writes of the ingest state file in the interval. Failing for 5 minutes fires JobmeterServeCheckpointFailing: a restart would lose what arrived since the last success.',
      kind: 'timeseries',
      unit: 'short',
      min: 0,
      targets: [
        {
          expr: 'sum by (job, instance) (increase(jobmeter_ingest_checkpoint_failures_total{$sel}[$__rate_interval]))',
          legend: '{{instance}}',
        },
      ],
    },
    {
      title: 'Series held vs cap',
      description:
        'Source series the ingest holds, and its cap (past it new series are refused: series_cap). Above 80 % for 15 minutes fires JobmeterServeSeriesNearCap.',
      kind: 'timeseries',
      unit: 'short',
      min: 0,
      targets: [
        {
          expr: 'sum by (job, instance) (jobmeter_ingest_series{$sel})',
          legend: 'held {{instance}}',
        },
        {
          expr: 'sum by (job, instance) (jobmeter_ingest_series_limit{$sel})',
          legend: 'cap {{instance}}',
        },
      ],
    },
    {
      title: 'Memory: resident vs ingest budget',
      description:
        'Resident set size of the process, the bytes the ingest holds by its estimate, and its budget ([ingest] max_memory_bytes; /ready says 503 from 95 % of it). Size MemoryMax (systemd) or the container limit well above budget + the resident baseline.',
      kind: 'timeseries',
      unit: 'bytes',
      min: 0,
      main: true,
      targets: [
        {
          expr: 'sum by (job, instance) (jobmeter_process_memory_usage_bytes{$sel})',
          legend: 'resident {{instance}}',
        },
        {
          expr: 'sum by (job, instance) (jobmeter_ingest_memory_usage_bytes{$sel})',
          legend: 'ingest held {{instance}}',
        },
        {
          expr: 'sum by (job, instance) (jobmeter_ingest_memory_limit_bytes{$sel})',
          legend: 'ingest budget {{instance}}',
        },
      ],
    },
    {
      title: 'Ingest memory budget used',
      description:
        'Share of the ingest memory budget held. Above 80 % for 15 minutes fires JobmeterServeMemoryBudgetNearlyFull; at 95 % /ready says 503, at 100 % new series are refused.',
      kind: 'timeseries',
      unit: 'percentunit',
      min: 0,
      max: 1,
      threshold: 0.8,
      targets: [
        {
          expr: 'sum by (job, instance) (jobmeter_ingest_memory_usage_bytes{$sel}) / sum by (job, instance) (jobmeter_ingest_memory_limit_bytes{$sel})',
          legend: '{{instance}}',
        },
      ],
    },
    {
      title: 'OTLP push exports by outcome',
      description:
        'Exports of the OTLP push per second, sent or failed (a failed export is dropped: nothing is queued). Three failures in a row make /ready say 503.',
      kind: 'timeseries',
      unit: 'ops',
      min: 0,
      targets: [
        {
          expr: 'sum by (outcome) (rate(jobmeter_push_exports_total{$sel}[$__rate_interval]))',
          legend: '{{outcome}}',
        },
      ],
    },
    {
      title: 'Process CPU',
      description:
        'CPU seconds per second the process used, by mode: 100 % is one core (Node runs JavaScript on one).',
      kind: 'timeseries',
      unit: 'percentunit',
      w: 8,
      min: 0,
      targets: [
        {
          expr: 'sum by (cpu_mode) (rate(jobmeter_process_cpu_time_seconds_total{$sel}[$__rate_interval]))',
          legend: '{{cpu_mode}}',
        },
      ],
    },
    {
      title: 'Event-loop delay',
      description:
        'Event-loop delay p99 and max since the previous scrape. A p99 above 0.5 s for 10 minutes fires JobmeterServeEventLoopBlocked: requests and scrapes wait that long.',
      kind: 'timeseries',
      unit: 's',
      w: 8,
      min: 0,
      threshold: 0.5,
      targets: [
        {
          expr: 'max by (job, instance) (jobmeter_nodejs_eventloop_delay_p99_seconds{$sel})',
          legend: 'p99 {{instance}}',
        },
        {
          expr: 'max by (job, instance) (jobmeter_nodejs_eventloop_delay_max_seconds{$sel})',
          legend: 'max {{instance}}',
        },
      ],
    },
    {
      title: 'Metrics scrape duration p99',
      description:
        "How long scrapes of the metrics route take, request to last byte (p99). Above 2.5 s for 15 minutes fires JobmeterServeScrapesSlow; compare with the scraper's scrape_timeout.",
      kind: 'timeseries',
      unit: 's',
      w: 8,
      min: 0,
      threshold: 2.5,
      targets: [
        {
          expr: 'histogram_quantile(0.99, sum by (job, instance, le) (rate(jobmeter_scrape_duration_seconds_bucket{$sel}[$__rate_interval])))',
          legend: '{{instance}}',
        },
      ],
    },
  ],
};
