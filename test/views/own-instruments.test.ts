// Views are OTel Views: `createJobmeter({ views })` applies to jobmeter's own
// instruments as the SDK applies a View to any instrument — buckets, drop, attribute allow-lists,
// renames, cardinality limits — while the instrument's spec still bounds what it records.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import {
  AggregationType,
  createAllowListAttributesProcessor,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { JobmeterOptions } from '../../src/options.ts';

const open: Jobmeter[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((jm) => jm.shutdown()));
  metrics.disable();
});

async function start(options: JobmeterOptions): Promise<Jobmeter> {
  const jm = await createJobmeter({
    listener: { port: 0 },
    processMetrics: false,
    global: false,
    otelScopeInfo: false,
    ...options,
  });
  open.push(jm);
  return jm;
}

async function pull(jm: Jobmeter): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
    headers: { accept: 'text/plain' },
  });
  assert.equal(res.status, 200);
  return res.text();
}

const lines = (body: string, name: string): string[] =>
  body.split('\n').filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
const les = (body: string, bucket: string): string[] => [
  ...new Set(lines(body, bucket).map((l) => /le="([^"]+)"/.exec(l)![1]!)),
];

const buckets = (instrumentName: string, boundaries: number[]): ViewOptions => ({
  instrumentName,
  aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries } },
});

/** Three runs (rm closes `kind` to its job words: `backup` is one). */
function runs(jm: Jobmeter, kind = 'task'): void {
  for (const [seconds, outcome] of [
    [0.5, 'success'],
    [5, 'success'],
    [50, 'failure'],
  ] as const) {
    jm.recordRun({ task: 'backup', kind, outcome, durationSeconds: seconds });
  }
}

describe('a host View on jobmeter.run.duration', () => {
  test("native profile: the View's buckets replace the catalog's", async () => {
    const jm = await start({ views: [buckets('jobmeter.run.duration', [1, 10])] });
    runs(jm);
    const body = await pull(jm);
    assert.deepEqual(les(body, 'jobmeter_run_duration_seconds_bucket'), ['1', '10', '+Inf']);
    assert.deepEqual(
      lines(body, 'jobmeter_run_duration_seconds_bucket').filter((l) =>
        l.includes('outcome="success"'),
      ),
      [
        'jobmeter_run_duration_seconds_bucket{task="backup",kind="task",runner="default",outcome="success",le="1"} 1',
        'jobmeter_run_duration_seconds_bucket{task="backup",kind="task",runner="default",outcome="success",le="10"} 2',
        'jobmeter_run_duration_seconds_bucket{task="backup",kind="task",runner="default",outcome="success",le="+Inf"} 2',
      ],
    );
    assert.equal(
      body.split('\n').filter((l) => l === '# TYPE jobmeter_run_duration_seconds histogram').length,
      1,
    );
  });

  test("rm profile: the host's View wins over the profile's own buckets; without it rm's stay", async () => {
    const viewed = await start({
      profile: 'rm',
      views: [buckets('jobmeter.run.duration', [2, 20])],
    });
    runs(viewed, 'backup');
    assert.deepEqual(les(await pull(viewed), 'rm_job_duration_seconds_bucket'), [
      '2',
      '20',
      '+Inf',
    ]);
    const plain = await start({ profile: 'rm' });
    runs(plain, 'backup');
    assert.deepEqual(les(await pull(plain), 'rm_job_duration_seconds_bucket'), [
      '1',
      '5',
      '30',
      '60',
      '300',
      '1800',
      '3600',
      '21600',
      '86400',
      '+Inf',
    ]);
  });
});

