// Label values the originals always emit, as 0 when nothing was recorded, in their documented order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numberSeries, scrapeByName, testJobmeter } from './helpers.ts';

const ASSIGNMENTS = ['pending', 'queued', 'running', 'completed', 'failed', 'cancelled', 'other'];
const PIPELINE_RUNS = [
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'dry_run',
  'interrupted',
  'other',
];

const withHost = (
  label: string,
  values: readonly string[],
  value = (_: string) => 0,
): Array<[string, number]> => values.map((v) => [`${label}="${v}",hostname="demo-host"`, value(v)]);

test('crewshipd: every assignment and pipeline-run status incl. other at 0 with an empty snapshot, in order', async () => {
  const jm = await testJobmeter('crewshipd');
  try {
    jm.setSnapshotSource(() => ({}));
    const f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('crewshipd_assignments')), withHost('status', ASSIGNMENTS));
    assert.deepEqual(
      numberSeries(f.get('crewshipd_pipeline_runs')),
      withHost('status', PIPELINE_RUNS),
    );
  } finally {
    await jm.shutdown();
  }
});

test('crewshipd: zero-filled before any snapshot source is set', async () => {
  const jm = await testJobmeter('crewshipd');
  try {
    const f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('crewshipd_assignments')), withHost('status', ASSIGNMENTS));
    assert.deepEqual(
      numberSeries(f.get('crewshipd_pipeline_runs')),
      withHost('status', PIPELINE_RUNS),
    );
  } finally {
    await jm.shutdown();
  }
});

test('crewshipd: the documented order holds whatever order the host reports in', async () => {
  const jm = await testJobmeter('crewshipd');
  try {
    // Reverse order, some missing, one unknown status (folds into other).
    jm.setSnapshotSource(() => ({
      assignments: { archived: 5, cancelled: 1, running: 2 },
      pipelineRuns: { interrupted: 3, queued: 1 },
    }));
    const f = await scrapeByName(jm);
    const assigned: Record<string, number> = { running: 2, cancelled: 1, other: 5 };
    assert.deepEqual(
      numberSeries(f.get('crewshipd_assignments')),
      withHost('status', ASSIGNMENTS, (s) => assigned[s] ?? 0),
    );
    const runs: Record<string, number> = { queued: 1, interrupted: 3 };
    assert.deepEqual(
      numberSeries(f.get('crewshipd_pipeline_runs')),
      withHost('status', PIPELINE_RUNS, (s) => runs[s] ?? 0),
    );
  } finally {
    await jm.shutdown();
  }
});

test('wasmrun: exec_total results and exec_rejected_total reasons always present, in order', async () => {
  const jm = await testJobmeter('wasmrun');
  try {
    let f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('wasmrun_agent_exec_total')), [
      ['result="success"', 0],
      ['result="error"', 0],
      ['result="timeout"', 0],
    ]);
    assert.deepEqual(numberSeries(f.get('wasmrun_agent_exec_rejected_total')), [
      ['reason="concurrency"', 0],
      ['reason="payload"', 0],
      ['reason="unauthorized"', 0],
    ]);
    // Recorded out of order: the documented order stays.
    jm.recordRun({ task: 'exec', outcome: 'timeout', durationSeconds: 1 });
    jm.reject('unauthorized');
    f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('wasmrun_agent_exec_total')), [
      ['result="success"', 0],
      ['result="error"', 0],
      ['result="timeout"', 1],
    ]);
    assert.deepEqual(numberSeries(f.get('wasmrun_agent_exec_rejected_total')), [
      ['reason="concurrency"', 0],
      ['reason="payload"', 0],
      ['reason="unauthorized"', 1],
    ]);
  } finally {
    await jm.shutdown();
  }
});

test('wasmrun: the label-less families are present at 0 before anything happens', async () => {
  const jm = await testJobmeter('wasmrun');
  try {
    const f = await scrapeByName(jm);
    for (const name of [
      'wasmrun_agent_exec_duration_ms_sum',
      'wasmrun_agent_exec_duration_ms_count',
      'wasmrun_agent_output_truncated_total',
      'wasmrun_agent_sessions_created_total',
      'wasmrun_agent_sessions_active',
      'wasmrun_agent_sessions_total',
      'wasmrun_agent_exec_in_flight',
      'wasmrun_agent_sessions_disk_bytes',
    ]) {
      assert.deepEqual(numberSeries(f.get(name)), [['', 0]], name);
    }
  } finally {
    await jm.shutdown();
  }
});

test('rm: active_alerts has info, warning and critical, at 0 when none are open', async () => {
  const jm = await testJobmeter('rm');
  try {
    assert.deepEqual(numberSeries((await scrapeByName(jm)).get('rm_active_alerts')), [
      ['severity="info"', 0],
      ['severity="warning"', 0],
      ['severity="critical"', 0],
    ]);
    jm.setSnapshotSource(() => ({ alerts: { critical: 2 } }));
    assert.deepEqual(numberSeries((await scrapeByName(jm)).get('rm_active_alerts')), [
      ['severity="info"', 0],
      ['severity="warning"', 0],
      ['severity="critical"', 2],
    ]);
  } finally {
    await jm.shutdown();
  }
});
