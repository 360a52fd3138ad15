/**
 * The naming and ingest caches follow the live series. Senders churn through many scope and
 * instrument names that then expire; afterwards the namer holds no compiled rule (nor its label
 * strings) for them and the store no state, and the heap is back near where it started.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { otelProfile } from '../../src/naming/profiles/otel.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import { fakeClock, gauge, metric, numberPoint, request } from '../ingest/helpers.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const NAMES = 30_000;
const EXPIRY_MS = 1_000;

test(
  'naming and ingest state shrink back once churned scope and instrument names expire',
  { timeout: 170_000 },
  async () => {
    const clock = fakeClock();
    const store = new IngestStore({ expiryMillis: EXPIRY_MS, clock });
    const namer = createNamer(otelProfile(true));
    const scrape = async () => namer.toFamilies((await store.collect()).resourceMetrics);

    await scrape();
    const before = heapAfterGc();
    let maxCompiled = 0;
    for (let i = 0; i < NAMES; i++) {
      const labels = { job: `job-${i}`, host: `host-${i % 97}` };
      store.ingest(
        request([metric(`churn.metric.${i}`, gauge([numberPoint(i, labels)]))], {}, `scope-${i}`),
      );
      if (i % 100 === 99) {
        clock.advance(100);
        await scrape();
        maxCompiled = Math.max(maxCompiled, namer.compiledCount);
      }
    }
    // While churning, only what is live (about one expiry's worth of names) is held.
    assert.ok(maxCompiled <= 2_000, `compiled rules peaked at ${maxCompiled}`);
    clock.advance(EXPIRY_MS + 1);
    await scrape();
    await scrape();
    assert.equal(store.seriesCount, 0);
    assert.equal(store.memoryBytes, 0);
    assert.ok(namer.compiledCount <= 1, `compiled rules left: ${namer.compiledCount}`);
    const grown = heapAfterGc() - before;
    assert.ok(
      grown < 8 * 1024 * 1024,
      `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MiB over ${NAMES} expired names`,
    );
  },
);
