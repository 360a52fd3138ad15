// One value guard for every instrument: the OTel API's observable instruments —
// one callback or a batch callback — on jobmeter's provider drop NaN, infinities and a negative
// running total as a recorded value is dropped: not served, one `diag` warning per instrument and
// reason, counted in jobmeter_records_dropped_total{reason}. On a host's own provider the guard is
// opt-in (`guardMeter(meter)`), and what the SDK alone lets through is pinned here too.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import {
  diag,
  DiagLogLevel,
  metrics,
  type DiagLogger,
  type ObservableResult,
} from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  createJobmeter,
  createRecorder,
  guardMeter,
  JobmeterReader,
  type Jobmeter,
} from '../../src/index.ts';

const warnings: string[] = [];
const logger: DiagLogger = {
  error: (message: string) => void warnings.push(`error: ${message}`),
  warn: (message: string) => void warnings.push(message),
  info: () => {},
  debug: () => {},
  verbose: () => {},
};
before(() =>
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true }),
);
after(() => diag.disable());
beforeEach(() => {
  warnings.length = 0;
});

function samples(body: string, name: string): string[] {
  return body.split('\n').filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
}

function dropped(body: string): Record<string, number> {
  return Object.fromEntries(
    samples(body, 'jobmeter_records_dropped_total').map((l) => [
      /reason="([^"]*)"/.exec(l)![1]!,
      Number(l.split(' ').at(-1)),
    ]),
  );
}

function warningsAbout(name: string): string[] {
  return warnings.filter((w) => w.includes(`: ${name}: `));
}

