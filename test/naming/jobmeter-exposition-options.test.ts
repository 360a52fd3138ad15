// createJobmeter applies startTimestamps, translationStrategy and unitSuffixes (and so `jobmeter serve`'s
// [naming] table), as JobmeterReader does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { ConfigError } from '../../src/errors.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import type { JobmeterOptions } from '../../src/options.ts';

async function openMetrics(options: JobmeterOptions): Promise<string> {
  const jm = await createJobmeter({
    listener: { port: 0 },
    processMetrics: false,
    global: false,
    otelScopeInfo: false,
    ...options,
  });
  try {
    jm.recordRun({ task: 'a', outcome: 'success', durationSeconds: 1 });
    const res = await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8' },
    });
    return await res.text();
  } finally {
    await jm.shutdown();
    metrics.disable();
  }
}

test('startTimestamps: a counter series is followed by its _created sample', async () => {
  const om = await openMetrics({ startTimestamps: true });
  assert.match(
    om,
    /^jobmeter_run_finished_total\{task="a",kind="task",runner="default",outcome="success"\} 1\njobmeter_run_finished_created\{task="a",kind="task",runner="default",outcome="success"\} \d+(\.\d+)?$/m,
  );
  assert.doesNotMatch(await openMetrics({}), /_created/);
});

test('translationStrategy: NoTranslation serves the OTel names as they are under allow-utf-8; a legacy profile refuses it', async () => {
  assert.match(
    await openMetrics({ translationStrategy: 'NoTranslation' }),
    /^\{"jobmeter\.run\.finished",task="a",kind="task",runner="default",outcome="success"\} 1$/m,
  );
  await assert.rejects(
    createJobmeter({ listener: false, profile: 'solti', translationStrategy: 'NoTranslation' }),
    ConfigError,
  );
});

test("unitSuffixes: false leaves jobmeter's own names whole (its dashboards read jobmeter_run_duration_seconds); a legacy profile refuses it", async () => {
  const om = await openMetrics({ unitSuffixes: false });
  assert.match(
    om,
    /^jobmeter_run_duration_seconds_count\{task="a",kind="task",runner="default",outcome="success"\} 1$/m,
  );
  assert.doesNotMatch(om, /^jobmeter_run_duration_count/m);
  await assert.rejects(
    createJobmeter({ listener: false, profile: 'solti', unitSuffixes: false }),
    ConfigError,
  );
});
