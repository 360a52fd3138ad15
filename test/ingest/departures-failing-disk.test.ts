/**
 * While the state file cannot be written, what is served is the last file's copy, and the series
 * that leave the ingest wait for a pass of the live series to be counted in their label sets
 * (series/carry.ts): none comes until a write succeeds. Senders whose series keep coming and going
 * then must not grow the heap without bound: what waits is charged to the ingest's memory budget,
 * points of new series past it are refused and counted, and once the disk takes writes again the
 * departures are counted and new series accepted, whether or not anyone scrapes. The disk is a real tmpfs remounted read-only.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { churnBody, heapAfterGc } from '../support/churn.ts';
import { freePort } from '../support/free-port.ts';
import { smallDisks } from '../support/small-disk.ts';

const disks = smallDisks();
const EXPIRY_MS = 150;
const PER_ROUND = 1_000;
const ROUNDS = 60;
const BUDGET = 8 * 1024 * 1024;

const started: Jobmeter[] = [];
after(() => Promise.allSettled(started.map((jm) => jm.shutdown().catch(() => undefined))));

test(
  'series that come and go while the state file cannot be written cost no more than the memory budget; the refused are counted, and a write that succeeds lets them go',
  { timeout: 180_000 },
  async (t) => {
    const stateDir = disks.mount('16m');
    // The native naming without scope labels merges scopes: its series carry their sources.
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      global: false,
      otelScopeInfo: false,
      ingest: { port: await freePort(), expiryMillis: EXPIRY_MS, stateDir, maxMemoryBytes: BUDGET },
    });
    started.push(jm);
    const url = `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`;
    /** Pushes round `round`'s series: how many of its points were refused. */
    const push = async (round: number): Promise<{ rejected: number; message: string }> => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: churnBody(round, PER_ROUND),
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const partial = (
        JSON.parse(text) as {
          partialSuccess?: { rejectedDataPoints?: string; errorMessage?: string };
        }
      ).partialSuccess;
      return {
        rejected: Number(partial?.rejectedDataPoints ?? 0),
        message: partial?.errorMessage ?? '',
      };
    };
    assert.equal((await push(0)).rejected, 0);
    await jm.scrape(); // written: the file holds round 0
    disks.remount(stateDir, 'ro');
    await push(1);
    await sleep(EXPIRY_MS + 50);
    await push(2);
    await sleep(EXPIRY_MS + 50);
    const before = heapAfterGc();
    let rejected = 0;
    let message = '';
    for (let round = 3; round < ROUNDS; round++) {
      const r = await push(round);
      rejected += r.rejected;
      if (r.rejected > 0) message = r.message;
      await sleep(EXPIRY_MS + 50);
      await jm.scrape(); // a pass of the copy: no departure is counted in it
    }
    const grown = heapAfterGc() - before;
    t.diagnostic(`heap +${(grown / 1024 / 1024).toFixed(1)} MiB, ${rejected} points refused`);
    assert.ok(
      grown < 3 * BUDGET,
      `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MiB over ${(ROUNDS - 3) * PER_ROUND} series that left while writes failed (budget ${BUDGET / 1024 / 1024} MiB)`,
    );
    assert.ok(rejected > 0, 'new series past the budget are refused');
    assert.match(message, /memory budget/);
    // The disk takes writes again: the next write (every 5 s) asks for a pass of the live series,
    // which lets the departures go, with nobody scraping.
    disks.remount(stateDir, 'rw');
    const deadline = Date.now() + 20_000;
    let last = await push(ROUNDS);
    while (last.rejected > 0 && Date.now() < deadline) {
      await sleep(250);
      last = await push(ROUNDS);
    }
    assert.deepEqual(last, { rejected: 0, message: '' }, 'new series accepted once written');
    const families = (await jm.scrape()).filter((f) => f.name.startsWith('churn_jobs_'));
    assert.deepEqual(
      families.map((f) => [f.name, f.series.length]),
      [[`churn_jobs_r${ROUNDS}_total`, PER_ROUND]],
    );
  },
);
