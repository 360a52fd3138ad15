/**
 * What `jobmeter serve` pushes equals what it serves on its pull endpoint, in every push — the
 * periodic ones and the last one at SIGTERM — under every naming: a real `serve` child with the
 * ingest on and `[otlp]` pushing through the real Collector, an official OTLP exporter pushing
 * cumulative counters and a histogram to the ingest, then stopping.
 *
 * The Collector's pipeline has two exporters: `otlp_http` to a loopback receiver with no queue (the
 * receiver answers before the Collector does, so it holds every push as the Collector got it, one
 * request per push), and `prometheus` as otel-collector.yaml configures it, which under profile
 * naming must serve the pull endpoint's series before serve's SIGTERM and after it.
 *
 * Under `naming = "profile"` (and the `otel` profile) each pushed point is compared with the pull
 * series of its name and labels, every series both ways. Under `naming = "canonical"` with a legacy
 * profile the pushed points are the canonical instruments, which the profile folds into fewer
 * series: there each instrument's pushed total is compared with its family's served total.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { parse as parseYaml } from 'yaml';
import { EXIT_MS, killChildren } from '../cli/harness.ts';
import { startCollector, type CollectorHandle } from '../support/collector.ts';
import { seriesKey } from '../support/exposition-parser.ts';
import { freePort } from '../support/free-port.ts';
import {
  startOtlpReceiver,
  type DecodedExport,
  type OtlpReceiver,
} from '../support/otlp-receiver.ts';
import { serveWithIngest } from '../support/serve.ts';
import { diffSeries, seriesTable, type SeriesTable } from '../support/series-diff.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-push-equals-pull-');
afterEach(killChildren);

const FILE_CONFIG = parseYaml(
  readFileSync(new URL('../../otel-collector.yaml', import.meta.url), 'utf8'),
) as { exporters: { prometheus: Record<string, unknown> } };
/** Labels the Collector's prometheus exporter puts on every series (from the resource). */
const EXPORTER_LABELS = ['job', 'instance'];
/** serve's push interval: several periodic pushes fit after the sender stops. */
const PUSH_MS = 400;
const WAIT_MS = 30_000;

interface Case {
  readonly profile: 'solti' | 'rm' | 'runwisp' | 'otel';
  /** `[otlp] naming`; absent: the default (profile for a legacy profile, canonical for otel). */
  readonly naming?: 'profile' | 'canonical';
}

const CASES: readonly Case[] = [
  { profile: 'solti' },
  { profile: 'rm' },
  { profile: 'runwisp' },
  { profile: 'solti', naming: 'canonical' },
  { profile: 'otel' },
];

/** The families a legacy profile serves the sender's canonical instruments under (canonical pushes). */
const FAMILY_OF: Record<string, Record<string, string>> = {
  solti: {
    'jobmeter.run.started': 'solti_runner_tasks_started_total',
    'jobmeter.run.finished': 'solti_runner_tasks_completed_total',
    'jobmeter.runner.error': 'solti_runner_errors_total',
    'jobmeter.run.duration': 'solti_runner_task_duration_seconds_count',
  },
};

/** The otel profile's pull name of each instrument the sender records (its canonical push's name). */
const OTEL_NAME: Record<string, string> = {
  'jobmeter.run.started': 'jobmeter_run_started_total',
  'jobmeter.run.finished': 'jobmeter_run_finished_total',
  'jobmeter.runner.error': 'jobmeter_runner_error_total',
  'jobmeter.run.history': 'jobmeter_run_history_total',
  'jobmeter.run.duration': 'jobmeter_run_duration_seconds',
};

/**
 * A daemon's official SDK: cumulative counters and a histogram over four tasks that every legacy
 * profile folds into one series, exported every 150 ms for about two seconds, then once more at
 * shutdown.
 */
async function sendFor(url: string, profile: Case['profile']): Promise<void> {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': `${profile}-daemon`,
      'service.instance.id': 'daemon-1',
    }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url }),
        exportIntervalMillis: 150,
      }),
    ],
  });
  const meter = provider.getMeter('daemon', '1.0.0');
  const started = meter.createCounter('jobmeter.run.started', { unit: '{run}' });
  const finished = meter.createCounter('jobmeter.run.finished', { unit: '{run}' });
  const history = meter.createCounter('jobmeter.run.history', { unit: '{run}' });
  const errors = meter.createCounter('jobmeter.runner.error', { unit: '{error}' });
  const duration = meter.createHistogram('jobmeter.run.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  });
  // rm and runwisp close `kind` to their own words.
  const kind = profile === 'rm' ? 'backup' : 'task';
  for (let tick = 0; tick < 12; tick++) {
    for (const task of ['t0', 't1', 't2', 't3']) {
      const run = { task, kind, runner: 'wasm' };
      started.add(1, run);
      finished.add(1, { ...run, outcome: tick % 3 === 0 ? 'success' : 'cancelled' });
      history.add(1, { outcome: tick % 3 === 0 ? 'success' : 'cancelled' });
      duration.record(0.02 * (tick + 1), { ...run, outcome: 'success' });
    }
    if (tick % 4 === 0) errors.add(1, { runner: 'wasm', error: 'spawn_failed' });
    await new Promise((resolve) => setTimeout(resolve, 170));
  }
  await provider.shutdown();
}

