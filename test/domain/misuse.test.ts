// The misuse table, row by row: a bad record is never recorded, gets one OTel `diag`
// warning per instrument and reason, and is counted in jobmeter.records.dropped{reason}; an outcome
// outside the vocabulary is a TypeError at the call; a bad profile a ConfigError.
import assert from 'node:assert/strict';
import { isNativeProfileName } from '../../src/common/option-values.ts';
import { after, before, beforeEach, describe, test } from 'node:test';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { ConfigError } from '../../src/errors.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { PROFILE_NAMES } from '../../src/options.ts';
import { histogramSeries, numberSeries, scrapeByName, testJobmeter } from '../profiles/helpers.ts';

/** Every `diag` warning, as the host's own DiagLogger would get it. */
const warnings: string[] = [];
const logger: DiagLogger = {
  error: () => {},
  warn: (message: string) => void warnings.push(message),
  info: () => {},
  debug: () => {},
  verbose: () => {},
};

const INSTRUMENTS = [
  {
    name: 'app.jobs',
    kind: 'counter',
    unit: '{job}',
    description: 'Jobs.',
    attributes: [{ key: 'queue', cap: 4 }],
  },
  {
    name: 'app.level',
    kind: 'upDownCounter',
    unit: '{job}',
    description: 'Level.',
    attributes: [],
  },
  {
    name: 'app.wait',
    kind: 'histogram',
    unit: 's',
    description: 'Wait.',
    buckets: [1, 10],
    attributes: [],
  },
  { name: 'app.temp', kind: 'gauge', unit: 'Cel', description: 'Temperature.', attributes: [] },
] as const;