describe('other Views on own instruments', () => {
  test('drop: the instrument is gone, the others stay', async () => {
    const jm = await start({
      views: [
        { instrumentName: 'jobmeter.run.started', aggregation: { type: AggregationType.DROP } },
      ],
    });
    runs(jm);
    const body = await pull(jm);
    assert.deepEqual(lines(body, 'jobmeter_run_started_total'), []);
    assert.equal(lines(body, 'jobmeter_run_finished_total').length, 2);
  });

  test('an attribute allow-list: series without the dropped attributes, counts summed', async () => {
    const jm = await start({
      views: [
        {
          instrumentName: 'jobmeter.run.finished',
          attributesProcessors: [createAllowListAttributesProcessor(['outcome'])],
        },
      ],
    });
    runs(jm);
    jm.recordRun({ task: 'prune', outcome: 'success', durationSeconds: 1 });
    assert.deepEqual(lines(await pull(jm), 'jobmeter_run_finished_total').sort(), [
      'jobmeter_run_finished_total{outcome="failure"} 1',
      'jobmeter_run_finished_total{outcome="success"} 3',
    ]);
  });

  test('a rename and a description', async () => {
    const jm = await start({
      views: [
        {
          instrumentName: 'jobmeter.run.finished',
          name: 'daemon.jobs.done',
          description: 'Jobs done.',
        },
      ],
    });
    runs(jm);
    const body = await pull(jm);
    assert.deepEqual(lines(body, 'jobmeter_run_finished_total'), []);
    assert.equal(lines(body, 'daemon_jobs_done_total').length, 2);
    assert.match(body, /^# HELP daemon_jobs_done_total Jobs done\.$/m);
  });

  test('a View for every instrument (`*`): each own family served once, values unchanged', async () => {
    const viewed = await start({
      views: [{ instrumentName: '*', aggregationCardinalityLimit: 100 }],
    });
    const plain = await start({});
    for (const jm of [viewed, plain]) {
      runs(jm);
      jm.reject('busy');
      jm.startRun({ task: 'sync' });
    }
    const families = (body: string) =>
      body
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .sort();
    // The last failure's time is each jobmeter's own clock reading: compared apart.
    const samplesOf = (body: string) =>
      body
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('jobmeter_run_last_failure'))
        .sort();
    const [a, b] = [await pull(viewed), await pull(plain)];
    assert.deepEqual(families(a), families(b));
    assert.deepEqual(samplesOf(a), samplesOf(b));
    assert.equal(lines(a, 'jobmeter_run_last_failure_time_seconds').length, 1);
  });

  test("the spec's bounds hold under a View: task values past the cap fold into other; bad values are dropped and counted", async () => {
    const jm = await start({
      views: [{ instrumentName: 'jobmeter.run.finished', aggregationCardinalityLimit: 5000 }],
    });
    for (let i = 0; i < 600; i++)
      jm.recordRun({ task: `t${i}`, outcome: 'success', durationSeconds: 1 });
    const body = await pull(jm);
    const tasks = new Set(
      lines(body, 'jobmeter_run_finished_total').map((l) => /task="([^"]*)"/.exec(l)![1]),
    );
    assert.equal(tasks.size, 501);
    assert.ok(tasks.has('other'));
    assert.match(
      body,
      /^jobmeter_run_finished_total\{task="other",kind="task",runner="default",outcome="success"\} 100$/m,
    );
    jm.meter
      .createCounter('jobmeter.run.finished')
      .add(Number.NaN, { task: 't1', outcome: 'success' });
    assert.match(await pull(jm), /^jobmeter_records_dropped_total\{reason="nan"\} 1$/m);
  });

  test('a View on a declared histogram: its buckets, through jm.histogram() and jm.meter alike', async () => {
    const jm = await start({
      instruments: [
        {
          name: 'app.batch.size',
          kind: 'histogram',
          unit: '{item}',
          description: 'Items per batch.',
          attributes: [{ key: 'queue', cap: 10 }],
          buckets: [10, 100],
        },
      ],
      views: [buckets('app.batch.size', [50])],
    });
    jm.histogram('app.batch.size').record(20, { queue: 'a' });
    jm.histogram('app.batch.size').bind({ queue: 'a' }).record(70);
    assert.deepEqual(lines(await pull(jm), 'app_batch_size_bucket'), [
      'app_batch_size_bucket{queue="a",le="50"} 1',
      'app_batch_size_bucket{queue="a",le="+Inf"} 2',
    ]);
  });
});
