/**
 * Memory after a storm: a real `jobmeter serve` gets the storm shapes of a hostile sender, a 19 MiB
 * gzip body (a protobuf request whose one attribute value is 19 MiB, announcing its size, so it is
 * inflated on the decoding thread) and a request whose attribute value is 10 MiB (JSON, gzipped in
 * two members, inflated on the main thread), each repeated; once the load ended, RSS must come back
 * to within 1.5 times what it was before the load within a minute. What holds it up is malloc's,
 * not V8's: glibc raises its mmap threshold to the largest block freed, so after the first 10–19 MiB
 * block every later one comes from an arena (the decoding thread's, the main thread's), which keeps
 * the pages of blocks freed below its top, and stopping the decoding thread does not give its arena
 * back; serve holds the threshold (src/cli/bin.ts; docs/collector.md, "malloc's mmap threshold").
 * A memory bound, read from /proc/PID/status.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { killChildren, EXIT_MS } from '../cli/harness.ts';
import { tempFiles } from '../support/temp-files.ts';
import { serveWithIngest } from '../support/serve.ts';
import { lengthDelimited } from '../support/otlp-protobuf-writer.ts';

const files = tempFiles('jobmeter-storm-settles-');
afterEach(killChildren);

const MiB = 1024 * 1024;
/** How long after the load RSS has to come back. */
const SETTLE_MS = 60_000;
/**
 * The bound it has to come back within, times the pre-load RSS. Twice is what an operator was
 * promised; with the arenas' pages held the storm below left 1.95–2.04 times a minute after (three
 * runs), so the test holds 1.5, which that fails; with them given back it was 1.37 times within
 * 2 s and 1.0–1.1 times once settled.
 */
const FACTOR = 1.5;

/** A protobuf gauge point whose one attribute value is `bytes` long, gzipped whole (its ISIZE announces the size). */
function gzipBody(bytes: number, i: number): Buffer {
  const point = Buffer.alloc(9);
  point[0] = (4 << 3) | 1; // as_double
  point.writeDoubleLE(i, 1);
  const value = lengthDelimited(1, [Buffer.alloc(bytes, 0x61 + (i % 26))]); // AnyValue.string_value
  const attribute = lengthDelimited(7, [
    lengthDelimited(1, [Buffer.from('payload')]),
    lengthDelimited(2, [value]),
  ]);
  const metric = lengthDelimited(2, [
    lengthDelimited(1, [Buffer.from('storm.gzip')]),
    lengthDelimited(5, [lengthDelimited(1, [point, attribute])]),
  ]);
  return gzipSync(lengthDelimited(1, [lengthDelimited(2, [metric])]));
}

/** JSON requests with a new `bytes`-character attribute value each: the shared prefix gzipped once, then a tail (gzip members inflate as one). */
function attributeBodies(bytes: number): (i: number) => Buffer {
  const head =
    '{"resourceMetrics":[{"resource":{"attributes":[]},"scopeMetrics":[{"scope":{"name":"storm"},"metrics":[{"name":"storm.attribute","gauge":{"dataPoints":[{"attributes":[{"key":"payload","value":{"stringValue":"';
  const prefix = gzipSync(head + 'x'.repeat(bytes));
  return (i) =>
    Buffer.concat([
      prefix,
      gzipSync(
        `${i}"}}],"asDouble":${i},"timeUnixNano":"${BigInt(Date.now()) * 1_000_000n}"}]}}]}]}]}`,
      ),
    ]);
}

function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** Resident MiB by where it lives: malloc's main arena (`[heap]`), other anonymous mappings (V8's pages, thread arenas), files. */
function whereOf(pid: number): string {
  const sums = { heap: 0, anonymous: 0, files: 0 };
  let kind: keyof typeof sums = 'anonymous';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping !== null)
      kind = mapping[1] === '[heap]' ? 'heap' : mapping[1]!.startsWith('/') ? 'files' : 'anonymous';
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null) sums[kind] += Number(rss[1]) * 1024;
  }
  return `malloc's main arena ${mib(sums.heap)}, other anonymous ${mib(sums.anonymous)}, files ${mib(sums.files)}`;
}

const mib = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;

test(
  'serve: RSS comes back within 1.5 times its pre-load figure within a minute of a storm of 10 MiB attribute values and 19 MiB gzip bodies',
  { timeout: 240_000 },
  async () => {
    const { child, pid, ingestPort, pullPort } = await serveWithIngest(files);
    const post = async (body: Buffer, contentType: string): Promise<number> => {
      const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': contentType, 'content-encoding': 'gzip' },
        body,
      });
      await res.arrayBuffer();
      return res.status;
    };
    const attribute = attributeBodies(10 * MiB);
    await sleep(1_000);
    const before = rssOf(pid);
    const beforeWhere = whereOf(pid);

    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 100);
    const statuses: number[] = [];
    let n = 0;
    for (let round = 0; round < 12; round++)
      statuses.push(
        ...(await Promise.all([0, 1].map(() => post(attribute(n++), 'application/json')))),
      );
    for (let round = 0; round < 3; round++)
      statuses.push(await post(gzipBody(19 * MiB, n++), 'application/x-protobuf'));
    clearInterval(sampler);
    // Each was decoded and ingested (not refused before reaching the decoders).
    assert.deepEqual(new Set(statuses), new Set([200]), `answers: ${statuses.join(' ')}`);

    const ended = performance.now();
    let after = rssOf(pid);
    while (after > FACTOR * before && performance.now() - ended < SETTLE_MS) {
      await sleep(1_000);
      after = rssOf(pid);
    }
    const seen = `RSS ${mib(before)} before (${beforeWhere}), ${mib(peak)} at the peak, ${mib(after)} ${((performance.now() - ended) / 1000).toFixed(0)} s after the load (${whereOf(pid)})`;
    console.log(`# ${seen}`);
    assert.ok(after <= FACTOR * before, seen);
    assert.equal((await fetch(`http://127.0.0.1:${pullPort}/metrics`)).status, 200);
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
