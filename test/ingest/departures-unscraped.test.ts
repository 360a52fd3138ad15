/**
 * A series that leaves the ingest waits for a naming pass to be counted in its label set (a
 * profile that merges scopes carries it there: series/carry.ts). With nobody scraping and no push,
 * senders whose series keep coming and going (here a new instrument each round) must not make jobmeter hold every departure: a pass
 * is run once many wait, so the heap stays flat under label churn.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { MAX_PENDING_DEPARTURES } from '../../src/series/carry.ts';
import { churnBody, heapAfterGc } from '../support/churn.ts';

const EXPIRY_MS = 150;
const PER_ROUND = 1_000;
const ROUNDS = 30;

const started: Jobmeter[] = [];
after(() => Promise.allSettled(started.map((jm) => jm.shutdown())));

test(
  'series that come and go while nobody scrapes leave the heap flat: their departures are passed, not kept',
  { timeout: 120_000 },
  async () => {
    // The native naming without scope labels merges scopes: its series carry their sources.
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      global: false,
      otelScopeInfo: false,
      ingest: { port: 0, expiryMillis: EXPIRY_MS, stateDir: false },
    });
    started.push(jm);
    const url = `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`;
    const push = async (round: number): Promise<void> => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: churnBody(round, PER_ROUND),
      });
      assert.equal(res.status, 200, await res.text());
    };
    // Two rounds first, so what one round holds live is in the baseline.
    await push(0);
    await sleep(EXPIRY_MS + 50);
    await push(1);
    await sleep(EXPIRY_MS + 50);
    const before = heapAfterGc();
    for (let round = 2; round < ROUNDS; round++) {
      await push(round);
      await sleep(EXPIRY_MS + 50);
    }
    const departed = (ROUNDS - 3) * PER_ROUND;
    assert.ok(departed > 4 * MAX_PENDING_DEPARTURES, 'the churn outgrows what may wait');
    const grown = heapAfterGc() - before;
    assert.ok(
      grown < 8 * 1024 * 1024,
      `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MiB over ${departed} series that left unscraped`,
    );
    // The churned series are gone from what is served; a new round's are served whole.
    await push(ROUNDS);
    const families = (await jm.scrape()).filter((f) => f.name.startsWith('churn_jobs_'));
    assert.deepEqual(
      families.map((f) => [f.name, f.series.length]),
      [[`churn_jobs_r${ROUNDS}_total`, PER_ROUND]],
    );
  },
);
