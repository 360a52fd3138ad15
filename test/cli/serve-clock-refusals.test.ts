/**
 * A real `jobmeter serve` whose wall clock is 30 minutes behind (libfaketime, the monotonic clock
 * untouched) refuses every point its senders stamp with the real time (`time_ahead`): `/ready`
 * says so with 503 and one warning line names the offset and the bound it is past; once the clock
 * is stepped right and a point is accepted, `/ready` is 200 again and one line says so
 * (docs/collector.md "What a sender gets, and what is counted"). The senders' clock is this
 * process's, not stepped.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { tempFiles } from '../support/temp-files.ts';
import { steppedClockEnv, stepTo } from '../support/faketime.ts';
import { EXIT_MS, killChildren, START_MS } from './harness.ts';
import { serveWithIngest } from '../support/serve.ts';

const files = tempFiles('jobmeter-clock-refusals-');
afterEach(killChildren);

const BEHIND_S = 1800;
const WARNING =
  /^(?:jobmeter: )?warning: ingest refusing every point for its time: none accepted in the last 300 s, (\d+) points? refused for (?:its|their) time; point time minus jobmeter's clock: \+(\d+) s, past the \+600 s accepted \(a fixed bound\); \/ready says 503 until a point is accepted: check this host's clock \(NTP\)$/m;
const RECOVERED =
  /^(?:jobmeter: )?ingest accepting points again, after (\d+) refused for their time over \d+ s$/m;

test('a serve clock 30 minutes behind: every point refused, /ready 503 naming why and one warning; stepped right, /ready 200 and one line', async () => {
  const offset = join(files.dir, 'offset');
  const env = steppedClockEnv(offset);
  stepTo(offset, -BEHIND_S);
  const {
    child: serve,
    ingestPort,
    pullPort,
  } = await serveWithIngest(files, {
    env: { XDG_STATE_HOME: files.dir, ...env },
  });

  /** One export of two points stamped with this process's clock: its answer. */
  const push = async (value: number): Promise<string> => {
    const now = String(BigInt(Date.now()) * 1_000_000n);
    const start = String(BigInt(Date.now() - 60_000) * 1_000_000n);
    const point = { asDouble: value, startTimeUnixNano: start, timeUnixNano: now };
    const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'daemon' } }] },
            scopeMetrics: [
              {
                scope: { name: 'daemon' },
                metrics: [
                  {
                    name: 'daemon.jobs',
                    sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [point] },
                  },
                  { name: 'daemon.queue', gauge: { dataPoints: [point] } },
                ],
              },
            ],
          },
        ],
      }),
    });
    const answer = await res.text();
    assert.equal(res.status, 200, answer);
    return answer;
  };
  const ready = async (port: string): Promise<[number, string, number]> => {
    const res = await fetch(`http://127.0.0.1:${port}/ready`);
    const behind = (Date.now() - Date.parse(res.headers.get('date')!)) / 1000;
    return [res.status, await res.text(), behind];
  };

  const [status0, body0, behind0] = await ready(pullPort);
  assert.ok(
    Math.abs(behind0 - BEHIND_S) < 5,
    `serve's wall clock is ${BEHIND_S} s behind this process's (measured ${behind0} s): libfaketime applies`,
  );
  assert.deepEqual([status0, body0], [200, 'ready\n'], 'ready before any point arrives');

  for (let i = 1; i <= 3; i++) {
    const answer = await push(i);
    assert.match(answer, /"rejectedDataPoints":"2"/, answer);
    assert.match(answer, /more than 10 minutes ahead of jobmeter's clock/, answer);
  }

  for (const port of [pullPort, ingestPort]) {
    const [status, body] = await ready(port);
    assert.equal(status, 503, body);
    const m =
      /^not ready: ingest refusing every point for its time: none accepted in the last 300 s, (\d+) points refused for their time; point time minus jobmeter's clock: \+(\d+) s \(accepted: -3600 s to \+600 s\)\n$/.exec(
        body,
      );
    assert.ok(m !== null, `/ready on ${port} names the clock: ${body}`);
    assert.equal(Number(m[1]), 6, body);
    assert.ok(
      Math.abs(Number(m[2]) - BEHIND_S) <= 5,
      `the offset named is about +${BEHIND_S} s: ${body}`,
    );
  }
  const health = await fetch(`http://127.0.0.1:${pullPort}/health`);
  assert.deepEqual([health.status, await health.text()], [200, 'ok\n']);

  const [, refused, ahead] = await serve.stderrMatches(WARNING, START_MS);
  assert.ok(Number(refused) >= 2, serve.stderr());
  assert.ok(Math.abs(Number(ahead) - BEHIND_S) <= 5, serve.stderr());
  assert.equal(
    serve.stderr().match(new RegExp(WARNING.source, 'gm'))?.length,
    1,
    `one warning for the episode, not one per request:\n${serve.stderr()}`,
  );

  stepTo(offset, 0);
  const answer = await push(4);
  assert.doesNotMatch(answer, /rejectedDataPoints/, answer);
  // Not read from the Date header here: Node reuses one for up to a second.
  const [status, body] = await ready(pullPort);
  assert.deepEqual([status, body], [200, 'ready\n']);
  const [, before] = await serve.stderrMatches(RECOVERED, START_MS);
  assert.equal(Number(before), 6, serve.stderr());
  await push(5);
  await ready(pullPort);
  assert.equal(serve.stderr().match(new RegExp(RECOVERED.source, 'gm'))?.length, 1, serve.stderr());
  assert.equal(serve.stderr().match(new RegExp(WARNING.source, 'gm'))?.length, 1, serve.stderr());

  serve.child.kill('SIGTERM');
  assert.equal(await serve.exited(EXIT_MS), 0, serve.stderr());
});
