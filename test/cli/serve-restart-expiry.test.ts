/**
 * Expiry follows a sender's silence across restarts of `jobmeter serve` (docs/collector.md
 * "Expiry", "jobmeter's own restart"): the time jobmeter was down counts as silence, as it would
 * have had jobmeter stayed up. A series that expired before a restart is not served again after
 * it, SIGKILL or SIGTERM (a series back from the dead resolves `absent()` alerts falsely and
 * serves stale values), one whose sender fell silent before a SIGKILL leaves once that silence
 * reaches `expiry_ms`, the downtime included, and one whose silence is still short of it is kept.
 * The state directory is kept across the restarts (a fixed ingest port names the file).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren } from './harness.ts';
import { freePort } from '../support/free-port.ts';
import { serveWithIngest, type Serving } from '../support/serve.ts';
import { smallDisks } from '../support/small-disk.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-restart-expiry-');
afterEach(killChildren);
const disks = smallDisks();

/** A bound on any wait for what must happen (never a claim about speed). */
const WAIT_MS = 60_000;
/** How far apart the test's clock readings and serve's may be around one request. */
const SLACK_MS = 500;

interface Serve extends Serving {
  readonly telemetry: string;
}

async function serve(stateDir: string, port: number, expiryMs: number): Promise<Serve> {
  const serving = await serveWithIngest(files, {
    ingestPort: port,
    lines: [
      `state_dir = "${stateDir}"`,
      `expiry_ms = ${expiryMs}`,
      '[telemetry]',
      'listen = "127.0.0.1:0"',
    ],
  });
  const [, telemetry] = await serving.child.stderrMatches(
    /serving jobmeter's own telemetry on (http:\/\/\S+\/metrics)\n/,
    WAIT_MS,
  );
  return { ...serving, telemetry: telemetry! };
}

