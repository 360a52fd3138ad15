/**
 * The integrations' shared option check (src/integrations/job-runs.ts checkOptions): the depth
 * poll's interval is an option rule, so an interval no timer can hold is refused rather than run.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createJobmeter } from '../../src/index.ts';
import { checkOptions } from '../../src/integrations/job-runs.ts';

const jm = await createJobmeter({ listener: false });
after(() => jm.shutdown());

test('a depth interval a timer cannot hold is refused (Node would fire it every millisecond); false and 100 ms are taken', () => {
  assert.throws(
    () =>
      checkOptions(
        'instrumentWorker',
        { jobmeter: jm, depthIntervalMillis: 3_000_000_000 },
        'bullmq',
      ),
    /instrumentWorker\.depthIntervalMillis=3000000000: expected an integer from 100 to 2147483647 \(milliseconds\), or false/,
  );
  assert.throws(
    () => checkOptions('instrumentWorker', { jobmeter: jm, depthIntervalMillis: 99 }, 'bullmq'),
    /instrumentWorker\.depthIntervalMillis=99/,
  );
  assert.equal(
    checkOptions('instrumentWorker', { jobmeter: jm, depthIntervalMillis: false }, 'bullmq')
      .depthIntervalMillis,
    false,
  );
  assert.equal(
    checkOptions('instrumentWorker', { jobmeter: jm, depthIntervalMillis: 100 }, 'bullmq')
      .depthIntervalMillis,
    100,
  );
});

test("task, kind and runner are held to their rows' rules (common/option-table.ts INTEGRATION_OPTIONS), with the defaults", () => {
  assert.throws(
    () => checkOptions('instrumentWorker', { jobmeter: jm, task: 'job' as 'name' }, 'bullmq'),
    /invalid instrumentWorker\.task=job: expected one of queue, name/,
  );
  for (const key of ['kind', 'runner'] as const)
    assert.throws(
      () => checkOptions('instrumentWorker', { jobmeter: jm, [key]: ' ' }, 'bullmq'),
      new RegExp(`invalid instrumentWorker\\.${key}= : expected a non-empty string`),
    );
  assert.throws(
    () => checkOptions('instrumentWorker', { jobmeter: {} as typeof jm }, 'bullmq'),
    /invalid instrumentWorker\.jobmeter=.*: expected the instance createJobmeter\(\) resolves to/,
  );
  const checked = checkOptions('instrumentWorker', { jobmeter: jm }, 'bullmq');
  assert.deepEqual(
    [checked.task, checked.kind, checked.runner, checked.depthIntervalMillis],
    ['queue', 'task', 'bullmq', 10_000],
  );
});
