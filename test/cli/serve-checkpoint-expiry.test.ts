/**
 * `jobmeter serve` on a state directory that turns read-only while senders keep pushing: expiry
 * follows each sender's silence, never the age of the last checkpoint written. While writes fail
 * the pull endpoint serves the ingested series as of that checkpoint (docs/collector.md "jobmeter's
 * own restart", "When a write fails"); a series whose sender keeps pushing stays served however
 * long the failure lasts, one whose sender went silent leaves after `expiry_ms` as it would with a
 * working disk, and once the disk is back the values catch up with what was received, never going
 * back. The directory is a real 64 KiB tmpfs remounted read-only (root only, as
 * serve-checkpoint-failure.test.ts).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, it } from 'node:test';

import { killChildren } from './harness.ts';
import { freePort } from '../support/free-port.ts';
import { serveWithIngest } from '../support/serve.ts';
import { smallDisks } from '../support/small-disk.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-checkpoint-expiry-');
afterEach(killChildren);
const disks = smallDisks();

const EXPIRY_MS = 3_000;
/** How long the disk stays read-only: several expiry times of a sender that keeps pushing. */
const FAILURE_MS = 4 * EXPIRY_MS;
/** A bound on any wait for what must happen (never a claim about speed). */
const WAIT_MS = 60_000;

