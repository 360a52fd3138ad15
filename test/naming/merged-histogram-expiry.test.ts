/**
 * A legacy profile's histogram merges ingested senders (solti's task duration: every task of a
 * runner under one series), and each sender's series expires when it falls silent and comes back
 * when it pushes again. What a Prometheus user reads on the pull endpoint must be one histogram
 * whose `_count`, `_sum` and every `le` never go back, and which counts every observation once: an
 * expired sender's stay counted while the series is served, one that comes back going on adds only
 * what it counted since, one that restarted adds its new counts whole (its narrower range of
 * exponential buckets taking nothing from what it counted). Senders of explicit buckets and of
 * base-2 exponential ones (served as their classic buckets in text) alike.
 *
 * The oracle is the model (test/model/model.ts): each sender's counts as its rules keep them (a
 * reset adds, a new layout moves them), re-bucketed into the served layout by its `relayout` and
 * added up; and the invariant that no served counter decreases from one scrape to the next.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import {
  addBuckets,
  applyPush,
  emptyBuckets,
  relayout,
  type Buckets,
  type Instrument,
  type Key,
  type ModelState,
} from '../model/model.ts';
import { parseExposition, type Sample } from '../support/exposition-parser.ts';
import { postMetric } from '../support/otlp-json.ts';

const EXPIRY_MS = 1_000;
const INSTRUMENT: Instrument = {
  name: 'jobmeter.run.duration',
  kind: 'histogram',
  served: 'solti_runner_task_duration_seconds',
};
const RESOURCE = 'daemon';

/** How a sender aggregates its durations. */
type Kind = 'explicit' | 'exponential';

/** Explicit senders' layouts, one per task (the served series takes one, the other is re-bucketed). */
const EXPLICIT: Record<Key, readonly number[]> = { a: [0.25, 1, 4], b: [0.5, 2] };

/**
 * An exponential sender's buckets at scale 0 as the model holds them: bucket i is (2^i, 2^(i+1)],
 * so its layout is every power of two (here those the tests observe), whatever range its point
 * spans; its classic `le` are those upper bounds, a power of two lying at its bucket's.
 */
const GRID = Array.from({ length: 10 }, (_, k) => 2 ** (k - 3));

/** `values` (powers of two) as a sender of `kind` for task `key` holds them, in the model's terms. */
function held(kind: Kind, key: Key, values: readonly number[]): Buckets {
  const bounds = kind === 'explicit' ? EXPLICIT[key] : GRID;
  const counts = bounds.map(() => 0).concat(0);
  for (const v of values) {
    const i = bounds.findIndex((b) => v <= b);
    counts[i === -1 ? bounds.length : i]!++;
  }
  return { bounds, counts, sum: values.reduce((x, y) => x + y, 0) };
}

/** `values` as one cumulative OTLP/JSON point of `kind` for task `key`, started at `start` (ms). */
function point(kind: Kind, key: Key, values: readonly number[], start: number): object {
  const b = held(kind, key, values);
  const common = {
    attributes: Object.entries({ task: key, kind: 'task', runner: 'wasm', outcome: 'success' }).map(
      ([k, v]) => ({ key: k, value: { stringValue: v } }),
    ),
    startTimeUnixNano: (BigInt(start) * 1_000_000n).toString(),
    timeUnixNano: (BigInt(Date.now()) * 1_000_000n).toString(),
    count: String(values.length),
    sum: b.sum,
  };
  if (kind === 'explicit')
    return { ...common, bucketCounts: b.counts.map(String), explicitBounds: b.bounds };
  // The buckets from the lowest value's to the highest's, as an SDK sends them.
  const index = values.map((v) => Math.log2(v) - 1);
  const offset = Math.min(...index);
  const counts = Array.from({ length: Math.max(...index) - offset + 1 }, () => 0);
  for (const i of index) counts[i - offset]!++;
  return {
    ...common,
    scale: 0,
    zeroCount: '0',
    positive: { offset, bucketCounts: counts.map(String) },
    negative: { offset: 0, bucketCounts: [] },
  };
}

/** Each sender's cumulative point, POSTed to `jm`'s ingest as one request. */
async function push(
  jm: Jobmeter,
  kind: Kind,
  points: readonly { key: Key; values: readonly number[]; start: number }[],
): Promise<void> {
  const dataPoints = points.map((p) => point(kind, p.key, p.values, p.start));
  const data = { aggregationTemporality: 2, dataPoints };
  const answer = await postMetric(jm.ingestAddress!.port, {
    name: INSTRUMENT.name,
    unit: 's',
    ...(kind === 'explicit' ? { histogram: data } : { exponentialHistogram: data }),
  });
  assert.doesNotMatch(answer, /rejected/i, 'every point taken');
}

