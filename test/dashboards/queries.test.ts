/**
 * Every dashboard query and every rule expression, run against two real Prometheus servers side by
 * side — Debian's 2.42 and the pinned 3.x — each scraping, every second, the same twelve targets:
 *
 *   job              what                                                     fed by
 *   <profile>-demo   createJobmeter({ profile }) on a loopback listener       the live demo (src/demo/live.ts)
 *   <profile>-app    examples/task-daemon, JOBMETER_PROFILE=<profile>          its own scheduled shell commands
 *
 * for the six profiles. Once every target has been scraped long enough for a 4 s rate window
 * (the `$__rate_interval` of 1 s scrapes), each panel's queries are interpolated as Grafana would
 * (scripts/dashboards/interpolate.ts: Job = that one job, Instance/Host = All, a "Last 5
 * minutes" range, so `$__interval` = 1 s, `$__rate_interval` = 4 s, `$__range` = 300s) and sent as
 * Grafana sends them (range queries for time series, instant queries for stat and table panels).
 *
 * Asserted per profile, per source (demo, app): every query is valid; a panel has data (a finite
 * value) unless the panel lists that source in `emptyFor`, and a panel that lists it really has
 * none (so the declarations stay honest); the Job / Instance variables list the job; every metric
 * a query or rule names is one Prometheus stored; every rule expression evaluates; every
 * recording rule has data; the otel alerts on queue wait, the oldest waiting job, missed
 * schedules and retries answer (thresholds as bool comparisons).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createJobmeter, type Jobmeter, type ProfileName } from '../../src/index.ts';
import {
  evaluatePanel,
  hasData,
  instantQuery,
  labelValues,
  type EvaluationContext,
} from '../../scripts/dashboards/evaluate.ts';
import { startExampleApp, type ExampleApp } from '../../scripts/dashboards/example-app.ts';
import { panelExpr } from '../../scripts/dashboards/grafana.ts';
import { startLiveDemo, type LiveDemo } from '../../src/demo/live.ts';
import { DASHBOARD_PROFILES, DASHBOARDS } from '../../scripts/dashboards/panels.ts';
import { answeringExpr, loadRules } from '../../scripts/dashboards/rules-file.ts';
import type { DataSource } from '../../scripts/dashboards/spec.ts';
import {
  PROMETHEUS_MAJORS,
  settled,
  startEachPrometheus,
  type PrometheusHandle,
  type PrometheusMajor,
} from '../support/prometheus.ts';

const SCRAPE_INTERVAL_SECONDS = 1;
/** Grafana's "Last 5 minutes". */
const RANGE_SECONDS = 300;
const SOURCES: readonly DataSource[] = ['demo', 'app'];
const jobOf = (profile: ProfileName, source: DataSource): string => `${profile}-${source}`;

const meters: Jobmeter[] = [];
const demos: LiveDemo[] = [];
const apps: ExampleApp[] = [];
let proms = new Map<PrometheusMajor, PrometheusHandle>();
const storedNames = new Map<PrometheusMajor, Set<string>>();

function p(major: PrometheusMajor): PrometheusHandle {
  const prom = proms.get(major);
  assert.ok(prom, `prometheus ${major} did not start (see before())`);
  return prom;
}

before(async () => {
  // The apps first: each is a node process with the preload, the slowest thing to start.
  const appStarts = DASHBOARD_PROFILES.map((profile) => startExampleApp({ profile }));
  const settled = await Promise.allSettled(appStarts);
  for (const s of settled) if (s.status === 'fulfilled') apps.push(s.value);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason;

  const jobs = [];
  for (const [i, profile] of DASHBOARD_PROFILES.entries()) {
    const jm = await createJobmeter({ profile, listener: { port: 0 }, hostname: 'demo-host' });
    meters.push(jm);
    demos.push(startLiveDemo(jm, profile, { tickMs: 250 }));
    jobs.push({ name: jobOf(profile, 'demo'), target: `127.0.0.1:${jm.pullAddress!.port}` });
    jobs.push({ name: jobOf(profile, 'app'), target: apps[i]!.target });
  }
  proms = await startEachPrometheus({ jobs, scrapeInterval: `${SCRAPE_INTERVAL_SECONDS}s` });
  for (const [major, prom] of proms) {
    await prom.waitForTargetsUp(30_000);
    // Six scrapes of every target: a 4 s rate window then always holds two samples with growth.
    await prom.waitFor('count_over_time(up[1m]) >= 6', (r) => r.length === jobs.length, 20_000);
    const names = await fetch(`${prom.url}/api/v1/label/__name__/values`).then(
      (r) => r.json() as Promise<{ data: string[] }>,
    );
    storedNames.set(major, new Set(names.data));
  }
});

after(async () => {
  for (const d of demos) d.stop();
  await Promise.allSettled([
    ...[...proms.values()].map((prom) => prom.stop()),
    ...meters.map((m) => m.shutdown()),
    ...apps.map((a) => a.stop()),
  ]);
});

/**
 * How long settled() asks a query again. Each server scrapes twelve targets every
 * second with a 1 s timeout; on a loaded 2-core machine one scrape can time out, and Prometheus
 * then marks that target's series stale until its next scrape: a query in between sees none.
 */
const SETTLE_MS = 10_000;

function context(profile: ProfileName, source: DataSource): EvaluationContext {
  return {
    scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
    rangeSeconds: RANGE_SECONDS,
    endSeconds: Date.now() / 1000,
    variables: { job: jobOf(profile, source) }, // instance, hostname: All
  };
}

