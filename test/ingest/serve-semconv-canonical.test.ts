/**
 * `jobmeter serve --profile semconv` with its ingest on, fed by a daemon that does what
 * docs/serve.md tells a Go or Rust daemon to do: record the canonical instruments
 * (docs/collector.md "Canonical instruments for foreign SDKs", with the buckets listed there) on
 * its own OpenTelemetry SDK and push them. The profile's series must come out as for an embedded
 * host: the CI/CD conventions' instruments (cicd.pipeline.run.*, cicd.system.errors) derived from
 * the canonical ones on ingest, as the legacy profiles derive theirs.
 *
 * The oracle is an embedded host (createJobmeter, profile semconv) recording the same runs through
 * the domain API: the serve child's cicd_* series equal its series, by name, type, labels and
 * value. Two differences are the senders' own and are allowed: the scope labels (an ingested
 * series keeps its sender's scope), and a histogram's bucket layout (the sender's bounds are kept,
 * docs/collector.md; the embedded host's instrument has every source's bounds), so an ingested
 * series has fewer `le` buckets, each with the embedded one's value at that bound.
 *
 * And the semconv dashboard (scripts/dashboards/panels.ts) and rules (rules/semconv.rules.yml),
 * answered by a real Prometheus (Debian's 2.42) scraping the serve child every second while
 * the daemon keeps running jobs: every panel's queries have data, every recording rule too.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import {
  evaluatePanel,
  hasData,
  instantQuery,
  type EvaluationContext,
} from '../../scripts/dashboards/evaluate.ts';
import { DASHBOARDS } from '../../scripts/dashboards/panels.ts';
import { loadRules } from '../../scripts/dashboards/rules-file.ts';
import { DEFAULT_RUN_DURATION_BUCKETS, WAIT_BUCKETS } from '../../src/domain/catalog.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { killChildren } from '../cli/harness.ts';
import { settled, startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';
import { serveWithIngest, type Serving } from '../support/serve.ts';
import { seriesTable } from '../support/series-diff.ts';
import { tempFiles } from '../support/temp-files.ts';

const SCRAPE_INTERVAL_SECONDS = 1;
/** Grafana's "Last 5 minutes". */
const RANGE_SECONDS = 300;
const JOB = 'semconv-ingest';
/** On a loaded 2-core machine one scrape may time out and mark a series stale until the next. */
const SETTLE_MS = 20_000;

const files = tempFiles('jobmeter-semconv-ingest-');
let serve: Serving;
let embedded: Jobmeter;
let daemon: ReturnType<typeof goDaemon>;
let feeding: NodeJS.Timeout | undefined;
let prom: PrometheusHandle | undefined;

/**
 * A daemon's own SDK recording the canonical instruments as docs/collector.md lists them (names,
 * kinds, units, attributes, explicit buckets), pushed as the Go SDK does (protobuf, cumulative).
 */
function goDaemon(url: string) {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'go-daemon' }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url }),
        exportIntervalMillis: 1000,
      }),
    ],
  });
  const meter = provider.getMeter('go-daemon', '1.4.2');
  const started = meter.createCounter('jobmeter.run.started', { unit: '{run}' });
  const finished = meter.createCounter('jobmeter.run.finished', { unit: '{run}' });
  const duration = meter.createHistogram('jobmeter.run.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [...DEFAULT_RUN_DURATION_BUCKETS] },
  });
  const active = meter.createUpDownCounter('jobmeter.run.active', { unit: '{run}' });
  const wait = meter.createHistogram('jobmeter.queue.wait', {
    unit: 's',
    advice: { explicitBucketBoundaries: [...WAIT_BUCKETS] },
  });
  const errors = meter.createCounter('jobmeter.runner.error', { unit: '{error}' });
  // The process panels read the daemon's process figures: serve records none of its own here.
  meter.createObservableCounter('process.cpu.time', { unit: 's' }).addCallback((r) => {
    const { user, system } = process.cpuUsage();
    r.observe(user / 1e6, { 'cpu.mode': 'user' });
    r.observe(system / 1e6, { 'cpu.mode': 'system' });
  });
  meter
    .createObservableUpDownCounter('process.memory.usage', { unit: 'By' })
    .addCallback((r) => r.observe(process.memoryUsage().rss));
  meter
    .createObservableGauge('v8js.memory.heap.used', { unit: 'By' })
    .addCallback((r) =>
      r.observe(process.memoryUsage().heapUsed, { 'v8js.heap.space.name': 'new_space' }),
    );
  return {
    provider,
    start(attrs: Attrs, waitSeconds?: number) {
      started.add(1, attrs);
      active.add(1, attrs);
      if (waitSeconds !== undefined) wait.record(waitSeconds, attrs);
    },
    finish(attrs: Attrs, outcome: string, seconds: number) {
      active.add(-1, attrs);
      finished.add(1, { ...attrs, outcome });
      duration.record(seconds, { ...attrs, outcome });
    },
    recordRun(attrs: Attrs, outcome: string, seconds: number, waitSeconds?: number) {
      started.add(1, attrs);
      if (waitSeconds !== undefined) wait.record(waitSeconds, attrs);
      finished.add(1, { ...attrs, outcome });
      duration.record(seconds, { ...attrs, outcome });
    },
    error(runner: string, error: string) {
      errors.add(1, { runner, error });
    },
  };
}

