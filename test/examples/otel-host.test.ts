/**
 * examples/otel-host, started as its header says (the built package): a NodeSDK host with
 * jobmeter's reader serves its own instruments (job ids kept out by its View), its resource and
 * jobmeter's domain series recorded on its Meter; SIGTERM stops it with exit code 0.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startExample } from '../support/example-process.ts';

test('the example NodeSDK host: its instruments, its resource and the domain API on one endpoint', async () => {
  const example = await startExample('examples/otel-host/main.ts');
  try {
    const deadline = Date.now() + 30_000;
    let body = '';
    while (!/^jobmeter_run_finished_total\{.*\} [1-9]/m.test(body)) {
      assert.ok(Date.now() < deadline && example.running(), `${example.output()}\n${body}`);
      await sleep(300);
      if (example.output().includes('otel-host: NodeSDK'))
        body = await (
          await fetch(`http://127.0.0.1:${example.port}/metrics`, {
            headers: { accept: 'text/plain' },
          })
        ).text();
    }
    // NodeSDK adds its resource detectors' attributes (host, process) to the host's own.
    assert.match(
      body,
      /^target_info\{.*service_name="otel-host-example",service_version="1\.0\.0"\} 1$/m,
    );
    assert.match(
      body,
      /^app_jobs_enqueued_total\{queue="fast",otel_scope_name="otel-host-example",otel_scope_version="1\.0\.0"\} \d+$/m,
    );
    assert.match(
      body,
      /^jobmeter_run_started_total\{task="resize",kind="task",runner="subprocess",otel_scope_name="jobmeter"\} \d+$/m,
    );
    assert.match(body, /^jobmeter_run_duration_seconds_bucket\{.*le="0\.25"\} \d+$/m);
    assert.doesNotMatch(body, /job_id/);
  } finally {
    example.stop();
  }
  assert.equal(await example.exited, 0, example.output());
  assert.match(example.output(), /otel-host: stopped/);
});
