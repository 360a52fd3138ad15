// A rule's label strings (series-cache.ts `LabelMemo`), the one memo of them: made once per series
// and checked for ASCII, kept only once read as an array (the same array while no series is added,
// never changed once handed out), following a store set's compactions, and a producer's points
// whose objects change at each collection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValueType, type Attributes } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { StorageRegistry } from '../../src/domain/storage/registry.ts';
import { KeyedSeriesIndex } from '../../src/series/keyed-index.ts';
import type { CollectedSeries } from '../../src/series/collection.ts';
import { SeriesStore } from '../../src/series/series-store.ts';
import { SumSet } from '../../src/series/sum.ts';
import { SeriesCache } from '../../src/naming/series-cache.ts';

/** A rule's label memo rendering one attribute as `key="value"`, counting its renders. */
function counting(key: string) {
  const counted = {
    calls: 0,
    memo: new SeriesCache((a: Attributes) => {
      counted.calls++;
      return `${key}="${String(a[key])}"`;
    }).labels,
  };
  return counted;
}

/** A store whose counter holds two series (`host` a and b). */
function twoSeries() {
  const store = new StorageRegistry(
    [
      {
        name: 'c',
        kind: 'counter',
        unit: '',
        description: 'c',
        attributes: [{ key: 'host', cap: 100 }],
      },
    ],
    { scope: { name: 'jobmeter', version: '1' } },
  );
  const c = store.counter('c');
  c.add(1, { host: 'a' });
  c.add(1, { host: 'b' });
  const collect = async () => (await store.series.collect()).series[0]!.series[0]!;
  return { c, collect, r: counting('host') };
}

test("a rule holds each series' label string once; the array is kept while no series is added, and a handed-out one never changes", async () => {
  const { c, collect, r } = twoSeries();
  const first = r.memo.column(await collect());
  assert.deepEqual(first.strings, ['host="a"', 'host="b"']);
  assert.equal(r.calls, 2);
  c.add(5, { host: 'a' });
  const second = r.memo.column(await collect());
  assert.equal(second.strings, first.strings, 'no series added: the same array');
  assert.equal(r.calls, 2, 'no string made again');
  c.add(1, { host: 'caf\u00e9' });
  const third = r.memo.column(await collect());
  assert.notEqual(third.strings, first.strings, 'a series added: a new array');
  assert.deepEqual(
    first.strings,
    ['host="a"', 'host="b"'],
    'the array handed out earlier is as it was',
  );
  assert.deepEqual(third.strings, ['host="a"', 'host="b"', 'host="café"']);
  assert.equal(r.calls, 3, "only the new series' string is made");
  assert.equal(third.nonAscii, 1);
  const other = counting('host');
  assert.deepEqual(
    other.memo.column(await collect()).strings,
    third.strings,
    'another rule has strings of its own',
  );
  assert.equal(other.calls, 3);
});

test("a column whose strings no reader reads keeps none: each series' string is made once to check it, then only when asked for", async () => {
  const { c, collect, r } = twoSeries();
  const first = r.memo.column(await collect());
  assert.equal(r.calls, 2, 'each new series checked once');
  assert.equal(first.at(1), 'host="b"');
  assert.equal(r.calls, 2, 'a string checked at this collection is not made again');
  assert.deepEqual(
    first.keys.slice(0, 2),
    [{ host: 'a' }, { host: 'b' }],
    "keyed by the series' attributes",
  );
  assert.equal(first.maker, r.memo);
  c.add(1, { host: 'c' });
  const second = r.memo.column(await collect());
  assert.equal(r.calls, 3, 'only the new series checked');
  assert.equal(second.keys[0], first.keys[0], 'the same key for the same series');
  assert.equal(second.at(0), 'host="a"');
  assert.equal(r.calls, 4, 'not kept: made again when asked for');
  assert.deepEqual(second.strings, ['host="a"', 'host="b"', 'host="c"']);
  const third = r.memo.column(await collect());
  assert.equal(third.strings, second.strings, 'read once: kept from then on');
  assert.equal(third.at(2), 'host="c"');
  assert.equal(
    r.calls,
    6,
    'the array made the two strings not made at that collection, and none since',
  );
});

const D: MetricDescriptor = { name: 'c', description: '', unit: '', valueType: ValueType.DOUBLE };