type Attrs = { readonly task: string; readonly kind: string; readonly runner: string };
const BUILD: Attrs = { task: 'build', kind: 'task', runner: 'subprocess' };
const LINT: Attrs = { task: 'lint', kind: 'task', runner: 'container' };
/** Runs of one task under two kinds: one convention series (a run's kind is no attribute of it). */
const LINT_SERVICE: Attrs = { task: 'lint', kind: 'service', runner: 'container' };
const DEPLOY: Attrs = { task: 'deploy', kind: 'task', runner: 'subprocess' };

/** One round of the same runs, on the daemon and on the embedded host. */
let round = 0;
function runRound(): void {
  round++;
  const enqueuedAt = 1_700_000_000_000 + round * 60_000;
  const outcomes = ['success', 'failure', 'cancelled', 'timeout'] as const;
  const outcome = outcomes[round % outcomes.length]!;
  const seconds = [0.25, 40, 1, 30][round % 4]!;
  daemon.recordRun(BUILD, outcome, seconds, 4);
  embedded.recordRun({
    ...BUILD,
    outcome,
    durationSeconds: seconds,
    enqueuedAt,
    startedAt: enqueuedAt + 4000,
  });
  daemon.recordRun(LINT, 'success', 2);
  embedded.recordRun({ ...LINT, outcome: 'success', durationSeconds: 2 });
  daemon.recordRun(LINT_SERVICE, 'failure', 7);
  embedded.recordRun({ ...LINT_SERVICE, outcome: 'failure', durationSeconds: 7 });
  // A run in flight that finishes: its active series goes 1, then 0.
  daemon.start(DEPLOY);
  const handle = embedded.startRun(DEPLOY);
  daemon.finish(DEPLOY, 'success', 12);
  handle.finish('success', { durationSeconds: 12 });
  if (round % 2 === 0) {
    daemon.error('subprocess', 'spawn_failed');
    embedded.runnerError('subprocess', 'spawn_failed');
  }
}

before(async () => {
  serve = await serveWithIngest(files, { args: ['--profile', 'semconv'] });
  embedded = await createJobmeter({
    profile: 'semconv',
    listener: { port: 0 },
    processMetrics: false,
    global: false,
  });
  daemon = goDaemon(`http://127.0.0.1:${serve.ingestPort}/v1/metrics`);
  // One run stays in flight on both for the whole test.
  daemon.start(LINT);
  embedded.startRun(LINT);
  runRound();
  feeding = setInterval(runRound, 700);
  prom = await startPrometheus({
    jobs: [{ name: JOB, target: `127.0.0.1:${serve.pullPort}` }],
    scrapeInterval: `${SCRAPE_INTERVAL_SECONDS}s`,
  });
  await prom.waitForTargetsUp(60_000);
  await prom.waitFor('count_over_time(up[1m]) >= 8', (r) => r.length === 1, 60_000);
});

afterEach(() => {
  if (serve?.child.child.exitCode !== null) killChildren();
});

after(async () => {
  clearInterval(feeding);
  await prom?.stop();
  await daemon?.provider.shutdown().catch(() => undefined);
  await embedded?.shutdown();
  killChildren();
});

