// `--demo` includes exemplars: the live demo records its runs as if traced, so
// an OpenMetrics scrape shows trace-linked exemplars on the run-duration buckets and the finished
// counter; text 0.0.4 shows none.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { startLiveDemo } from '../../src/demo/live.ts';
import { createJobmeter } from '../../src/jobmeter.ts';

test('the live demo serves exemplars in OpenMetrics', async () => {
  const jm = await createJobmeter({ listener: { port: 0 }, processMetrics: false, global: false });
  const demo = startLiveDemo(jm, 'otel', { tickMs: 20 });
  try {
    await sleep(300);
    const get = (accept: string) =>
      fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, { headers: { accept } }).then((r) =>
        r.text(),
      );
    const om = await get('application/openmetrics-text;version=1.0.0');
    const exemplar = / # \{trace_id="[0-9a-f]{32}",span_id="[0-9a-f]{16}"\} [0-9.e+-]+ [0-9.]+$/;
    const buckets = om
      .split('\n')
      .filter((l) => l.startsWith('jobmeter_run_duration_seconds_bucket{') && exemplar.test(l));
    const finished = om
      .split('\n')
      .filter((l) => l.startsWith('jobmeter_run_finished_total{') && exemplar.test(l));
    assert.ok(buckets.length > 0 && finished.length > 0, om);
    assert.doesNotMatch(await get('text/plain;version=0.0.4'), /trace_id/);
  } finally {
    demo.stop();
    await jm.shutdown();
    metrics.disable();
  }
});
