/**
 * End to end, the five legacy profiles through a real Prometheus — Debian's 2.42 and the pinned 3.x,
 * each in turn — started here on loopback and scraping every second:
 *
 *   job           listener                                    fed by
 *   runwisp       runwisp profile (OpenMetrics, its default)   runDemo
 *   wasmrun       wasmrun profile (text 0.0.4, its default)    runDemo
 *   wasmrun_om    wasmrun profile FORCED to OpenMetrics        runDemo
 *   crewshipd     crewshipd profile (text 0.0.4)               runDemo, then a snapshot that grows per scrape
 *   rm            rm profile (text 0.0.4)                      runDemo, then more runs once scraped
 *   solti         solti profile (text 0.0.4)                   runDemo
 *   runwisp_live  runwisp profile, no demo                     one failed run, recorded now
 *
 * Everything is asserted through Prometheus's HTTP API: what it stored (series names, label names,
 * label values, metadata types), and whether the seeds' own alert and dashboard expressions
 * evaluate on it. The expected tables below are copied from the seeds (/work/shared/seeds), not
 * from the profiles, so a profile drifting from its original fails here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import type { LegacyProfileName } from '../../src/common/option-values.ts';
import { demoSnapshot, runDemo } from '../../src/demo/scenarios.ts';
import type { HostSnapshot } from '../../src/domain/snapshot.ts';
import {
  PROMETHEUS_MAJORS,
  startPrometheus,
  type PrometheusHandle,
  type Sample,
} from '../support/prometheus.ts';

type Legacy = LegacyProfileName;
const LEGACY: readonly Legacy[] = ['runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'];

const HOSTNAME = 'e2e-host';
const TARGETS_TIMEOUT_MS = 30_000;
const WAIT_MS = 15_000;

/** Series Prometheus adds to every scrape job; not part of any profile. */
const SCRAPE_SERIES = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
]);

// ---------------------------------------------------------------------------------------------
// Expected surface, from the seeds: every stored series name → its label names (job/instance
// excluded). Histograms are listed as the _bucket/_sum/_count series Prometheus stores.

const withHostname = (
  table: Record<string, readonly string[]>,
): Record<string, readonly string[]> =>
  Object.fromEntries(
    Object.entries(table).map(([name, labels]) => [name, [...labels, 'hostname']]),
  );

