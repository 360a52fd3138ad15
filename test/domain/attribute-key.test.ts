// The one attribute-set key (series/attribute-key.ts): what makes two attribute sets one
// series in every engine, and the form the ingest's state file holds (kept across this change).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attributeSetKey } from '../../src/series/attribute-key.ts';
import { attributesKey } from '../../src/ingest/input-bounds.ts';

test('one set whatever its key order; undefined and null values left out; values typed', () => {
  assert.equal(attributeSetKey({ b: '2', a: '1' }), attributeSetKey({ a: '1', b: '2' }));
  assert.equal(attributeSetKey({ a: '1', b: undefined, c: null }), attributeSetKey({ a: '1' }));
  assert.equal(attributeSetKey({}), '');
  assert.equal(attributeSetKey({ a: undefined }), '');
  assert.notEqual(attributeSetKey({ a: 1 }), attributeSetKey({ a: '1' }));
  assert.notEqual(attributeSetKey({ a: ['x', 'y'] }), attributeSetKey({ a: 'x,y' }));
});

test('no value can forge another set', () => {
  assert.notEqual(attributeSetKey({ a: 'x","b":"y' }), attributeSetKey({ a: 'x', b: 'y' }));
  assert.notEqual(attributeSetKey({ a: 'x\u0000b\u0001' }), attributeSetKey({ a: 'x', b: '' }));
});

test("the ingest's key is the form its state file has always held (checkpoint.ts)", () => {
  assert.equal(attributesKey({ route: '/r', host: 'h1' }), '[["host","h1"],["route","/r"]]');
  assert.equal(attributesKey({ n: 3, list: ['a'] }), '[["list",["a"]],["n",3]]');
  assert.equal(attributesKey({}), '');
  assert.match(attributesKey({ k: 'x'.repeat(10_000) }), /^#/, 'a long key is compacted');
});
