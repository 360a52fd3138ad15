/**
 * jobmeter serve's own dashboard (scripts/dashboards/serve-panels.ts) and rules
 * (rules/serve.rules.yml), answered by two real Prometheus servers side by side — Debian's 2.42
 * and the pinned 3.x — each scraping, every second, a real `jobmeter serve` child:
 *
 *   job                what
 *   jobmeter           its [telemetry] listener: the families the dashboard and rules read
 *   jobmeter-metrics   its metrics route (so scrape durations are recorded)
 *
 * The serve has the ingest on behind a token, its state kept in a directory (checkpoints), and an
 * OTLP push to a local receiver; a loop sends it what an SRE's day holds: accepted requests,
 * requests with a wrong token (401), and requests with points it refuses (partial).
 *
 * Asserted per Prometheus: every metric a query or rule names is stored; the variables list the
 * job and its one instance; every panel's queries (interpolated and sent as Grafana does,
 * scripts/dashboards/evaluate.ts) are valid and have data; every recording rule has data, and
 * every alert's expression too with its thresholds as `bool` comparisons (a healthy serve fires
 * none, yet each must read series that exist).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import {
  evaluatePanel,
  hasData,
  instantQuery,
  labelValues,
  type EvaluationContext,
} from '../../scripts/dashboards/evaluate.ts';
import { panelExpr } from '../../scripts/dashboards/grafana.ts';
import { DASHBOARDS } from '../../scripts/dashboards/panels.ts';
import { answeringExpr, loadRules } from '../../scripts/dashboards/rules-file.ts';
import { SERVE_DASHBOARD as spec } from '../../scripts/dashboards/serve-panels.ts';
import { killChildren, start, START_MS, type Running } from '../cli/harness.ts';
import { freePort } from '../support/free-port.ts';
import {
  PROMETHEUS_MAJORS,
  settled,
  startEachPrometheus,
  type PrometheusHandle,
  type PrometheusMajor,
} from '../support/prometheus.ts';
import { tempFiles } from '../support/temp-files.ts';

const SCRAPE_INTERVAL_SECONDS = 1;
/** Grafana's "Last 5 minutes". */
const RANGE_SECONDS = 300;
const JOB = 'jobmeter';
const TOKEN = 'ingest-token-for-the-dashboard-test';
/** On a loaded 2-core machine one scrape may time out and mark a series stale until the next. */
const SETTLE_MS = 10_000;

const files = tempFiles('jobmeter-serve-dashboard-');
let stateDir: string;
let child: Running;
let receiver: Server;
let feeding: NodeJS.Timeout | undefined;
let proms = new Map<PrometheusMajor, PrometheusHandle>();
const storedNames = new Map<PrometheusMajor, Set<string>>();

function p(major: PrometheusMajor): PrometheusHandle {
  const prom = proms.get(major);
  assert.ok(prom, `prometheus ${major} did not start (see before())`);
  return prom;
}