/**
 * A push's points as series: the pull's sample names and labels (a histogram's as its `_bucket`,
 * `_sum`, `_count`); `scoped`: with the scope as the otel profile's labels.
 */
function pushedSeries(
  push: DecodedExport,
  rename: (name: string) => string,
  scoped: boolean,
): SeriesTable {
  const versions = new Map<string, string>();
  for (const rm of push.body.resourceMetrics ?? [])
    for (const sm of rm.scopeMetrics ?? [])
      versions.set(sm.scope?.name ?? '', sm.scope?.version ?? '');
  const values = new Map<string, number>();
  const set = (name: string, labels: Array<[string, string]>, value: number): void => {
    const key = seriesKey(name, labels);
    assert.ok(!values.has(key), `${key} pushed twice in one export`);
    values.set(key, value);
  };
  for (const m of push.metrics) {
    const name = rename(m.name);
    for (const p of m.points) {
      const labels = Object.entries(p.attributes)
        .map(([k, v]) => [k, String(v)] as [string, string])
        .filter(([, v]) => v !== '');
      if (scoped)
        labels.push(
          ['otel_scope_name', m.scope],
          ['otel_scope_version', versions.get(m.scope) ?? ''],
        );
      if (m.kind !== 'histogram') {
        set(name, labels, p.value!);
        continue;
      }
      let cumulative = 0;
      p.bucketCounts!.forEach((c, i) => {
        cumulative += c;
        const le = i < p.explicitBounds!.length ? String(p.explicitBounds![i]) : 'Infinity';
        set(`${name}_bucket`, [...labels, ['le', le]], cumulative);
      });
      set(`${name}_sum`, labels, p.sum!);
      set(`${name}_count`, labels, p.count!);
    }
  }
  return { values, types: new Map(), families: new Map() };
}

/** The sum of the values of every series of `name` (a histogram family's `_count`). */
function totalOf(table: SeriesTable, name: string): number {
  let total = 0;
  for (const [key, value] of table.values)
    if ((JSON.parse(key) as [string])[0] === name) total += value;
  return total;
}

/** The part of `table` whose sample names `keep` says to keep. */
function only(table: SeriesTable, keep: (name: string) => boolean): SeriesTable {
  const values = new Map<string, number>();
  for (const [key, value] of table.values)
    if (keep((JSON.parse(key) as [string])[0])) values.set(key, value);
  return { values, types: new Map(), families: new Map() };
}

