// Each original's words for a run's terminal outcome, from the one canonical `recordRun`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Outcome } from '../../src/domain/types.ts';
import type { Jobmeter } from '../../src/jobmeter.ts';
import { histogramSeries, numberSeries, scrapeByName, testJobmeter } from './helpers.ts';

/** One run of each canonical outcome, recorded on `jm` with `attributes`. */
function oneOfEach(
  jm: Jobmeter,
  attributes: { task: string; kind?: string; runner?: string },
): void {
  for (const outcome of ['success', 'failure', 'cancelled', 'timeout'] satisfies Outcome[]) {
    jm.recordRun({ ...attributes, outcome, durationSeconds: 1 });
  }
}

test('runwisp: success and failed only — failure, cancelled and timeout are all failed', async () => {
  const jm = await testJobmeter('runwisp');
  try {
    oneOfEach(jm, { task: 't' });
    assert.deepEqual(numberSeries((await scrapeByName(jm)).get('runwisp_runs_total')), [
      ['status="success"', 1],
      ['status="failed"', 3],
    ]);
  } finally {
    await jm.shutdown();
  }
});

test('wasmrun: a failure and a cancelled run are both error; timeout is its own result', async () => {
  const jm = await testJobmeter('wasmrun');
  try {
    oneOfEach(jm, { task: 'exec', runner: 'wasm' });
    assert.deepEqual(numberSeries((await scrapeByName(jm)).get('wasmrun_agent_exec_total')), [
      ['result="success"', 1],
      ['result="error"', 2],
      ['result="timeout"', 1],
    ]);
  } finally {
    await jm.shutdown();
  }
});

test('solti: canceled with one l, in the counter and the histogram; the other outcomes verbatim', async () => {
  const jm = await testJobmeter('solti');
  try {
    oneOfEach(jm, { task: 't', runner: 'wasm' });
    const f = await scrapeByName(jm);
    // In solti's order: label pairs by name, series by label values.
    const words = ['canceled', 'failure', 'success', 'timeout'];
    assert.deepEqual(
      numberSeries(f.get('solti_runner_tasks_completed_total')),
      words.map((w) => [`outcome="${w}",runner="wasm"`, 1]),
    );
    assert.deepEqual(
      f.get('solti_runner_task_duration_seconds')!.series.map((s) => s.labels),
      words.map((w) => `outcome="${w}",runner="wasm"`),
    );
  } finally {
    await jm.shutdown();
  }
});

test('rm: succeeded, failed, cancelled — a timeout is a failed job', async () => {
  const jm = await testJobmeter('rm');
  try {
    oneOfEach(jm, { task: 'alpha', kind: 'backup' });
    const h = (await scrapeByName(jm)).get('rm_job_duration_seconds')!;
    assert.deepEqual(
      h.series.map((s) => s.labels),
      [
        'kind="backup",status="succeeded"',
        'kind="backup",status="failed"',
        'kind="backup",status="cancelled"',
      ],
    );
    assert.equal(histogramSeries(h, 'kind="backup",status="succeeded"').count, 1);
    assert.equal(histogramSeries(h, 'kind="backup",status="failed"').count, 2, 'failure + timeout');
    assert.equal(histogramSeries(h, 'kind="backup",status="cancelled"').count, 1);
  } finally {
    await jm.shutdown();
  }
});

test('otel: the canonical words, unmapped', async () => {
  const jm = await testJobmeter('otel', { otelScopeInfo: false });
  try {
    oneOfEach(jm, { task: 't', kind: 'task', runner: 'r' });
    assert.deepEqual(
      numberSeries((await scrapeByName(jm)).get('jobmeter_run_finished_total')),
      ['success', 'failure', 'cancelled', 'timeout'].map((o) => [
        `task="t",kind="task",runner="r",outcome="${o}"`,
        1,
      ]),
    );
  } finally {
    await jm.shutdown();
  }
});
