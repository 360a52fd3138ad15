/**
 * The protobuf decoder's attribute memo (src/otlp/decode-attribute-memo.ts): a point whose
 * attribute fields are bytes seen before gets the set decoded then, and nothing a decode returns
 * or refuses changes for it — the same request, the same refusals at the same counts, whether the
 * memo is off, fresh or warm; a set of other values than plain ones, or an attribute field after
 * other fields, is decoded as before; the memo holds at most two generations of sets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttributeMemo } from '../../src/otlp/decode-attribute-memo.ts';
import {
  DecodeLimitExceeded,
  decodeLimitsFor,
  type DecodeLimits,
} from '../../src/otlp/decode-limits.ts';
import { decodeProtobufRequest } from '../../src/otlp/decode-protobuf.ts';
import type { OtlpExportRequest, OtlpNumberPoint } from '../../src/otlp/types.ts';
import { len, lengthDelimited } from '../support/otlp-protobuf-writer.ts';

const LIMITS = decodeLimitsFor(1024 * 1024);

/** KeyValue { key = 1; AnyValue value = 2 } as NumberDataPoint.attributes (7). */
const attribute = (key: string, value: Buffer): Buffer =>
  lengthDelimited(7, [len(1, key), lengthDelimited(2, [value])]);
const text = (key: string, value: string): Buffer => attribute(key, len(1, value));
/** AnyValue.array_value (5) of strings. */
const array = (key: string, values: string[]): Buffer =>
  attribute(
    key,
    lengthDelimited(
      5,
      values.map((v) => lengthDelimited(1, [len(1, v)])),
    ),
  );
/** NumberDataPoint.time_unix_nano (3) and as_double (4). */
function timeAndValue(time: number, value: number): Buffer {
  const b = Buffer.alloc(18);
  b[0] = (3 << 3) | 1;
  b.writeBigUInt64LE(BigInt(time), 1);
  b[9] = (4 << 3) | 1;
  b.writeDoubleLE(value, 10);
  return b;
}

/** A gauge `g` whose points are the given fields (each point's bytes as they are). */
function gauge(points: readonly Buffer[]): Buffer {
  const metric = lengthDelimited(2, [
    len(1, 'g'),
    lengthDelimited(
      5,
      points.map((p) => lengthDelimited(1, [p])),
    ),
  ]);
  return lengthDelimited(1, [lengthDelimited(2, [metric])]);
}

function pointsOf(request: OtlpExportRequest): OtlpNumberPoint[] {
  const data = request.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
  assert.ok(data.type === 'gauge');
  return [...data.points];
}

/** What decoding `body` gives or refuses with: the request, or the refusal's message. */
function outcome(body: Buffer, limits: DecodeLimits, memo: AttributeMemo | false): unknown {
  try {
    return decodeProtobufRequest(body, limits, memo);
  } catch (err) {
    assert.ok(err instanceof DecodeLimitExceeded, String(err));
    return err.message;
  }
}

describe('the same bytes, the same set', () => {
  const series = (i: number): Buffer =>
    Buffer.concat([text('route', `/r/${i % 10}`), text('host', 'h-1'), timeAndValue(1_000 + i, i)]);
  const body = gauge(Array.from({ length: 40 }, (_, i) => series(i)));

  it('a warm memo hands out the sets decoded before; the request is the one decoded without it', () => {
    const memo = new AttributeMemo();
    const cold = decodeProtobufRequest(body, LIMITS, memo);
    const warm = decodeProtobufRequest(body, LIMITS, memo);
    assert.deepEqual(warm, decodeProtobufRequest(body, LIMITS, false));
    assert.deepEqual(cold, warm);
    const [a, b] = [pointsOf(cold), pointsOf(warm)];
    assert.equal(memo.size, 10);
    for (let i = 0; i < a.length; i++) {
      assert.equal(a[i]!.attributes, b[i]!.attributes, `point ${i}: the same object`);
      assert.equal(a[i]!.attributes, a[i % 10]!.attributes);
      assert.deepEqual(a[i]!.attributes, { route: `/r/${i % 10}`, host: 'h-1' });
    }
  });

  it('the key made of a set is made once, and is the key of its attributes', () => {
    const memo = new AttributeMemo();
    const points = pointsOf(decodeProtobufRequest(body, LIMITS, memo));
    let made = 0;
    const key = (a: object): string => (made++, JSON.stringify(Object.entries(a).sort()));
    for (const p of points) assert.equal(memo.keyOf(p.attributes, key), key(p.attributes));
    assert.equal(made, 10 + points.length, 'one per set, then one per point by the test itself');
    assert.equal(
      memo.keyOf({ route: '/r/1', host: 'h-1' }, key),
      JSON.stringify([
        ['host', 'h-1'],
        ['route', '/r/1'],
      ]),
      'an object not from the memo is keyed anew',
    );
  });
});

