// What happens before a run, recorded through the domain API and read back from the native pull
// endpoint: its queue wait (from when it was enqueued or due), its schedule lateness, missed
// schedules, its attempt (bounded: 1, 2, 3, 4+), and the oldest waiting job's age per queue from
// the host's job-store read. Times from code that cannot be right are not recorded: warned and
// counted in jobmeter_records_dropped_total, the run itself recorded.
import assert from 'node:assert/strict';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { after, before, test, type TestContext } from 'node:test';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Family } from '../../src/exposition/types.ts';
import { QueueAgePoll } from '../../src/domain/queue-ages.ts';
import { RecordGuard } from '../../src/domain/record-guard.ts';
import { createRecorder } from '../../src/host-recorder.ts';
import { JobmeterReader } from '../../src/jobmeter-reader.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { histogramSeries, numberSeries, scrapeByName } from '../profiles/helpers.ts';

const SILENT = { error() {}, warn() {}, info() {}, debug() {}, verbose() {} };

/** A fixed "now" (epoch ms) the runs' times are given against. */
const T = Date.UTC(2026, 10, 25, 7, 0, 0);
const SCOPE = 'otel_scope_name="jobmeter",otel_scope_version="0.1.0"';
const labels = (task: string) => `task="${task}",kind="task",runner="default",${SCOPE}`;

let jm: Jobmeter;
before(async () => {
  jm = await createJobmeter({ listener: { port: 0 }, processMetrics: false, global: false });
});
after(() => jm.shutdown());

/** The wall clock the recorder reads, fixed at `at` for the rest of the test. */
function clockAt(t: TestContext, at: number): { set(ms: number): void } {
  let now = at;
  t.mock.method(Date, 'now', () => now);
  return { set: (ms) => (now = ms) };
}

/** Sum and count of `family`'s series for `task`, or undefined when it has none. */
function waitOf(family: Family | undefined, task: string) {
  if (!family?.series.some((s) => s.labels === labels(task))) return undefined;
  const s = histogramSeries(family, labels(task));
  return { sum: s.sum, count: s.count };
}

/** The number of records dropped for `reason` so far. */
function dropped(families: Map<string, Family>, reason: string): number {
  return numberSeries(families.get('jobmeter_records_dropped_total')).find(([l]) =>
    l.startsWith(`reason="${reason}"`),
  )![1];
}

test('queue wait: from enqueuedAt to the start, now or the runner’s own startedAt, in seconds', async (t) => {
  clockAt(t, T);
  jm.startRun({ task: 'w-now' }, { enqueuedAt: T - 2500 }).finish('success');
  jm.startRun({ task: 'w-date' }, { enqueuedAt: new Date(T - 60_000), startedAt: T - 59_000 });
  // Timed elsewhere: it started its duration before now.
  jm.recordRun({
    task: 'w-recorded',
    outcome: 'success',
    durationSeconds: 4,
    enqueuedAt: T - 10_000,
  });
  const wait = (await scrapeByName(jm)).get('jobmeter_queue_wait_seconds');
  assert.equal(
    wait?.help,
    'Seconds a run waited between becoming ready (enqueued, or its delay or schedule passed) and starting.',
  );
  assert.deepEqual(waitOf(wait, 'w-now'), { sum: 2.5, count: 1 });
  assert.deepEqual(waitOf(wait, 'w-date'), { sum: 1, count: 1 });
  assert.deepEqual(waitOf(wait, 'w-recorded'), { sum: 6, count: 1 });
});

