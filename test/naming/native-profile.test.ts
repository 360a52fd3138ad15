import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { DOMAIN_INSTRUMENTS } from '../../src/domain/catalog.ts';
import { createRecorder } from '../../src/domain/recorder.ts';
import type { HistogramSeries, NumberSeries } from '../../src/exposition/types.ts';
import { otelProfile } from '../../src/naming/profiles/otel.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';
import { buildViews } from '../../src/jobmeter-views.ts';

function setup(scopeInfo: boolean) {
  const reader = newPullReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'svc', 'host.name': 'h1' }),
    views: buildViews(DOMAIN_INSTRUMENTS),
    readers: [reader],
  });
  const recorder = createRecorder(provider.getMeter('jobmeter', '9.9.9'), {
    now: () => 1_700_000_000_000,
  });
  const namer = createNamer(otelProfile(scopeInfo));
  const families = async () => namer.toFamilies((await reader.collect()).resourceMetrics);
  return { provider, recorder, families };
}

test('native profile names, types and labels', async () => {
  const { recorder, families, provider } = setup(false);
  recorder.recordRun({
    task: 'backup',
    kind: 'task',
    runner: 'subprocess',
    outcome: 'success',
    durationSeconds: 0.3,
  });
  recorder.recordRun({
    task: 'backup',
    kind: 'task',
    runner: 'subprocess',
    outcome: 'failure',
    durationSeconds: 2,
  });
  recorder.reject('concurrency');
  const fams = await families();
  const byName = new Map(fams.map((f) => [f.name, f]));
  assert.deepEqual(
    fams.map((f) => `${f.name}:${f.type}`),
    [
      'jobmeter_run_started_total:counter',
      'jobmeter_run_finished_total:counter',
      'jobmeter_run_duration_seconds:histogram',
      'jobmeter_request_rejected_total:counter',
      // the SDK collects synchronous instruments before observable ones
      'jobmeter_run_last_failure_time_seconds:gauge',
      'jobmeter_run_history_total:counter',
    ],
  );
  const history = byName.get('jobmeter_run_history_total')!.series as NumberSeries[];
  assert.deepEqual(
    history.map((s) => [s.labels, s.value]),
    [
      ['outcome="success"', 1],
      ['outcome="failure"', 1],
      ['outcome="cancelled"', 0],
      ['outcome="timeout"', 0],
    ],
    'without host records, history counts since start',
  );
  const finished = byName.get('jobmeter_run_finished_total')!.series as NumberSeries[];
  assert.deepEqual(
    finished.map((s) => [s.labels, s.value]),
    [
      ['task="backup",kind="task",runner="subprocess",outcome="success"', 1],
      ['task="backup",kind="task",runner="subprocess",outcome="failure"', 1],
    ],
  );
  const hist = byName.get('jobmeter_run_duration_seconds')!;
  assert.equal(hist.unit, 'seconds');
  const h = hist.series[0] as HistogramSeries;
  assert.equal(h.count, 1);
  assert.equal(h.sum, 0.3);
  assert.equal(h.bounds.length, 15);
  assert.equal(h.counts.length, 16);
  assert.equal(h.counts[5], 1, '0.3 lands in the (0.25, 0.5] bucket');
  assert.equal(
    (byName.get('jobmeter_run_last_failure_time_seconds')!.series[0] as NumberSeries).value,
    1_700_000_000,
  );
  await provider.shutdown();
});

test('a job id passed as an attribute never becomes a label', async () => {
  const { recorder, families, provider } = setup(false);
  const run = recorder.startRun({ task: 't', ...({ 'job.id': 'abc-123' } as object) });
  run.finish('success');
  const text = JSON.stringify(await families());
  assert.ok(!text.includes('abc-123'));
  assert.ok(!/job[._]id/.test(text));
  assert.match(text, /task=\\"t\\"/);
  await provider.shutdown();
});

test('no last-failure series before a failure', async () => {
  const { recorder, families, provider } = setup(false);
  recorder.recordRun({ task: 't', outcome: 'success', durationSeconds: 1 });
  const names = (await families()).map((f) => f.name);
  assert.ok(!names.includes('jobmeter_run_last_failure_time_seconds'));
  await provider.shutdown();
});

test('active runs go up on start and down on finish; finish is idempotent', async () => {
  const { recorder, families, provider } = setup(false);
  const a = recorder.startRun({ task: 't' });
  const b = recorder.startRun({ task: 't' });
  const active = async () => {
    const f = (await families()).find((x) => x.name === 'jobmeter_run_active');
    return (f?.series[0] as NumberSeries | undefined)?.value;
  };
  assert.equal(await active(), 2);
  a.finish('success');
  a.finish('failure');
  assert.equal(await active(), 1);
  b.finish('timeout');
  assert.equal(await active(), 0);
  const finished = (await families()).find((x) => x.name === 'jobmeter_run_finished_total')!;
  assert.equal(
    finished.series.reduce((n, s) => n + (s as NumberSeries).value, 0),
    2,
    'the second finish() was ignored',
  );
  await provider.shutdown();
});

test('scope labels and target_info when scopeInfo is on', async () => {
  const { recorder, families, provider } = setup(true);
  recorder.reject('payload');
  const fams = await families();
  assert.equal(fams[0]!.name, 'target_info');
  assert.equal(fams[0]!.type, 'info');
  assert.equal((fams[0]!.series[0] as NumberSeries).labels, 'service_name="svc",host_name="h1"');
  const rejected = fams.find((f) => f.name === 'jobmeter_request_rejected_total')!;
  assert.equal(
    rejected.series[0]!.labels,
    'reason="payload",otel_scope_name="jobmeter",otel_scope_version="9.9.9"',
  );
  await provider.shutdown();
});

test('label churn past the cap folds into other and the series count stays bounded', async () => {
  const { recorder, families, provider } = setup(false);
  for (let i = 0; i < 5_000; i++) recorder.reject(`reason-${i}`);
  const rejected = (await families()).find((f) => f.name === 'jobmeter_request_rejected_total')!;
  assert.equal(rejected.series.length, 33, '32 kept values + other');
  const other = rejected.series.find((s) => s.labels === 'reason="other"') as NumberSeries;
  assert.equal(other.value, 5_000 - 32);
  await provider.shutdown();
});
