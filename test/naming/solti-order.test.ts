/**
 * solti's byte order is the Rust `prometheus` crate's (solti is a Rust program on it): label pairs
 * by name with `le` last, families by name, series by their label values — whatever order the
 * host recorded in. Host rules on solti must list their labels by name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError } from '../../src/errors.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import { compareLabelValues } from '../../src/naming/series-order.ts';
import { testJobmeter } from '../profiles/helpers.ts';

describe('solti: the Rust prometheus crate order', () => {
  it('families by name, label pairs by name (le last), series by label values, whatever the recording order', async () => {
    const jm = await testJobmeter('solti');
    try {
      // Recorded in reverse of the crate's order.
      for (const [runner, outcome] of [
        ['wasm', 'timeout'],
        ['subprocess', 'success'],
        ['container', 'success'],
        ['container', 'failure'],
      ] as const) {
        jm.recordRun({ task: 't', kind: 'task', runner, outcome, durationSeconds: 1 });
      }
      jm.runnerError('wasm', 'module_load_failed');
      jm.runnerError('container', 'module_load_failed');
      jm.runnerError('container', 'cgroup_prepare_failed');
      const text = renderPrometheusText(await jm.scrape());
      const samples = text
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#') && !l.includes('_bucket'));
      assert.deepEqual(samples, [
        'solti_runner_errors_total{error="cgroup_prepare_failed",runner="container"} 1',
        'solti_runner_errors_total{error="module_load_failed",runner="container"} 1',
        'solti_runner_errors_total{error="module_load_failed",runner="wasm"} 1',
        'solti_runner_task_duration_seconds_sum{outcome="failure",runner="container"} 1',
        'solti_runner_task_duration_seconds_count{outcome="failure",runner="container"} 1',
        'solti_runner_task_duration_seconds_sum{outcome="success",runner="container"} 1',
        'solti_runner_task_duration_seconds_count{outcome="success",runner="container"} 1',
        'solti_runner_task_duration_seconds_sum{outcome="success",runner="subprocess"} 1',
        'solti_runner_task_duration_seconds_count{outcome="success",runner="subprocess"} 1',
        'solti_runner_task_duration_seconds_sum{outcome="timeout",runner="wasm"} 1',
        'solti_runner_task_duration_seconds_count{outcome="timeout",runner="wasm"} 1',
        'solti_runner_tasks_completed_total{outcome="failure",runner="container"} 1',
        'solti_runner_tasks_completed_total{outcome="success",runner="container"} 1',
        'solti_runner_tasks_completed_total{outcome="success",runner="subprocess"} 1',
        'solti_runner_tasks_completed_total{outcome="timeout",runner="wasm"} 1',
        'solti_runner_tasks_started_total{runner="container"} 2',
        'solti_runner_tasks_started_total{runner="subprocess"} 1',
        'solti_runner_tasks_started_total{runner="wasm"} 1',
      ]);
      assert.match(
        text,
        /^solti_runner_task_duration_seconds_bucket\{outcome="failure",runner="container",le="0\.01"\} 0$/m,
      );
    } finally {
      await jm.shutdown();
    }
  });

  it('compares label values as Rust compares strings (UTF-8 bytes, unescaped), fewer labels first', () => {
    assert.ok(compareLabelValues(['x'], ['x y']) < 0, 'a prefix sorts first, though " > space');
    assert.ok(compareLabelValues(['x"z'], ['xa']) < 0, 'a quote compares as a quote, unescaped');
    assert.ok(compareLabelValues(['\uffff'], ['\u{1f600}']) < 0, 'UTF-8 bytes, not UTF-16 units');
    assert.ok(compareLabelValues(['z'], ['a', 'a']) < 0);
  });

  it('a host rule on solti must list its labels by name', async () => {
    const rule = {
      instrument: 'app.jobs',
      name: 'solti_runner_jobs_total',
      type: 'counter',
      help: 'Jobs',
      labels: [
        ['runner', 'runner'],
        ['kind', 'kind'],
      ],
    };
    await assert.rejects(
      testJobmeter('solti', { profile: { name: 'solti', rules: [rule] } as never }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.key, 'profile.rules[0].labels');
        assert.match(err.message, /labels listed by name/);
        return true;
      },
    );
  });
});