test('a delayed or scheduled run waits from when it was due; its lateness is from its schedule', async (t) => {
  clockAt(t, T);
  // Enqueued a minute ago with a delay that ended 2 s ago: it waited 2 s, not 60.
  jm.startRun({ task: 'delayed' }, { enqueuedAt: T - 60_000, scheduledAt: T - 2000 });
  // A cron tick 0.75 s ago.
  jm.startRun({ task: 'cron' }, { scheduledAt: T - 750 });
  // Enqueued after its time had come (a catch-up run): ready when enqueued.
  jm.startRun({ task: 'catch-up' }, { enqueuedAt: T - 3000, scheduledAt: T - 90_000 });
  jm.missedSchedule({ task: 'cron' });
  jm.missedSchedule({ task: 'cron' });
  const families = await scrapeByName(jm);
  const wait = families.get('jobmeter_queue_wait_seconds');
  const late = families.get('jobmeter_schedule_lateness_seconds');
  assert.deepEqual(waitOf(wait, 'delayed'), { sum: 2, count: 1 });
  assert.deepEqual(waitOf(late, 'delayed'), { sum: 2, count: 1 });
  assert.deepEqual(waitOf(wait, 'cron'), { sum: 0.75, count: 1 });
  assert.deepEqual(waitOf(late, 'cron'), { sum: 0.75, count: 1 });
  assert.deepEqual(waitOf(wait, 'catch-up'), { sum: 3, count: 1 });
  assert.deepEqual(waitOf(late, 'catch-up'), { sum: 90, count: 1 });
  assert.deepEqual(numberSeries(families.get('jobmeter_schedule_missed_total')), [
    [labels('cron'), 2],
  ]);
  assert.equal(late?.help, 'Seconds a scheduled run started after its scheduled time.');
  assert.equal(
    families.get('jobmeter_schedule_missed_total')?.help,
    'Scheduled runs that never started: their time passed while the scheduler was busy or down.',
  );
});

test('wait and lateness buckets, as served: from a millisecond to six hours', async (t) => {
  clockAt(t, T);
  jm.startRun({ task: 'buckets' }, { scheduledAt: T - 7 * 60_000 });
  const body = await (
    await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
      headers: { accept: 'text/plain;version=0.0.4' },
    })
  ).text();
  for (const name of ['jobmeter_queue_wait_seconds', 'jobmeter_schedule_lateness_seconds']) {
    const lines = [
      ...body.matchAll(
        new RegExp(`^${name}_bucket\\{${labels('buckets')},le="([^"]+)"\\} (\\S+)$`, 'gm'),
      ),
    ].map((m) => `${m[1]} ${m[2]}`);
    // 420 s: above 300, within 900.
    assert.deepEqual(
      lines,
      [
        '0.001 0',
        '0.005 0',
        '0.01 0',
        '0.025 0',
        '0.05 0',
        '0.1 0',
        '0.25 0',
        '0.5 0',
        '1 0',
        '2.5 0',
        '5 0',
        '10 0',
        '30 0',
        '60 0',
        '300 0',
        '900 1',
        '1800 1',
        '3600 1',
        '7200 1',
        '21600 1',
        '+Inf 1',
      ],
      name,
    );
  }
});

test('the attempt is counted on finish, by outcome, past the third as 4+', async () => {
  for (const [attempt, outcome] of [
    [1, 'failure'],
    [2, 'failure'],
    [3, 'failure'],
    [4, 'failure'],
    [7, 'success'],
    [7, 'success'],
  ] as const)
    jm.startRun({ task: 'retried' }, { attempt }).finish(outcome);
  jm.recordRun({ task: 'retried', outcome: 'success', durationSeconds: 1, attempt: 2 });
  const families = await scrapeByName(jm);
  const attempts = numberSeries(families.get('jobmeter_run_attempts_total'))
    .filter(([l]) => l.startsWith('task="retried"'))
    .map(([l, v]) => [/outcome="(\w+)",attempt="([^"]+)"/.exec(l)!.slice(1).join(' '), v]);
  assert.deepEqual(attempts, [
    ['failure 1', 1],
    ['failure 2', 1],
    ['failure 3', 1],
    ['failure 4+', 1],
    ['success 4+', 2],
    ['success 2', 1],
  ]);
  assert.equal(
    families.get('jobmeter_run_attempts_total')?.help,
    "Finished runs by attempt: 1 is a job's first run, 2 its first retry, 4+ any later retry.",
  );
});

