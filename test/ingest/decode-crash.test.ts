/**
 * Bodies that decode to far more than they weigh: a child `jobmeter serve` gets protobuf bodies
 * whose one Gauge holds millions of empty data points (`0a 00` repeated), zstd-compressed: 9.5M
 * points (19 MB decoded, 1.8 KB sent), 3M (6 MB, 0.6 KB), and several at once. Each is refused
 * (413, the decode limit named) within seconds, the process stays alive with RSS under
 * {@link RSS_BOUND}, and the pull endpoint answers afterwards. Decoded without a limit, a body of
 * 9.5M points builds an object per point up to the decoding thread's 1 GiB heap limit, and Node
 * aborts the whole process.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { zstdCompressSync } from 'node:zlib';
import { decodeStatus } from '../support/otlp-response.ts';
import { killChildren, EXIT_MS } from '../cli/harness.ts';
import { tempFiles } from '../support/temp-files.ts';
import { rssBytes, serveWithIngest } from '../support/serve.ts';
import { emptyPointsRequest } from './hostile-bodies.ts';

const files = tempFiles('jobmeter-decode-crash-');
afterEach(killChildren);

const MiB = 1024 * 1024;
/**
 * Node and the modules (~100 MiB), the decoding thread, the decompressed bodies waiting for it
 * (up to 8 × 19 MB); the old code passed 750 MiB on the 3M body alone.
 */
const RSS_BOUND = 512 * MiB;
/** An answer takes well under a second on an idle machine; room for a loaded one. */
const ANSWER_MS = 20_000;

test(
  'serve: bodies of millions of empty points are refused (413) within seconds, the process stays up and small',
  { timeout: 170_000 },
  async () => {
    const { child, pid, ingestPort, pullPort } = await serveWithIngest(files);
    const pullUrl = `http://127.0.0.1:${pullPort}/metrics`;
    assert.equal((await fetch(pullUrl)).status, 200);

    let peak = rssBytes(pid);
    const sampler = setInterval(() => {
      if (child.child.exitCode === null) peak = Math.max(peak, rssBytes(pid));
    }, 50);
    const big = zstdCompressSync(emptyPointsRequest(9_500_000));
    const small = zstdCompressSync(emptyPointsRequest(3_000_000));
    assert.ok(
      big.length < 4096 && small.length < 1024,
      `${big.length} and ${small.length} bytes sent`,
    );

    const send = async (body: Buffer): Promise<{ status: number; message: string; ms: number }> => {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'zstd' },
        body,
      });
      const status = decodeStatus(new Uint8Array(await res.arrayBuffer()), 'protobuf');
      return { status: res.status, message: status.message, ms: performance.now() - t0 };
    };
    try {
      const answers = [
        await send(big),
        await send(small),
        ...(await Promise.all([big, small, big, small, big, big].map(send))),
      ];
      for (const a of answers) {
        assert.equal(a.status, 413, a.message);
        assert.match(
          a.message,
          /^request too large to decode: \d+ data points, .* \(decode limit: 16 bytes per body byte \+ 1048576, at most 268435456\)$/,
        );
        assert.ok(a.ms < ANSWER_MS, `answered after ${a.ms.toFixed(0)} ms`);
      }
      assert.equal(child.child.exitCode, null, child.stderr());
      const scrape = await fetch(pullUrl);
      assert.equal(scrape.status, 200);
      await scrape.text();
      console.log(
        `# peak RSS ${(peak / MiB).toFixed(0)} MiB; answers in ${answers.map((a) => a.ms.toFixed(0)).join(', ')} ms`,
      );
      assert.ok(peak < RSS_BOUND, `RSS reached ${(peak / MiB).toFixed(0)} MiB`);
    } finally {
      clearInterval(sampler);
    }
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
