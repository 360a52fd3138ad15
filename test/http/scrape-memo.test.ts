// The scrape handler keeps its last text renderings (src/exposition/render-memo.ts, one per
// Content-Type): through it, a scrape after changes must serve exactly the body the plain
// rendering of the same collection gives, plain and compressed, text and OpenMetrics, while
// series change, appear and go away between scrapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { render } from '../../src/exposition/render.ts';
import type { Family } from '../../src/exposition/types.ts';
import { BodyStore } from '../../src/http/body-store.ts';
import { buildMetricsResponse, RenderMemos, variantOf } from '../../src/http/metrics-response.ts';
import { createScrapeHandler } from '../../src/http/scrape-handler.ts';
import { createJobmeter, type InstrumentSpec, type Jobmeter } from '../../src/index.ts';

const VARIANTS = [
  { accept: 'text/plain;version=0.0.4', encoding: undefined, format: 'text' },
  { accept: 'text/plain;version=0.0.4', encoding: 'gzip', format: 'text' },
  {
    accept: 'application/openmetrics-text;version=1.0.0',
    encoding: undefined,
    format: 'openmetrics',
  },
  { accept: 'application/openmetrics-text;version=1.0.0', encoding: 'zstd', format: 'openmetrics' },
] as const;

for (const scope of [false, true])
  test(`through the scrape handler, every memoized scrape is the plain rendering of its collection${scope ? ', scope labels on' : ''}`, async () => {
    const specs: InstrumentSpec[] = [
      {
        name: 'jobs',
        kind: 'counter',
        unit: '{job}',
        description: 'Jobs.',
        attributes: [{ key: 'host', cap: 500 }],
      },
      {
        name: 'queue',
        kind: 'gauge',
        unit: '{job}',
        description: 'Queue.',
        attributes: [{ key: 'host', cap: 500 }],
      },
      {
        name: 'latency',
        kind: 'histogram',
        unit: 's',
        description: 'Latency.',
        buckets: [0.01, 0.1, 1],
        attributes: [{ key: 'host', cap: 500 }],
      },
    ];
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      otelScopeInfo: scope,
      instruments: specs,
    });
    let last: readonly Family[] = [];
    const handler = createScrapeHandler({
      scrape: async () => (last = await jm.scrape()),
      format: 'negotiate',
    });
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
          const plain =
            v.encoding === 'gzip'
              ? gunzipSync(raw)
              : v.encoding === 'zstd'
                ? zstdDecompressSync(raw)
                : raw;
          assert.equal(
            answer.length,
            raw.length,
            `round ${round} ${v.format} ${v.encoding}: length`,
          );
          assert.ok(
            plain.equals(Buffer.from(render(v.format, last), 'utf8')),
            `round ${round} ${v.format} ${v.encoding ?? 'identity'}: the plain rendering's bytes`,
          );
          assert.ok(plain.includes(`new${round}`), `round ${round}: the new series is served`);
          answer.release?.();
        }
      }
    } finally {
      handler.close();
      await jm.shutdown();
    }
  });

/** A jobmeter with one declared counter over `hosts` series (with the scope labels a host's lines carry, when `scope`). */
async function counterFleet(hosts: number, scope = false) {
  const specs: InstrumentSpec[] = [
    {
      name: 'jobs',
      kind: 'counter',
      unit: '{job}',
      description: 'Jobs.',
      attributes: [{ key: 'host', cap: hosts + 1 }],
    },
  ];
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    otelScopeInfo: scope,
    instruments: specs,
  });
  const jobs = jm.counter('jobs');
  for (let i = 0; i < hosts; i++) jobs.add(10 + (i % 80), { host: `host-${i}` });
  return { jm, jobs };
}

const IDENTITY = variantOf(
  { accept: 'text/plain;version=0.0.4', acceptEncoding: 'identity' },
  'negotiate',
);

/** One identity text scrape of `jm` as the endpoint serves it (its memos, its body store). */
async function identityScrape(jm: Jobmeter, store: BodyStore, memos: RenderMemos) {
  const families = await jm.scrape();
  const answer = await buildMetricsResponse(store, families, IDENTITY, undefined, 1, memos);
  return { families, answer };
}

/**
 * `rounds` identity text scrapes of {@link counterFleet}(`hosts`), each body held to the plain
 * rendering of its collection; `check` sees each answer (and gives its body back), then every
 * `step`th series moves.
 */
async function scrapeRounds(
  hosts: number,
  rounds: number,
  step: number,
  check: (
    round: number,
    answer: Awaited<ReturnType<typeof buildMetricsResponse>>,
    memos: RenderMemos,
    store: BodyStore,
  ) => void,
) {
  const { jm, jobs } = await counterFleet(hosts);
  const store = new BodyStore();
  const memos = new RenderMemos();
  try {
    for (let round = 0; round < rounds; round++) {
      const { families, answer } = await identityScrape(jm, store, memos);
      assert.ok(
        Buffer.concat(answer.body).equals(Buffer.from(render('text', families), 'utf8')),
        `round ${round}: the plain rendering's bytes`,
      );
      check(round, answer, memos, store);
      for (let i = round; i < hosts; i += step) jobs.add(1, { host: `host-${i}` });
    }
  } finally {
    store.close();
    memos.close();
    await jm.shutdown();
  }
}