test('bad times are not recorded: warned, counted, and the run still recorded', async (t) => {
  clockAt(t, T);
  const warnings: string[] = [];
  diag.setLogger(
    { ...SILENT, warn: (message: string) => void warnings.push(message) },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  t.after(() => diag.disable());
  const before = await scrapeByName(jm);
  const cases: ReadonlyArray<readonly [unknown, string]> = [
    [NaN, 'nan'],
    [new Date('not a date'), 'nan'],
    [Infinity, 'infinite'],
    ['2026-11-25T06:59:00Z', 'not_a_number'],
    [{}, 'not_a_number'],
    // An hour after the start: a wrong clock or unit, not a wait.
    [T + 3_600_000, 'negative'],
    // Epoch seconds, or microseconds, where milliseconds are taken: no job's time (issue 59).
    [T / 1000, 'not_a_time'],
    [T * 1000, 'not_a_time'],
  ];
  for (const [enqueuedAt] of cases)
    jm.startRun({ task: 'bad-time' }, { enqueuedAt } as never).finish('success');
  // Within the clocks' skew of the start: no wait at all, recorded as 0.
  jm.startRun({ task: 'skewed' }, { enqueuedAt: T + 400 });
  // Which attempt cannot be said by a non-integer or a number below 1.
  for (const attempt of [0, 1.5, '2'])
    jm.startRun({ task: 'bad-attempt' }, { attempt } as never).finish('success');
  const families = await scrapeByName(jm);
  const wait = families.get('jobmeter_queue_wait_seconds');
  assert.equal(waitOf(wait, 'bad-time'), undefined);
  assert.deepEqual(waitOf(wait, 'skewed'), { sum: 0, count: 1 });
  const finished = numberSeries(families.get('jobmeter_run_finished_total'));
  assert.deepEqual(
    finished.filter(([l]) => /task="bad-(time|attempt)"/.test(l)).map(([, v]) => v),
    [cases.length, 3],
  );
  assert.equal(
    numberSeries(families.get('jobmeter_run_attempts_total')).some(([l]) =>
      l.includes('bad-attempt'),
    ),
    false,
  );
  const delta = (reason: string) => dropped(families, reason) - dropped(before, reason);
  assert.deepEqual(
    ['nan', 'infinite', 'not_a_number', 'negative', 'not_a_time', 'bad_attribute'].map(delta),
    [2, 1, 2, 1, 2, 3],
  );
  // One warning per instrument and reason; a wait in the future shows as the negative wait it is.
  assert.deepEqual(
    warnings.map((w) => w.slice(0, w.indexOf(' dropped:'))),
    [
      'jobmeter: jobmeter.queue.wait: record of NaN',
      'jobmeter: jobmeter.queue.wait: record of Infinity',
      'jobmeter: jobmeter.queue.wait: record of "2026-11-25T06:59:00Z"',
      'jobmeter: jobmeter.queue.wait: record of -3600',
      `jobmeter: jobmeter.queue.wait: record of ${T / 1000}`,
      'jobmeter: jobmeter.run.attempts: record of 0',
    ],
  );
});

test('oldest waiting job: its age at each collection, from the last read of the store', async (t) => {
  const clock = clockAt(t, T);
  const before = await scrapeByName(jm);
  let reads = 0;
  const stop = jm.addQueueSource(
    async () => {
      reads++;
      return { emails: T - 90_000, reports: new Date(T - 1500), idle: undefined, broken: NaN };
    },
    { intervalMillis: 60_000 },
  );
  try {
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reads, 1, 'read once when added, then once per interval');
    // Ten seconds on, no read since: the jobs still waiting are ten seconds older.
    clock.set(T + 10_000);
    const families = await scrapeByName(jm);
    const ages = numberSeries(families.get('jobmeter_queue_oldest_age_seconds'));
    assert.deepEqual(ages, [
      [`queue="emails",${SCOPE}`, 100],
      [`queue="reports",${SCOPE}`, 11.5],
      [`queue="idle",${SCOPE}`, 0],
    ]);
    assert.equal(dropped(families, 'nan') - dropped(before, 'nan'), 1, 'the NaN time counted');
    assert.equal(
      families.get('jobmeter_queue_oldest_age_seconds')?.help,
      'Seconds since the oldest job waiting in the queue at the last read of the job store was enqueued; 0 when none waits.',
    );
    assert.equal(reads, 1, 'a collection never reads the store');
  } finally {
    stop();
  }
});

