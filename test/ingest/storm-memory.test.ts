/**
 * Memory after a storm: a child `jobmeter serve` gets 32 concurrent requests of
 * 19 MiB each (8 processed, one more waiting, the rest shed with 503 as the bytes in flight pass their bound), three
 * times over. The bodies' bytes are an unknown field the decoder skips, so what the storm leaves
 * is what receiving them left. Node's HTTP parser hands each read over as a fresh malloc'd copy,
 * dead once copied but freed only when V8 collects it, and a shed body's buffer likewise: left to
 * the collector, the storm's peak was 280–420 MiB over where it started, and malloc's heap and RSS
 * stayed up by up to 140 MiB after (their pages interleaved with live blocks), as V8 happened to
 * collect. Freed as soon as they are used up (body-chunks.ts), the peak is the bytes in flight
 * ({@link PEAK_GROWTH}), and malloc's heap and RSS come back to where they were
 * ({@link HEAP_GROWTH}, {@link RSS_GROWTH}).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { killChildren, EXIT_MS } from '../cli/harness.ts';
import { tempFiles } from '../support/temp-files.ts';
import { serveWithIngest } from '../support/serve.ts';
import { lengthDelimited } from '../support/otlp-protobuf-writer.ts';

const files = tempFiles('jobmeter-storm-memory-');
afterEach(killChildren);

const MiB = 1024 * 1024;
const CONCURRENT = 32;
const ROUNDS = 3;
/** What the bodies in flight may hold: (`max_concurrent_requests` + 1) × `max_body_bytes` (180 MiB), and 64 MiB for the rest. */
const PEAK_GROWTH = 244 * MiB;
/** What malloc's heap may keep of the storm (0–1 MiB seen). */
const HEAP_GROWTH = 16 * MiB;
/** What RSS may keep (−6 to −3 MiB seen: the warm-up request's pages went too). */
const RSS_GROWTH = 32 * MiB;

/** A gauge with one point, after `bytes` of an unknown field (15) that the decoder skips. */
function paddedRequest(bytes: number, i: number): Buffer {
  const padding = Buffer.alloc(bytes, i & 0xff);
  const point = Buffer.alloc(9);
  point[0] = (4 << 3) | 1;
  point.writeDoubleLE(i, 1);
  const metric = lengthDelimited(2, [
    lengthDelimited(1, [Buffer.from('storm')]),
    lengthDelimited(5, [lengthDelimited(1, [point])]),
  ]);
  return Buffer.concat([
    lengthDelimited(15, [padding]),
    lengthDelimited(1, [lengthDelimited(2, [metric])]),
  ]);
}

/** RSS and the Rss of the `[heap]` mapping (malloc's main arena), in bytes. */
function memoryOf(pid: number): { rss: number; heap: number } {
  const rss =
    Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const m = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(smaps);
  return { rss, heap: m === null ? 0 : Number(m[1]) * 1024 };
}

test(
  'serve: a storm of large bodies leaves malloc’s heap and RSS near where they were',
  { timeout: 170_000 },
  async () => {
    const { child, pid, ingestPort, pullPort } = await serveWithIngest(files);
    const bodies = Array.from({ length: CONCURRENT }, (_, i) => paddedRequest(19 * MiB, i));
    // One request first, so the decoding thread and the listener's paths are warm in the baseline.
    const post = async (body: Buffer): Promise<number> => {
      try {
        const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
          body,
        });
        await res.arrayBuffer();
        return res.status;
      } catch {
        return 0; // shed as it arrived: the connection closed under the body
      }
    };
    assert.equal(await post(bodies[0]!), 200);
    await sleep(2_000);
    const before = memoryOf(pid);
    let peak = before.rss;
    const statuses: Record<number, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(pid).rss)), 50);
      for (const s of await Promise.all(bodies.map(post))) statuses[s] = (statuses[s] ?? 0) + 1;
      clearInterval(sampler);
    }
    assert.ok(
      (statuses[200] ?? 0) >= ROUNDS,
      `some requests processed: ${JSON.stringify(statuses)}`,
    );
    assert.ok(
      (statuses[503] ?? 0) + (statuses[0] ?? 0) > 0,
      `some shed: the bytes in flight reached their bound: ${JSON.stringify(statuses)}`,
    );
    // The decoding thread gives its heap back within a second or two of its last request.
    await sleep(3_000);
    const after = memoryOf(pid);
    const mib = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;
    const seen = `RSS ${mib(before.rss)} before, ${mib(peak)} at the peak, ${mib(after.rss)} after; malloc's heap ${mib(before.heap)} before, ${mib(after.heap)} after; answers ${JSON.stringify(statuses)}`;
    console.log(`# ${seen}`);
    assert.equal((await fetch(`http://127.0.0.1:${pullPort}/metrics`)).status, 200);
    assert.ok(peak - before.rss < PEAK_GROWTH, seen);
    assert.ok(after.heap - before.heap < HEAP_GROWTH, seen);
    assert.ok(after.rss - before.rss < RSS_GROWTH, seen);
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
