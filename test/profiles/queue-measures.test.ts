// A legacy profile serves exactly its original's series: the queue wait, lateness, missed
// schedules, attempts and oldest-job age leave its body byte for byte as it was, and appear there
// only under a rule the user adds (`[[profile.rules]]`).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { JobmeterOptions } from '../../src/options.ts';
import { LEGACY } from './helpers.ts';

/** The wall clock of every jobmeter of the comparison (the last failure's time is served). */
const T = Date.UTC(2026, 10, 25, 7, 0, 0);
const fixClock = (t: TestContext) => t.mock.method(Date, 'now', () => T);

/** The runs every jobmeter of the comparison records. */
function runs(jm: Jobmeter, measured: boolean): void {
  const now = T;
  const details = measured
    ? { enqueuedAt: now - 4000, scheduledAt: now - 1500, attempt: 2 }
    : undefined;
  jm.startRun({ task: 'backup', kind: 'task', runner: 'local' }, details).finish('success', {
    durationSeconds: 2,
  });
  jm.startRun({ task: 'backup', kind: 'task', runner: 'local' }, details).finish('failure', {
    durationSeconds: 5,
  });
  jm.startRun({ task: 'prune', kind: 'task', runner: 'local' }, details);
  jm.recordRun({
    task: 'backup',
    kind: 'task',
    runner: 'local',
    outcome: 'success',
    durationSeconds: 3,
    ...details,
  });
  if (!measured) return;
  jm.missedSchedule({ task: 'backup', kind: 'task', runner: 'local' });
  jm.addQueueSource(() => ({ backups: now - 60_000 }));
}

/** The body one scrape of a fresh jobmeter serves after `feed`. */
async function body(
  profile: JobmeterOptions['profile'],
  feed: (jm: Jobmeter) => void,
): Promise<string> {
  const jm = await createJobmeter({
    profile,
    hostname: 'demo-host',
    processMetrics: false,
    global: false,
    listener: { port: 0 },
  });
  try {
    feed(jm);
    await new Promise((resolve) => setImmediate(resolve)); // the queue source's first read
    return await (await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`)).text();
  } finally {
    await jm.shutdown();
  }
}

for (const profile of LEGACY) {
  test(`${profile}: the queue measures leave the served body byte for byte as it was`, async (t) => {
    fixClock(t);
    const plain = await body(profile, (jm) => runs(jm, false));
    const measured = await body(profile, (jm) => runs(jm, true));
    assert.equal(measured, plain);
    assert.doesNotMatch(measured, /wait|lateness|missed|attempt|oldest/);
  });
}

test('under a legacy profile, a rule the user adds serves a queue measure', async (t) => {
  fixClock(t);
  const served = await body(
    {
      name: 'runwisp',
      rules: [
        {
          instrument: 'jobmeter.schedule.missed',
          name: 'runwisp_schedule_missed_total',
          type: 'counter',
          help: 'Scheduled runs that never started',
          labels: [['task', 'task']],
        },
        {
          instrument: 'jobmeter.queue.oldest.age',
          name: 'runwisp_queue_oldest_age_seconds',
          type: 'gauge',
          help: 'Age of the oldest waiting job',
          unit: 'seconds',
          labels: [['queue', 'queue']],
        },
      ],
    },
    (jm) => runs(jm, true),
  );
  assert.match(served, /^runwisp_schedule_missed_total\{task="backup"\} 1$/m);
  assert.match(served, /^runwisp_queue_oldest_age_seconds\{queue="backups"\} 60$/m);
  assert.doesNotMatch(served, /jobmeter_queue|jobmeter_schedule/);
});