test('queue sources add up: a queue two of them read reports the older age; a stopped one leaves', async (t) => {
  clockAt(t, T);
  const stopB = jm.addQueueSource(() => new Map([['shared', T - 8000]]));
  const stopA = jm.addQueueSource(() => ({ shared: T - 5000, a: T - 1000 }));
  try {
    await new Promise((resolve) => setImmediate(resolve));
    const ages = async () =>
      numberSeries((await scrapeByName(jm)).get('jobmeter_queue_oldest_age_seconds')).filter(
        ([l]) => /queue="(shared|a)"/.test(l),
      );
    assert.deepEqual(await ages(), [
      [`queue="shared",${SCOPE}`, 8],
      [`queue="a",${SCOPE}`, 1],
    ]);
    stopB();
    assert.deepEqual(await ages(), [
      [`queue="shared",${SCOPE}`, 5],
      [`queue="a",${SCOPE}`, 1],
    ]);
  } finally {
    stopA();
    stopB();
  }
});

test('a read that fails keeps the last good one: the ages keep climbing', async () => {
  let now = T;
  let fail = false;
  const poll = new QueueAgePoll(
    async () => {
      if (fail) throw new Error('ECONNREFUSED');
      return { emails: T - 2000 };
    },
    { intervalMillis: 60_000 },
    new RecordGuard(),
    () => now,
  );
  try {
    await poll.poll();
    fail = true;
    now = T + 30_000;
    await poll.poll();
    assert.deepEqual([...poll.ages(now)], [['emails', 32]]);
    // The first poll() joined the read the constructor sent: one read at a time.
    assert.equal(poll.reads, 2);
  } finally {
    poll.close();
  }
});

test('a queue source read more often than every 100 ms is refused', () => {
  assert.throws(
    () => jm.addQueueSource(() => new Map(), { intervalMillis: 10 }),
    /addQueueSource\.intervalMillis/,
  );
});

test('a queue source interval a timer cannot hold is refused (Node would fire it every millisecond)', () => {
  assert.throws(
    () => jm.addQueueSource(() => new Map(), { intervalMillis: 3_000_000_000 }),
    /addQueueSource\.intervalMillis=3000000000: expected an integer from 100 to 2147483647/,
  );
});

test("on a host's own MeterProvider: the same figures, buckets and attempt folding", async () => {
  const reader = new JobmeterReader({ listener: { port: 0 } });
  const provider = new MeterProvider({ readers: [reader] });
  try {
    const host = createRecorder(provider.getMeter('jobmeter'));
    host
      .startRun({ task: 'sdk' }, { enqueuedAt: T - 420_000, startedAt: T, attempt: 9 })
      .finish('success');
    host.missedSchedule({ task: 'sdk' });
    await reader.ready;
    const body = await (
      await fetch(`http://127.0.0.1:${reader.pullAddress!.port}/metrics`, {
        headers: { accept: 'text/plain;version=0.0.4' },
      })
    ).text();
    const sdk = 'task="sdk",kind="task",runner="default",otel_scope_name="jobmeter"';
    for (const line of [
      `jobmeter_queue_wait_seconds_bucket{${sdk},le="300"} 0`,
      `jobmeter_queue_wait_seconds_bucket{${sdk},le="900"} 1`,
      `jobmeter_queue_wait_seconds_sum{${sdk}} 420`,
      `jobmeter_run_attempts_total{${sdk.replace(',otel', ',outcome="success",attempt="4+",otel')}} 1`,
      `jobmeter_schedule_missed_total{${sdk}} 1`,
    ])
      assert.ok(body.split('\n').includes(line), `${line} in\n${body}`);
  } finally {
    await provider.shutdown();
  }
});
