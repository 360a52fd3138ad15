// One recorder per meter. The run history and the last failure are observed from a recorder's own
// counts, so two recorders on one meter would each observe theirs into the same instruments and
// the SDK would keep one: a second createRecorder asking for the same returns the first, one asking
// for something else is a ConfigError that says how to share it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import { ConfigError, createRecorder, JobmeterReader } from '../../src/index.ts';
import { testJobmeter } from '../profiles/helpers.ts';

/** The value of each `name{…}` line of `text`, by its labels. */
function series(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm')))
    out.set(m[1] ?? '', Number(m[2]));
  return out;
}

function hostPipeline(): {
  reader: JobmeterReader;
  provider: MeterProvider;
  served: () => Promise<string>;
} {
  const reader = new JobmeterReader({ listener: false, otelScopeInfo: false });
  const provider = new MeterProvider({ readers: [reader] });
  return { reader, provider, served: async () => renderPrometheusText(await reader.scrape()) };
}

test("two createRecorder calls on one host meter: every run in jobmeter_run_history_total, the latest failure's time served", async () => {
  const { provider, served } = hostPipeline();
  try {
    const first = createRecorder(provider.getMeter('jobmeter'));
    const second = createRecorder(provider.getMeter('jobmeter'));
    // The later failure is served whichever recorder saw it: one through each, in both orders.
    second.recordRun({ task: 't', outcome: 'failure', durationSeconds: 1 });
    await sleep(5);
    const beforeFirst = Date.now() / 1000;
    first.recordRun({ task: 't', outcome: 'failure', durationSeconds: 1 });
    let text = await served();
    assert.deepEqual(series(text, 'jobmeter_run_history_total').get('{outcome="failure"}'), 2);
    assert.ok(
      series(text, 'jobmeter_run_last_failure_time_seconds').get('')! >= beforeFirst,
      'the failure recorded last is served',
    );

    await sleep(5);
    const beforeSecond = Date.now() / 1000;
    second.recordRun({ task: 't', outcome: 'failure', durationSeconds: 1 });
    first.recordRun({ task: 't', outcome: 'success', durationSeconds: 1 });
    text = await served();
    const history = series(text, 'jobmeter_run_history_total');
    assert.equal(history.get('{outcome="failure"}'), 3);
    assert.equal(history.get('{outcome="success"}'), 1);
    assert.ok(
      series(text, 'jobmeter_run_last_failure_time_seconds').get('')! >= beforeSecond,
      'the failure recorded last is served',
    );
    assert.equal(series(text, 'jobmeter_run_finished_total').size, 2);
  } finally {
    await provider.shutdown();
  }
});

test('createRecorder on a meter that has a recorder made with other options: a ConfigError that says to pass the first', async () => {
  const { provider } = hostPipeline();
  try {
    const meter = provider.getMeter('jobmeter');
    const first = createRecorder(meter, { profile: 'solti', build: { version: '1.0.0' } });
    assert.equal(
      createRecorder(meter, { build: { version: '1.0.0' }, profile: 'solti' }),
      first,
      'the same options, in any key order',
    );
    for (const other of [
      {},
      { profile: 'rm' as const },
      { profile: 'solti' as const, build: { version: '2.0.0' } },
    ]) {
      assert.throws(
        () => createRecorder(meter, other),
        (e: unknown) =>
          e instanceof ConfigError &&
          /pass the first recorder/.test(e.message) &&
          /profile: 'solti'/.test(e.message),
      );
    }
  } finally {
    await provider.shutdown();
  }
});

test("createRecorder(jm.meter) on createJobmeter's meter: a ConfigError that says the Jobmeter is its recorder", async () => {
  const jm = await testJobmeter('otel');
  try {
    assert.throws(
      () => createRecorder(jm.meter),
      (e: unknown) => e instanceof ConfigError && /the Jobmeter is its recorder/.test(e.message),
    );
  } finally {
    await jm.shutdown();
  }
});
