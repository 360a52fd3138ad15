/**
 * What the ingest store's state costs, in bytes, estimated as it is created: the number the
 * memory budget (`ingest.maxMemoryBytes`) is checked against. An estimate, not a measurement —
 * strings at two bytes a character (V8 keeps Latin-1 in one), objects and map entries at fixed
 * sizes rounded up from heap snapshots — so the budget errs on the side of refusing early. What
 * the naming stage keeps for the held state is charged here too: an output series pays for its
 * label string (about its attributes' length again) and its cache slots, an instrument for its
 * compiled rule. The fixed sizes allow for half-empty map tables (a table doubles when full).
 * test/ingest/held-heap.test.ts checks, under `--expose-gc`, that the heap grows by no more.
 *
 * What must stay true: every estimate is a function of what is kept only, so the same numbers are
 * added when state is created and subtracted when it is dropped, and the total returns to zero.
 */
import type { Attributes } from '@opentelemetry/api';

/**
 * A source series: its slot in the stream columns (series/streams.ts), its map entry, a histogram's
 * accumulator header, and what taking back a gone source's part costs at its first point (the
 * output set's slot for its gone sources; about 200 B measured by held-heap.test's scopes shape).
 */
const STREAM_BYTES = 320;
/** An output series: its slot in the series columns, map entry, frozen attributes object; the naming stage's slots for it. */
const SERIES_BYTES = 576;
/** A histogram output series, besides: its bounds and base, the naming stage's series object and bucket-line prefix. */
const HISTOGRAM_BYTES = 512;
/** An instrument: its object, descriptor, fold, series map and name claims; the naming stage's compiled rule and series cache. */
const INSTRUMENT_BYTES = 3_072;
/**
 * A scope an instrument has series under: the naming stage's compiled rule and cache for that
 * scope × instrument, what reading its MetricData as columns keeps for it (series/metric-columns.ts:
 * label strings by position, reused figures; about 600 B measured), the store's count of them.
 */
const SCOPE_BYTES = 2_816;
/** A number in an array (bucket counts and bounds are plain double arrays). */
const NUMBER_BYTES = 8;

const stringBytes = (s: string): number => 2 * s.length;

/** A source series whose key (instrument, resource, scope, attributes) is `keyLength` characters, with `buckets` bucket counts when it is a histogram. */
export function streamBytes(keyLength: number, buckets: number): number {
  // The key twice: in the store's maps and on the stream. Histogram streams hold their counts.
  return STREAM_BYTES + 4 * keyLength + buckets * NUMBER_BYTES;
}

/**
 * What `n` bucket bounds a histogram series holds more of cost (a layout that keeps its old bounds
 * beside its sender's new ones: series/streams.ts `relayout`): its three arrays of counts and its
 * stream's, as {@link seriesBytes} and {@link streamBytes} count them.
 */
export const boundsBytes = (n: number): number => 4 * n * NUMBER_BYTES;

/** An output series kept under `scopeKey` and `key` with `attributes`, with `buckets` bucket counts when it is a histogram. */
export function seriesBytes(
  scopeKey: string,
  key: string,
  attributes: Attributes,
  buckets: number,
): number {
  let labels = 0;
  for (const [k, v] of Object.entries(attributes))
    labels += 16 + stringBytes(k) + stringBytes(String(v));
  // Attributes object + the naming stage's label string (same characters, plus quotes and commas);
  // bounds, base and each point's copy of the counts.
  return (
    SERIES_BYTES +
    2 * (scopeKey.length + 1 + key.length) +
    2 * labels +
    (buckets > 0 ? HISTOGRAM_BYTES + 3 * buckets * NUMBER_BYTES : 0)
  );
}

/** An instrument with this name, description and unit. */
export function instrumentBytes(name: string, description: string, unit: string): number {
  // The name is kept by the instrument, its descriptor and the naming stage's compiled rule.
  return INSTRUMENT_BYTES + 3 * stringBytes(name) + stringBytes(description) + stringBytes(unit);
}

/** A scope (keyed `scopeKey`) an instrument has its first series under; given back with its last. */
export function scopeBytes(scopeKey: string): number {
  // The key in the store's count and in the naming stage's rule cache.
  return SCOPE_BYTES + 2 * stringBytes(scopeKey);
}
