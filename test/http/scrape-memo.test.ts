// The scrape handler keeps its last text renderings (src/exposition/render-memo.ts, one per
// Content-Type): through it, a scrape after changes must serve exactly the body the plain
// rendering of the same collection gives, plain and compressed, text and OpenMetrics, while
// series change, appear and go away between scrapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { render } from '../../src/exposition/render.ts';
import type { Family } from '../../src/exposition/types.ts';
import { createScrapeHandler } from '../../src/http/scrape-handler.ts';
import { createJobmeter, type InstrumentSpec } from '../../src/index.ts';

const VARIANTS = [
  { accept: 'text/plain;version=0.0.4', encoding: undefined, format: 'text' },
  { accept: 'text/plain;version=0.0.4', encoding: 'gzip', format: 'text' },
  { accept: 'application/openmetrics-text;version=1.0.0', encoding: undefined, format: 'openmetrics' },
  { accept: 'application/openmetrics-text;version=1.0.0', encoding: 'zstd', format: 'openmetrics' },
] as const;

test('through the scrape handler, every memoized scrape is the plain rendering of its collection', async () => {
  const specs: InstrumentSpec[] = [
    { name: 'jobs', kind: 'counter', unit: '{job}', description: 'Jobs.', attributes: [{ key: 'host', cap: 500 }] },
    { name: 'queue', kind: 'gauge', unit: '{job}', description: 'Queue.', attributes: [{ key: 'host', cap: 500 }] },
    { name: 'latency', kind: 'histogram', unit: 's', description: 'Latency.', buckets: [0.01, 0.1, 1], attributes: [{ key: 'host', cap: 500 }] },
  ];
  const jm = await createJobmeter({ listener: false, processMetrics: false, otelScopeInfo: false, instruments: specs });
  let last: readonly Family[] = [];
  const handler = createScrapeHandler({ scrape: async () => (last = await jm.scrape()), format: 'negotiate' });
  try {
    const jobs = jm.counter('jobs');
    const latency = jm.histogram('latency');
    const queue = jm.gauge('queue');
    for (let i = 0; i < 300; i++) {
      jobs.add(1 + i, { host: `h${i}` });
      latency.record(i / 100, { host: `h${i % 50}` });
    }
    for (let round = 0; round < 6; round++) {
      // A few series move, a few appear; the gauge family appears in round 2.
      for (let i = round; i < 300; i += 37) jobs.add(1, { host: `h${i}` });
      jobs.add(1, { host: `new${round}` });
      latency.record(round, { host: `h${round}` });
      if (round >= 2) queue.record(round, { host: `h${round}` });
      for (const v of VARIANTS) {
        const answer = await handler.answer({ accept: v.accept, acceptEncoding: v.encoding });
        assert.equal(answer.status, 200);
        const raw = Buffer.concat(answer.body);
        const plain = v.encoding === 'gzip' ? gunzipSync(raw) : v.encoding === 'zstd' ? zstdDecompressSync(raw) : raw;
        assert.equal(answer.length, raw.length, `round ${round} ${v.format} ${v.encoding}: length`);
        assert.ok(plain.equals(Buffer.from(render(v.format, last), 'utf8')), `round ${round} ${v.format} ${v.encoding ?? 'identity'}: the plain rendering's bytes`);
        assert.ok(plain.includes(`new${round}`), `round ${round}: the new series is served`);
        answer.release?.();
      }
    }
  } finally {
    handler.close();
    await jm.shutdown();
  }
});