const EXPECTED_SERIES: Readonly<Record<Legacy, Readonly<Record<string, readonly string[]>>>> = {
  // 000: "| Metric | Type | Labels | Meaning |" table.
  runwisp: {
    runwisp_runs_total: ['status'],
    runwisp_runs_last_failure_timestamp_seconds: [],
    runwisp_task_active_runs: ['task', 'kind'],
    runwisp_daemon_cpu_percent: [],
    runwisp_daemon_memory_used_bytes: [],
    runwisp_daemon_memory_total_bytes: [],
    runwisp_daemon_uptime_seconds: [],
    runwisp_build_info: ['version'],
  },
  // 001: "Metrics reference" table.
  wasmrun: {
    wasmrun_agent_exec_total: ['result'],
    wasmrun_agent_exec_duration_ms_sum: [],
    wasmrun_agent_exec_duration_ms_count: [],
    wasmrun_agent_output_truncated_total: [],
    wasmrun_agent_sessions_created_total: [],
    wasmrun_agent_exec_rejected_total: ['reason'],
    wasmrun_agent_sessions_active: [],
    wasmrun_agent_sessions_total: [],
    wasmrun_agent_exec_in_flight: [],
    wasmrun_agent_sessions_disk_bytes: [],
  },
  // 002: process + domain tables; "Every series carries a hostname label."
  crewshipd: withHostname({
    crewshipd_uptime_seconds: [],
    crewshipd_goroutines: [],
    crewshipd_memory_alloc_bytes: [],
    crewshipd_memory_sys_bytes: [],
    crewshipd_gc_runs_total: [],
    crewshipd_ws_connections: [],
    crewshipd_assignments: ['status'],
    crewshipd_assignment_queue_depth: [],
    crewshipd_assignment_queue_crews: [],
    crewshipd_assignment_queue_depth_max: [],
    crewshipd_pipeline_runs: ['status'],
    crewshipd_agent_run_events_total: ['event'],
    crewshipd_llm_calls_total: ['provider'],
    crewshipd_llm_cost_usd_total: ['provider'],
    crewshipd_containers_tracked: [],
    crewshipd_containers_reporting: [],
    crewshipd_db_migration_version: [],
  }),
  // 003: server gauges, per-host gauges ("carry a host_id label ... and a host label"), histogram.
  rm: {
    rm_hosts_total: [],
    rm_hosts_online: [],
    rm_active_alerts: ['severity'],
    rm_build_info: ['version', 'commit', 'go_version'],
    rm_host_agent_online: ['host_id', 'host'],
    rm_host_last_backup_timestamp_seconds: ['host_id', 'host'],
    rm_host_last_backup_success: ['host_id', 'host'],
    rm_host_repo_size_bytes: ['host_id', 'host'],
    rm_host_snapshot_count: ['host_id', 'host'],
    rm_host_open_alerts: ['host_id', 'host'],
    rm_host_repo_status: ['host_id', 'host', 'status'],
    rm_job_duration_seconds_bucket: ['kind', 'status', 'le'],
    rm_job_duration_seconds_sum: ['kind', 'status'],
    rm_job_duration_seconds_count: ['kind', 'status'],
  },
  // 004: backend.rs "## Metrics" table.
  solti: {
    solti_runner_tasks_started_total: ['runner'],
    solti_runner_tasks_completed_total: ['runner', 'outcome'],
    solti_runner_task_duration_seconds_bucket: ['runner', 'outcome', 'le'],
    solti_runner_task_duration_seconds_sum: ['runner', 'outcome'],
    solti_runner_task_duration_seconds_count: ['runner', 'outcome'],
    solti_runner_errors_total: ['runner', 'error'],
  },
};

/**
 * Metadata Prometheus keeps per target, keyed as it keys it: by the `# TYPE` name, i.e. the full
 * series name in text 0.0.4 and the family name (counters without `_total`) in OpenMetrics.
 */
const gauges = (...names: string[]): Record<string, string> =>
  Object.fromEntries(names.map((n) => [n, 'gauge']));
const counters = (...names: string[]): Record<string, string> =>
  Object.fromEntries(names.map((n) => [n, 'counter']));