/** Metric names a PromQL expression mentions (those of jobmeter's profiles and the process). */
function metricNames(expr: string): string[] {
  const re =
    /(?<![:\w])((?:runwisp|wasmrun_agent|crewshipd|rm|solti_runner|jobmeter|process|v8js|system)_[a-z0-9_]+)(?![\w(])/g;
  return [...new Set([...expr.matchAll(re)].map((m) => m[1]!))];
}

for (const major of PROMETHEUS_MAJORS) {
  test(`Prometheus ${major}: every target is up`, async () => {
    const targets = (await p(major).targets()).activeTargets;
    assert.equal(targets.length, DASHBOARD_PROFILES.length * 2);
    for (const t of targets) assert.equal(t.health, 'up', `${t.labels['job']}: ${t.lastError}`);
  });

  for (const profile of DASHBOARD_PROFILES) {
    const spec = DASHBOARDS[profile];

    test(`Prometheus ${major}: ${profile}: every metric the dashboard and rules name is stored`, () => {
      const exprs = [
        ...spec.panels.flatMap((panel) => panel.targets.map((t) => panelExpr(spec, t))),
      ];
      const { alerts, recordings } = loadRules(profile);
      exprs.push(
        ...alerts.map((a) => a.expr),
        ...recordings.map((r) => r.expr),
        ...spec.variables.map((v) => v.query),
      );
      const missing = [...new Set(exprs.flatMap(metricNames))].filter(
        (n) => !storedNames.get(major)!.has(n),
      );
      assert.deepEqual(missing, []);
    });

    for (const source of SOURCES) {
      test(`Prometheus ${major}: ${profile} (${source}): the variables list the job and its instance`, async () => {
        const ctx = context(profile, source);
        const names = spec.variables.map((v) => v.name);
        const [jobVar, instanceVar] = spec.variables;
        assert.ok(
          (await labelValues(p(major).url, jobVar!.query, ctx, names)).includes(
            jobOf(profile, source),
          ),
          jobVar!.query,
        );
        assert.equal(
          (await labelValues(p(major).url, instanceVar!.query, ctx, names)).length,
          1,
          instanceVar!.query,
        );
        for (const extra of spec.variables.slice(2)) {
          assert.ok(
            (await labelValues(p(major).url, extra.query, ctx, names)).length >= 1,
            extra.query,
          );
        }
      });

      test(`Prometheus ${major}: ${profile} (${source}): every panel's queries are valid and have data where expected`, async () => {
        const wrong: string[] = [];
        for (const panel of spec.panels) {
          const expected = !(panel.emptyFor ?? []).includes(source);
          // "No data" is asked again for a while: see settled() below. "Data where none is
          // declared" is no transient and fails at once.
          const r = await settled(
            () => evaluatePanel(p(major).url, spec, panel, context(profile, source)),
            (res) => !expected || hasData(res),
            SETTLE_MS,
          );
          if (hasData(r) !== expected) {
            wrong.push(
              `"${r.panel.title}": ${expected ? 'no data' : 'has data but is declared emptyFor'}\n  ${r.targets.map((t) => t.expr).join('\n  ')}`,
            );
          }
        }
        assert.deepEqual(wrong, []);
      });
    }

    test(`Prometheus ${major}: ${profile}: every rule expression evaluates; every recording rule has data`, async () => {
      const { alerts, recordings } = loadRules(profile);
      const now = Date.now() / 1000;
      for (const a of alerts) await instantQuery(p(major).url, a.expr, now);
      const empty: string[] = [];
      for (const r of recordings) {
        const result = await settled(
          () => instantQuery(p(major).url, r.expr, Date.now() / 1000),
          (res) => res.length > 0,
          SETTLE_MS,
        );
        if (result.length === 0) empty.push(r.record);
      }
      assert.deepEqual(empty, []);
    });
  }

  // What a run says before it ran, fed by the live demo through the domain API (recordRun's
  // enqueuedAt / scheduledAt / attempt, missedSchedule, addQueueSource): quiet on a healthy host,
  // so each alert must answer with its thresholds as bool comparisons, proving it reads series
  // that are served under these names.
  test(`Prometheus ${major}: otel: the queue-wait, oldest-job, missed-schedule and retry alerts answer`, async () => {
    const { alerts, recordings } = loadRules('otel');
    const timing = alerts
      .map((a) => [a.alert, answeringExpr(a.expr, recordings)] as const)
      .filter(([, expr]) =>
        /jobmeter_(queue_wait|queue_oldest_age|schedule_missed|run_attempts)_/.test(expr),
      );
    assert.deepEqual(timing.map(([alert]) => alert).sort(), [
      'JobmeterQueueOldestJobOld',
      'JobmeterQueueWaitHigh',
      'JobmeterRetryRatioHigh',
      'JobmeterScheduleMissed',
    ]);
    const empty: string[] = [];
    for (const [alert, expr] of timing) {
      const result = await settled(
        () => instantQuery(p(major).url, expr, Date.now() / 1000),
        (res) => res.length > 0,
        SETTLE_MS,
      );
      if (result.length === 0) empty.push(`${alert}: ${expr}`);
    }
    assert.deepEqual(empty, []);
  });
}

test("rm: the dashboard has the six panels restic-manager's document lists, in its words", () => {
  const titles = DASHBOARDS.rm.panels.map((p) => p.title);
  assert.deepEqual(titles, [
    'Fleet status',
    'Open alerts',
    'Backups failing',
    'Hosts',
    'Repo size over time',
    'Job duration p95 by kind',
  ]);
});
