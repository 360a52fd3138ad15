/**
 * Huge attribute values, scaled to a test: `jobmeter serve` with ingest on, a sender posting 1000
 * gzipped requests (~1 KiB on the wire) each with a new 1 MiB attribute value, half of them on a
 * resource attribute. No value is kept whole in a source-series key: the process's RSS stays
 * under the budget plus Node's own overhead, and the pull endpoint keeps answering throughout.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { killChildren, EXIT_MS } from '../cli/harness.ts';
import { tempFiles } from '../support/temp-files.ts';
import { rssBytes, serveWithIngest } from '../support/serve.ts';

const files = tempFiles('jobmeter-serve-memory-');
afterEach(killChildren);

const MiB = 1024 * 1024;
const REQUESTS = 1000;
/**
 * The budget configured; the process may use this plus Node's own and in-flight requests' memory.
 * Small enough that the 1000 series do not all fit: the run shows series kept and series refused.
 */
const BUDGET = 256 * 1024;
// Node, the modules, the decode worker thread and the requests in flight. Without the byte bound the
// process ran out of its 384 MiB heap (--max-old-space-size below) long before the 1000th request.
const OVERHEAD = 320 * MiB;

/**
 * The request as two gzip members (a gzip body may hold several; they inflate as one): the long
 * value's shared 1 MiB, compressed once, then the part that makes each value new.
 */
function bodyMaker(): (i: number) => Buffer {
  const long = 'x'.repeat(MiB);
  const resource =
    '{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"hostile"}}';
  const scope =
    ']},"scopeMetrics":[{"scope":{"name":"hostile"},"metrics":[{"name":"hostile.load","gauge":{"dataPoints":[{';
  const heads = [
    gzipSync(`${resource}${scope}"attributes":[{"key":"payload","value":{"stringValue":"${long}`),
    gzipSync(`${resource},{"key":"payload","value":{"stringValue":"${long}`),
  ];
  return (i) => {
    const onResource = i % 2 === 1;
    const point = `"asDouble":${i},"timeUnixNano":"${BigInt(Date.now()) * 1_000_000n}"}]}}]}]}]}`;
    const tail = onResource ? `${i}"}}${scope}${point}` : `${i}"}}],${point}`;
    return Buffer.concat([heads[onResource ? 1 : 0]!, gzipSync(tail)]);
  };
}

test(
  'serve: 1000 requests each with a new 1 MiB attribute value keep RSS bounded and the pull endpoint answering',
  { timeout: 170_000 },
  async () => {
    // A heap limit well under what the old code needed (it kept every value: over 1 GiB here).
    const { child, pid, ingestPort, pullPort } = await serveWithIngest(files, {
      lines: [`max_memory_bytes = ${BUDGET}`],
      env: {
        NODE_OPTIONS: '--max-old-space-size=384',
      },
    });
    let maxRss = 0;
    let accepted = 0;
    let refused = 0;
    const body = bodyMaker();
    for (let i = 0; i < REQUESTS; i++) {
      const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: body(i),
      });
      const answerText = await res.text();
      assert.equal(res.status, 200, `request ${i}: ${answerText}`);
      const answer = JSON.parse(answerText) as { partialSuccess?: { rejectedDataPoints?: string } };
      if (answer.partialSuccess?.rejectedDataPoints === undefined) accepted++;
      else refused += Number(answer.partialSuccess.rejectedDataPoints);
      if (i % 100 === 99) {
        const scrape = await fetch(`http://127.0.0.1:${pullPort}/metrics`);
        assert.equal(scrape.status, 200);
        const text = await scrape.text();
        assert.match(text, /^hostile_load\{/m);
        maxRss = Math.max(maxRss, rssBytes(pid));
      }
    }
    assert.equal(accepted + refused, REQUESTS);
    assert.ok(accepted > 0, 'series within the budget are kept');
    assert.ok(refused > 0, 'series past the budget are refused');
    assert.ok(maxRss < BUDGET + OVERHEAD, `RSS reached ${(maxRss / MiB).toFixed(0)} MiB`);
    const text = await (await fetch(`http://127.0.0.1:${pullPort}/metrics`)).text();
    assert.match(
      text,
      new RegExp(
        `^jobmeter_ingest_refused_total\\{[^}]*reason="memory_budget"[^}]*\\} ${refused}$`,
        'm',
      ),
    );
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
