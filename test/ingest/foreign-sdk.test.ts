/**
 * The foreign-SDK scenario: real OpenTelemetry SDK MeterProviders with the official OTLP/HTTP
 * exporters — standing in for the Go and Rust daemons — push the documented canonical instruments
 * to jobmeter's ingest listener; the pull endpoint then serves the profile's series, checked by
 * real Prometheus servers (2.42 and the pinned 3.x), and they equal what an embedded Node host
 * recording the same runs serves.
 *
 * One sender uses protobuf and cumulative temporality (the Go SDK's defaults), the other JSON and
 * delta temporality, under another resource (they are merged: one jobmeter, one target).
 *
 * Until `jobmeter serve` wires ingest (see the patch in the ingest report), the pieces are
 * composed here as createJobmeter will: the store as a metricProducer, the listener beside it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  OTLPMetricExporter as JsonExporter,
  AggregationTemporalityPreference,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { DEFAULT_RUN_DURATION_BUCKETS } from '../../src/domain/catalog.ts';
import { startIngestListener, type IngestListener } from '../../src/ingest/ingest-listener.ts';
import { resolveIngest } from '../../src/resolve-options.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { profile as soltiProfile } from '../../src/naming/profiles/solti.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import {
  PROMETHEUS_MAJORS,
  startEachPrometheus,
  type PrometheusHandle,
  type PrometheusMajor,
} from '../support/prometheus.ts';

/** A foreign daemon: its own SDK, the canonical names, an explicit bucket layout. */
function foreignDaemon(serviceName: string, exporter: PushMetricExporter) {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
  });
  const meter = provider.getMeter(serviceName, '1.4.2');
  const started = meter.createCounter('jobmeter.run.started', { unit: '{run}' });
  const finished = meter.createCounter('jobmeter.run.finished', { unit: '{run}' });
  const duration = meter.createHistogram('jobmeter.run.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [...DEFAULT_RUN_DURATION_BUCKETS] },
  });
  const errors = meter.createCounter('jobmeter.runner.error', { unit: '{error}' });
  return {
    provider,
    run(
      task: string,
      runner: string,
      outcome: string,
      seconds: number,
      extra: Record<string, string> = {},
    ) {
      const attrs = { task, kind: 'task', runner, ...extra };
      started.add(1, attrs);
      finished.add(1, { ...attrs, outcome });
      duration.record(seconds, { ...attrs, outcome });
    },
    error(runner: string, error: string) {
      errors.add(1, { runner, error });
    },
  };
}

const TRICKY_ERROR = 'spawn "sh" failed\nretry';

let store: IngestStore;
let ingest: IngestListener;
let served: Jobmeter;
let servedWasmrun: Jobmeter;
let embedded: Jobmeter;
let embeddedWasmrun: Jobmeter;
let proms = new Map<PrometheusMajor, PrometheusHandle>();

before(async () => {
  // As `jobmeter serve` builds it for solti: solti's closed vocabularies refuse what its embedded host drops.
  store = new IngestStore({ vocabularies: soltiProfile.vocabularies! });
  ingest = await startIngestListener({ sink: store, ...resolveIngest({ port: 0 }) });
  const url = `http://127.0.0.1:${ingest.address.port}/v1/metrics`;
  served = await createJobmeter({
    profile: 'solti',
    listener: { port: 0 },
    processMetrics: false,
    metricProducers: [store],
  });
  servedWasmrun = await createJobmeter({
    profile: 'wasmrun',
    listener: false,
    processMetrics: false,
    metricProducers: [store],
  });

  // "Go": protobuf, cumulative; sends an undeclared attribute, which is dropped as on a Node host.
  const go = foreignDaemon('go-daemon', new ProtobufExporter({ url }));
  // "Rust": JSON, delta, a second resource.
  const rust = foreignDaemon(
    'rust-daemon',
    new JsonExporter({ url, temporalityPreference: AggregationTemporalityPreference.DELTA }),
  );

  go.run('backup', 'subprocess', 'success', 0.25, { 'job.id': 'j-1' });
  go.run('backup', 'subprocess', 'success', 0.5, { 'job.id': 'j-2' });
  go.run('backup', 'subprocess', 'failure', 40);
  go.error('subprocess', 'spawn_failed');
  // Outside solti's RunnerErrorKind: refused by the store, as the embedded host drops it.
  go.error('subprocess', TRICKY_ERROR);
  rust.run('lint', 'container', 'success', 2);
  await go.provider.forceFlush();
  await rust.provider.forceFlush();
  // Second exports: cumulative totals from go, a new delta from rust.
  go.run('backup', 'subprocess', 'cancelled', 1);
  rust.run('lint', 'container', 'success', 2);
  rust.run('lint', 'container', 'timeout', 30);
  await go.provider.forceFlush();
  await rust.provider.forceFlush();
  await go.provider.shutdown();
  await rust.provider.shutdown();

  // The same runs, recorded by an embedded Node host.
  embedded = await createJobmeter({ profile: 'solti', listener: false, processMetrics: false });
  embeddedWasmrun = await createJobmeter({
    profile: 'wasmrun',
    listener: false,
    processMetrics: false,
  });
  for (const jm of [embedded, embeddedWasmrun]) {
    jm.recordRun({
      task: 'backup',
      kind: 'task',
      runner: 'subprocess',
      outcome: 'success',
      durationSeconds: 0.25,
    });
    jm.recordRun({
      task: 'backup',
      kind: 'task',
      runner: 'subprocess',
      outcome: 'success',
      durationSeconds: 0.5,
    });
    jm.recordRun({
      task: 'backup',
      kind: 'task',
      runner: 'subprocess',
      outcome: 'failure',
      durationSeconds: 40,
    });
    jm.runnerError('subprocess', 'spawn_failed');
    jm.runnerError('subprocess', TRICKY_ERROR);
    jm.recordRun({
      task: 'lint',
      kind: 'task',
      runner: 'container',
      outcome: 'success',
      durationSeconds: 2,
    });
    jm.recordRun({
      task: 'backup',
      kind: 'task',
      runner: 'subprocess',
      outcome: 'cancelled',
      durationSeconds: 1,
    });
    jm.recordRun({
      task: 'lint',
      kind: 'task',
      runner: 'container',
      outcome: 'success',
      durationSeconds: 2,
    });
    jm.recordRun({
      task: 'lint',
      kind: 'task',
      runner: 'container',
      outcome: 'timeout',
      durationSeconds: 30,
    });
  }

  proms = await startEachPrometheus({
    jobs: [{ name: 'ingest', target: `127.0.0.1:${served.pullAddress!.port}` }],
    scrapeInterval: '1s',
  });
  for (const prom of proms.values()) {
    await prom.waitForTargetsUp(60_000);
    await prom.waitFor(
      'count(solti_runner_tasks_completed_total)',
      (r) => r.length > 0 && Number(r[0]!.value[1]) >= 4,
      30_000,
    );
  }
});