describe('decoded as before', () => {
  it('an attribute field after other fields joins a copy: the remembered set stays as it was', () => {
    const memo = new AttributeMemo();
    const first = Buffer.concat([text('route', '/a'), timeAndValue(1, 1)]);
    const split = Buffer.concat([text('route', '/a'), timeAndValue(2, 2), text('code', '200')]);
    const points = pointsOf(decodeProtobufRequest(gauge([first, split, first]), LIMITS, memo));
    assert.deepEqual(
      points.map((p) => p.attributes),
      [{ route: '/a' }, { route: '/a', code: '200' }, { route: '/a' }],
    );
    assert.equal(points[0]!.attributes, points[2]!.attributes);
    assert.deepEqual(
      decodeProtobufRequest(gauge([first, split, first]), LIMITS, false),
      decodeProtobufRequest(gauge([first, split, first]), LIMITS, memo),
    );
  });

  it('a set with an array value is not remembered (decoding it charges its elements)', () => {
    const memo = new AttributeMemo();
    const point = Buffer.concat([array('tags', ['a', 'b']), timeAndValue(1, 1)]);
    const [a, b] = pointsOf(decodeProtobufRequest(gauge([point, point]), LIMITS, memo));
    assert.deepEqual(a!.attributes, { tags: ['a', 'b'] });
    assert.notEqual(a!.attributes, b!.attributes);
    assert.equal(memo.size, 0);
  });

  it('refused at the same count with the memo off, fresh or warm', () => {
    // Many attributes a point, all the same bytes: refused once what they cost passes the bytes read.
    const point = Buffer.concat([
      ...Array.from({ length: 12 }, (_, k) => text(`k${k}`, 'v')),
      timeAndValue(1, 1),
    ]);
    const tight: DecodeLimits = { ...LIMITS, perBodyByte: 4, slackBytes: 4096 };
    for (const count of [1, 5, 20, 80]) {
      const body = gauge(Array.from({ length: count }, () => point));
      const memo = new AttributeMemo();
      const off = outcome(body, tight, false);
      assert.deepEqual(outcome(body, tight, memo), off, `${count} points, fresh memo`);
      assert.deepEqual(outcome(body, tight, memo), off, `${count} points, warm memo`);
      if (count === 80) assert.equal(typeof off, 'string', 'the largest body is refused');
      if (count === 1) assert.equal(typeof off, 'object', 'the smallest body decodes');
    }
  });
});

it('bounded by bytes too: long sets turn the generations over sooner', () => {
  const memo = new AttributeMemo(1_000, 64 * 1024);
  const long = 'x'.repeat(400);
  const points = Array.from({ length: 1_000 }, (_, i) =>
    Buffer.concat([text('id', `${i}-${long}`), timeAndValue(1, 1)]),
  );
  decodeProtobufRequest(gauge(points), LIMITS, memo);
  // Each set is ~410 bytes: a generation holds ~160 of them.
  assert.ok(memo.size <= (2 * 64 * 1024) / 400, `${memo.size} sets held`);
  assert.ok(memo.size > (64 * 1024) / 410, `${memo.size} sets held`);
});

it('bounded: at most two generations of sets, whatever is sent', () => {
  const sets = 1_000;
  const memo = new AttributeMemo(sets);
  const points = Array.from({ length: 5 * sets + 7 }, (_, i) =>
    Buffer.concat([text('id', String(i)), timeAndValue(1, 1)]),
  );
  const decoded = pointsOf(decodeProtobufRequest(gauge(points), LIMITS, memo));
  assert.equal(decoded[5 * sets + 6]!.attributes.id, String(5 * sets + 6));
  assert.ok(memo.size <= 2 * sets, `${memo.size} sets held`);
  assert.ok(memo.size > sets, `${memo.size} sets held: the newer generation and the older`);
  // A set used again while fewer than a generation of others came between stays.
  const recent = pointsOf(decodeProtobufRequest(gauge(points.slice(-sets)), LIMITS, memo));
  assert.equal(recent[0]!.attributes, decoded[decoded.length - sets]!.attributes);
});

