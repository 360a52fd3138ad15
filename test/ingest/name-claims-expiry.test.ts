/**
 * The names an ingested instrument claims on the native pull endpoint are freed when its series
 * expire (series-registry.ts, name-claims.ts): another family may then take them, and the first
 * holder is gone from the scrape. On the store's fake clock, rendered by the native naming stage.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { render } from '../../src/exposition/render.ts';
import { nativeClaimedNames } from '../../src/naming/prometheus-names.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import { checkExposition } from '../support/exposition-parser.ts';
import {
  fakeClock,
  gauge,
  histogram,
  histogramPoint,
  metric,
  numberPoint,
  request,
} from './helpers.ts';

const EXPIRY = 60_000;

function nativeStore() {
  const clock = fakeClock();
  const store = new IngestStore({ expiryMillis: EXPIRY, clock, exposedNames: nativeClaimedNames });
  const namer = createNamer({
    kind: 'native',
    name: 'otel',
    format: 'negotiate',
    scopeInfo: false,
  });
  /** The text exposition of what the store holds now, checked valid. */
  const scrape = async (): Promise<string> => {
    const text = render('text', namer.toFamilies((await store.collect()).resourceMetrics));
    assert.deepEqual(checkExposition(text, 'text'), []);
    return text;
  };
  return { clock, store, scrape };
}

const barHistogram = () =>
  request([metric('bar', histogram([histogramPoint([1], [1, 0], 0.5)]))], { 'service.name': 'a' });
const barCountGauge = (v: number) =>
  request([metric('bar.count', gauge([numberPoint(v)]))], { 'service.name': 'b' });

it('a histogram bar holds bar_count while it lives; once it expires a gauge bar.count takes the name, read at a scrape', async () => {
  const { clock, store, scrape } = nativeStore();
  assert.equal(store.ingest(barHistogram()).rejectedDataPoints, 0);
  const refused = store.ingest(barCountGauge(7));
  assert.equal(refused.rejectedDataPoints, 1);
  assert.match(refused.errorMessage, /bar\.count: its exposed name bar_count is taken by bar/);
  assert.match(await scrape(), /^# TYPE bar histogram$/m);

  clock.advance(EXPIRY - 1);
  assert.equal(
    store.ingest(barCountGauge(7)).rejectedDataPoints,
    1,
    'still held one millisecond before expiry',
  );

  clock.advance(1);
  const before = await scrape(); // the collection sweeps: bar expires with its names
  assert.doesNotMatch(before, /^bar/m);
  assert.equal(store.seriesCount, 0);
  assert.equal(store.memoryBytes, 0, 'the instrument gave its bytes back with its names');

  assert.equal(store.ingest(barCountGauge(7)).rejectedDataPoints, 0, 'bar_count is free again');
  const text = await scrape();
  assert.match(text, /^# TYPE bar_count gauge$/m);
  assert.match(text, /^bar_count 7$/m);
  assert.doesNotMatch(text, /^# TYPE bar histogram$|^bar_(bucket|sum)[{ ]/m);

  // And back the other way: now bar.count holds bar_count, and the histogram bar is the one refused.
  assert.match(
    store.ingest(barHistogram()).errorMessage,
    /bar: its exposed name bar_count is taken by bar\.count/,
  );
});

it('the names are freed by the sweep of an arriving request too, with no collection in between', () => {
  const { clock, store } = nativeStore();
  assert.equal(store.ingest(barHistogram()).rejectedDataPoints, 0);
  clock.advance(EXPIRY);
  assert.equal(store.ingest(barCountGauge(1)).rejectedDataPoints, 0);
});

it('a name held by several series is freed only when the last of them expires', async () => {
  const { clock, store, scrape } = nativeStore();
  const bar = (sender: string) =>
    request([metric('bar', histogram([histogramPoint([1], [1, 0], 0.5)]))], {
      'service.name': sender,
    });
  store.ingest(bar('a'));
  clock.advance(EXPIRY / 2);
  store.ingest(bar('c')); // a second source series, younger
  clock.advance(EXPIRY / 2);
  // a's source series expired (its count stays in the series, as a counter's would); c's holds bar.
  assert.match(await scrape(), /^# TYPE bar histogram\n(.*\n)*bar_count 2$/m);
  assert.equal(store.ingest(barCountGauge(1)).rejectedDataPoints, 1);
  clock.advance(EXPIRY / 2);
  assert.equal(store.ingest(barCountGauge(1)).rejectedDataPoints, 0);
});

it('a point with no recorded value ends its series at once, and the names go with it', async () => {
  const { store, scrape } = nativeStore();
  store.ingest(barCountGauge(3));
  assert.equal(store.ingest(barHistogram()).rejectedDataPoints, 1);
  // The clock does not move: no expiry, no sweep; the flag alone frees bar_count.
  store.ingest(
    request([metric('bar.count', gauge([numberPoint(undefined, {}, 0, 0, true)]))], {
      'service.name': 'b',
    }),
  );
  assert.equal(store.ingest(barHistogram()).rejectedDataPoints, 0);
  assert.match(await scrape(), /^# TYPE bar histogram$/m);
});