const EXPECTED_TYPES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  runwisp: {
    ...counters('runwisp_runs'),
    ...gauges(
      'runwisp_runs_last_failure_timestamp_seconds',
      'runwisp_task_active_runs',
      'runwisp_daemon_cpu_percent',
      'runwisp_daemon_memory_used_bytes',
      'runwisp_daemon_memory_total_bytes',
      'runwisp_daemon_uptime_seconds',
      'runwisp_build_info',
    ),
  },
  wasmrun: {
    ...counters(
      'wasmrun_agent_exec_total',
      'wasmrun_agent_exec_duration_ms_sum',
      'wasmrun_agent_exec_duration_ms_count',
      'wasmrun_agent_output_truncated_total',
      'wasmrun_agent_sessions_created_total',
      'wasmrun_agent_exec_rejected_total',
    ),
    ...gauges(
      'wasmrun_agent_sessions_active',
      'wasmrun_agent_sessions_total',
      'wasmrun_agent_exec_in_flight',
      'wasmrun_agent_sessions_disk_bytes',
    ),
  },
  wasmrun_om: {
    ...counters(
      'wasmrun_agent_exec',
      'wasmrun_agent_output_truncated',
      'wasmrun_agent_sessions_created',
      'wasmrun_agent_exec_rejected',
    ),
    // The seed's counters `…_ms_sum`/`…_ms_count`: an OpenMetrics counter's sample must be named
    // `<family>_total`, so the only way to keep the legacy sample names is the `unknown` type.
    wasmrun_agent_exec_duration_ms_sum: 'unknown',
    wasmrun_agent_exec_duration_ms_count: 'unknown',
    ...gauges(
      'wasmrun_agent_sessions_active',
      'wasmrun_agent_sessions_total',
      'wasmrun_agent_exec_in_flight',
      'wasmrun_agent_sessions_disk_bytes',
    ),
  },
  crewshipd: {
    ...gauges(
      'crewshipd_uptime_seconds',
      'crewshipd_goroutines',
      'crewshipd_memory_alloc_bytes',
      'crewshipd_memory_sys_bytes',
      'crewshipd_ws_connections',
      'crewshipd_assignments',
      'crewshipd_assignment_queue_depth',
      'crewshipd_assignment_queue_crews',
      'crewshipd_assignment_queue_depth_max',
      'crewshipd_pipeline_runs',
      'crewshipd_containers_tracked',
      'crewshipd_containers_reporting',
      'crewshipd_db_migration_version',
    ),
    ...counters(
      'crewshipd_gc_runs_total',
      'crewshipd_agent_run_events_total',
      'crewshipd_llm_calls_total',
      'crewshipd_llm_cost_usd_total',
    ),
  },
  rm: {
    ...gauges(
      'rm_hosts_total',
      'rm_hosts_online',
      'rm_active_alerts',
      'rm_build_info',
      'rm_host_agent_online',
      'rm_host_last_backup_timestamp_seconds',
      'rm_host_last_backup_success',
      'rm_host_repo_size_bytes',
      'rm_host_snapshot_count',
      'rm_host_open_alerts',
      'rm_host_repo_status',
    ),
    rm_job_duration_seconds: 'histogram',
  },
  solti: {
    ...counters(
      'solti_runner_tasks_started_total',
      'solti_runner_tasks_completed_total',
      'solti_runner_errors_total',
    ),
    solti_runner_task_duration_seconds: 'histogram',
  },
};

// ---------------------------------------------------------------------------------------------
// Setup: one jobmeter per job, one Prometheus for all of them.