describe("jobmeter's provider: the global API's observables are checked", () => {
  let jm: Jobmeter;
  beforeEach(async () => {
    jm = await createJobmeter({
      listener: { port: 0 },
      processMetrics: false,
      otelScopeInfo: false,
    });
  });
  afterEach(async () => {
    await jm.shutdown();
    metrics.disable();
  });
  const pull = async (): Promise<string> =>
    (
      await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
        headers: { accept: 'text/plain' },
      })
    ).text();

  test('observable counter: NaN, Infinity and -5 dropped, counted by reason, one warning per reason over two scrapes', async () => {
    metrics
      .getMeter('x')
      .createObservableCounter('o.c')
      .addCallback((r) => {
        r.observe(NaN, { a: 'nan' });
        r.observe(Infinity, { a: 'inf' });
        r.observe(-5, { a: 'neg' });
        r.observe(4, { a: 'ok' });
      });
    const first = await pull();
    assert.deepEqual(samples(first, 'o_c_total'), ['o_c_total{a="ok"} 4']);
    assert.deepEqual(dropped(first), {
      not_a_number: 0,
      nan: 1,
      infinite: 1,
      negative: 1,
      not_a_time: 0,
      bad_attribute: 0,
      vocabulary: 0,
    });
    const second = await pull();
    assert.deepEqual(samples(second, 'o_c_total'), ['o_c_total{a="ok"} 4']);
    assert.deepEqual(dropped(second), {
      not_a_number: 0,
      nan: 2,
      infinite: 2,
      negative: 2,
      not_a_time: 0,
      bad_attribute: 0,
      vocabulary: 0,
    });
    const about = warningsAbout('o.c');
    assert.equal(about.length, 3, warnings.join('\n'));
    assert.match(
      about.join('\n'),
      /NaN dropped: the value is NaN \(counted in jobmeter\.records\.dropped\{reason="nan"\}/,
    );
    assert.match(about.join('\n'), /Infinity dropped: the value is infinite/);
    assert.match(about.join('\n'), /-5 dropped: the instrument only takes values ≥ 0/);
  });

  test('observable up-down counter and gauge: non-finite values dropped; negative values served', async () => {
    const meter = metrics.getMeter('x');
    meter.createObservableUpDownCounter('o.level').addCallback((r) => {
      r.observe(-Infinity, { a: 'inf' });
      r.observe(-3, { a: 'ok' });
    });
    meter.createObservableGauge('o.temp').addCallback((r) => {
      r.observe(NaN, { a: 'nan' });
      r.observe(-40, { a: 'ok' });
    });
    const body = await pull();
    assert.deepEqual(samples(body, 'o_level'), ['o_level{a="ok"} -3']);
    assert.deepEqual(samples(body, 'o_temp'), ['o_temp{a="ok"} -40']);
    assert.deepEqual(dropped(body), {
      not_a_number: 0,
      nan: 1,
      infinite: 1,
      negative: 0,
      not_a_time: 0,
      bad_attribute: 0,
      vocabulary: 0,
    });
    assert.equal(warningsAbout('o.level').length, 1);
    assert.equal(warningsAbout('o.temp').length, 1);
  });

  test('a batch callback: each observation checked as its instrument takes it', async () => {
    const meter = metrics.getMeter('x');
    const total = meter.createObservableCounter('b.count');
    const level = meter.createObservableUpDownCounter('b.level');
    const temp = meter.createObservableGauge('b.temp');
    meter.addBatchObservableCallback(
      (r) => {
        r.observe(total, -1, { a: 'neg' });
        r.observe(total, 7, { a: 'ok' });
        r.observe(level, -2, { a: 'ok' });
        r.observe(level, NaN, { a: 'nan' });
        r.observe(temp, Infinity, { a: 'inf' });
        r.observe(temp, 21, { a: 'ok' });
      },
      [total, level, temp],
    );
    const body = await pull();
    assert.deepEqual(samples(body, 'b_count_total'), ['b_count_total{a="ok"} 7']);
    assert.deepEqual(samples(body, 'b_level'), ['b_level{a="ok"} -2']);
    assert.deepEqual(samples(body, 'b_temp'), ['b_temp{a="ok"} 21']);
    assert.deepEqual(dropped(body), {
      not_a_number: 0,
      nan: 1,
      infinite: 1,
      negative: 1,
      not_a_time: 0,
      bad_attribute: 0,
      vocabulary: 0,
    });
    assert.deepEqual(
      [
        warningsAbout('b.count').length,
        warningsAbout('b.level').length,
        warningsAbout('b.temp').length,
      ],
      [1, 1, 1],
      warnings.join('\n'),
    );
  });

  test('the host snapshot: a bad value is dropped before it folds, so the good values of its set still add up', async () => {
    // Two statuses outside the closed set both fold into status="other": the NaN is dropped first.
    jm.setSnapshotSource(() => ({ assignments: { unknown_a: NaN, unknown_b: 3, pending: 1 } }));
    const body = await pull();
    assert.deepEqual(samples(body, 'jobmeter_assignments').sort(), [
      'jobmeter_assignments{status="other"} 3',
      'jobmeter_assignments{status="pending"} 1',
    ]);
    assert.equal(dropped(body).nan, 1);
    assert.equal(warningsAbout('jobmeter.assignments').length, 1, warnings.join('\n'));
  });

  test('removing a callback (one or batch) removes it: what was added for it is what is removed', async () => {
    const meter = metrics.getMeter('x');
    const one = meter.createObservableGauge('r.one');
    const batched = meter.createObservableGauge('r.batched');
    const calls = { one: 0, batch: 0 };
    const cb = (r: ObservableResult) => r.observe(++calls.one);
    const batch = (r: { observe(o: typeof batched, v: number): void }) =>
      r.observe(batched, ++calls.batch);
    one.addCallback(cb);
    one.addCallback(cb);
    meter.addBatchObservableCallback(batch, [batched]);
    const body = await pull();
    assert.deepEqual(
      [samples(body, 'r_one'), samples(body, 'r_batched')],
      [['r_one 1'], ['r_batched 1']],
    );
    one.removeCallback(cb);
    meter.removeBatchObservableCallback(batch, [batched]);
    await pull();
    assert.deepEqual(calls, { one: 1, batch: 1 });
  });
});