test("an identity body references the memo's bytes: after a scrape the endpoint holds one copy of the body, not three", () =>
  scrapeRounds(20_000, 3, 97, (round, answer, memos, store) => {
    const memo = memos.memo(answer.contentType)!;
    assert.equal(memo.leases, 1, `round ${round}: the body holds the memo's bytes`);
    answer.done!();
    assert.equal(memo.leases, 0, `round ${round}: given back with the body`);
    // The memo's kept bytes are the body (its spare buffer, once there is one, at most one more;
    // a small family's storage has a few hundred bytes of room); the store keeps no copy of it,
    // only its smallest storage.
    const copies = round === 0 ? 1 : 2;
    const room = memo.size * 1024;
    assert.ok(
      memo.bytes <= copies * answer.length + room,
      `round ${round}: memo ${memo.bytes} B for a ${answer.length} B body`,
    );
    assert.ok(store.idleBytes <= 64 * 1024, `round ${round}: idle storage ${store.idleBytes} B`);
  }));

for (const [hosts, memoFirst] of [
  [100, false],
  [5_000, true],
] as const)
  test(`${hosts} series: ${memoFirst ? 'the memo keeps the first scrape of a Content-Type' : 'the first scrape of a Content-Type is rendered plainly, keeping nothing; the memo keeps the second'}, each body the plain rendering's bytes`, () =>
    scrapeRounds(hosts, 3, 7, (round, answer, memos) => {
      const memo = memos.memo(answer.contentType);
      if (round === 0 && !memoFirst) assert.equal(memo, undefined, 'no memo at the first scrape');
      else {
        assert.ok(
          memo !== undefined && memo.size > 0,
          `round ${round}: the memo keeps the families`,
        );
        assert.equal(memo.leases, 1, `round ${round}: the body holds the memo's bytes`);
      }
      answer.done!();
    }));

test("with a host's scope labels on every line, the endpoint keeps them once per family: the memo holds the body less those, one copy after every series changed", async () => {
  const hosts = 20_000;
  const { jm, jobs } = await counterFleet(hosts, true);
  const store = new BodyStore();
  const memos = new RenderMemos();
  try {
    for (let round = 0; round < 3; round++) {
      const { families, answer } = await identityScrape(jm, store, memos);
      const text = Buffer.concat(answer.body).toString('latin1');
      assert.equal(text, render('text', families), `round ${round}: the plain rendering's bytes`);
      // What each line of the counter repeats: its opener, the scope labels and the `}`.
      const lines = text.split('\n').filter((l) => l.startsWith('jobs_total{'));
      const line = lines[0]!;
      const repeated =
        'jobs_total{'.length + line.indexOf('}') - line.indexOf(',otel_scope_name=') + 1;
      assert.ok(repeated > 40 && lines.length > 5_000, line);
      const memo = memos.memo(answer.contentType)!;
      answer.done!();
      const room = memo.size * 1024;
      const once = answer.length - lines.length * repeated;
      assert.ok(
        memo.bytes <= (round === 0 ? once : 1.2 * once) + room,
        `round ${round}: memo ${memo.bytes} B for a ${answer.length} B body`,
      );
      assert.ok(store.idleBytes <= 64 * 1024, `round ${round}: idle storage ${store.idleBytes} B`);
      // Every series changed, most lines to another length (the kept lines move).
      for (let i = 0; i < hosts; i++) jobs.add(round === 0 ? 90 : 1, { host: `host-${i}` });
    }
  } finally {
    store.close();
    memos.close();
    await jm.shutdown();
  }
});

for (const scope of [false, true])
  test(`a slow client keeps its body while later scrapes change the series it references (in place or moved)${scope ? ', scope labels on' : ''}`, async () => {
    const { jm, jobs } = await counterFleet(5_000, scope);
    const store = new BodyStore();
    const memos = new RenderMemos();
    try {
      const held: { bytes: Buffer; answer: Awaited<ReturnType<typeof buildMetricsResponse>> }[] =
        [];
      for (let round = 0; round < 4; round++) {
        const { families, answer } = await identityScrape(jm, store, memos);
        const bytes = Buffer.from(render('text', families), 'utf8');
        assert.ok(
          Buffer.concat(answer.body).equals(bytes),
          `round ${round}: the plain rendering's bytes`,
        );
        held.push({ bytes, answer });
        // Same-length changes (rewritten in place when no body holds the bytes) and a new series (moved).
        for (let i = round; i < 5_000; i += 13) jobs.add(1, { host: `host-${i}` });
        if (round === 2) jobs.add(1, { host: 'late' });
      }
      for (const [round, h] of held.entries())
        assert.ok(
          Buffer.concat(h.answer.body).equals(h.bytes),
          `round ${round}: unchanged while held`,
        );
      for (const h of held) h.answer.done!();
      assert.equal(memos.memo(held[0]!.answer.contentType)!.leases, 0);
      // With every body given back, the memo writes in place again and stays exact.
      for (let round = 0; round < 3; round++) {
        for (let i = round; i < 5_000; i += 11) jobs.add(1, { host: `host-${i}` });
        const { families, answer } = await identityScrape(jm, store, memos);
        assert.ok(
          Buffer.concat(answer.body).equals(Buffer.from(render('text', families), 'utf8')),
          `after: round ${round}`,
        );
        answer.done!();
      }
    } finally {
      store.close();
      memos.close();
      await jm.shutdown();
    }
  });
