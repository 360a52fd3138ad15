// The semconv profile on a host's own SDK provider (createRecorder, jobmeterViews): the recorder's
// instruments are the conventions' themselves, so any reader or exporter of the host's gets them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { createRecorder, jobmeterViews } from '../../src/index.ts';

/** The canonical run instruments the CI/CD conventions' stand for under semconv. */
const CANONICAL_RUNS = [
  'jobmeter.run.started',
  'jobmeter.run.finished',
  'jobmeter.run.duration',
  'jobmeter.run.active',
  'jobmeter.runner.error',
];

async function collected(profile: 'semconv' | 'otel'): Promise<MetricData[]> {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader], views: jobmeterViews(profile) });
  try {
    const jm = createRecorder(provider.getMeter('jobmeter'), { profile });
    jm.recordRun({ task: 'build', runner: 'wasm', outcome: 'cancelled', durationSeconds: 2 });
    jm.recordRun({ task: 'build', runner: 'wasm', outcome: 'success', durationSeconds: 1 });
    jm.startRun({ task: 'deploy' });
    jm.runnerError('wasm', 'spawn_failed');
    await reader.forceFlush();
    return exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
  } finally {
    await provider.shutdown();
  }
}

test("createRecorder with profile semconv records the CI/CD conventions' instruments on the host's provider, none of the canonical ones they stand for", async () => {
  const metrics = await collected('semconv');
  const byName = new Map(metrics.map((m) => [m.descriptor.name, m]));
  for (const name of CANONICAL_RUNS) assert.ok(!byName.has(name), `${name} is not recorded`);

  const duration = byName.get('cicd.pipeline.run.duration')!;
  assert.equal(duration.dataPointType, DataPointType.HISTOGRAM);
  assert.equal(duration.descriptor.unit, 's');
  assert.deepEqual(
    duration.dataPoints.map((p) => p.attributes),
    [
      {
        'cicd.pipeline.name': 'build',
        'cicd.pipeline.run.state': 'executing',
        'cicd.pipeline.result': 'cancellation',
      },
      {
        'cicd.pipeline.name': 'build',
        'cicd.pipeline.run.state': 'executing',
        'cicd.pipeline.result': 'success',
      },
    ],
  );
  const active = byName.get('cicd.pipeline.run.active')!;
  assert.equal(active.descriptor.unit, '{run}');
  assert.deepEqual(
    active.dataPoints.map((p) => [p.attributes, p.value]),
    [[{ 'cicd.pipeline.name': 'deploy', 'cicd.pipeline.run.state': 'executing' }, 1]],
  );
  // No run failed: no run error is counted.
  assert.equal(byName.get('cicd.pipeline.run.errors')?.dataPoints.length ?? 0, 0);
  assert.deepEqual(
    byName.get('cicd.system.errors')!.dataPoints.map((p) => [p.attributes, p.value]),
    [[{ 'cicd.system.component': 'wasm', 'error.type': 'spawn_failed' }, 1]],
  );
});

test('the otel profile still records the canonical run instruments (the convention is the semconv profile only)', async () => {
  const names = new Set((await collected('otel')).map((m) => m.descriptor.name));
  for (const name of CANONICAL_RUNS) assert.ok(names.has(name), name);
  assert.ok(![...names].some((n) => n.startsWith('cicd.')));
});