for (const major of PROMETHEUS_MAJORS) {
  describe(`Prometheus ${major}`, () => {
    const meters: Jobmeter[] = [];
    const jm: Partial<Record<Legacy | 'wasmrun_om' | 'runwisp_live', Jobmeter>> = {};
    let prom: PrometheusHandle | undefined;

    /** crewshipd's snapshot callback calls, one per scrape (TTL 0). */
    let crewshipdCalls = 0;

    async function start(
      job: keyof typeof jm,
      profile: Legacy,
      format?: 'openmetrics',
    ): Promise<Jobmeter> {
      const meter = await createJobmeter({
        profile,
        listener: { port: 0, ...(format && { format }) },
        hostname: HOSTNAME,
      });
      meters.push(meter);
      jm[job] = meter;
      return meter;
    }

    /**
     * The demo snapshot with the counters behind the seed's crewshipd alerts growing on every call:
     * 2 agent runs started and 1 failed (failure rate 0.5 > 0.2), and $5 more spend on one provider.
     */
    function growingCrewshipdSnapshot(): HostSnapshot {
      const base = demoSnapshot();
      const events = base.agentRunEvents!;
      const n = ++crewshipdCalls;
      return {
        ...base,
        agentRunEvents: {
          ...events,
          started: events['started']! + 2 * n,
          failed: events['failed']! + n,
        },
        llm: base.llm!.map((l, i) => (i === 0 ? { ...l, costUsd: l.costUsd + 5 * n } : l)),
      };
    }

    /** More rm jobs of every demo kind, so each kind's buckets grow between two scrapes. */
    function recordMoreRmJobs(meter: Jobmeter): void {
      meter.recordRun({ task: 'alpha', kind: 'backup', outcome: 'success', durationSeconds: 120 });
      meter.recordRun({ task: 'beta', kind: 'prune', outcome: 'success', durationSeconds: 900 });
      meter.recordRun({ task: 'beta', kind: 'check', outcome: 'cancelled', durationSeconds: 2 });
    }

    before(async () => {
      for (const profile of LEGACY) runDemo(await start(profile, profile), profile);
      runDemo(await start('wasmrun_om', 'wasmrun', 'openmetrics'), 'wasmrun');
      // The profile's own 15 s cache would hide the growth from 1 s scrapes: re-read on every scrape.
      jm.crewshipd!.setSnapshotSource(growingCrewshipdSnapshot, { ttlMillis: 0 });
      const live = await start('runwisp_live', 'runwisp');
      live.recordRun({
        task: 'nightly-backup',
        kind: 'task',
        outcome: 'failure',
        durationSeconds: 3,
      });

      prom = await startPrometheus({
        major,
        jobs: Object.entries(jm).map(([name, meter]) => ({
          name,
          target: `127.0.0.1:${meter.pullAddress!.port}`,
        })),
        scrapeInterval: '1s',
      });
      // Also means every job's first scrape is committed: growth recorded from here on shows in rate().
      await prom.waitForTargetsUp(TARGETS_TIMEOUT_MS);
      recordMoreRmJobs(jm.rm!);
    });

    after(async () => {
      // Each independently: one failing to stop must not leave the others running.
      await Promise.allSettled([prom?.stop(), ...meters.map((m) => m.shutdown())]);
    });

    // ---------------------------------------------------------------------------------------------
    // Helpers over Prometheus's API.

    function p(): PrometheusHandle {
      assert.ok(prom, 'prometheus did not start (see before())');
      return prom;
    }

    /** Every series stored for `job` (all time), without Prometheus's own scrape series. */
    async function storedSeries(job: string): Promise<Array<Record<string, string>>> {
      const all = await p().series(`{job="${job}"}`);
      return all.filter((s) => !SCRAPE_SERIES.has(s['__name__']!));
    }

    const labelNames = (s: Record<string, string>): string[] =>
      Object.keys(s)
        .filter((k) => k !== '__name__' && k !== 'job' && k !== 'instance')
        .sort();

    /** name → its distinct label-name sets, each `a,b,c`, joined by ` | ` (one set expected). */
    function labelSetsByName(series: Array<Record<string, string>>): Record<string, string> {
      const byName = new Map<string, Set<string>>();
      for (const s of series) {
        const name = s['__name__']!;
        let sets = byName.get(name);
        if (sets === undefined) byName.set(name, (sets = new Set()));
        sets.add(labelNames(s).join(','));
      }
      return Object.fromEntries(
        [...byName]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, sets]) => [name, [...sets].sort().join(' | ')]),
      );
    }

    function expectedLabelSets(
      table: Readonly<Record<string, readonly string[]>>,
    ): Record<string, string> {
      return Object.fromEntries(
        Object.entries(table)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, labels]) => [name, [...labels].sort().join(',')]),
      );
    }

    /** Distinct values of `label` in an instant query's result, sorted. */
    async function labelValues(expr: string, label: string): Promise<string[]> {
      const r = await p().query(expr);
      return [...new Set(r.map((s) => s.metric[label] ?? ''))].sort();
    }

    /** `label value → sample value` of an instant query whose series differ only by `label`. */
    async function valuesBy(expr: string, label: string): Promise<Record<string, number>> {
      const r = await p().query(expr);
      const out: Record<string, number> = {};
      for (const s of r) {
        const key = s.metric[label] ?? '';
        assert.ok(!(key in out), `${expr}: two series with ${label}="${key}"`);
        out[key] = Number(s.value[1]);
      }
      return out;
    }

    /** `/api/v1/targets/metadata` of one job: the `# TYPE` name → type (the harness only wraps /api/v1/metadata). */
    async function targetTypes(job: string): Promise<Record<string, string>> {
      const params = new URLSearchParams({ match_target: `{job="${job}"}` });
      const res = await fetch(`${p().url}/api/v1/targets/metadata?${params.toString()}`, {
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data?: Array<{ metric: string; type: string }>;
      };
      assert.equal(body.status, 'success', body.error);
      return Object.fromEntries(
        body.data!.map((m) => [m.metric, m.type]).sort(([a], [b]) => a!.localeCompare(b!)),
      );
    }

    const sortedRecord = (r: Readonly<Record<string, string>>): Record<string, string> =>
      Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));

    /** name{labels without job/instance} → value, for comparing two jobs' samples. */
    function keyed(samples: Sample[]): Record<string, string> {
      const out: Record<string, string> = {};
      for (const s of samples) {
        if (SCRAPE_SERIES.has(s.metric['__name__']!)) continue;
        const labels = labelNames(s.metric)
          .map((k) => `${k}="${s.metric[k]}"`)
          .join(',');
        out[`${s.metric['__name__']}{${labels}}`] = s.value[1];
      }
      return sortedRecord(out);
    }

    const isFiniteValue = (s: Sample): boolean => Number.isFinite(Number(s.value[1]));

    /** `le` values as this Prometheus stores them, sorted: 3.x writes integral bounds as `1.0`. */
    const storedLe = (bounds: readonly string[]): string[] =>
      bounds.map((b) => (major === 3 && /^\d+$/.test(b) ? `${b}.0` : b)).sort();

    // ---------------------------------------------------------------------------------------------
    // Targets.

    test('every target is up and scraped without error', async () => {
      const targets = (await p().targets()).activeTargets;
      assert.deepEqual(targets.map((t) => t.labels['job']).sort(), Object.keys(jm).sort());
      for (const t of targets) {
        assert.equal(t.health, 'up', `${t.labels['job']}: ${t.lastError}`);
        assert.equal(t.lastError, '', `${t.labels['job']}`);
      }
    });

    // ---------------------------------------------------------------------------------------------
    // Stored surface per profile.

    for (const profile of LEGACY) {
      test(`${profile}: stored series names and their label names are exactly the seed's`, async () => {
        const series = await storedSeries(profile);
        assert.deepEqual(labelSetsByName(series), expectedLabelSets(EXPECTED_SERIES[profile]));
      });

      test(`${profile}: metadata types are the seed's`, async () => {
        assert.deepEqual(await targetTypes(profile), sortedRecord(EXPECTED_TYPES[profile]!));
      });
    }

    test('no target_info and no otel_scope_* labels on any legacy job', async () => {
      const jobs = Object.keys(jm).join('|');
      const all = await p().series(`{job=~"${jobs}"}`);
      assert.ok(all.length > 0);
      assert.deepEqual(
        all.filter((s) => s['__name__'] === 'target_info'),
        [],
      );
      assert.deepEqual(
        all.filter((s) => Object.keys(s).some((k) => k.startsWith('otel_scope_'))),
        [],
      );
      assert.deepEqual(await p().query('target_info'), []);
    });

    // ---------------------------------------------------------------------------------------------
    // Label values.

    test('runwisp: terminal statuses are success|failed, kinds task|service, CPU in 0–100', async () => {
      assert.deepEqual(await valuesBy('runwisp_runs_total{job="runwisp"}', 'status'), {
        success: 118,
        failed: 4,
      });
      assert.deepEqual(await labelValues('runwisp_task_active_runs{job="runwisp"}', 'kind'), [
        'service',
        'task',
      ]);
      const cpu = await p().query('runwisp_daemon_cpu_percent{job="runwisp"}');
      const value = Number(cpu[0]!.value[1]);
      assert.ok(value >= 0 && value <= 100, `cpu ${value}`);
    });

    test('wasmrun: result is success|error|timeout and reason concurrency|payload|unauthorized, all emitted', async () => {
      assert.deepEqual(await valuesBy('wasmrun_agent_exec_total{job="wasmrun"}', 'result'), {
        success: 2,
        error: 1,
        timeout: 1,
      });
      assert.deepEqual(
        await valuesBy('wasmrun_agent_exec_rejected_total{job="wasmrun"}', 'reason'),
        { concurrency: 1, payload: 0, unauthorized: 1 },
      );
      // "Average execution duration is exec_duration_ms_sum / exec_duration_ms_count."
      const avg = await p().query(
        'wasmrun_agent_exec_duration_ms_sum{job="wasmrun"} / wasmrun_agent_exec_duration_ms_count{job="wasmrun"}',
      );
      assert.equal(Number(avg[0]!.value[1]), 4250 / 4);
    });

    test('crewshipd: hostname on every series, statuses zero-filled with other, provider capped with other', async () => {
      const series = await storedSeries('crewshipd');
      assert.deepEqual(
        series.filter((s) => s['hostname'] !== HOSTNAME),
        [],
        'every series carries hostname',
      );

      assert.deepEqual(await valuesBy('crewshipd_assignments{job="crewshipd"}', 'status'), {
        pending: 1,
        queued: 4,
        running: 2,
        completed: 40,
        failed: 3,
        cancelled: 1,
        other: 2, // `archived` is not a crewshipd status
      });
      assert.deepEqual(await valuesBy('crewshipd_pipeline_runs{job="crewshipd"}', 'status'), {
        queued: 1,
        running: 1,
        completed: 12,
        failed: 1,
        cancelled: 0,
        dry_run: 2,
        interrupted: 0,
        other: 0,
      });
      assert.deepEqual(
        await labelValues('crewshipd_agent_run_events_total{job="crewshipd"}', 'event'),
        ['cancelled', 'completed', 'failed', 'started', 'timeout'],
      );

      // 12 providers in the demo ledger, a cap of 10: the first ten kept, the rest under `other`.
      const kept = Array.from(
        { length: 10 },
        (_, i) => `provider-${String(i + 1).padStart(2, '0')}`,
      );
      for (const name of ['crewshipd_llm_calls_total', 'crewshipd_llm_cost_usd_total']) {
        assert.deepEqual(
          await labelValues(`${name}{job="crewshipd"}`, 'provider'),
          [...kept, 'other'].sort(),
          name,
        );
      }
    });

    // Regression: the SDK keeps only the last observation per processed attribute set of an
    // observable, so folded providers overwrote each other until the recorder summed them first.
    test('crewshipd: provider="other" carries the sum of the folded providers', async () => {
      const calls = await valuesBy('crewshipd_llm_calls_total{job="crewshipd"}', 'provider');
      assert.equal(calls['other'], 110 + 120, 'provider-11 (110 calls) + provider-12 (120 calls)');
    });

    test('rm: status words succeeded|failed|cancelled on the job histogram, rm buckets, severities, repo status', async () => {
      assert.deepEqual(await labelValues('rm_job_duration_seconds_bucket{job="rm"}', 'status'), [
        'cancelled',
        'failed',
        'succeeded',
      ]);
      const kinds = await labelValues('rm_job_duration_seconds_count{job="rm"}', 'kind');
      assert.deepEqual(kinds, ['backup', 'check', 'prune']);
      const le = await labelValues(
        'rm_job_duration_seconds_bucket{job="rm",kind="backup",status="succeeded"}',
        'le',
      );
      assert.deepEqual(
        le,
        storedLe(['1', '5', '30', '60', '300', '1800', '3600', '21600', '86400', '+Inf']),
      );
      assert.deepEqual(await valuesBy('rm_active_alerts{job="rm"}', 'severity'), {
        info: 0,
        warning: 1,
        critical: 1,
      });
      assert.deepEqual(await valuesBy('rm_host_repo_status{job="rm"}', 'status'), {
        ready: 1,
        init_failed: 1,
      });
      // "Omitted for hosts with no backup yet" / "Omitted when unknown": only alpha has them.
      for (const name of [
        'rm_host_last_backup_timestamp_seconds',
        'rm_host_last_backup_success',
        'rm_host_repo_size_bytes',
      ]) {
        assert.deepEqual(await labelValues(`${name}{job="rm"}`, 'host'), ['alpha'], name);
      }
      assert.deepEqual(await labelValues('rm_host_snapshot_count{job="rm"}', 'host'), [
        'alpha',
        'beta',
      ]);
    });

    test('solti: outcome is success|failure|canceled|timeout (canceled, one l), solti buckets', async () => {
      const outcomes = ['canceled', 'failure', 'success', 'timeout'];
      assert.deepEqual(
        await labelValues('solti_runner_tasks_completed_total{job="solti"}', 'outcome'),
        outcomes,
      );
      assert.deepEqual(
        await labelValues('solti_runner_task_duration_seconds_bucket{job="solti"}', 'outcome'),
        outcomes,
      );
      // recordRun counts a start too, so every runner of the demo has started runs.
      assert.deepEqual(
        await labelValues('solti_runner_tasks_started_total{job="solti"}', 'runner'),
        ['container', 'subprocess', 'wasm'],
      );
      const le = await labelValues(
        'solti_runner_task_duration_seconds_bucket{job="solti",outcome="canceled"}',
        'le',
      );
      const buckets = [
        '0.01',
        '0.025',
        '0.05',
        '0.1',
        '0.25',
        '0.5',
        '1',
        '2.5',
        '5',
        '10',
        '30',
        '60',
        '300',
        '1800',
        '3600',
        '+Inf',
      ];
      assert.deepEqual(le, storedLe(buckets));
    });

    // ---------------------------------------------------------------------------------------------
    // wasmrun in OpenMetrics keeps the legacy names.

    test('wasmrun_om: same series names, label names and values as the text job', async () => {
      assert.deepEqual(
        labelSetsByName(await storedSeries('wasmrun_om')),
        labelSetsByName(await storedSeries('wasmrun')),
      );
      // Every wasmrun series is deterministic under the demo (no process figures).
      assert.deepEqual(
        keyed(await p().query('{job="wasmrun_om"}')),
        keyed(await p().query('{job="wasmrun"}')),
      );
    });

    test('wasmrun_om: exec_duration_ms_sum/_count are plain series, never …_sum_total', async () => {
      for (const job of ['wasmrun_om', 'wasmrun']) {
        const sum = await p().query(`wasmrun_agent_exec_duration_ms_sum{job="${job}"}`);
        const count = await p().query(`wasmrun_agent_exec_duration_ms_count{job="${job}"}`);
        assert.deepEqual(
          sum.map((s) => Number(s.value[1])),
          [4250],
          job,
        );
        assert.deepEqual(
          count.map((s) => Number(s.value[1])),
          [4],
          job,
        );
      }
      assert.deepEqual(
        await p().series('{__name__=~"wasmrun_agent_exec_duration_ms_.+_total"}'),
        [],
      );
      assert.deepEqual(await p().series('{__name__=~"wasmrun_.+_created"}'), []);
    });

    test('wasmrun_om: OpenMetrics metadata (families), and both jobs side by side in /api/v1/metadata', async () => {
      assert.deepEqual(
        await targetTypes('wasmrun_om'),
        sortedRecord(EXPECTED_TYPES['wasmrun_om']!),
      );
      const meta = await p().metadata();
      const types = (name: string): string[] => (meta[name] ?? []).map((m) => m.type).sort();
      // text keys it by the sample name (counter), OpenMetrics keeps the name as an `unknown` family.
      assert.deepEqual(types('wasmrun_agent_exec_duration_ms_sum'), ['counter', 'unknown']);
      assert.deepEqual(types('wasmrun_agent_exec_duration_ms_count'), ['counter', 'unknown']);
      assert.deepEqual(types('wasmrun_agent_exec_total'), ['counter']);
      assert.deepEqual(types('wasmrun_agent_exec'), ['counter']);
      assert.deepEqual(types('wasmrun_agent_sessions_total'), ['gauge']);
    });

    // ---------------------------------------------------------------------------------------------
    // The seeds' own expressions, on the stored data.

    test('runwisp: the "anything went wrong in the last ten minutes" alert', async () => {
      // The demo's last failure is a fixed timestamp: the expression is valid and yields one sample.
      const demoLastFailure = demoSnapshot().lastFailureSeconds!;
      const age = await p().query(
        'time() - runwisp_runs_last_failure_timestamp_seconds{job="runwisp"}',
      );
      assert.equal(age.length, 1);
      const [at, value] = age[0]!.value;
      assert.ok(Math.abs(Number(value) - (at - demoLastFailure)) < 1, `age ${value} at ${at}`);

      // runwisp_live failed a run just now: the seed's alert, verbatim, fires for it.
      const firing = await p().waitFor(
        'time() - runwisp_runs_last_failure_timestamp_seconds < 600',
        (r) => r.length > 0,
        WAIT_MS,
      );
      const expectedJobs = [
        'runwisp_live',
        ...(at - demoLastFailure < 600 ? ['runwisp'] : []),
      ].sort();
      assert.deepEqual(firing.map((s) => s.metric['job']).sort(), expectedJobs);
    });

    test('crewshipd: the failure-rate and spend-rate alerts fire once the snapshot grows between scrapes', async () => {
      const failureRate =
        'sum(rate(crewshipd_agent_run_events_total{event="failed"}[10m]))\n/\nsum(rate(crewshipd_agent_run_events_total{event="started"}[10m])) > 0.2';
      const fired = await p().waitFor(failureRate, (r) => r.length === 1, WAIT_MS);
      assert.ok(
        Math.abs(Number(fired[0]!.value[1]) - 0.5) < 1e-6,
        `failure rate ${fired[0]!.value[1]}`,
      );

      const spend = await p().waitFor(
        'sum(increase(crewshipd_llm_cost_usd_total[1h])) > 5',
        (r) => r.length === 1,
        WAIT_MS,
      );
      assert.ok(Number(spend[0]!.value[1]) > 5);
      assert.ok(
        crewshipdCalls >= 2,
        'the snapshot was re-read per scrape, not served from the 15 s cache',
      );
    });

    test("rm: the dashboard's job duration p95 returns a value per kind", async () => {
      const p95 =
        'histogram_quantile(0.95, sum by (le, kind) (rate(rm_job_duration_seconds_bucket[1h])))';
      const r = await p().waitFor(
        p95,
        (res) => res.length === 3 && res.every(isFiniteValue),
        WAIT_MS,
      );
      const byKind = Object.fromEntries(r.map((s) => [s.metric['kind'], Number(s.value[1])]));
      assert.deepEqual(Object.keys(byKind).sort(), ['backup', 'check', 'prune']);
      // Within the bucket each kind's new run fell into: backup 120 s (60–300], prune 900 s (300–1800], check 2 s (1–5].
      assert.ok(
        byKind['backup']! > 60 && byKind['backup']! <= 300,
        `backup p95 ${byKind['backup']}`,
      );
      assert.ok(byKind['prune']! > 300 && byKind['prune']! <= 1800, `prune p95 ${byKind['prune']}`);
      assert.ok(byKind['check']! > 1 && byKind['check']! <= 5, `check p95 ${byKind['check']}`);
    });
  });
}