it('a set is numbered while it is held: no two held sets share a number, and numbers stay within the two generations', () => {
  const sets = 50;
  const memo = new AttributeMemo(sets);
  const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
  const held: { id: number; s: string }[] = [];
  let most = 0;
  for (let i = 0; i < 20 * sets; i++) {
    const s = `set-${i}`;
    const id = memo.remember(bytes(s), 0, s.length, [0], { s });
    most = Math.max(most, id);
    held.push({ id, s });
  }
  // The last generation's worth are held whatever turned over before them.
  const last = held.slice(-sets);
  assert.equal(new Set(last.map((h) => h.id)).size, sets, 'held sets have distinct numbers');
  for (const h of last) assert.equal(memo.get(bytes(h.s), 0, h.s.length), h.id);
  assert.ok(most <= 2 * sets + 1, `numbers given again once dropped: the highest was ${most}`);
});

describe('the set after the set before', () => {
  const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
  const remember = (memo: AttributeMemo, s: string) =>
    memo.remember(bytes(s), 0, s.length, [0], { s });
  const get = (memo: AttributeMemo, s: string) => memo.get(bytes(s), 0, s.length);

  it('a sequence seen before is found in order; bytes one off the guess get their own set', () => {
    const memo = new AttributeMemo();
    const sets = ['route=/r/1', 'route=/r/2', 'route=/r/3'].map((s) => remember(memo, s));
    for (let round = 0; round < 3; round++)
      for (const [k, s] of ['route=/r/1', 'route=/r/2', 'route=/r/3'].entries())
        assert.equal(get(memo, s), sets[k], `${round}: ${s}`);
    // After /r/1 the guess is /r/2: same length, one byte off.
    assert.equal(get(memo, 'route=/r/1'), sets[0]);
    assert.equal(get(memo, 'route=/r/3'), sets[2]);
    assert.equal(get(memo, 'route=/r/1'), sets[0]);
    assert.equal(get(memo, 'route=/r/9'), 0, 'bytes never remembered are not the guess');
    assert.equal(get(memo, 'route=/r/2x'), 0);
  });

  it('bytes off the guess anywhere, in its first four-byte words or after them, are not the guess, wherever they sit in the body', () => {
    const memo = new AttributeMemo();
    const a = remember(memo, 'k=aaaaaaa1');
    const b = remember(memo, 'k=aaaaaaa2'); // b is the guess after a
    for (const off of ['k=Xaaaaaa2', 'k=aaaaXaa2', 'k=aaaaaaa3']) {
      assert.equal(get(memo, 'k=aaaaaaa1'), a);
      assert.equal(get(memo, off), 0, off);
    }
    // The guess's bytes at an odd offset of a body that is itself a view into a larger buffer.
    const whole = Buffer.from('..........zzzk=aaaaaaa2zz', 'latin1');
    const body = new Uint8Array(whole.buffer, whole.byteOffset + 7, whole.length - 7);
    assert.equal(get(memo, 'k=aaaaaaa1'), a);
    assert.equal(memo.get(body, 6, 16), b);
  });

  it('a set whose move from the older generation turns the generations over keeps its number, given to no later set', () => {
    const memo = new AttributeMemo(2);
    const a = remember(memo, 'a');
    remember(memo, 'b');
    remember(memo, 'c'); // a and b are now the older generation
    remember(memo, 'd'); // the newer (c, d) is full
    assert.equal(get(memo, 'a'), a, 'moved: the generation it was in is dropped as it moves');
    const later = ['e', 'f', 'g'].map((s) => remember(memo, s));
    assert.ok(!later.includes(a), `a's number ${a} given again: ${later.join(', ')}`);
    assert.equal(get(memo, 'a'), a);
    assert.deepEqual(memo.attributesOf(a), { s: 'a' });
  });

  it('a set found as the guess from the older generation moves to the newer, like one found by its bytes', () => {
    const memo = new AttributeMemo(2);
    const a = remember(memo, 'a');
    const b = remember(memo, 'b'); // a, then b: b is the guess after a
    const [aSet, bSet] = [memo.attributesOf(a), memo.attributesOf(b)];
    remember(memo, 'c'); // a and b are now the older generation
    assert.equal(get(memo, 'a'), a);
    assert.equal(get(memo, 'b'), b, 'found as the guess after a');
    remember(memo, 'd');
    remember(memo, 'e'); // the generation a and c were in is dropped
    assert.equal(memo.idOf(bSet), b, 'b was moved when found');
    assert.equal(memo.idOf(aSet), 0, 'a was not used since: dropped');
    assert.equal(get(memo, 'a'), 0);
  });
});