describe("a host's own provider: the guard is opt-in", () => {
  const providers: MeterProvider[] = [];
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.shutdown()));
  });
  async function host(): Promise<{ provider: MeterProvider; pull: () => Promise<string> }> {
    const reader = new JobmeterReader({ listener: { port: 0 }, otelScopeInfo: false });
    const provider = new MeterProvider({ readers: [reader] });
    providers.push(provider);
    await reader.ready;
    const pull = async () =>
      (
        await fetch(`http://127.0.0.1:${reader.pullAddress!.port}/metrics`, {
          headers: { accept: 'text/plain' },
        })
      ).text();
    return { provider, pull };
  }
  const observeBad = (r: ObservableResult) => {
    r.observe(NaN, { a: 'nan' });
    r.observe(Infinity, { a: 'inf' });
    r.observe(2, { a: 'ok' });
  };

  test('unguarded, the SDK serves what it is given (what docs/host-apps.md says is not guarded)', async () => {
    const { provider, pull } = await host();
    const meter = provider.getMeter('host-app');
    meter.createObservableGauge('plain.temp').addCallback(observeBad);
    meter.createCounter('plain.jobs').add(Infinity);
    const body = await pull();
    assert.deepEqual(samples(body, 'plain_temp'), [
      'plain_temp{a="nan"} NaN',
      'plain_temp{a="inf"} +Inf',
      'plain_temp{a="ok"} 2',
    ]);
    assert.deepEqual(samples(body, 'plain_jobs_total'), ['plain_jobs_total +Inf']);
    assert.deepEqual(samples(body, 'jobmeter_records_dropped_total'), []);
  });

  test('guardMeter(meter): every instrument checked, drops counted on that meter, one account with createRecorder(meter)', async () => {
    const { provider, pull } = await host();
    const raw = provider.getMeter('host-app');
    const meter = guardMeter(raw);
    assert.equal(guardMeter(raw), meter, 'one wrapper per meter');
    meter.createObservableGauge('guarded.temp').addCallback(observeBad);
    const jobs = meter.createCounter('guarded.jobs');
    jobs.add(3);
    jobs.add(Infinity);
    jobs.add(-1);
    const level = meter.createObservableUpDownCounter('guarded.level');
    meter.addBatchObservableCallback((r) => r.observe(level, NaN), [level]);
    meter.createHistogram('guarded.wait').record(NaN);
    const jm = createRecorder(raw);
    jm.recordRun({ task: 'sync', outcome: 'success', durationSeconds: -1 });
    const body = await pull();
    assert.deepEqual(samples(body, 'guarded_temp'), ['guarded_temp{a="ok"} 2']);
    assert.deepEqual(samples(body, 'guarded_jobs_total'), ['guarded_jobs_total 3']);
    assert.deepEqual(samples(body, 'guarded_level'), []);
    assert.deepEqual(samples(body, 'guarded_wait_count'), []);
    // One counter on the host's meter: the wrapper's drops and the recorder's (a run's negative duration).
    assert.deepEqual(dropped(body), {
      not_a_number: 0,
      nan: 3,
      infinite: 2,
      negative: 2,
      not_a_time: 0,
      bad_attribute: 0,
      vocabulary: 0,
    });
    assert.deepEqual(
      [
        'guarded.temp',
        'guarded.jobs',
        'guarded.level',
        'guarded.wait',
        'jobmeter.run.duration',
      ].map((n) => warningsAbout(n).length),
      [2, 2, 1, 1, 1],
      warnings.join('\n'),
    );
  });

  test("createRecorder(meter): the host snapshot's observables are checked too", async () => {
    const { provider, pull } = await host();
    const jm = createRecorder(provider.getMeter('jobmeter'));
    jm.setSnapshotSource(() => ({ queue: { depth: NaN, groups: 2, depthMax: 5 } }));
    const body = await pull();
    assert.deepEqual(samples(body, 'jobmeter_queue_depth'), []);
    assert.deepEqual(samples(body, 'jobmeter_queue_groups'), ['jobmeter_queue_groups 2']);
    assert.equal(dropped(body).nan, 1);
    assert.equal(warningsAbout('jobmeter.queue.depth').length, 1, warnings.join('\n'));
  });
});
