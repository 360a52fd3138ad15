/**
 * Memory per request is bounded and returned afterwards. `jobmeter serve` takes two
 * max-size requests (20 MiB of OTLP/protobuf each: ~1M gauge points, then ~134k exponential
 * histograms of 100 buckets, bench/max-size-request.ts), one after the other; the second's decoding
 * (an object and an array per point) grows the decoding thread's heap by hundreds of MiB, and V8
 * keeps a heap's freed pages for reuse. Once idle
 * the thread gives them back itself (decoder-pool.ts), so RSS comes back to within {@link MARGIN}
 * of where it was before the request; the pull endpoint answers throughout. Kept, those pages
 * hold RSS ~0.8 GiB above where it was.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exponentialMaxSizeRequest, maxSizeRequest } from '../../bench/max-size-request.ts';
import { killChildren, EXIT_MS } from '../cli/harness.ts';
import { tempFiles } from '../support/temp-files.ts';
import { rssBytes, serveWithIngest } from '../support/serve.ts';

const files = tempFiles('jobmeter-max-size-memory-');
afterEach(killChildren);

const MiB = 1024 * 1024;
/**
 * What may stay after the request: the main thread's heap grown by the ingested chunks (V8 keeps
 * its freed pages too), malloc's arenas, the body buffers' pages.
 */
const MARGIN = 96 * MiB;
/** The requests must have cost at least this, or the test proves nothing: twice what may stay. */
const GROWN = 2 * MARGIN;
/**
 * As docs/collector.md says, "within a second or two" of the answer: the thread gives its heap back
 * as soon as no request waits (a last-resort GC, a few hundred ms under load); room for a slower one.
 */
const RETURN_WITHIN_MS = 5_000;

test(
  'serve: the memory a max-size request took is given back once it is done, and scrapes go on',
  { timeout: 120_000 },
  async () => {
    const { child, pid, ingestPort, pullPort } = await serveWithIngest(files);
    const pullUrl = `http://127.0.0.1:${pullPort}/metrics`;

    const request = maxSizeRequest();
    const exponential = exponentialMaxSizeRequest();
    // Warm up the pull path, then the baseline.
    for (let i = 0; i < 3; i++) assert.equal((await fetch(pullUrl)).status, 200);
    await sleep(500);
    const before = rssBytes(pid);

    // Scrapes all along: each must answer 200.
    let scraping = true;
    let scrapes = 0;
    let peak = before;
    const scraper = (async () => {
      while (scraping) {
        const res = await fetch(pullUrl);
        assert.equal(res.status, 200);
        await res.text();
        scrapes++;
        peak = Math.max(peak, rssBytes(pid));
        await sleep(200);
      }
    })();

    for (const body of [request.body, exponential.body]) {
      const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal((await res.arrayBuffer()).byteLength, 0, 'a full success: no partial_success');
      peak = Math.max(peak, rssBytes(pid));
    }
    const scrapesDuring = scrapes;

    const answered = Date.now();
    const deadline = answered + RETURN_WITHIN_MS;
    let now = rssBytes(pid);
    while (now > before + MARGIN && Date.now() < deadline) {
      await sleep(100);
      now = rssBytes(pid);
    }
    const returnedMs = Date.now() - answered;
    scraping = false;
    await scraper;
    const mib = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;
    const seen = `RSS ${mib(before)} before, ${mib(peak)} at the peak, ${mib(now)} ${returnedMs} ms after the answer`;
    assert.ok(peak > before + GROWN, `the requests did not cost what max-size ones do: ${seen}`);
    assert.ok(now <= before + MARGIN, `not given back within ${RETURN_WITHIN_MS} ms: ${seen}`);
    assert.ok(scrapesDuring > 0, 'no scrape answered while the request was processed');

    const text = await (await fetch(pullUrl)).text();
    assert.ok(
      text
        .split('\n')
        .includes(`big_gauge_0_ratio{otel_scope_name="big"} ${request.counts[0]! - 1}`),
      'the request was ingested whole',
    );
    const last = exponential.names.length - 1;
    assert.ok(
      text.split('\n').includes(`big_exponential_${last}_count{otel_scope_name="big"} 100`),
      'the exponential request was ingested whole',
    );
    console.log(`# ${seen}; ${scrapes} scrapes`);
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