/** A store of one set whose series are removed (the ingest's), `hosts` its series. */
function sums(hosts: string[]) {
  const store = new SeriesStore({ clock: { wallMillis: () => 1000, monotonicMillis: () => 0 } });
  const set = new SumSet(D, (grow) => new KeyedSeriesIndex(grow), {
    monotonic: true,
    exemplars: false,
  });
  store.add({ name: 's' }, set);
  for (const [i, h] of hosts.entries()) set.values.data[set.seriesOf({ h })] = i + 1;
  const collect = async () => (await store.collect()).series[0]!.series[0]!;
  return { set, collect };
}

test("label strings held by position follow a compaction: none made again, the removed ones' non-ASCII count given back", async () => {
  const { set, collect } = sums(['a', 'caf\u00e9', 'c']);
  const r = counting('h');
  const first = r.memo.column(await collect());
  assert.deepEqual(first.strings, ['h="a"', 'h="café"', 'h="c"']);
  assert.equal(first.nonAscii, 1);
  assert.equal(r.calls, 3);
  set.remove(1);
  set.compact();
  set.values.data[set.seriesOf({ h: 'd' })] = 9;
  const second = r.memo.column(await collect());
  assert.deepEqual(second.strings, ['h="a"', 'h="c"', 'h="d"']);
  assert.equal(second.nonAscii, 0);
  assert.equal(r.calls, 4, "only the new series' string is made");
  assert.deepEqual(
    first.strings,
    ['h="a"', 'h="café"', 'h="c"'],
    'the array handed out before is unchanged',
  );
  // A reader that never read the strings as an array: its checked count follows too.
  const other = counting('h');
  other.memo.column(await collect());
  set.remove(0);
  set.compact();
  const third = other.memo.column(await collect());
  assert.equal(third.at(0), 'h="c"');
  assert.equal(third.nonAscii, 0);
  assert.equal(
    other.calls,
    3 + 1 + 1,
    "the removed series' string made once to give its count back, one string read",
  );
});

test('a reader two compactions behind makes its strings again, right', async () => {
  const { set, collect } = sums(['a', 'b', 'c', 'd']);
  const r = counting('h');
  // The reader's strings are made once here, before the compactions.
  assert.equal(r.memo.column(await collect()).strings.length, 4);
  set.remove(0);
  set.compact();
  set.remove(0);
  set.compact();
  assert.deepEqual(r.memo.column(await collect()).strings, ['h="c"', 'h="d"']);
});

/** A producer's points as a rule reads them: a new attributes array at every collection. */
const points = (...hosts: Attributes[]) =>
  ({ attributes: hosts, n: hosts.length, compactedFrom: undefined }) as Pick<
    CollectedSeries,
    'attributes' | 'n' | 'compactedFrom'
  >;

test("a producer's points: new objects that render the strings already there keep their keys; a changed one gets a new key array, the handed-out ones unchanged", () => {
  const r = counting('h');
  const a = { h: 'a' };
  const b = { h: 'b' };
  const first = r.memo.column(points(a, b));
  assert.deepEqual(first.strings, ['h="a"', 'h="b"']);
  // An observable instrument's objects: new ones, the same strings.
  const second = r.memo.column(points({ h: 'a' }, { h: 'b' }, { h: 'c' }));
  assert.deepEqual(second.strings, ['h="a"', 'h="b"', 'h="c"']);
  assert.equal(second.keys[0], a, 'the same series: the key its string was first made of');
  assert.equal(second.keys[1], b);
  const third = r.memo.column(points({ h: 'a' }, { h: 'b' }, { h: 'c' }));
  assert.equal(third.keys, second.keys, 'nothing changed: the same key array');
  assert.equal(third.strings, second.strings, 'and the same strings');
  const fourth = r.memo.column(points({ h: 'a' }, { h: 'x\u00e9' }));
  assert.deepEqual(fourth.strings, ['h="a"', 'h="xé"']);
  assert.equal(fourth.nonAscii, 1);
  assert.notEqual(fourth.keys, third.keys, 'a position renders another string: new keys');
  assert.equal(fourth.keys[0], a);
  assert.deepEqual(third.strings, ['h="a"', 'h="b"', 'h="c"'], 'handed out: unchanged');
  assert.deepEqual(third.keys.slice(0, 3), [a, b, { h: 'c' }]);
  const fifth = r.memo.column(points());
  assert.deepEqual([fifth.strings, fifth.nonAscii], [[], 0], 'fewer points leave nothing behind');
});

test('a column read after the rule read another array (a later collection) says what its own collection had', () => {
  const r = counting('h');
  const early = r.memo.column(points({ h: 'a' }, { h: 'b' }));
  r.memo.column(points({ h: 'b' }, { h: 'c' }));
  assert.deepEqual(early.strings, ['h="a"', 'h="b"']);
  assert.equal(early.at(1), 'h="b"');
});
