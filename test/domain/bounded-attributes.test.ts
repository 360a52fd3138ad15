import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createBoundedAttributesProcessor,
  MAX_VALUE_LENGTH,
  maxAttributeSets,
} from '../../src/domain/bounded-attributes.ts';

test('undeclared attributes are dropped before aggregation', () => {
  const p = createBoundedAttributesProcessor([{ key: 'task', cap: 10 }]);
  assert.deepEqual(p.process({ task: 'backup', 'job.id': 'f81d4fae', session: 's-1' }), {
    task: 'backup',
  });
});

test('closed vocabulary folds unknown values into other', () => {
  const p = createBoundedAttributesProcessor([{ key: 'outcome', values: ['success', 'failure'] }]);
  assert.deepEqual(p.process({ outcome: 'success' }), { outcome: 'success' });
  assert.deepEqual(p.process({ outcome: 'exploded' }), { outcome: 'other' });
});

test('open vocabulary keeps the first cap values, then folds; memory stays at the cap', () => {
  const p = createBoundedAttributesProcessor([{ key: 'provider', cap: 3 }]);
  const seen = new Set<string>();
  for (let i = 0; i < 100_000; i++) seen.add(String(p.process({ provider: `p${i}` }).provider));
  assert.deepEqual([...seen].sort(), ['other', 'p0', 'p1', 'p2']);
  // an early value stays itself after the cap is reached
  assert.equal(p.process({ provider: 'p1' }).provider, 'p1');
});

test('non-string values become strings; huge values are cut', () => {
  const p = createBoundedAttributesProcessor([
    { key: 'a', cap: 5 },
    { key: 'b', cap: 5 },
  ]);
  const out = p.process({ a: 42, b: 'x'.repeat(10_000) });
  assert.equal(out.a, '42');
  assert.equal(String(out.b).length, MAX_VALUE_LENGTH);
  assert.ok(String(out.b).endsWith('…'));
});

test('maxAttributeSets multiplies vocabularies, each with its other and the attribute left out', () => {
  assert.equal(
    maxAttributeSets([
      { key: 'a', values: ['x', 'y'] },
      { key: 'b', cap: 4 },
    ]),
    4 * 6,
  );
  assert.equal(maxAttributeSets([]), 1);
});