/** What a text scrape of the pull endpoint reads of the served series: its buckets, count and sum. */
interface Read {
  readonly bounds: number[];
  /** Per bucket (not cumulative), the +Inf one last. */
  readonly counts: number[];
  readonly count: number;
  readonly sum: number;
  /** Every counter a scraper stores: `le=…`, `count`, `sum`. */
  readonly counters: Map<string, number>;
}

async function scrape(jm: Jobmeter): Promise<Read> {
  const r = await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
    headers: { accept: 'text/plain;version=0.0.4' },
  });
  const samples = parseExposition(await r.text(), 'text').filter(
    (l): l is Sample =>
      l.kind === 'sample' &&
      l.name.startsWith(INSTRUMENT.served) &&
      l.labels.some(([k, v]) => k === 'runner' && v === 'wasm'),
  );
  const counters = new Map<string, number>();
  const bounds: number[] = [];
  const cumulative: number[] = [];
  for (const s of samples) {
    const suffix = s.name.slice(INSTRUMENT.served.length);
    if (suffix === '_bucket') {
      const le = s.labels.find(([k]) => k === 'le')![1];
      counters.set(`le=${le}`, s.value);
      if (le !== '+Inf') bounds.push(Number(le));
      cumulative.push(s.value);
    } else counters.set(suffix.slice(1), s.value);
  }
  assert.ok(counters.has('count'), 'the series is served');
  const counts = cumulative.map((c, i) => c - (cumulative[i - 1] ?? 0));
  return { bounds, counts, count: counters.get('count')!, sum: counters.get('sum')!, counters };
}

/**
 * `read` holds what every source the model holds counted, re-bucketed into the served layout, and no counter of `before` went back in it.
 */
function assertServed(read: Read, model: ModelState, before: Read | undefined, when: string): void {
  let want = emptyBuckets(read.bounds);
  for (const s of model.values())
    want = addBuckets(want, relayout(addBuckets(s.bucketBase!, s.buckets!), read.bounds));
  assert.deepEqual(
    { counts: read.counts, sum: read.sum, count: read.count },
    { counts: want.counts, sum: want.sum, count: want.counts.reduce((x, y) => x + y, 0) },
    `${when}: every observation counted once, in the served layout`,
  );
  if (before === undefined) return;
  for (const [counter, was] of before.counters) {
    const is = read.counters.get(counter);
    if (is !== undefined) assert.ok(is >= was, `${when}: ${counter} went back, ${was} then ${is}`);
  }
}

describe('a legacy profile histogram merging ingested senders that expire and come back', () => {
  for (const kind of ['explicit', 'exponential'] as const)
    it(`never goes back and counts each sender once (${kind} buckets)`, async () => {
      const jm = await createJobmeter({
        profile: 'solti',
        listener: { port: 0 },
        ingest: { port: 0, expiryMillis: EXPIRY_MS },
        log: () => {},
      });
      const model: ModelState = new Map();
      let order = 0;
      const started = Date.now() - 60_000;
      const send = async (
        points: readonly { key: Key; values: readonly number[]; start: number }[],
      ): Promise<void> => {
        await push(jm, kind, points);
        applyPush(
          model,
          RESOURCE,
          points.map((p) => ({
            instrument: INSTRUMENT,
            key: p.key,
            value: 0,
            temporality: 'cumulative',
            buckets: held(kind, p.key, p.values),
          })),
          ++order,
        );
      };
      /**
       * a's sender stays silent past the expiry while b's keeps the series served. The model's
       * source stays as it was: an expired source stays counted while its series is served and
       * goes on from there when it comes back (the model's rule; its series here is the served
       * one, which b's keeps, not a's own, which it would forget).
       */
      const silent = async (b: readonly number[]): Promise<void> => {
        await sleep(EXPIRY_MS * 0.6);
        await send([{ key: 'b', values: b, start: started }]);
        await sleep(EXPIRY_MS * 0.6);
      };
      try {
        let a = [0.5, 2, 2, 8];
        let b = [0.25, 4];
        await send([
          { key: 'a', values: a, start: started },
          { key: 'b', values: b, start: started },
        ]);
        let last = await scrape(jm);
        assertServed(last, model, undefined, 'both senders');
        const step = async (when: string): Promise<void> => {
          const read = await scrape(jm);
          assertServed(read, model, last, when);
          last = read;
        };

        b = [...b, 1, 16];
        await silent(b);
        await step("a's sender expired");

        a = [...a, 0.5, 32];
        b = [...b, 2];
        await send([
          { key: 'a', values: a, start: started },
          { key: 'b', values: b, start: started },
        ]);
        await step("a's sender back, going on");

        b = [...b, 0.25];
        await silent(b);
        await step("a's sender expired again");

        // a's sender restarted while its series was gone: its new counts are all new.
        await send([
          { key: 'a', values: [4], start: Date.now() - 1_000 },
          { key: 'b', values: b, start: started },
        ]);
        await step("a's sender back, restarted");
      } finally {
        await jm.shutdown();
      }
    });
});
