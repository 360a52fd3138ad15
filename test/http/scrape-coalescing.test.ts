/**
 * Concurrent scrapes share one collection and one naming pass (scrape-pipeline.ts
 * `coalescedScrape`). Requests arrive in callbacks of their own, one after another in the same
 * turn of the event loop; a scrape that finished inside the first callback (no turn given back
 * before its families are ready) would make every request collect and render again, and a busy
 * endpoint's throughput fell by more than half when that happened. Checked by what is shared, not
 * by timing: two scrapes started from two callbacks of one turn get the same families from one
 * collection.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJobmeter } from '../../src/jobmeter.ts';

test('two scrapes started from two callbacks in one turn share one collection and its families', async () => {
  const jm = await createJobmeter({ listener: false, processMetrics: false });
  try {
    let collections = 0;
    jm.meterProvider
      .getMeter('host')
      .createObservableGauge('host.collections')
      .addCallback((r) => r.observe(++collections));
    await jm.scrape();
    collections = 0;
    const [a, b] = await new Promise<[Promise<unknown>, Promise<unknown>]>((resolve) => {
      let first!: Promise<unknown>;
      setImmediate(() => {
        first = jm.scrape();
      });
      setImmediate(() => resolve([first, jm.scrape()]));
    });
    const [fa, fb] = await Promise.all([a, b]);
    assert.equal(collections, 1, 'one collection for both scrapes');
    assert.equal(fa, fb, 'the same families');
  } finally {
    await jm.shutdown();
  }
});