async function dropped(jm: Jobmeter): Promise<Record<string, number>> {
  const rows = numberSeries((await scrapeByName(jm)).get('jobmeter_records_dropped_total'));
  return Object.fromEntries(rows.map(([labels, v]) => [/reason="([^"]*)"/.exec(labels)![1]!, v]));
}

function warningsAbout(text: string): string[] {
  return warnings.filter((w) => w.includes(text));
}

describe('misuse: not recorded, one diag warning per instrument and reason, counted', () => {
  let jm: Jobmeter;
  before(() => {
    diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  });
  after(() => diag.disable());
  beforeEach(async () => {
    warnings.length = 0;
    jm = await testJobmeter('otel', { otelScopeInfo: false, instruments: INSTRUMENTS });
  });

  test('every reason is served from the start, at 0, under the native profile', async () => {
    assert.deepEqual(await dropped(jm), {
      not_a_number: 0,
      nan: 0,
      infinite: 0,
      negative: 0,
      not_a_time: 0,
      bad_attribute: 0,
      vocabulary: 0,
    });
    await jm.shutdown();
  });

  test('counter.add(NaN): the series keeps its value; one warning for two drops; nan counted twice', async () => {
    const c = jm.counter('app.jobs');
    c.add(2, { queue: 'q' });
    c.add(NaN, { queue: 'q' });
    c.bind({ queue: 'q' }).add(NaN);
    const f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('app_jobs_total')), [['queue="q"', 2]]);
    assert.equal((await dropped(jm)).nan, 2);
    assert.equal(warningsAbout('app.jobs').length, 1);
    assert.match(warningsAbout('app.jobs')[0]!, /NaN.*jobmeter\.records\.dropped\{reason="nan"\}/);
    await jm.shutdown();
  });

  test('counter.add(±Infinity): infinite, never a +Inf series', async () => {
    jm.counter('app.jobs').add(Infinity, { queue: 'q' });
    jm.counter('app.jobs').add(-Infinity, { queue: 'q' });
    assert.equal((await scrapeByName(jm)).get('app_jobs_total'), undefined);
    assert.equal((await dropped(jm)).infinite, 2);
    assert.equal(warningsAbout('app.jobs').length, 1);
    await jm.shutdown();
  });

  test('counter.add(-1): negative; an up-down counter takes it', async () => {
    jm.counter('app.jobs').add(-1, { queue: 'q' });
    jm.counter('app.level').add(-1);
    const f = await scrapeByName(jm);
    assert.equal(f.get('app_jobs_total'), undefined);
    assert.deepEqual(numberSeries(f.get('app_level')), [['', -1]]);
    assert.equal((await dropped(jm)).negative, 1);
    await jm.shutdown();
  });

  test('counter.add("3") and add(undefined): not_a_number, nothing coerced', async () => {
    jm.counter('app.jobs').add('3' as unknown as number, { queue: 'q' });
    jm.counter('app.jobs').add(undefined as unknown as number, { queue: 'q' });
    assert.equal((await scrapeByName(jm)).get('app_jobs_total'), undefined);
    assert.equal((await dropped(jm)).not_a_number, 2);
    assert.match(warningsAbout('app.jobs')[0]!, /"3".*not a number/);
    await jm.shutdown();
  });

  test('histogram.record(-1), record(Infinity); gauge.record(NaN): one warning per instrument and reason', async () => {
    const h = jm.histogram('app.wait');
    h.record(3);
    h.record(-1);
    h.record(Infinity);
    h.bind().record(-2);
    jm.gauge('app.temp').record(20);
    jm.gauge('app.temp').record(NaN);
    const f = await scrapeByName(jm);
    const wait = histogramSeries(f.get('app_wait_seconds'), '');
    assert.equal(wait.count, 1);
    assert.equal(wait.sum, 3);
    assert.deepEqual(numberSeries(f.get('app_temp_celsius')), [['', 20]]);
    assert.deepEqual(await dropped(jm), {
      not_a_number: 0,
      nan: 1,
      infinite: 1,
      negative: 2,
      not_a_time: 0,
      bad_attribute: 0,
      vocabulary: 0,
    });
    assert.equal(warningsAbout('app.wait').length, 2, warnings.join('\n'));
    assert.equal(warningsAbout('app.temp').length, 1);
    await jm.shutdown();
  });

  test('recordRun({ durationSeconds: Infinity }): the run is dropped whole, _sum stays finite', async () => {
    jm.recordRun({ task: 't', outcome: 'success', durationSeconds: 2 });
    jm.recordRun({ task: 't', outcome: 'success', durationSeconds: Infinity });
    jm.recordRun({ task: 't', outcome: 'success', durationSeconds: NaN });
    const f = await scrapeByName(jm);
    const d = histogramSeries(
      f.get('jobmeter_run_duration_seconds'),
      'task="t",kind="task",runner="default",outcome="success"',
    );
    assert.equal(d.sum, 2);
    assert.equal(d.count, 1);
    assert.deepEqual(numberSeries(f.get('jobmeter_run_started_total')), [
      ['task="t",kind="task",runner="default"', 1],
    ]);
    assert.equal((await dropped(jm)).infinite, 1);
    assert.equal((await dropped(jm)).nan, 1);
    await jm.shutdown();
  });

  test("finish('failed'): a TypeError listing the allowed words; the run stays in flight until finished right", async () => {
    const run = jm.startRun({ task: 't' });
    assert.throws(
      () => run.finish('failed' as 'failure'),
      (err: unknown) =>
        err instanceof TypeError &&
        /"failed" is not one of success, failure, cancelled, timeout/.test(err.message),
    );
    let f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('jobmeter_run_active')), [
      ['task="t",kind="task",runner="default"', 1],
    ]);
    assert.equal(f.get('jobmeter_run_finished_total'), undefined);
    run.finish('failure');
    f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('jobmeter_run_active')), [
      ['task="t",kind="task",runner="default"', 0],
    ]);
    assert.deepEqual(numberSeries(f.get('jobmeter_run_finished_total')), [
      ['task="t",kind="task",runner="default",outcome="failure"', 1],
    ]);
    assert.equal(
      numberSeries(f.get('jobmeter_run_last_failure_time_seconds')).length,
      1,
      'the last-failure gauge moved',
    );
    await jm.shutdown();
  });

  test("recordRun({ outcome: 'failed' }) and any other word: a TypeError, nothing recorded", async () => {
    for (const outcome of ['failed', 'FAILURE', '', undefined, 3]) {
      assert.throws(
        () => jm.recordRun({ task: 't', outcome: outcome as 'failure', durationSeconds: 1 }),
        TypeError,
      );
    }
    const f = await scrapeByName(jm);
    assert.equal(f.get('jobmeter_run_finished_total'), undefined);
    assert.equal(f.get('jobmeter_run_started_total'), undefined);
    await jm.shutdown();
  });

  test('reject({}), reject(42): dropped and counted as bad_attribute, never reason="[object Object]"', async () => {
    jm.reject({} as unknown as string);
    jm.reject(42 as unknown as string);
    jm.reject('unauthorized');
    jm.runnerError({} as unknown as string, 'spawn');
    jm.startRun({ task: { id: 1 } as unknown as string }).finish('success');
    const f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('jobmeter_request_rejected_total')), [
      ['reason="unauthorized"', 1],
    ]);
    assert.equal(f.get('jobmeter_runner_error_total'), undefined);
    assert.equal(f.get('jobmeter_run_started_total'), undefined);
    assert.equal((await dropped(jm)).bad_attribute, 4);
    assert.ok(!JSON.stringify([...f.values()].map((x) => x.series)).includes('[object Object]'));
    assert.equal(warningsAbout('jobmeter.request.rejected').length, 1);
    await jm.shutdown();
  });

  test('observe() callbacks: a NaN or infinite observation is not served; an observed counter never negative', async () => {
    await jm.shutdown();
    jm = await testJobmeter('otel', {
      otelScopeInfo: false,
      instruments: [
        {
          name: 'app.queue',
          kind: 'observableGauge',
          unit: '{job}',
          description: 'Queue.',
          attributes: [{ key: 'q', cap: 4 }],
        },
        {
          name: 'app.done',
          kind: 'observableCounter',
          unit: '{job}',
          description: 'Done.',
          attributes: [],
        },
      ],
    });
    jm.observe('app.queue', () => [
      { value: 3, attributes: { q: 'a' } },
      { value: NaN, attributes: { q: 'b' } },
      { value: Infinity, attributes: { q: 'c' } },
    ]);
    jm.observe('app.done', () => -5);
    const f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('app_queue')), [['q="a"', 3]]);
    assert.equal(f.get('app_done_total'), undefined);
    // Counted in the same collection (jobmeter's storages are read after the callbacks), at every
    // collection.
    const counts = (families: Awaited<ReturnType<typeof scrapeByName>>) =>
      numberSeries(families.get('jobmeter_records_dropped_total')).filter(([, v]) => v > 0);
    assert.deepEqual(counts(f), [
      ['reason="nan"', 1],
      ['reason="infinite"', 1],
      ['reason="negative"', 1],
    ]);
    assert.deepEqual(counts(await scrapeByName(jm)), [
      ['reason="nan"', 2],
      ['reason="infinite"', 2],
      ['reason="negative"', 2],
    ]);
    assert.equal(warnings.length, 3, 'one warning per instrument and reason, not per collection');
    await jm.shutdown();
  });

  test('a record after shutdown(): one warning, whatever the number of records', async () => {
    const bound = jm.counter('app.jobs').bind({ queue: 'q' });
    await jm.shutdown();
    jm.recordRun({ task: 't', outcome: 'success', durationSeconds: 1 });
    jm.counter('app.jobs').add(1);
    bound.add(1);
    jm.reject('late');
    const late = warnings.filter((w) => /after shutdown/.test(w));
    assert.equal(late.length, 1, warnings.join('\n'));
  });
});

test('legacy profiles never serve jobmeter_records_dropped_total (their originals have no such series)', async () => {
  for (const profile of PROFILE_NAMES.filter((p) => !isNativeProfileName(p))) {
    const jm = await testJobmeter(profile);
    try {
      jm.reject({} as unknown as string);
      assert.ok(!(await jm.scrape()).some((f) => f.name.includes('records_dropped')), profile);
    } finally {
      await jm.shutdown();
    }
  }
});

test("createJobmeter({ profile: 'bogus' }): a ConfigError naming the value and every valid profile", async () => {
  await assert.rejects(
    createJobmeter({ profile: 'bogus' as 'otel', listener: false }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.key === 'profile' &&
      err.value === 'bogus' &&
      err.message === `invalid profile=bogus: expected one of ${PROFILE_NAMES.join(', ')}`,
  );
});