const context = (): EvaluationContext => ({
  scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
  rangeSeconds: RANGE_SECONDS,
  endSeconds: Date.now() / 1000,
  variables: { job: JOB },
});

const spec = DASHBOARDS.semconv;

test('every panel of the semconv dashboard has data from the ingested daemon', async () => {
  const url = prom!.url;
  const empty: string[] = [];
  for (const panel of spec.panels) {
    const r = await settled(() => evaluatePanel(url, spec, panel, context()), hasData, SETTLE_MS);
    if (!hasData(r))
      empty.push(`"${panel.title}": no data\n  ${r.targets.map((t) => t.expr).join('\n  ')}`);
  }
  assert.deepEqual(empty, []);
});

test('every recording rule of semconv.rules.yml has data', async () => {
  const url = prom!.url;
  const empty: string[] = [];
  for (const r of loadRules('semconv').recordings) {
    const result = await settled(
      () => instantQuery(url, r.expr, Date.now() / 1000),
      (res) => res.some((s) => s.values.some(([, v]) => Number.isFinite(v))),
      SETTLE_MS,
    );
    if (!result.some((s) => s.values.some(([, v]) => Number.isFinite(v))))
      empty.push(`${r.record}: ${r.expr}`);
  }
  assert.deepEqual(empty, []);
});

/** The cicd_* series of a pull endpoint, in text 0.0.4, without the scope labels. */
async function conventionSeries(port: number | string) {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: { accept: 'text/plain;version=0.0.4' },
  }).then((r) => r.text());
  const table = seriesTable(text, { dropLabels: ['otel_scope_name', 'otel_scope_version'] });
  // Families and types are keyed by name, values by seriesKey: the JSON of [name, labels].
  const runs = [...table.families.keys()].filter((f) => f.startsWith('jobmeter_run'));
  const pick = <V>(m: Map<string, V>, name: (key: string) => string = (k) => k) =>
    new Map(
      [...m].filter(([k]) => name(k).startsWith('cicd_')).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  return {
    runs,
    values: pick(table.values, (k) => (JSON.parse(k) as [string])[0]),
    types: pick(table.types),
    families: pick(table.families),
  };
}

test('the ingested canonical instruments serve the cicd_* series an embedded host serves for the same runs', async () => {
  clearInterval(feeding);
  feeding = undefined;
  // Everything recorded is in the daemon's last export, and the serve child has taken it.
  await daemon.provider.forceFlush();
  const ingested = await conventionSeries(serve.pullPort);
  const oracle = await conventionSeries(embedded.pullAddress!.port);

  assert.ok(oracle.values.size > 0, 'the embedded host serves cicd_* series');
  assert.deepEqual([...ingested.families.keys()], [...oracle.families.keys()], 'the families');
  assert.deepEqual([...ingested.families], [...oracle.families], 'their units');
  assert.deepEqual([...ingested.types], [...oracle.types], 'the sample names and their types');
  // What the convention replaces is not served (jobmeter_run_finished_total...); what it keeps is.
  assert.deepEqual(ingested.runs.sort(), oracle.runs.sort(), "jobmeter's run families");

  // Every ingested series is the embedded host's, with its value.
  const differ: string[] = [];
  for (const [key, value] of ingested.values) {
    const want = oracle.values.get(key);
    if (want !== value) differ.push(`${key}: ingested ${value}, embedded ${want ?? 'none'}`);
  }
  // Every embedded series is served, but the buckets at bounds the daemon does not send (the
  // executing state's are the run duration's, the pending state's the queue wait's).
  for (const key of oracle.values.keys()) {
    if (ingested.values.has(key)) continue;
    const [name, labels] = JSON.parse(key) as [string, [string, string][]];
    const label = (k: string) => labels.find(([l]) => l === k)?.[1];
    const sent =
      label('cicd_pipeline_run_state') === 'pending' ? WAIT_BUCKETS : DEFAULT_RUN_DURATION_BUCKETS;
    const le = label('le');
    if (
      name.endsWith('_bucket') &&
      le !== undefined &&
      !sent.map(String).includes(le) &&
      le !== 'Infinity'
    )
      continue;
    differ.push(`${key}: embedded ${oracle.values.get(key)}, not served by the ingest`);
  }
  assert.deepEqual(differ, []);
});