/** A scrape of `url` as series (in the format it answers: runwisp's is OpenMetrics only). */
async function scrape(url: string, dropLabels: readonly string[] = []): Promise<SeriesTable> {
  const res = await fetch(url, {
    headers: { accept: 'text/plain;version=0.0.4' },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, url);
  const format = res.headers.get('content-type')!.startsWith('application/openmetrics-text')
    ? 'openmetrics'
    : 'text';
  return seriesTable(await res.text(), { format, dropLabels, dropFamilies: ['target_info'] });
}

/**
 * A real Collector forwarding to `receiver` and serving what it got; its own, so no case sees
 * another's series.
 */
function collectorFor(receiver: OtlpReceiver): Promise<CollectorHandle<'otlp' | 'prom'>> {
  return startCollector({
    ports: ['otlp', 'prom'],
    config: (p) => ({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
      exporters: {
        // No queue and no retry: each push is forwarded, as received, before it is answered.
        otlp_http: {
          metrics_endpoint: receiver.url,
          compression: 'none',
          sending_queue: { enabled: false },
          retry_on_failure: { enabled: false },
        },
        prometheus: { ...FILE_CONFIG.exporters.prometheus, endpoint: `127.0.0.1:${p.prom}` },
      },
      service: {
        pipelines: { metrics: { receivers: ['otlp'], exporters: ['otlp_http', 'prometheus'] } },
      },
    }),
  });
}

describe('serve pushes what it serves: every push, the one at SIGTERM too', () => {
  let receiver: OtlpReceiver;
  let collector: CollectorHandle<'otlp' | 'prom'> | undefined;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
  });
  after(async () => {
    await receiver?.close();
  });

  for (const c of CASES) {
    const label = `${c.profile}, naming ${c.naming ?? 'by default'}`;
    it(label, async () => {
      receiver.requests.length = 0;
      const peer = (collector = await collectorFor(receiver));
      const name = `${c.profile}-${c.naming ?? 'default'}`;
      // A fixed ingest port, so serve keeps the ingest's state (a checkpoint written at SIGTERM).
      const { child, ingestPort, pullPort } = await serveWithIngest(files, {
        ingestPort: await freePort(),
        lines: [
          `state_dir = "${join(files.dir, `state-${name}`)}"`,
          '[otlp]',
          `endpoint = "http://127.0.0.1:${peer.ports.otlp}/v1/metrics"`,
          `interval_ms = ${PUSH_MS}`,
          ...(c.naming === undefined ? [] : [`naming = "${c.naming}"`]),
          // The profile's metrics route on a loopback listener of its own, open (rm's gates one
          // that is not, runwisp's is off unless asked for).
          '[metrics]',
          'enabled = true',
          'listen = "127.0.0.1:0"',
        ],
        args: ['--profile', c.profile],
      });
      await sendFor(`http://127.0.0.1:${ingestPort}/v1/metrics`, c.profile);
      // The sender's last export is in: a push collected from now on carries it.
      const settled = receiver.requests.length + 1;
      await receiver.waitForRequests(settled + 2, WAIT_MS);
      const pulled = await scrape(`http://127.0.0.1:${pullPort}/metrics`);
      const reexposed = (): Promise<SeriesTable> =>
        scrape(`http://127.0.0.1:${peer.ports.prom}/metrics`, EXPORTER_LABELS);
      // Periodic pushes after a scrape, then the one at SIGTERM.
      await receiver.waitForRequests(receiver.requests.length + 2, WAIT_MS);
      const beforeTerm = await reexposed();
      const periodic = receiver.requests.length;
      child.child.kill('SIGTERM');
      assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
      assert.ok(receiver.requests.length > periodic, 'no push at shutdown');
      const afterExit = await reexposed();

      const pushes = receiver.requests.slice(settled);
      assert.ok(pushes.length >= 3, `${pushes.length} pushes to compare`);
      const canonicalLegacy = c.naming === 'canonical' && c.profile !== 'otel';
      if (canonicalLegacy) {
        const families = FAMILY_OF[c.profile]!;
        for (const [i, push] of pushes.entries()) {
          const pushed = pushedSeries(push, (n) => n, true);
          for (const [instrument, family] of Object.entries(families)) {
            const served = totalOf(pulled, family);
            assert.ok(served > 0, `${family} is served`);
            const sent =
              instrument === 'jobmeter.run.duration'
                ? totalOf(pushed, `${instrument}_count`)
                : totalOf(pushed, instrument);
            assert.equal(
              sent,
              served,
              `push ${i + 1} of ${pushes.length}${i === pushes.length - 1 ? ' (at shutdown)' : ''}: ${instrument} pushed ${sent}, ${family} served ${served}`,
            );
          }
        }
        return;
      }
      const otel = c.profile === 'otel';
      const sent = new Set(Object.values(OTEL_NAME));
      const keep = otel
        ? (n: string) => sent.has(n.replace(/_(bucket|sum|count)$/, ''))
        : () => true;
      const served = only(pulled, keep);
      assert.ok(served.values.size > 0, 'the pull serves the sender series');
      for (const [i, push] of pushes.entries()) {
        const pushed = only(
          pushedSeries(push, (n) => (otel ? (OTEL_NAME[n] ?? n) : n), otel),
          keep,
        );
        const diff = diffSeries(served, pushed);
        assert.deepEqual(
          diff,
          { onlyLeft: [], onlyRight: [], values: [], types: [] },
          `push ${i + 1} of ${pushes.length}${i === pushes.length - 1 ? ' (at shutdown)' : ''}: pull (left) vs push (right)`,
        );
      }
      if (!otel) {
        // The Collector serves what serve served, before serve's SIGTERM and after it (its
        // prometheus exporter renames canonical names: the otel profile's are held by the pushes).
        for (const [when, table] of [
          ['before SIGTERM', beforeTerm],
          ['after exit', afterExit],
        ] as const)
          assert.deepEqual(
            diffSeries(served, table),
            { onlyLeft: [], onlyRight: [], values: [], types: [] },
            `Collector ${when}: pull (left) vs Collector (right)`,
          );
      }
    });
  }
});
