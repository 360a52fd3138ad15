/**
 * ArrivingBody (src/ingest/body-chunks.ts): a body of a known length kept as its chunks until
 * 64 KiB of it are in, then as one buffer of its own that can move to the decoding thread whole;
 * HTTP/1's reads (copies of their own) are freed once copied in, HTTP/2's slices of shared reads
 * are left as they are.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArrivingBody, ownsItsMemory, RECEIVE_WHOLE_BYTES } from '../../src/ingest/body-chunks.ts';

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
  for (const c of chunks) body.add(c);
  assert.deepEqual(body.chunks(), chunks);
  assert.equal(body.chunks()[0], chunks[0]);
});

test('HTTP/2 slices: one buffer of its own with the same bytes; the shared reads untouched', () => {
  const total = 200 * KiB + 5;
  const slices = sharedSlices(total);
  const body = new ArrivingBody(total, false);
  for (const s of slices) body.add(s);
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
  for (const c of [...own, pooled]) body.add(c);
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
  body.add(Buffer.alloc(RECEIVE_WHOLE_BYTES, 9));
  const [whole] = body.chunks();
  assert.equal(whole!.length, RECEIVE_WHOLE_BYTES);
  body.drop();
  assert.equal(whole!.buffer.byteLength, 0, 'dropped: its memory is freed');
});
