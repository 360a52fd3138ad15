/**
 * examples/task-daemon, started as its README says (`node --import jobmeter/instrumentation`, the
 * built package, its jobmeter.toml): it runs its shell commands, records every kind of outcome,
 * its queue waits, missed schedule ticks and queues' oldest triggers through the preload's jobmeter, serves them on its own server behind the crewshipd posture, and
 * exits cleanly on SIGTERM. (test/dashboards/queries.test.ts has a real Prometheus scrape it under
 * every profile and runs the dashboards against it.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startExampleApp, type ExampleApp } from '../../scripts/dashboards/example-app.ts';
import { ROOT } from '../../scripts/dashboards/rules-file.ts';

const TOKEN = 'example-test-token';
let app: ExampleApp;

before(async () => {
  app = await startExampleApp({ profile: 'otel', env: { METRICS_TOKEN: TOKEN } });
});
after(async () => {
  await app?.stop();
});

/** Sample value of `name{...labels}` (labels a subset), summed over matching series. */
function sample(
  body: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  let found: number | undefined;
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (wanted) found = (found ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return found;
}

async function scrape(headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${app.url}/metrics`, {
    headers: { accept: 'text/plain', ...headers },
    signal: AbortSignal.timeout(5_000),
  });
}

/** Polls the metrics until `check` passes (the scheduled commands need a few seconds). */
async function eventually(check: (body: string) => void, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = await (await scrape()).text();
    try {
      check(body);
      return body;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await sleep(250);
  }
}

test("the README's command is the one the tests start", () => {
  const readme = readFileSync(`${ROOT}examples/task-daemon/README.md`, 'utf8');
  assert.ok(
    readme.includes(
      'JOBMETER_CONFIG=examples/task-daemon/jobmeter.toml node --import jobmeter/instrumentation examples/task-daemon/main.ts',
    ),
  );
});

test('its shell commands are recorded with every outcome, rejection, runner error and truncation, and their queue wait, missed ticks and attempts', async () => {
  const body = await eventually((b) => {
    for (const outcome of ['success', 'failure', 'timeout']) {
      assert.ok(
        (sample(b, 'jobmeter_run_finished_total', { outcome }) ?? 0) > 0,
        `no ${outcome} yet`,
      );
    }
    assert.ok(
      (sample(b, 'jobmeter_run_finished_total', { task: 'hung-sync', outcome: 'timeout' }) ?? 0) >
        0,
      'hung-sync timed out',
    );
    assert.ok(
      (sample(b, 'jobmeter_runner_error_total', { runner: 'subprocess', error: 'spawn_failed' }) ??
        0) > 0,
      'spawn_failed',
    );
    assert.ok(
      (sample(b, 'jobmeter_run_output_truncated_total', { task: 'verbose-dump' }) ?? 0) > 0,
      'truncated',
    );
    assert.ok(
      (sample(b, 'jobmeter_request_rejected_total', { reason: 'concurrency' }) ?? 0) > 0,
      'rejected',
    );
    // What a run says before it ran: slow-report's ticks queue behind its 2.5 s runs, and the
    // ones that find its queue full are missed.
    assert.ok(
      (sample(b, 'jobmeter_queue_wait_seconds_sum', { task: 'slow-report' }) ?? 0) > 0.5,
      'slow-report waited',
    );
    assert.ok(
      (sample(b, 'jobmeter_schedule_missed_total', { task: 'slow-report' }) ?? 0) > 0,
      'missed schedules',
    );
    assert.ok(
      (sample(b, 'jobmeter_run_attempts_total', { task: 'disk-usage', attempt: '1' }) ?? 0) > 0,
      'first attempts',
    );
    assert.ok(
      sample(b, 'jobmeter_queue_oldest_age_seconds', { queue: 'slow-report' }) !== undefined,
    );
  });
  // The failing shell command and the missing program are failures; the service is in flight.
  assert.ok(
    (sample(body, 'jobmeter_run_finished_total', { task: 'missing-tool', outcome: 'failure' }) ??
      0) > 0,
  );
  assert.equal(sample(body, 'jobmeter_run_active', { task: 'heartbeat', kind: 'service' }), 1);
  assert.equal(
    sample(body, 'jobmeter_run_finished_total', { task: 'disk-usage', outcome: 'failure' }),
    undefined,
  );
  // Durations are the commands' own: slow-report sleeps 2.5 s.
  const sum = sample(body, 'jobmeter_run_duration_seconds_sum', { task: 'slow-report' });
  const count = sample(body, 'jobmeter_run_duration_seconds_count', { task: 'slow-report' });
  if (count !== undefined && count > 0)
    assert.ok(sum! / count >= 2.5 && sum! / count < 4, `slow-report mean ${sum! / count}`);
  // The host snapshot: the queue and the journal.
  assert.ok(sample(body, 'jobmeter_queue_depth') !== undefined);
  assert.ok((sample(body, 'jobmeter_agent_run_events_total', { event: 'started' }) ?? 0) > 0);
  // No second listener: the preload's was turned off by jobmeter.toml.
  assert.ok(!app.stderr().includes('also serves metrics'), app.stderr());
});

test('its API: list tasks, trigger one, 429 when the task is already waiting, 404 for none', async () => {
  const tasks = (await (await fetch(`${app.url}/tasks`)).json()) as Array<{
    name: string;
    kind: string;
  }>;
  assert.deepEqual(
    tasks.map((t) => t.name),
    [
      'heartbeat',
      'disk-usage',
      'count-processes',
      'flaky-probe',
      'slow-report',
      'hung-sync',
      'verbose-dump',
      'missing-tool',
    ],
  );
  assert.equal((await fetch(`${app.url}/tasks/disk-usage/run`, { method: 'POST' })).status, 202);
  assert.equal((await fetch(`${app.url}/tasks/nope/run`, { method: 'POST' })).status, 404);
  const statuses = [];
  for (let i = 0; i < 3; i++)
    statuses.push((await fetch(`${app.url}/tasks/slow-report/run`, { method: 'POST' })).status);
  assert.ok(statuses.includes(429), `slow-report: ${statuses.join(', ')}`);
  assert.equal((await fetch(`${app.url}/healthz`)).status, 200);
});

test('the metrics route has the crewshipd posture: loopback passes, remote needs the token', async () => {
  const local = await scrape();
  assert.equal(local.status, 200);
  assert.match(local.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  await local.arrayBuffer();
  // A remote client behind a proxy on loopback (crewshipd trusts loopback proxies' X-Forwarded-For).
  const remote = { 'x-forwarded-for': '203.0.113.7' };
  const denied = await scrape(remote);
  assert.equal(denied.status, 401);
  await denied.arrayBuffer();
  const wrong = await scrape({ ...remote, authorization: 'Bearer nope' });
  assert.equal(wrong.status, 401);
  await wrong.arrayBuffer();
  const allowed = await scrape({ ...remote, authorization: `Bearer ${TOKEN}` });
  assert.equal(allowed.status, 200);
  assert.match(await allowed.text(), /^jobmeter_run_started_total\{/m);
});

test('SIGTERM: runs in progress are cancelled and the daemon exits 0', async () => {
  const t0 = Date.now();
  const code = await app.stop();
  assert.equal(code, 0, app.stderr());
  assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
  assert.doesNotMatch(app.stderr(), /error/i);
});
