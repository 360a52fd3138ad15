// The store's sender streams and the output series they add up to (src/series/streams.ts,
// src/series/output-set.ts), without the ingest: a counter's series is its base plus its live
// streams' last reports, a level's its live streams' last reports combined by its rule (added,
// the largest, or the last written); a counter's restarted or ended stream leaves what it counted
// in the base (the store's carry rule), a level's ended stream leaves with it; a series goes with
// its last stream and gives back what was charged for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValueType } from '@opentelemetry/api';
import type { LevelRule } from '../../src/series/aggregation.ts';
import type { Shape } from '../../src/series/output-set.ts';
import { instrumentSeries, StreamStore } from '../../src/series/streams.ts';
import { SumSet } from '../../src/series/sum.ts';

const SCOPE = { name: 'worker', version: '1.0.0' };

/** A store with one series of `shape` fed by two streams, `a` and `b`, and a way to report and read. */
function twoStreams(shape: Shape, levelRule: LevelRule = 'sum') {
  const store = new StreamStore();
  const instrument = instrumentSeries(
    'jobs',
    shape,
    { name: 'jobs', description: '', unit: '', valueType: ValueType.DOUBLE },
    levelRule,
  );
  const { out, at } = store.newSeries(
    instrument,
    'queue=a',
    'scope',
    SCOPE,
    { queue: 'a' },
    [0, 0],
    100,
    undefined,
  );
  const a = store.newStream(instrument, out, at, 'jobs|sender-1', 'queue=a', 10, 0);
  const b = store.newStream(instrument, out, at, 'jobs|sender-2', 'queue=a', 20, 0);
  const st = store.streams;
  let clock = 0;
  /** Stream `s` reports the running total or level `value` (after its last, if it had one). */
  const report = (s: number, value: number): void => {
    if (shape === 'monotonicSum') out.reported(at, st.points[s]! > 0 ? st.value[s]! : NaN, value);
    st.value[s] = value;
    st.points[s] = st.points[s]! + 1;
    st.updatedAt[s] = ++clock;
    out.settle(at, st);
  };
  const value = (): number => (out.set as SumSet).values.data[at]!;
  return { store, instrument, out, a, b, report, value };
}

test('a counter series adds its streams; a restarted stream and an ended one stay counted', () => {
  const { store, report, value, a, b } = twoStreams('monotonicSum');
  report(a, 5);
  report(b, 3);
  assert.equal(value(), 8);
  report(a, 7);
  assert.equal(value(), 10, 'a report above the last is no restart');
  report(a, 2);
  assert.equal(value(), 12, 'a restarted stream: its 7 stays, its 2 adds whole');
  assert.deepEqual(store.dropStream(b), { stream: 20, series: 0, scope: undefined });
  assert.equal(value(), 12, "an ended stream's 3 stays while the series lives");
  report(a, 4);
  assert.equal(value(), 14);
});

test("a level series adds its streams' last values; an ended stream's value leaves with it", () => {
  const { store, report, value, a, b } = twoStreams('gauge');
  report(a, 4);
  report(b, 6);
  assert.equal(value(), 10);
  report(a, 1);
  assert.equal(value(), 7, 'a lower level is no restart: it replaces');
  store.dropStream(b);
  assert.equal(value(), 1);
});

test("a level series under `max` is its streams' largest last value; under `last`, the last written stream's", () => {
  const max = twoStreams('gauge', 'max');
  max.report(max.a, 1_700_000_000);
  max.report(max.b, 1_600_000_000);
  assert.equal(max.value(), 1_700_000_000, 'the largest, not the last written');
  max.store.dropStream(max.a);
  assert.equal(max.value(), 1_600_000_000, "an ended stream's value leaves with it");

  for (const shape of ['gauge', 'sum'] as const) {
    const last = twoStreams(shape, 'last');
    last.report(last.a, 93);
    last.report(last.b, 41);
    assert.equal(last.value(), 41, `${shape}: the last written, not 134`);
    last.report(last.a, 50);
    assert.equal(last.value(), 50);
    last.store.dropStream(last.a);
    assert.equal(last.value(), 41);
  }
});

test('under `max` or `last`, a counter series still adds its streams', () => {
  for (const rule of ['max', 'last'] as const) {
    const { report, value, a, b } = twoStreams('monotonicSum', rule);
    report(a, 5);
    report(b, 3);
    assert.equal(value(), 8, rule);
  }
});

test('a series goes with its last stream, its scope with its last series, each charge given back', () => {
  const { store, instrument, out, a, b } = twoStreams('monotonicSum');
  assert.equal(instrument.streamCount, 2);
  assert.deepEqual(store.dropStream(a), { stream: 10, series: 0, scope: undefined });
  assert.deepEqual(store.dropStream(b), { stream: 20, series: 100, scope: 'scope' });
  assert.equal(instrument.streamCount, 0);
  assert.equal(instrument.scopes.size, 0);
  assert.equal(store.streams.size, 0);
  assert.equal(store.streamsOf('jobs|sender-1'), undefined);
  assert.equal(out.set.size, out.set.holes);
});
