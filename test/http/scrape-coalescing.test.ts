/**
 * Concurrent scrapes share one collection and one naming pass (scrape-pipeline.ts
 * `coalescedScrape`). Requests arrive in callbacks of their own, one after another in the same
 * turn of the event loop; a scrape that finished inside the first callback (no turn given back
 * before its families are ready) would make every request collect and render again, and a busy
 * endpoint's throughput fell by more than half when that happened. Checked by what is shared, not
 * by timing: two scrapes started from two callbacks of one turn get the same families from one
 * collection. A scrape after a write (an acknowledged push) never shares a pass begun before it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJobmeter } from '../../src/jobmeter.ts';
import { coalescedScrape } from '../../src/scrape-pipeline.ts';
import type { Collection } from '../../src/series/collection.ts';
import type { Namer } from '../../src/naming/to-families.ts';
import type { RenderFamily } from '../../src/exposition/render-model.ts';

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

test('a scrape that comes after a write while a pass is in flight gets the pass after it, not the one before the write', async () => {
  let version = 0;
  const collections: { resolve: () => void; version: number }[] = [];
  const collect = () =>
    new Promise<Collection>((resolve) => {
      const seen = version;
      collections.push({
        version: seen,
        resolve: () => resolve({ seen, done: () => {} } as unknown as Collection),
      });
    });
  const namer = {
    toFamiliesSliced: (c: { seen: number }) =>
      Promise.resolve([{ name: `v${c.seen}` }] as unknown as RenderFamily[]),
  } as unknown as Namer;
  const scrape = coalescedScrape(collect, namer, () => version);
  const first = scrape();
  const shared = scrape();
  version++; // a push is acknowledged while the first pass is in flight
  const after = scrape();
  const afterToo = scrape();
  assert.equal(collections.length, 1, 'the pass after waits for the one in flight');
  collections[0]!.resolve();
  assert.equal(((await first)[0] as { name: string }).name, 'v0');
  assert.equal(await shared, await first, 'a call with nothing written since shares the pass');
  await new Promise((r) => setImmediate(r));
  assert.equal(collections.length, 2, 'one pass for every call that came after the write');
  collections[1]!.resolve();
  assert.equal(((await after)[0] as { name: string }).name, 'v1');
  assert.equal(await afterToo, await after);
});