/** One OTLP/JSON request: three gauge points kept, two Summary points refused (unsupported_type). */
function request(): string {
  const now = `${Date.now()}000000`;
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'daemon' } }] },
        scopeMetrics: [
          {
            scope: { name: 'daemon' },
            metrics: [
              {
                name: 'queue.depth',
                gauge: {
                  dataPoints: ['a', 'b', 'c'].map((q) => ({
                    asDouble: 1,
                    timeUnixNano: now,
                    attributes: [{ key: 'queue', value: { stringValue: q } }],
                  })),
                },
              },
              {
                name: 'latency',
                summary: {
                  dataPoints: [1, 2].map((i) => ({ count: String(i), sum: i, timeUnixNano: now })),
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

before(async () => {
  receiver = createServer((req, res) => {
    req
      .resume()
      .on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  stateDir = await mkdtemp(join(tmpdir(), 'jobmeter-serve-dashboard-state-'));
  const config = await files.file(
    'jobmeter.toml',
    [
      'profile = "otel"',
      '[listener]',
      'port = 0',
      '[ingest]',
      'enabled = true',
      // A port of its own: on port 0 serve keeps no state (no sender would find it again).
      `port = ${await freePort()}`,
      `token = "${TOKEN}"`,
      `state_dir = "${stateDir}"`,
      '[otlp]',
      `endpoint = "http://127.0.0.1:${(receiver.address() as { port: number }).port}/v1/metrics"`,
      'interval_ms = 1000',
      'timeout_ms = 500',
      '[telemetry]',
      'listen = "127.0.0.1:0"',
      '',
    ].join('\n'),
  );
  child = start(['serve', '--config', config]);
  const [, telemetryUrl] = await child.stderrMatches(
    /serving jobmeter's own telemetry on (http:\/\/\S+\/metrics)\n/,
    4 * START_MS,
  );
  const metricsUrl = new URL(/serving otel metrics on (http:\/\/\S+)\n/.exec(child.stderr())![1]!);
  const ingestUrl = /receiving OTLP\/HTTP metrics on (http:\/\/\S+)\n/.exec(child.stderr())![1]!;

  const send = (token: string): Promise<unknown> =>
    fetch(ingestUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: request(),
    }).then((r) => r.arrayBuffer());
  feeding = setInterval(
    () => void Promise.allSettled([send(TOKEN), send(TOKEN), send('not-the-token')]),
    300,
  );

  proms = await startEachPrometheus({
    jobs: [
      { name: JOB, target: new URL(telemetryUrl!).host },
      { name: `${JOB}-metrics`, target: metricsUrl.host, metricsPath: metricsUrl.pathname },
    ],
    scrapeInterval: `${SCRAPE_INTERVAL_SECONDS}s`,
  });
  for (const [major, prom] of proms) {
    await prom.waitForTargetsUp(30_000);
    // Six scrapes of each target, and the first checkpoint (written 5 s after the first point).
    await prom.waitFor('count_over_time(up[1m]) >= 6', (r) => r.length === 2, 30_000);
    await prom.waitFor(
      'jobmeter_ingest_checkpoint_last_success_timestamp_seconds',
      (r) => r.length === 1,
      30_000,
    );
    const names = await fetch(`${prom.url}/api/v1/label/__name__/values`).then(
      (r) => r.json() as Promise<{ data: string[] }>,
    );
    storedNames.set(major, new Set(names.data));
  }
});

after(async () => {
  clearInterval(feeding);
  await Promise.allSettled([...proms.values()].map((prom) => prom.stop()));
  child?.child.kill('SIGTERM');
  await child?.exited(15_000).catch(() => undefined);
  killChildren();
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) =>
    receiver === undefined ? resolve() : receiver.close(() => resolve()),
  );
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

const context = (): EvaluationContext => ({
  scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
  rangeSeconds: RANGE_SECONDS,
  endSeconds: Date.now() / 1000,
  variables: { job: JOB },
});

/** jobmeter's own metric names a PromQL expression mentions. */
const metricNames = (expr: string): string[] => [
  ...new Set([...expr.matchAll(/(?<![:\w])(jobmeter_[a-z0-9_]+)(?![\w(])/g)].map((m) => m[1]!)),
];

for (const major of PROMETHEUS_MAJORS) {
  test(`Prometheus ${major}: serve: every metric the dashboard and rules name is stored`, () => {
    const { alerts, recordings } = loadRules('serve');
    const exprs = [
      ...spec.panels.flatMap((panel) => panel.targets.map((t) => panelExpr(spec, t))),
      ...alerts.map((a) => a.expr),
      ...recordings.map((r) => r.expr),
      ...spec.variables.map((v) => v.query),
    ];
    const missing = [...new Set(exprs.flatMap(metricNames))].filter(
      (n) => !storedNames.get(major)!.has(n),
    );
    assert.deepEqual(missing, []);
  });

  test(`Prometheus ${major}: serve: the variables list the telemetry job and its instance, not the otel pull endpoint's`, async () => {
    const names = spec.variables.map((v) => v.name);
    const [jobVar, instanceVar] = spec.variables;
    // jobmeter-metrics serves jobmeter_build_info too: only the telemetry listener's job is serve's.
    assert.deepEqual(
      await labelValues(p(major).url, jobVar!.query, context(), names),
      [JOB],
      jobVar!.query,
    );
    assert.equal(
      (await labelValues(p(major).url, instanceVar!.query, context(), names)).length,
      1,
      instanceVar!.query,
    );
  });

  test(`Prometheus ${major}: the otel and semconv dashboards' job pickers list the pull endpoint's job, never serve's telemetry job`, async () => {
    for (const dashboard of [DASHBOARDS.otel, DASHBOARDS.semconv]) {
      const names = dashboard.variables.map((v) => v.name);
      const jobs = await labelValues(p(major).url, dashboard.variables[0]!.query, context(), names);
      // The pull endpoint serves the otel profile: semconv's picker may list it (the same
      // self-metrics), yet neither may offer the telemetry listener, whose families are serve's.
      assert.ok(!jobs.includes(JOB), `${dashboard.profile}: ${jobs.join(', ')}`);
      if (dashboard.profile === 'otel') assert.deepEqual(jobs, [`${JOB}-metrics`]);
    }
  });

  test(`Prometheus ${major}: serve: every panel's queries are valid and have data`, async () => {
    const empty: string[] = [];
    for (const panel of spec.panels) {
      const r = await settled(
        () => evaluatePanel(p(major).url, spec, panel, context()),
        hasData,
        SETTLE_MS,
      );
      if (!hasData(r))
        empty.push(`"${panel.title}": no data\n  ${r.targets.map((t) => t.expr).join('\n  ')}`);
    }
    assert.deepEqual(empty, []);
  });

  test(`Prometheus ${major}: serve: every rule answers: each recording rule, and each alert with its thresholds as bool comparisons, has data`, async () => {
    const { alerts, recordings } = loadRules('serve');
    const exprs = [
      ...recordings.map((r) => [r.record, r.expr] as const),
      ...alerts.map((a) => [a.alert, answeringExpr(a.expr, recordings)] as const),
    ];
    const empty: string[] = [];
    for (const [name, expr] of exprs) {
      const result = await settled(
        () => instantQuery(p(major).url, expr, Date.now() / 1000),
        (res) => res.length > 0,
        SETTLE_MS,
      );
      if (result.length === 0) empty.push(`${name}: ${expr}`);
    }
    assert.deepEqual(empty, []);
  });
}