/** One sender's cumulative counter `daemon.jobs` at `total`. */
async function push(s: Serve, total: number): Promise<void> {
  const body = {
    resourceMetrics: [
      {
        resource: {
          attributes: [{ key: 'service.instance.id', value: { stringValue: 'daemon-1' } }],
        },
        scopeMetrics: [
          {
            scope: { name: 'daemon' },
            metrics: [
              {
                name: 'daemon.jobs',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [
                    {
                      asDouble: total,
                      startTimeUnixNano: '1000000000',
                      timeUnixNano: `${Date.now()}000000`,
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const res = await fetch(`http://127.0.0.1:${s.ingestPort}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

/** The counter as the pull endpoint serves it (undefined: not served). A scrape writes the state first. */
async function scraped(s: Serve): Promise<number | undefined> {
  const body = await (await fetch(`http://127.0.0.1:${s.pullPort}/metrics`)).text();
  const line = /^daemon_jobs_total(?:\{[^}]*\})? (\S+)$/m.exec(body);
  return line === null ? undefined : Number(line[1]);
}

async function expiredTotal(s: Serve): Promise<number | undefined> {
  const body = await (await fetch(s.telemetry)).text();
  const line = /^jobmeter_ingest_series_expired_total (\S+)$/m.exec(body);
  return line === null ? undefined : Number(line[1]);
}

async function stop(s: Serve, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  s.child.child.kill(signal);
  const code = await s.child.exited(EXIT_MS);
  if (signal === 'SIGTERM') assert.equal(code, 0, s.child.stderr());
}

/** Scrapes until the counter is no longer served (bounded); fails if it never leaves. */
async function untilGone(s: Serve): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while ((await scraped(s)) !== undefined) {
    assert.ok(performance.now() < deadline, `still served ${WAIT_MS} ms on`);
    await sleep(200);
  }
}

async function stateDir(): Promise<string> {
  const dir = join(files.dir, `state-${await freePort()}`);
  mkdirSync(dir);
  return dir;
}

const EXPIRY_MS = 3_000;

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  it(
    `a series expired before a ${signal} restart stays gone after it`,
    { timeout: 180_000 },
    async () => {
      const dir = await stateDir();
      const port = await freePort();
      const first = await serve(dir, port, EXPIRY_MS);
      await push(first, 7);
      assert.equal(await scraped(first), 7, 'served, and written before it was served');
      // Its sender goes silent: the series leaves the pull endpoint after expiry_ms.
      await untilGone(first);
      await stop(first, signal);

      const second = await serve(dir, port, EXPIRY_MS);
      for (let i = 0; i < 5; i++) {
        assert.equal(await scraped(second), undefined, `served again after the ${signal} restart`);
        await sleep(200);
      }
      // Its expiry was written (the scrape that found it gone wrote the file): nothing is held.
      assert.match(
        second.child.stderr(),
        /ingest state: restored 0 series \(0 source series, 0 instruments\) from \S+\n/,
      );
      assert.equal(await expiredTotal(second), 0, 'it expired in the first process');
      // Its sender comes back: the series is made again.
      await push(second, 9);
      assert.equal(await scraped(second), 9);
      await stop(second, 'SIGTERM');
    },
  );
}

it(
  'a sender silent for 2/3 of expiry_ms, then a SIGKILL and 2/3 of expiry_ms down: gone at the restart, not served for another expiry_ms',
  { timeout: 180_000 },
  async () => {
    const dir = await stateDir();
    const port = await freePort();
    const first = await serve(dir, port, EXPIRY_MS);
    await push(first, 7);
    assert.equal(await scraped(first), 7);
    await sleep((2 * EXPIRY_MS) / 3);
    await stop(first, 'SIGKILL');
    await sleep((2 * EXPIRY_MS) / 3);

    // Silent for at least 4/3 of expiry_ms by now, whatever the restart takes: dormant (the file
    // cannot know whether it pushed after the write), not served, gone expiry_ms after the restart.
    const second = await serve(dir, port, EXPIRY_MS);
    assert.match(second.child.stderr(), /; 1 source series dormant/);
    assert.equal(await scraped(second), undefined, 'its sender has been silent past expiry_ms');
    assert.equal(await expiredTotal(second), 0, 'dormant until expiry_ms after the restart');
    const deadline = performance.now() + WAIT_MS;
    while ((await expiredTotal(second)) !== 1) {
      assert.ok(performance.now() < deadline, `not expired ${WAIT_MS} ms after the restart`);
      assert.equal(await scraped(second), undefined, 'a dormant series is not served');
      await sleep(200);
    }
    await stop(second, 'SIGTERM');
    // The file was written without it: the next start neither restores nor counts it again.
    const third = await serve(dir, port, EXPIRY_MS);
    assert.match(
      third.child.stderr(),
      /ingest state: restored 0 series \(0 source series, 0 instruments\) from \S+\n/,
    );
    assert.equal(await expiredTotal(third), 0);
    await stop(third, 'SIGTERM');
  },
);

it(
  'a series whose sender is silent across a SIGKILL restart is served until its silence reaches expiry_ms, then leaves',
  { timeout: 180_000 },
  async () => {
    // Long enough that the restart (whatever it takes here) leaves the silence short of it.
    const expiryMs = 30_000;
    const dir = await stateDir();
    const port = await freePort();
    const first = await serve(dir, port, expiryMs);
    const pushedAt = performance.now();
    await push(first, 7);
    assert.equal(await scraped(first), 7);
    await sleep(3_000);
    await stop(first, 'SIGKILL');
    await sleep(3_000);

    const second = await serve(dir, port, expiryMs);
    assert.match(second.child.stderr(), /ingest state: restored 1 series \(1 source series/);
    // Every scrape that ended before the silence reached expiry_ms serves it; every one that began
    // after does not.
    let served = 0;
    for (;;) {
      const began = performance.now();
      const value = await scraped(second);
      const ended = performance.now();
      if (ended < pushedAt + expiryMs - SLACK_MS) {
        assert.equal(value, 7, `not served ${Math.round(ended - pushedAt)} ms after the push`);
        served++;
      } else if (began > pushedAt + expiryMs + SLACK_MS) {
        assert.equal(
          value,
          undefined,
          `still served ${Math.round(began - pushedAt)} ms after the push (expiry_ms ${expiryMs})`,
        );
        break;
      }
      await sleep(250);
    }
    assert.ok(served > 0, 'no scrape after the restart came before the expiry');
    await stop(second, 'SIGTERM');
  },
);

/** A delta window of `add` events of `name` from `sender`, after the sender's last one. */
const windowEnds = new Map<string, bigint>();
async function pushDelta(s: Serve, sender: string, name: string, add: number): Promise<void> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const start = windowEnds.get(sender) ?? now - 1_000_000_000n;
  const end = now > start ? now : start + 1n;
  windowEnds.set(sender, end);
  const body = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.instance.id', value: { stringValue: sender } }] },
        scopeMetrics: [
          {
            scope: { name: 'daemon' },
            metrics: [
              {
                name,
                sum: {
                  aggregationTemporality: 1,
                  isMonotonic: true,
                  dataPoints: [
                    { asInt: String(add), startTimeUnixNano: `${start}`, timeUnixNano: `${end}` },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const res = await fetch(`http://127.0.0.1:${s.ingestPort}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await res.text();
  assert.equal(res.status, 200, answer);
  assert.doesNotMatch(answer, /"rejectedDataPoints":\s*"?[1-9]/, `${sender}'s window refused`);
}

/** The `steady_jobs_total` and `quiet_jobs_total` the pull endpoint serves. */
async function deltaTotals(s: Serve): Promise<Map<string, number>> {
  const body = await (await fetch(`http://127.0.0.1:${s.pullPort}/metrics`)).text();
  const served = new Map<string, number>();
  for (const m of body.matchAll(/^((?:steady|quiet)_jobs_total)(?:\{[^}]*\})? (\S+)$/gm))
    served.set(m[1]!, Number(m[2]));
  return served;
}

it(
  'a delta sender pushing all along while writes failed, then a SIGKILL: dormant at the restart (not served), its next push goes on from its total; one silent for expiry_ms after the restart goes, counted, and starts anew (issue 55)',
  { timeout: 180_000 },
  async () => {
    const dir = disks.mount();
    const port = await freePort();
    const first = await serve(dir, port, EXPIRY_MS);
    await pushDelta(first, 'steady', 'steady.jobs', 5);
    await pushDelta(first, 'quiet', 'quiet.jobs', 2);
    const written = new Map([
      ['steady_jobs_total', 5],
      ['quiet_jobs_total', 2],
    ]);
    assert.deepEqual(await deltaTotals(first), written, 'served, and written before it was served');
    // Writes fail from now on; 'steady' pushes past expiry_ms (served frozen), 'quiet' says nothing.
    disks.remount(dir, 'ro');
    const failedAt = performance.now();
    while (performance.now() - failedAt < EXPIRY_MS + 1_500) {
      await pushDelta(first, 'steady', 'steady.jobs', 1);
      await sleep(300);
    }
    // 'quiet' expired meanwhile (the held store follows the senders); 'steady' is frozen.
    assert.deepEqual(
      await deltaTotals(first),
      new Map([['steady_jobs_total', 5]]),
      'frozen at the last file written',
    );
    await stop(first, 'SIGKILL');
    disks.remount(dir, 'rw');

    // The file's last points are past expiry_ms: whether their senders pushed since it cannot know.
    const second = await serve(dir, port, EXPIRY_MS);
    assert.match(
      second.child.stderr(),
      /ingest state: restored 2 series \(2 source series, 2 instruments\) from \S+; 2 source series dormant/,
    );
    assert.deepEqual(await deltaTotals(second), new Map(), 'a dormant series is not served');
    // 'steady' pushes: its total goes on from the file's (what it pushed while writes failed is
    // lost, as after any SIGKILL of what was not written), no reset.
    await pushDelta(second, 'steady', 'steady.jobs', 1);
    let steady = 6;
    assert.deepEqual(await deltaTotals(second), new Map([['steady_jobs_total', steady]]));
    assert.equal(await expiredTotal(second), 0);
    // 'quiet' does not push within expiry_ms of the restart: it goes, counted, never served.
    const deadline = performance.now() + WAIT_MS;
    while ((await expiredTotal(second)) !== 1) {
      assert.ok(performance.now() < deadline, `quiet not expired ${WAIT_MS} ms after the restart`);
      await pushDelta(second, 'steady', 'steady.jobs', 1);
      steady++;
      assert.deepEqual(await deltaTotals(second), new Map([['steady_jobs_total', steady]]));
      await sleep(300);
    }
    // It comes back later: made anew from its new window.
    await pushDelta(second, 'quiet', 'quiet.jobs', 3);
    assert.deepEqual(
      await deltaTotals(second),
      new Map([
        ['steady_jobs_total', steady],
        ['quiet_jobs_total', 3],
      ]),
    );
    await stop(second, 'SIGTERM');
  },
);
