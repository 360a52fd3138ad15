// RunHandle.finish(outcome, { durationSeconds, context }): a run timed by its runner (a job
// library's own timestamps) records that duration; a bad one leaves the in-flight count and is
// dropped (counted), so runs and durations keep counting the same runs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { histogramSeries, numberSeries, scrapeByName } from '../profiles/helpers.ts';

let jm: Jobmeter;
before(async () => {
  jm = await createJobmeter({ listener: false, processMetrics: false, global: false });
});
after(() => jm.shutdown());

test("finish with the runner's own duration records that duration", async () => {
  jm.startRun({ task: 'timed' }).finish('success', { durationSeconds: 42 });
  const family = (await scrapeByName(jm)).get('jobmeter_run_duration_seconds')!;
  const labels = family.series.map((s) => s.labels).find((l) => l.includes('task="timed"'))!;
  const series = histogramSeries(family, labels);
  assert.equal(series.sum, 42);
  assert.equal(series.count, 1);
});

test('a bad duration: out of flight, not finished, counted as dropped', async () => {
  jm.startRun({ task: 'bad' }).finish('failure', { durationSeconds: -1 });
  const families = await scrapeByName(jm);
  const of = (name: string) =>
    numberSeries(families.get(name)).filter(([labels]) => labels.includes('task="bad"'));
  assert.deepEqual(
    of('jobmeter_run_active').map(([, v]) => v),
    [0],
  );
  assert.deepEqual(of('jobmeter_run_finished_total'), []);
  const dropped = numberSeries(families.get('jobmeter_records_dropped_total')).filter(([labels]) =>
    labels.includes('reason="negative"'),
  );
  assert.deepEqual(
    dropped.map(([, v]) => v),
    [1],
  );
});
