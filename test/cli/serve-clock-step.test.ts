/**
 * A real `jobmeter serve` whose wall clock is stepped while senders push (libfaketime: the wall
 * clock 400 s ahead, then 400 s behind, the monotonic clock untouched), as NTP at boot, a VM's
 * resume or `date -s` step a host's: no ingested series disappears and a delta-fed counter keeps
 * its total (docs/collector.md "Expiry"). The senders' clock is this process's, not stepped.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempFiles } from '../support/temp-files.ts';
import { steppedClockEnv, stepTo } from '../support/faketime.ts';
import { EXIT_MS, killChildren } from './harness.ts';
import { serveWithIngest } from '../support/serve.ts';

const files = tempFiles('jobmeter-clock-step-');
afterEach(killChildren);

/** How long senders push after a step: series lost to a step are gone 3 s after it. */
const AFTER_STEP_MS = 3_500;
const PUSH_EVERY_MS = 250;

test('serve keeps every ingested series and a delta total through a wall-clock step of +400 s, then of -800 s', async () => {
  const offset = join(files.dir, 'offset');
  const {
    child: serve,
    ingestPort,
    pullPort,
  } = await serveWithIngest(files, {
    env: { XDG_STATE_HOME: files.dir, ...steppedClockEnv(offset) },
  });

  const startNanos = BigInt(Date.now() - 60_000) * 1_000_000n;
  let pushes = 0;
  let windowEnd = startNanos;
  /** One export of each sender: the delta counter +10 over its next window, the cumulative one at 5 × pushes. */
  const push = async (): Promise<void> => {
    pushes++;
    const now = BigInt(Date.now()) * 1_000_000n;
    const point = (value: number, from: bigint) => ({
      asDouble: value,
      startTimeUnixNano: String(from),
      timeUnixNano: String(now),
    });
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'daemon' } }] },
          scopeMetrics: [
            {
              scope: { name: 'daemon' },
              metrics: [
                {
                  name: 'daemon.sent',
                  sum: {
                    aggregationTemporality: 1,
                    isMonotonic: true,
                    dataPoints: [point(10, windowEnd)],
                  },
                },
                {
                  name: 'daemon.jobs',
                  sum: {
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: [point(5 * pushes, startNanos)],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    windowEnd = now;
    const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await res.text();
    assert.equal(res.status, 200, answer);
    assert.doesNotMatch(answer, /rejectedDataPoints/);
  };
  /** The two counters as served, and how far serve's wall clock (its HTTP Date header) is from this process's, in seconds. */
  const scrape = async (): Promise<{
    sent: number | undefined;
    jobs: number | undefined;
    ahead: number;
  }> => {
    const res = await fetch(`http://127.0.0.1:${pullPort}/metrics`, {
      headers: { accept: 'text/plain;version=0.0.4' },
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const value = (name: string): number | undefined => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
      return m === null ? undefined : Number(m[1]);
    };
    const ahead = (Date.parse(res.headers.get('date')!) - Date.now()) / 1000;
    return { sent: value('daemon_sent_total'), jobs: value('daemon_jobs_total'), ahead };
  };
  const pushFor = async (ms: number): Promise<void> => {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      await push();
      await sleep(PUSH_EVERY_MS);
    }
  };

  for (let i = 0; i < 10; i++) await push();
  const before = await scrape();
  assert.deepEqual({ sent: before.sent, jobs: before.jobs }, { sent: 100, jobs: 50 });
  assert.ok(
    Math.abs(before.ahead) < 3,
    `serve's clock is this process's before the step (${before.ahead} s)`,
  );

  for (const step of [400, -400]) {
    stepTo(offset, step);
    await pushFor(AFTER_STEP_MS);
    const after = await scrape();
    assert.ok(
      Math.abs(after.ahead - step) < 3,
      `serve's wall clock is ${step} s off this process's (measured ${after.ahead} s)`,
    );
    assert.deepEqual(
      { sent: after.sent, jobs: after.jobs },
      { sent: 10 * pushes, jobs: 5 * pushes },
      `after the step to ${step} s:\n${serve.stderr()}`,
    );
  }

  serve.child.kill('SIGTERM');
  assert.equal(await serve.exited(EXIT_MS), 0, serve.stderr());
});
