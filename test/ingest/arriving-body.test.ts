/**
 * ArrivingBody (src/ingest/body-chunks.ts): a body of a known length kept as its chunks until
 * 64 KiB of it are in, then as one buffer of its own that can move to the decoding thread whole;
 * HTTP/1's reads (copies of their own) are freed once copied in, HTTP/2's slices of shared reads
 * are left as they are. Once decoded, a buffer of its own comes back for the next body until a
 * quiet second frees it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArrivingBody, ownsItsMemory, RECEIVE_WHOLE_BYTES } from '../../src/ingest/body-chunks.ts';
import { DecoderPool } from '../../src/ingest/decoder-pool.ts';
import { lengthDelimited } from '../support/otlp-protobuf-writer.ts';

const KiB = 1024;

/** `total` bytes counting up, each 16 KiB a slice of a 64 KiB read, the way HTTP/2 hands a stream's data over. */
function sharedSlices(total: number): Buffer[] {
  const slices: Buffer[] = [];
  for (let at = 0; at < total; at += 16 * KiB) {
    const read = Buffer.alloc(64 * KiB);
    const n = Math.min(16 * KiB, total - at);
    for (let i = 0; i < n; i++) read[16 * KiB + i] = (at + i) & 0xff;
    slices.push(read.subarray(16 * KiB, 16 * KiB + n));
  }
  return slices;
}

test('a body under 64 KiB stays the chunks it arrived in', () => {
  const chunks = [Buffer.from('ab'), Buffer.from('cd')];
  const body = new ArrivingBody(4, true);
  for (const c of chunks) body.add(c, () => {});
  assert.deepEqual(body.chunks(), chunks);
  assert.equal(body.chunks()[0], chunks[0]);
});

test('HTTP/2 slices: one buffer of its own with the same bytes; the shared reads untouched', () => {
  const total = 200 * KiB + 5;
  const slices = sharedSlices(total);
  const body = new ArrivingBody(total, false);
  for (const s of slices) body.add(s, () => {});
  const [whole, ...rest] = body.chunks();
  assert.equal(rest.length, 0);
  assert.ok(ownsItsMemory(whole!), 'the body can move to the decoding thread');
  assert.deepEqual(whole, Buffer.concat(slices));
  for (const s of slices) assert.equal(s.buffer.byteLength, 64 * KiB, 'a shared read is not freed');
});

test('HTTP/1 reads are freed once copied in; a read Node pools with others is not', () => {
  const total = RECEIVE_WHOLE_BYTES + 3 * KiB;
  const own = [Buffer.alloc(RECEIVE_WHOLE_BYTES, 1), Buffer.alloc(2 * KiB, 2)];
  const pooled = Buffer.from('x'.repeat(KiB)); // a slice of Node's Buffer pool
  assert.ok(pooled.buffer.byteLength > pooled.length);
  const body = new ArrivingBody(total, true);
  for (const c of [...own, pooled]) body.add(c, () => {});
  const [whole] = body.chunks();
  assert.equal(whole!.length, total);
  assert.equal(whole![0], 1);
  assert.equal(whole![RECEIVE_WHOLE_BYTES], 2);
  assert.equal(whole![total - 1], 'x'.charCodeAt(0));
  for (const c of own) assert.equal(c.buffer.byteLength, 0, 'a read of its own is freed');
  assert.equal(pooled.toString(), 'x'.repeat(KiB), 'the pool is not touched');
});

test('drop frees the buffer a refused body was going into', () => {
  const body = new ArrivingBody(RECEIVE_WHOLE_BYTES, false);
  body.add(Buffer.alloc(RECEIVE_WHOLE_BYTES, 9), () => {});
  const [whole] = body.chunks();
  assert.equal(whole!.length, RECEIVE_WHOLE_BYTES);
  body.drop();
  assert.equal(whole!.buffer.byteLength, 0, 'dropped: its memory is freed');
});

/** A protobuf request of `bytes` of an unknown field (skipped by the decoder) and one gauge point. */
function paddedRequest(bytes: number): Buffer {
  const point = Buffer.alloc(9);
  point[0] = (4 << 3) | 1; // as_double
  const metric = lengthDelimited(2, [
    lengthDelimited(1, [Buffer.from('g')]),
    lengthDelimited(5, [lengthDelimited(1, [point])]),
  ]);
  return Buffer.concat([
    lengthDelimited(15, [Buffer.alloc(bytes, 0xab)]),
    lengthDelimited(1, [lengthDelimited(2, [metric])]),
  ]);
}

/**
 * `request` received as HTTP/1 reads (64 KiB copies of their own), then decoded on the decoding
 * thread, moved there: the size of the buffer it was received into, a copy of its bytes from
 * `from` to `to` (past the body) as they were when it was received, and the bytes it held once
 * its first 64 KiB were in, and in the end.
 */
async function receiveAndDecode(
  pool: DecoderPool,
  request: Buffer,
  [from, to]: readonly [number, number],
  handOver = true,
): Promise<{ size: number; past: Buffer; heldFirst: number; held: number }> {
  const body = new ArrivingBody(request.length, true);
  let held = 0;
  let heldFirst = 0;
  for (let at = 0; at < request.length; at += 64 * KiB) {
    body.add(Buffer.from(request.subarray(at, at + 64 * KiB)), (bytes) => (held += bytes));
    if (at === 0) heldFirst = held;
  }
  const [whole] = body.chunks();
  const size = whole!.buffer.byteLength;
  const past = Buffer.from(Buffer.from(whole!.buffer).subarray(from, to));
  await pool.decode([whole!], 'protobuf', () => {}, handOver);
  assert.equal(
    whole!.buffer.byteLength === 0,
    handOver,
    'moved to the decoding thread when handed over',
  );
  return { size, past, heldFirst, held };
}

test(
  'a large body’s buffer comes back from the decoding thread for the next body, which holds its resident bytes at once; a second of quiet frees it',
  { timeout: 30_000 },
  async () => {
    const pool = new DecoderPool();
    try {
      const first = paddedRequest(6 * 1024 * KiB);
      const next = paddedRequest(5 * 1024 * KiB);
      const window = [next.length, first.length] as const;
      // A fresh buffer of this size is mapped afresh: all zeros past what was written.
      const fresh = await receiveAndDecode(pool, first, [first.length, first.length + KiB]);
      assert.ok(fresh.past.every((b) => b === 0));
      assert.deepEqual([fresh.heldFirst, fresh.held], [64 * KiB, first.length]);
      const reused = await receiveAndDecode(pool, next, window);
      assert.equal(reused.size, fresh.size);
      assert.deepEqual(
        reused.past,
        first.subarray(next.length),
        'the next body went into the first one’s buffer',
      );
      assert.deepEqual(
        [reused.heldFirst, reused.held],
        [first.length, first.length],
        'it holds what the buffer has resident from its first 64 KiB on, not only what arrived',
      );
      await sleep(1_500);
      // Kept by the caller (the debug printer's case), a body goes to the decoding thread as a
      // copy: that copy is not kept for the next body.
      await receiveAndDecode(pool, first, window, false);
      const after = await receiveAndDecode(pool, next, window);
      assert.ok(
        after.past.every((b) => b === 0),
        'after a quiet second the buffer was freed: the next body gets a fresh one',
      );
      assert.deepEqual([after.heldFirst, after.held], [64 * KiB, next.length]);
    } finally {
      await pool.close();
    }
  },
);
