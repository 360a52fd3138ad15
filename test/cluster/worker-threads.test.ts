// worker_threads: threads created with `cluster.reportTo: parentPort` bind
// nothing; the parent's `jm.aggregate(worker)` serves their sum on its one endpoint, keeps an
// exited thread's counters and drops its in-flight runs.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { renderPrometheusText } from '../../src/index-exposition.ts';
import { startOtlpReceiver, type DecodedExport } from '../support/otlp-receiver.ts';

const OPTIONS = { serviceName: 'threads', processMetrics: false, global: false };
const threads: Worker[] = [];
let jm: Jobmeter | undefined;
after(async () => {
  await Promise.all(threads.map((t) => t.terminate()));
  await jm?.shutdown();
});

function start(options: object = { ...OPTIONS, listener: { port: 0 } }): Worker {
  const w = new Worker(new URL('./fixtures/thread-member.ts', import.meta.url), {
    workerData: { options },
  });
  threads.push(w);
  return w;
}

async function next<T>(w: Worker, key: string): Promise<T> {
  for (;;) {
    const [msg] = (await once(w, 'message')) as [Record<string, unknown>];
    if (key in msg) return msg as T;
  }
}

async function sample(name: string): Promise<number | undefined> {
  const body = await (
    await fetch(`http://127.0.0.1:${jm!.pullAddress!.port}/metrics`, {
      headers: { accept: 'text/plain' },
    })
  ).text();
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('two threads report to the parent: one endpoint, the sum; an exited thread keeps its counts', async () => {
  jm = await createJobmeter({ ...OPTIONS, listener: { port: 0 } });
  assert.equal(jm.role, 'primary');
  const a = start();
  const b = start();
  const stopA = jm.aggregate(a);
  jm.aggregate(b);
  await Promise.all([next(a, 'started'), next(b, 'started')]);
  a.postMessage({ run: 7 });
  b.postMessage({ run: 5 });
  const [ra, rb] = await Promise.all([
    next<{ role: string; pullAddress: unknown }>(a, 'recorded'),
    next<{ role: string; pullAddress: unknown }>(b, 'recorded'),
  ]);
  assert.equal(ra.role, 'member');
  assert.equal(ra.pullAddress, null, 'a member binds no listener');
  assert.equal(rb.pullAddress, null);
  jm.recordRun({ task: 'crunch', outcome: 'success', durationSeconds: 0.3 });
  assert.equal(await sample('jobmeter_run_finished_total'), 13);
  assert.equal(await sample('jobmeter_run_duration_seconds_count'), 13);
  assert.equal(await sample('jobmeter_run_active'), 2, "both threads' runs in flight");

  // b stops its jobmeter (a last report) and exits; a is terminated without one.
  b.postMessage({ run: 2 });
  await next(b, 'recorded');
  b.postMessage({ stop: true });
  await next(b, 'stopped');
  await b.terminate();
  assert.equal(await sample('jobmeter_run_finished_total'), 15);
  assert.equal(await sample('jobmeter_run_active'), 1, "b's run in flight left with it");
  // Not listened to any more: a leaves as if it had exited (its records since stay with it).
  stopA();
  a.postMessage({ run: 1 });
  await next(a, 'recorded');
  assert.equal(await sample('jobmeter_run_finished_total'), 15, 'counters never go backwards');
  assert.equal(
    await sample('jobmeter_run_active'),
    undefined,
    'no thread left with a run in flight',
  );
  await a.terminate();
  assert.equal(await sample('jobmeter_run_finished_total'), 15, 'counters never go backwards');
  assert.equal(
    await sample('jobmeter_run_active'),
    undefined,
    'no thread left with a run in flight',
  );
});

function finished(request: DecodedExport, outcome: string): number | undefined {
  const m = request.metrics.find((x) => x.name === 'jobmeter.run.finished');
  return m?.points
    .filter((p) => p.attributes['outcome'] === outcome)
    .reduce((a, p) => a + p.value!, 0);
}

for (const temporality of ['cumulative', 'delta'] as const) {
  test(`OTLP push (${temporality}): the aggregate, once, from the aggregating jobmeter; members push nothing`, async () => {
    const receiver = await startOtlpReceiver();
    const options = {
      ...OPTIONS,
      listener: false as const,
      otlp: { endpoint: receiver.url, intervalMillis: 600_000, temporality },
    };
    const parent = await createJobmeter(options);
    try {
      const a = start(options);
      const b = start(options);
      parent.aggregate(a);
      parent.aggregate(b);
      await Promise.all([next(a, 'started'), next(b, 'started')]);
      a.postMessage({ run: 4 });
      b.postMessage({ run: 6 });
      await Promise.all([next(a, 'recorded'), next(b, 'recorded')]);
      await parent.forceFlush();
      assert.equal(receiver.requests.length, 1);
      assert.equal(finished(receiver.requests[0]!, 'success'), 10);
      a.postMessage({ run: 1 });
      await next(a, 'recorded');
      // Members stop (their last report) and exit: still one push per flush of the parent.
      for (const w of [a, b]) {
        w.postMessage({ stop: true });
        await next(w, 'stopped');
        await w.terminate();
      }
      await parent.forceFlush();
      assert.equal(receiver.requests.length, 2, 'no export from a member, at flush or at shutdown');
      assert.equal(
        finished(receiver.requests[1]!, 'success'),
        temporality === 'cumulative' ? 11 : 1,
      );
      assert.equal(
        receiver.requests[1]!.metrics.find((x) => x.name === 'jobmeter.run.finished')?.temporality,
        temporality,
      );
    } finally {
      await parent.shutdown();
      await receiver.close();
    }
  });
}

test('a thread that reports to nobody says so, in one line', async () => {
  const w = new Worker(new URL('./fixtures/thread-member.ts', import.meta.url), {
    workerData: { options: { ...OPTIONS, listener: { port: 0 } } },
    stderr: true,
  });
  threads.push(w);
  let err = '';
  w.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  await next(w, 'started');
  const deadline = Date.now() + 15_000;
  while (!err.includes('no jobmeter answered') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  assert.match(
    err,
    /^jobmeter: this thread reports over cluster\.reportTo, but no jobmeter answered on the other end: call jm\.aggregate\(worker\)/m,
  );
  assert.equal(err.split('\n').filter((l) => l.includes('no jobmeter answered')).length, 1);
});

test("an aggregating jobmeter started again gets each member's full totals, not only what changed", async () => {
  const first = await createJobmeter({ ...OPTIONS, listener: false });
  const w = start();
  first.aggregate(w);
  await next(w, 'started');
  w.postMessage({ run: 3 });
  await next(w, 'recorded');
  const finished = async (jm: Jobmeter): Promise<number> =>
    renderPrometheusText(await jm.scrape())
      .split('\n')
      .filter((l) => l.startsWith('jobmeter_run_finished_total{'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  assert.equal(await finished(first), 3);
  await first.shutdown();
  const second = await createJobmeter({ ...OPTIONS, listener: false });
  try {
    second.aggregate(w);
    w.postMessage({ run: 1 });
    await next(w, 'recorded');
    assert.equal(await finished(second), 4, 'described again, with its full value');
  } finally {
    await second.shutdown();
  }
});

/** Each series' exported deltas added up over `requests` (a cumulative series: its last value): `${metric} ${outcome}/${task}` → value (sums) or count and sum (histograms). */
function deltaTotals(requests: readonly DecodedExport[]): Map<string, number> {
  const totals = new Map<string, number>();
  const add = (key: string, v: number) => totals.set(key, (totals.get(key) ?? 0) + v);
  for (const r of requests) {
    for (const m of r.metrics) {
      if (
        m.name !== 'jobmeter.run.finished' &&
        m.name !== 'jobmeter.run.duration' &&
        m.name !== 'jobmeter.run.active'
      )
        continue;
      // OTel's delta preference: an up-down counter (runs in flight) stays cumulative.
      const level = m.name === 'jobmeter.run.active';
      assert.equal(m.temporality, level ? 'cumulative' : 'delta', m.name);
      for (const p of m.points) {
        const key = `${m.name} ${String(p.attributes['outcome'])}/${String(p.attributes['task'])}`;
        if (m.kind === 'histogram') {
          add(`${key} count`, p.count!);
          add(`${key} sum`, p.sum!);
        } else if (level) totals.set(key, p.value!);
        else add(key, p.value!);
      }
    }
  }
  return totals;
}

test('a delta push counts every run once across the hand-over to the aggregate and after its members leave', async () => {
  const receiver = await startOtlpReceiver();
  const options = {
    ...OPTIONS,
    listener: false as const,
    otlp: { endpoint: receiver.url, intervalMillis: 600_000, temporality: 'delta' as const },
  };
  const parent = await createJobmeter(options);
  try {
    const own = (n: number) => {
      for (let i = 0; i < n; i++)
        parent.recordRun({ task: 'nightly', outcome: 'success', durationSeconds: 0.5 });
    };
    // The primary alone: its own reader exports its deltas (a run in flight: an up-down counter's).
    own(3);
    parent.startRun({ task: 'nightly' });
    await parent.forceFlush();
    // A member arrives with a series of its own; the primary records more before the aggregate's first export.
    const a = start(options);
    parent.aggregate(a);
    await next(a, 'started');
    a.postMessage({ run: 4 });
    await next(a, 'recorded');
    own(2);
    await parent.forceFlush();
    const expected = (nightly: number, crunch: number, crunchActive: number) =>
      new Map([
        ['jobmeter.run.active undefined/nightly', 1],
        ['jobmeter.run.active undefined/crunch', crunchActive],
        ['jobmeter.run.finished success/nightly', nightly],
        ['jobmeter.run.finished success/crunch', crunch],
        ['jobmeter.run.duration success/nightly count', nightly],
        ['jobmeter.run.duration success/nightly sum', nightly * 0.5],
        ['jobmeter.run.duration success/crunch count', crunch],
        ['jobmeter.run.duration success/crunch sum', crunch * 0.3],
      ]);
    assert.deepEqual(
      deltaTotals(receiver.requests),
      expected(5, 4, 1),
      'the hand-over export carries what the primary exported before once, not twice',
    );
    // The member leaves (its counts stay in the aggregate); the primary records on.
    a.postMessage({ run: 1 });
    await next(a, 'recorded');
    a.postMessage({ stop: true });
    await next(a, 'stopped');
    await a.terminate();
    own(1);
    await parent.forceFlush();
    await parent.forceFlush();
    // The member's runs in flight left with it: that series is no longer exported (as with a
    // cumulative push, its last level ages out at the receiver), so it is not compared here.
    const after = deltaTotals(receiver.requests);
    after.delete('jobmeter.run.active undefined/crunch');
    const want = expected(6, 5, 0);
    want.delete('jobmeter.run.active undefined/crunch');
    assert.deepEqual(after, want, "a member's series is exported in full once, never again");
    // The last export, at shutdown, carries what the primary recorded since the one before.
    own(1);
    await parent.shutdown();
    const last = deltaTotals(receiver.requests);
    last.delete('jobmeter.run.active undefined/crunch');
    const wantLast = expected(7, 5, 0);
    wantLast.delete('jobmeter.run.active undefined/crunch');
    assert.deepEqual(last, wantLast, 'the shutdown export');
  } finally {
    await parent.shutdown();
    await receiver.close();
  }
});

test('a delta push whose hand-over to the aggregate is its last export, at shutdown, counts every run once', async () => {
  const receiver = await startOtlpReceiver();
  const options = {
    ...OPTIONS,
    listener: false as const,
    otlp: { endpoint: receiver.url, intervalMillis: 600_000, temporality: 'delta' as const },
  };
  const parent = await createJobmeter(options);
  try {
    const own = (n: number) => {
      for (let i = 0; i < n; i++)
        parent.recordRun({ task: 'nightly', outcome: 'success', durationSeconds: 0.5 });
    };
    own(3);
    await parent.forceFlush();
    const a = start(options);
    parent.aggregate(a);
    await next(a, 'started');
    a.postMessage({ run: 2 });
    await next(a, 'recorded');
    own(1);
    await parent.shutdown();
    const totals = deltaTotals(receiver.requests);
    assert.deepEqual(
      [
        totals.get('jobmeter.run.finished success/nightly'),
        totals.get('jobmeter.run.duration success/nightly count'),
        totals.get('jobmeter.run.finished success/crunch'),
      ],
      [4, 4, 2],
    );
  } finally {
    await parent.shutdown();
    await receiver.close();
  }
});