after(async () => {
  await Promise.allSettled([...proms.values()].map((prom) => prom.stop()));
  for (const jm of [served, servedWasmrun, embedded, embeddedWasmrun]) await jm?.shutdown();
  await ingest?.close();
});

type Families = Awaited<ReturnType<Jobmeter['scrape']>>;

/**
 * Families with their series in label order. Within a family, series come in order of first
 * appearance, and ingested ones are grouped by sender scope, so the order may differ from an
 * embedded host's; names, types, help, labels and values may not.
 */
function normalized(families: Families) {
  return families.map((f) => ({
    name: f.name,
    type: f.type,
    help: f.help,
    unit: f.unit,
    series: [...f.series].sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0)),
  }));
}

test('the pull side serves exactly what an embedded host serves (solti: every family)', async () => {
  const ingested = normalized(await served.scrape());
  assert.deepEqual(
    ingested.map((f) => f.name),
    [
      'solti_runner_errors_total',
      'solti_runner_task_duration_seconds',
      'solti_runner_tasks_completed_total',
      'solti_runner_tasks_started_total',
    ],
  );
  assert.deepEqual(ingested, normalized(await embedded.scrape()));
});

test('the same ingested data under another profile (wasmrun: the run families)', async () => {
  const pick = (families: Families) =>
    normalized(
      families.filter((f) =>
        [
          'wasmrun_agent_exec_total',
          'wasmrun_agent_exec_duration_ms_sum',
          'wasmrun_agent_exec_duration_ms_count',
        ].includes(f.name),
      ),
    );
  const ingested = pick(await servedWasmrun.scrape());
  assert.equal(ingested.length, 3);
  assert.deepEqual(ingested, pick(await embeddedWasmrun.scrape()));
});

for (const major of PROMETHEUS_MAJORS) {
  test(`Prometheus ${major} stores the profile series with the right values`, async () => {
    const prom = proms.get(major)!;
    const completed = await prom.query('solti_runner_tasks_completed_total{job="ingest"}');
    const byLabels = Object.fromEntries(
      completed.map((s) => [`${s.metric.runner}|${s.metric.outcome}`, Number(s.value[1])]),
    );
    assert.deepEqual(byLabels, {
      'subprocess|success': 2,
      'subprocess|failure': 1,
      'subprocess|canceled': 1,
      'container|success': 2,
      'container|timeout': 1,
    });
    for (const s of completed)
      assert.deepEqual(
        Object.keys(s.metric).sort(),
        ['__name__', 'instance', 'job', 'outcome', 'runner'],
        'no job_id, task or kind label',
      );

    const started = await prom.query('sum(solti_runner_tasks_started_total{job="ingest"})');
    assert.equal(Number(started[0]!.value[1]), 7);

    const count = await prom.query('sum(solti_runner_task_duration_seconds_count{job="ingest"})');
    assert.equal(Number(count[0]!.value[1]), 7);
    const le = await prom.query(
      'sum(solti_runner_task_duration_seconds_bucket{job="ingest",le="2.5"})',
    );
    assert.equal(Number(le[0]!.value[1]), 5, '0.25, 0.5, 1, 2, 2');
    const sum = await prom.query('sum(solti_runner_task_duration_seconds_sum{job="ingest"})');
    assert.equal(Number(sum[0]!.value[1]), 75.75);

    const errors = await prom.query('solti_runner_errors_total{job="ingest"}');
    assert.equal(errors.length, 1);
    assert.equal(
      errors[0]!.metric.error,
      'spawn_failed',
      "the value outside solti's error enum is refused, not stored",
    );
    assert.equal(Number(errors[0]!.value[1]), 1);

    const meta = await prom.metadata('solti_runner_task_duration_seconds');
    assert.equal(meta['solti_runner_task_duration_seconds']?.[0]?.type, 'histogram');
  });
}
