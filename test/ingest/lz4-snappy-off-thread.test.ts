/**
 * Snappy and LZ4 bodies, whose decompression is JavaScript (content-encoding.ts, lz4-frame.ts),
 * are decompressed on the decoding thread, not on the thread serving scrapes (inflated there, each
 * ~80 KB request would hold the event loop for the whole of its inflating).
 *
 * Measured in CPU time, not wall-clock time: a child `jobmeter serve` is sent requests whose body
 * inflates to 19 MiB (an unknown field the decoder skips, so decoding and ingesting cost next to
 * nothing). The CPU time of its main thread alone (/proc/<pid>/task/<pid>/schedstat; the decoding
 * thread is another task) above what an uncompressed body of the same length costs it (receiving
 * the bytes) is compared with what inflating the same body costs this process, each the median of
 * a few requests (the first large ones cost the main thread several times the later ones). Inflated
 * on the main thread, that excess is at least the inflating; off it, a small part.
 *
 * Which bodies go there is asked of content-encoding.ts: snappy and LZ4 always, gzip and zstd when
 * they announce a large size (checked below without a clock).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { afterEach, test } from 'node:test';
import lz4 from 'lz4js';
import snappy from 'snappyjs';
import { decodeBodySync, decodesOffThread } from '../../src/ingest/content-encoding.ts';
import { killChildren, EXIT_MS } from '../cli/harness.ts';
import { snappyFramed } from '../support/snappy-framing.ts';
import { tempFiles } from '../support/temp-files.ts';
import { serveWithIngest } from '../support/serve.ts';
import { lengthDelimited } from '../support/otlp-protobuf-writer.ts';

const files = tempFiles('jobmeter-lz4-snappy-');
afterEach(killChildren);

const MiB = 1024 * 1024;
const ROUNDS = 5;

/** A gauge `padded` with one point, after `bytes` of an unknown field (15) that the decoder skips. */
function paddedRequest(bytes = 19 * MiB): Buffer {
  const padding = Buffer.alloc(bytes);
  for (let i = 0; i < padding.length; i += 7) padding[i] = i & 0xff;
  const point = Buffer.concat([
    Buffer.from([(3 << 3) | 1]),
    Buffer.alloc(8),
    Buffer.from([(4 << 3) | 1]),
    Buffer.alloc(8),
  ]);
  point.writeBigUInt64LE(BigInt(Date.now()) * 1_000_000n, 1);
  point.writeDoubleLE(42, 10);
  const metric = lengthDelimited(2, [
    lengthDelimited(1, [Buffer.from('padded')]),
    lengthDelimited(5, [lengthDelimited(1, [point])]),
  ]);
  return Buffer.concat([
    lengthDelimited(15, [padding]),
    lengthDelimited(1, [lengthDelimited(2, [metric])]),
  ]);
}

/** CPU milliseconds of `pid`'s main thread (the first field of its task's schedstat, in ns). */
function mainThreadCpuMs(pid: number): number {
  const schedstat = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8');
  return Number(schedstat.split(' ')[0]) / 1e6;
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1]!;
}

/** CPU milliseconds this thread spends in `f`. */
function cpuMsOf(f: () => unknown): number {
  const start = process.threadCpuUsage();
  f();
  const used = process.threadCpuUsage(start);
  return (used.user + used.system) / 1000;
}

test('the bodies sent to the decoding thread compressed: snappy and LZ4, gzip and zstd announcing a large size', () => {
  const small = Buffer.alloc(1000, 1);
  const large = Buffer.alloc(300 * 1024, 1);
  const at = 256 * 1024;
  for (const encoding of ['lz4', 'snappy', 'x-snappy-framed', 'LZ4'])
    assert.equal(decodesOffThread(encoding, small, at), true, encoding);
  assert.equal(decodesOffThread('gzip', gzipSync(small), at), false);
  assert.equal(decodesOffThread('gzip', gzipSync(large), at), true);
  assert.equal(decodesOffThread('zstd', zstdCompressSync(small), at), false);
  assert.equal(decodesOffThread('zstd', zstdCompressSync(large), at), true);
  assert.equal(
    decodesOffThread('zstd', zstdCompressSync(large), large.length + 1),
    false,
    'the frame content size read exactly',
  );
  // A body too short or not in its format announces nothing; deflate announces nothing at all.
  assert.equal(
    decodesOffThread('gzip', Buffer.from([0x1f, 0x8b, 0, 0, 0, 0xff, 0xff, 0xff]), at),
    false,
  );
  assert.equal(decodesOffThread('zstd', Buffer.alloc(64, 0xff), at), false);
  assert.equal(decodesOffThread('deflate', deflateSync(large), at), false);
  assert.equal(decodesOffThread(undefined, large, at), false);
});

test(
  'serve: snappy and LZ4 bodies cost the main thread a small part of inflating them',
  { timeout: 170_000 },
  async () => {
    const raw = paddedRequest();
    const bodies: Record<string, Buffer> = {
      lz4: Buffer.from(lz4.compress(new Uint8Array(raw))),
      snappy: Buffer.from(snappy.compress(new Uint8Array(raw))),
      'x-snappy-framed': snappyFramed(raw),
      // zlib's formats inflate on libuv's threads, but their output was handed to the main thread
      // in 16 KiB steps and copied there; one announcing its size (here) is inflated off it.
      zstd: zstdCompressSync(raw),
    };
    const { child, pid, ingestPort } = await serveWithIngest(files);
    const post = async (encoding: string, body: Buffer): Promise<void> => {
      const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': encoding },
        body,
      });
      assert.equal(res.status, 200, await res.clone().text());
      await res.arrayBuffer();
    };
    /** Median main-thread CPU milliseconds of serving `body`, over ROUNDS requests after one to warm up. */
    const servingMs = async (encoding: string, body: Buffer): Promise<number> => {
      await post(encoding, body);
      const each: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const before = mainThreadCpuMs(pid);
        await post(encoding, body);
        each.push(mainThreadCpuMs(pid) - before);
      }
      return median(each);
    };
    for (const [encoding, body] of Object.entries(bodies)) {
      assert.deepEqual(decodeBodySync(body, encoding, 20 * MiB), raw);
      const inflating = median(
        Array.from({ length: ROUNDS }, () =>
          cpuMsOf(() => decodeBodySync(body, encoding, 20 * MiB)),
        ),
      );
      const uncompressed = paddedRequest(Math.max(0, body.length - 64));
      const receiving = await servingMs('identity', uncompressed);
      const serving = await servingMs(encoding, body);
      const excess = serving - receiving;
      console.log(
        `# ${encoding} (${body.length} bytes sent), medians of ${ROUNDS} requests: inflating one here ${inflating.toFixed(1)} ms of CPU; ` +
          `serve's main thread ${serving.toFixed(1)} ms for one, ${receiving.toFixed(1)} ms for ${uncompressed.length} bytes uncompressed`,
      );
      assert.ok(
        excess < inflating / 2,
        `serving cost the main thread ${excess.toFixed(1)} ms of CPU above receiving, inflating ${inflating.toFixed(1)} ms`,
      );
    }
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