/** One sender's cumulative counter `name` at `total`, from its own resource. */
async function push(ingestPort: string, sender: string, name: string, total: number) {
  const body = {
    resourceMetrics: [
      {
        resource: {
          attributes: [{ key: 'service.instance.id', value: { stringValue: sender } }],
        },
        scopeMetrics: [
          {
            scope: { name: 'daemon' },
            metrics: [
              {
                name,
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
  const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

/** The ingested counters the pull endpoint serves, by name (absent: not served). */
async function scrape(pullPort: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${pullPort}/metrics`)).text();
  const served = new Map<string, number>();
  for (const m of text.matchAll(/^((?:alive|silent)_jobs_total)(?:\{[^}]*\})? (\S+)$/gm))
    served.set(m[1]!, Number(m[2]));
  return served;
}

it(
  'a read-only state disk: a series whose sender keeps pushing stays served, frozen, past expiry_ms; a silent one expires; the disk back, the values catch up and never go back',
  { timeout: 180_000 },
  async () => {
    const dir = disks.mount();
    const serve = await serveWithIngest(files, {
      ingestPort: await freePort(),
      lines: [`state_dir = "${dir}"`, `expiry_ms = ${EXPIRY_MS}`],
    });
    const { ingestPort, pullPort } = serve;
    const seen = new Map<string, number>();
    /** Scrapes, checking that no counter served went back. */
    const scraped = async (): Promise<Map<string, number>> => {
      const served = await scrape(pullPort);
      for (const [name, value] of served) {
        const before = seen.get(name) ?? 0;
        assert.ok(value >= before, `${name} went back from ${before} to ${value}`);
        seen.set(name, value);
      }
      return served;
    };

    let alive = 10;
    await push(ingestPort, 'alive', 'alive.jobs', alive);
    await push(ingestPort, 'silent', 'silent.jobs', 5);
    // The scrape writes what it serves: the checkpoint now holds both.
    const before = await scraped();
    assert.equal(before.get('alive_jobs_total'), 10);
    assert.equal(before.get('silent_jobs_total'), 5);

    disks.remount(dir, 'ro');
    const failedAt = performance.now();
    // The sender of alive.jobs keeps pushing; that of silent.jobs says nothing from now on.
    let frozenChecks = 0;
    let silentGoneAt: number | undefined;
    while (performance.now() - failedAt < FAILURE_MS) {
      await push(ingestPort, 'alive', 'alive.jobs', ++alive);
      const lastPushed = performance.now();
      await sleep(250);
      const scrapeAt = performance.now();
      const served = await scraped();
      // Held as of the last checkpoint written, whatever was received since.
      if (served.has('alive_jobs_total')) assert.equal(served.get('alive_jobs_total'), 10);
      // Its sender pushed within expiry_ms of this scrape: it must be served. (A scrape the
      // machine delayed past that proves nothing either way and is not counted.)
      if (scrapeAt - lastPushed < EXPIRY_MS - 1_000) {
        assert.equal(
          served.get('alive_jobs_total'),
          10,
          `alive.jobs is not served ${Math.round(scrapeAt - failedAt)} ms into the failure, though its sender pushed ${Math.round(scrapeAt - lastPushed)} ms before (expiry_ms ${EXPIRY_MS})`,
        );
        if (scrapeAt - failedAt > EXPIRY_MS + 1_000) frozenChecks++;
      }
      if (!served.has('silent_jobs_total')) silentGoneAt ??= performance.now();
      else
        assert.equal(silentGoneAt, undefined, 'silent.jobs came back without its sender pushing');
    }
    assert.ok(
      frozenChecks >= 3,
      `only ${frozenChecks} scrapes checked alive.jobs past expiry_ms into the failure`,
    );
    assert.ok(
      silentGoneAt !== undefined,
      `silent.jobs is still served ${FAILURE_MS} ms after its sender went silent (expiry_ms ${EXPIRY_MS})`,
    );
    const ready = await fetch(`http://127.0.0.1:${pullPort}/ready`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /checkpoints failed \(EROFS\)/);

    // The disk back: the next scrape's write succeeds and serves what was received, which goes on.
    disks.remount(dir, 'rw');
    const deadline = performance.now() + WAIT_MS;
    let served = await scraped();
    while (served.get('alive_jobs_total') !== alive && performance.now() < deadline) {
      await sleep(200);
      served = await scraped();
    }
    assert.equal(served.get('alive_jobs_total'), alive, 'caught up with what was received');
    assert.equal(served.has('silent_jobs_total'), false, 'its sender is still silent');
    await push(ingestPort, 'alive', 'alive.jobs', ++alive);
    assert.equal((await scraped()).get('alive_jobs_total'), alive);
    assert.equal((await fetch(`http://127.0.0.1:${pullPort}/ready`)).status, 200);
    assert.match(serve.child.stderr(), /ingest state written again to \S+ after \d+ failed writes/);
  },
);

/** One sender's points: cumulative counters and gauges by name, each one point, from its own resource. */
async function pushPoints(
  ingestPort: string,
  sender: string,
  counters: Record<string, number>,
  gauges: Record<string, number> = {},
): Promise<void> {
  const point = (value: number) => ({
    asDouble: value,
    startTimeUnixNano: '1000000000',
    timeUnixNano: `${Date.now()}000000`,
  });
  const metrics = [
    ...Object.entries(counters).map(([name, total]) => ({
      name,
      sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [point(total)] },
    })),
    ...Object.entries(gauges).map(([name, level]) => ({
      name,
      gauge: { dataPoints: [point(level)] },
    })),
  ];
  const body = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.instance.id', value: { stringValue: sender } }] },
        scopeMetrics: [{ scope: { name: 'daemon' }, metrics }],
      },
    ],
  };
  const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

/** The `handover_*` and `shared_*` series the pull endpoint serves, by name. */
async function scrapeSeries(pullPort: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${pullPort}/metrics`)).text();
  const served = new Map<string, number>();
  for (const m of text.matchAll(/^((?:handover|shared)_\w+?)(?:\{[^}]*\})? (\S+)$/gm))
    served.set(m[1]!, Number(m[2]));
  return served;
}

it(
  'a read-only state disk: a series stays served, frozen, while any sender of it pushes, a sender new since the last write included, though the one the write knew went silent (issue 55)',
  { timeout: 180_000 },
  async () => {
    const dir = disks.mount();
    const serve = await serveWithIngest(files, {
      ingestPort: await freePort(),
      lines: [`state_dir = "${dir}"`, `expiry_ms = ${EXPIRY_MS}`],
    });
    const { ingestPort, pullPort } = serve;
    // 'old' is the only sender of handover.* the checkpoint knows; 'steady' shares shared.jobs.
    await pushPoints(
      ingestPort,
      'old',
      { 'handover.jobs': 3, 'shared.jobs': 5 },
      {
        'handover.level': 97,
      },
    );
    await pushPoints(ingestPort, 'steady', { 'shared.jobs': 7 });
    const frozen = new Map([
      ['handover_jobs_total', 3],
      ['handover_level', 97],
      ['shared_jobs_total', 12],
    ]);
    assert.deepEqual(await scrapeSeries(pullPort), frozen, 'written before it was served');

    disks.remount(dir, 'ro');
    const failedAt = performance.now();
    // 'old' says nothing from now on; 'successor' (new since the write) and 'steady' push.
    let n = 0;
    let checked = 0;
    while (performance.now() - failedAt < FAILURE_MS) {
      n++;
      await pushPoints(ingestPort, 'successor', { 'handover.jobs': n }, { 'handover.level': n });
      await pushPoints(ingestPort, 'steady', { 'shared.jobs': 7 + n });
      const lastPushed = performance.now();
      await sleep(250);
      const scrapeAt = performance.now();
      const served = await scrapeSeries(pullPort);
      // A sender of each series pushed within expiry_ms of this scrape: each is served, as of the
      // last checkpoint written. (A scrape the machine delayed past that proves nothing.)
      if (scrapeAt - lastPushed < EXPIRY_MS - 1_000) {
        assert.deepEqual(
          served,
          frozen,
          `${Math.round(scrapeAt - failedAt)} ms into the failure (expiry_ms ${EXPIRY_MS}), its senders pushing`,
        );
        if (scrapeAt - failedAt > EXPIRY_MS + 1_000) checked++;
      }
    }
    assert.ok(checked >= 3, `only ${checked} scrapes checked past expiry_ms into the failure`);

    // The disk back: what was received is served; 'old' expired, what it counted stays counted.
    disks.remount(dir, 'rw');
    const want = new Map([
      ['handover_jobs_total', 3 + n],
      ['handover_level', n],
      ['shared_jobs_total', 5 + 7 + n],
    ]);
    const deadline = performance.now() + WAIT_MS;
    let served = await scrapeSeries(pullPort);
    while (served.get('shared_jobs_total') !== 12 + n && performance.now() < deadline) {
      await sleep(200);
      served = await scrapeSeries(pullPort);
    }
    assert.deepEqual(served, want, 'caught up with what was received');
  },
);
