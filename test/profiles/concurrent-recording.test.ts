// Many async tasks recording at once, with scrapes in between, lose no increment (rm's
// "concurrent observe" test). Node runs one task at a time, so what this guards is state that
// spans an await: in-flight handles finished later, and collections taken mid-stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NumberSeries } from '../../src/exposition/types.ts';
import type { Jobmeter } from '../../src/jobmeter.ts';
import { histogramSeries, scrapeByName, testJobmeter } from './helpers.ts';

const TASKS = 200;
const RUNS_PER_TASK = 500;
const RUNNERS = ['subprocess', 'wasm', 'container'] as const;

/** Half the runs are started and finished across an await, half recorded whole. */
async function worker(jm: Jobmeter, id: number): Promise<void> {
  const runner = RUNNERS[id % RUNNERS.length]!;
  for (let i = 0; i < RUNS_PER_TASK; i++) {
    if (i % 2 === 0) {
      const run = jm.startRun({ task: `t${id % 7}`, runner });
      await Promise.resolve();
      run.finish(i % 4 === 0 ? 'success' : 'failure');
    } else {
      jm.recordRun({ task: `t${id % 7}`, runner, outcome: 'success', durationSeconds: 0.02 });
    }
    if (i % 50 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

const sum = (series: readonly NumberSeries[] | undefined) =>
  (series ?? []).reduce((n, s) => n + s.value, 0);

test(`solti: ${TASKS} tasks × ${RUNS_PER_TASK} runs, interleaved with awaits and scrapes → exact totals`, async () => {
  const jm = await testJobmeter('solti');
  try {
    let recording = true;
    let scrapes = 0;
    const scraper = (async () => {
      while (recording) {
        await jm.scrape();
        scrapes++;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    })();
    await Promise.all(Array.from({ length: TASKS }, (_, id) => worker(jm, id)));
    recording = false;
    await scraper;
    assert.ok(scrapes > 0, 'collections ran while recording');

    const total = TASKS * RUNS_PER_TASK;
    const f = await scrapeByName(jm);
    assert.equal(
      sum(f.get('solti_runner_tasks_started_total')?.series as NumberSeries[]),
      total,
      'started: startRun and recordRun alike',
    );
    const completed = f.get('solti_runner_tasks_completed_total')!.series as NumberSeries[];
    assert.equal(sum(completed), total);
    // Per series, exactly: worker `id` uses runner id % 3; even i are startRun, i % 4 === 0 succeed.
    const perWorker = {
      success: RUNS_PER_TASK / 2 + RUNS_PER_TASK / 4,
      failure: RUNS_PER_TASK / 4,
    };
    const workers = (r: number) =>
      Array.from({ length: TASKS }, (_, id) => id).filter((id) => id % RUNNERS.length === r).length;
    for (const [r, runner] of RUNNERS.entries()) {
      for (const outcome of ['success', 'failure'] as const) {
        const labels = `outcome="${outcome}",runner="${runner}"`;
        assert.equal(
          completed.find((s) => s.labels === labels)?.value,
          workers(r) * perWorker[outcome],
          labels,
        );
        assert.equal(
          histogramSeries(f.get('solti_runner_task_duration_seconds'), labels).count,
          workers(r) * perWorker[outcome],
          `histogram ${labels}`,
        );
      }
    }
    const h = f.get('solti_runner_task_duration_seconds')!;
    assert.equal(
      h.series.reduce((n, s) => n + (s as { count: number }).count, 0),
      total,
      'histogram count',
    );
  } finally {
    await jm.shutdown();
  }
});

test('wasmrun: no exec left in flight and the _count counter equals the runs, after concurrent start/finish', async () => {
  const jm = await testJobmeter('wasmrun');
  try {
    await Promise.all(Array.from({ length: TASKS }, (_, id) => worker(jm, id)));
    const f = await scrapeByName(jm);
    assert.deepEqual(
      (f.get('wasmrun_agent_exec_in_flight')!.series as NumberSeries[]).map((s) => s.value),
      [0],
    );
    assert.deepEqual(
      (f.get('wasmrun_agent_exec_duration_ms_count')!.series as NumberSeries[]).map((s) => s.value),
      [TASKS * RUNS_PER_TASK],
    );
    assert.equal(
      sum(f.get('wasmrun_agent_exec_total')!.series as NumberSeries[]),
      TASKS * RUNS_PER_TASK,
    );
  } finally {
    await jm.shutdown();
  }
});
