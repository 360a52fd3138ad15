/**
 * `jobmeter serve` on a state directory whose disk fills up or turns read-only: a counter served
 * is a counter a restart restores. The directory is a real 64 KiB tmpfs (this test mounts it: it
 * needs root, and fails saying so otherwise), filled to the last page or remounted read-only
 * under the running service. While checkpoints fail, the pull endpoint serves the ingested
 * counter as of the last file written, `/ready` says why, the self-telemetry counts the failed
 * writes, and one line says when writes fail and when they succeed again; a SIGKILL then restores
 * what was served; a SIGTERM whose last write fails exits 1 saying so, and the restart restores
 * what was served.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren } from './harness.ts';
import { freePort } from '../support/free-port.ts';
import { checkMetrics } from '../support/promtool.ts';
import { smallDisks } from '../support/small-disk.ts';
import { serveWithState, type StateServe } from '../support/serve-with-state.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-checkpoint-failure-');
afterEach(killChildren);

const disks = smallDisks();

type Serve = StateServe;

const serve = (stateDir: string, port: number): Promise<Serve> =>
  serveWithState(files, stateDir, port);

/** One sender's cumulative counter at `total`. */
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
  const res = await fetch(s.ingest, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

/** The counter as the pull endpoint serves it (undefined: not served). */
async function scraped(s: Serve): Promise<number | undefined> {
  const body = await (await fetch(`${s.base}/metrics`)).text();
  const line = /^daemon_jobs_total(?:\{[^}]*\})? (\S+)$/m.exec(body);
  return line === null ? undefined : Number(line[1]);
}

async function ready(s: Serve): Promise<[number, string]> {
  const res = await fetch(`${s.base}/ready`);
  return [res.status, await res.text()];
}

async function telemetry(s: Serve, series: string): Promise<number | undefined> {
  const body = await (await fetch(`${s.telemetry}/metrics`)).text();
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const warnings = (s: Serve): string[] =>
  s.running
    .stderr()
    .split('\n')
    .filter((l) => /warning: ingest state /.test(l));

it(
  'a full disk: the counter is served as of the last checkpoint written, /ready says why, and a SIGKILL restart restores what was served',
  { timeout: 120_000 },
  async () => {
    const dir = disks.mount();
    const port = await freePort();
    const first = await serve(dir, port);
    await push(first, 100);
    assert.equal(await scraped(first), 100);
    assert.deepEqual(await ready(first), [200, 'ready\n']);
    assert.equal(await telemetry(first, 'jobmeter_ingest_checkpoint_failures_total'), 0);
    assert.ok(
      (await telemetry(first, 'jobmeter_ingest_checkpoint_last_success_timestamp_seconds'))! >
        1.7e9,
    );

    disks.fill(dir);
    await push(first, 150);
    assert.equal(await scraped(first), 100, 'held: a restart would restore 100');
    await push(first, 175);
    assert.equal(await scraped(first), 100);
    const [status, body] = await ready(first);
    assert.equal(status, 503);
    assert.match(
      body,
      /^not ready: ingest state not written: the last \d+ checkpoints failed \(ENOSPC\); the ingested series are served as of the last one written\n$/,
    );
    assert.ok((await telemetry(first, 'jobmeter_ingest_checkpoint_failures_total'))! >= 2);
    assert.equal(warnings(first).length, 1, first.running.stderr());
    const lint = await checkMetrics(await (await fetch(`${first.telemetry}/metrics`)).text());
    assert.equal(lint.code, 0, lint.output);
    assert.match(
      warnings(first)[0]!,
      /ENOSPC: no space left on device.*served as of the last checkpoint written/,
    );

    // Room again: the next scrape's write succeeds and serves what was received.
    rmSync(join(dir, 'filler'));
    assert.equal(await scraped(first), 175);
    assert.match(
      first.running.stderr(),
      /ingest state written again to \S+ after \d+ failed writes/,
    );
    assert.deepEqual(await ready(first), [200, 'ready\n']);

    disks.fill(dir);
    await push(first, 190);
    assert.equal(await scraped(first), 175);
    first.running.child.kill('SIGKILL');
    await first.running.exited(EXIT_MS);

    const second = await serve(dir, port);
    assert.match(second.running.stderr(), /ingest state: restored 1 series/);
    assert.equal(await scraped(second), 175, 'what was served last');
    assert.deepEqual(await ready(second), [200, 'ready\n']);
    second.running.child.kill('SIGTERM');
    assert.equal(await second.running.exited(EXIT_MS), 0, 'nothing new to write');
  },
);

it(
  'a read-only state directory: held values, and a SIGTERM whose last write fails exits 1 saying so; the restart restores what was served',
  { timeout: 120_000 },
  async () => {
    const dir = disks.mount();
    const port = await freePort();
    const first = await serve(dir, port);
    await push(first, 100);
    assert.equal(await scraped(first), 100);

    disks.remount(dir, 'ro');
    await push(first, 150);
    assert.equal(await scraped(first), 100);
    assert.match((await ready(first))[1], /checkpoints failed \(EROFS\)/);
    first.running.child.kill('SIGTERM');
    assert.equal(await first.running.exited(EXIT_MS), 1, first.running.stderr());
    assert.match(
      first.running.stderr(),
      /jobmeter: shutdown failed: ingest state \S+ at shutdown: not written \(EROFS: read-only file system.*\); a restart restores the last checkpoint written, without what was received since\n/,
    );

    const second = await serve(dir, port);
    assert.equal(await scraped(second), 100);
    second.running.child.kill('SIGTERM');
    assert.equal(await second.running.exited(EXIT_MS), 0);
    disks.remount(dir, 'rw');
  },
);
