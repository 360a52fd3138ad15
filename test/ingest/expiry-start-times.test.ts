/**
 * A series that expires and comes back carries a start time that says where its value counts
 * from, in every format that has one: OpenMetrics `_created`, protobuf `created_timestamp`
 * (decoded with the official metrics.proto) and the OTLP push's start time. A scraper that reads
 * start times — Prometheus' created-timestamp ingestion stores a 0 at the start when the start is
 * newer than the series' last sample — then counts across the expiry exactly what the sender
 * counted:
 *
 * - a delta sender's total starts over from 0 when its series is made again: a fresh start, after
 *   everything the scraper stored of the expired series (not its window's start, which may lie
 *   before the expiry);
 * - a cumulative sender's total goes on from where it was: the series starts at the sender's own
 *   start time, before the expired series' samples, so the scraper reads no reset and counts the
 *   difference (a start at the arrival would count the sender's old total twice).
 *
 * Also: the expiries are counted (`jobmeter_ingest_series_expired_total` on serve's telemetry).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { resolveProfile } from '../../src/naming/profiles/index.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import { decodeProtobufExposition } from '../support/protobuf-exposition.ts';
import {
  EPOCH_SECONDS,
  fakeClock,
  histogram,
  histogramPoint,
  metric,
  numberPoint,
  request,
  scrapedFamilies,
  sum,
} from './helpers.ts';

const EXPIRY = 60_000;

/** What one format serves of the series: its value (a histogram: its count) and start, Unix ms. */
interface Read {
  readonly value: number;
  readonly start: number;
}

type Format = 'openmetrics' | 'protobuf' | 'otlp';
const FORMATS: readonly Format[] = ['openmetrics', 'protobuf', 'otlp'];

interface Decoded {
  name: string;
  metric: Array<{
    counter?: { value: number; createdTimestamp?: { seconds?: number; nanos?: number } };
    histogram?: {
      sampleCount?: number;
      createdTimestamp?: { seconds?: number; nanos?: number };
    };
  }>;
}

const millis = (t: { seconds?: number; nanos?: number } | undefined): number =>
  (t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** The store, read in the three formats: the series `d` in each, undefined where it is absent. */
function reader(store: IngestStore) {
  const namer = createNamer(
    { ...resolveProfile('otel', true), startTimestamps: true },
    { hostname: 'h', hostInstruments: 'native', ownInstruments: new Set<string>() },
  );
  return async (format: Format): Promise<Read | undefined> => {
    if (format === 'otlp') {
      const { resourceMetrics } = await store.collect();
      const m = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((x) => x.descriptor.name === 'd');
      const p = m?.dataPoints[0] as DataPoint<number | Histogram> | undefined;
      if (p === undefined) return undefined;
      const value = typeof p.value === 'number' ? p.value : p.value.count;
      return { value, start: p.startTime[0] * 1000 + p.startTime[1] / 1e6 };
    }
    const family = (await scrapedFamilies(store, namer)).filter(
      (f) => f.name === 'd_total' || f.name === 'd',
    );
    if (family.length === 0) return undefined;
    if (format === 'protobuf') {
      const [f] = await decodeProtobufExposition<Decoded>(family);
      const s = f!.metric[0]!;
      return s.counter !== undefined
        ? { value: s.counter.value, start: millis(s.counter.createdTimestamp) }
        : { value: s.histogram!.sampleCount ?? 0, start: millis(s.histogram!.createdTimestamp) };
    }
    const text = renderOpenMetrics(family);
    const value = /^d_(?:total|count)\{[^}]*\} (\S+)$/m.exec(text);
    const created = /^d_created\{[^}]*\} (\S+)$/m.exec(text);
    assert.ok(value !== null && created !== null, text);
    return { value: Number(value[1]), start: Number(created[1]) * 1000 };
  };
}

/**
 * What a scraper that reads start times stores of scrapes (Prometheus' created-timestamp
 * ingestion): before a sample, a 0 at its start when the start is newer than the series' last
 * sample (or stale marker); its `increase()` over them all, resets counted as Prometheus counts
 * them (the new value whole).
 */
class StartReadingScraper {
  readonly #samples: { t: number; v: number }[] = [];
  #last = Number.NEGATIVE_INFINITY;

  scrape(t: number, read: Read | undefined): void {
    if (read === undefined) {
      // Gone from the scrape: a stale marker, no value.
      this.#last = t;
      return;
    }
    if (read.start < t && read.start > this.#last) this.#samples.push({ t: read.start, v: 0 });
    this.#samples.push({ t, v: read.value });
    this.#last = t;
  }

  increase(): number {
    let total = 0;
    for (let i = 1; i < this.#samples.length; i++) {
      const [a, b] = [this.#samples[i - 1]!.v, this.#samples[i]!.v];
      total += b >= a ? b - a : b;
    }
    return total;
  }

  resets(): number {
    let n = 0;
    for (let i = 1; i < this.#samples.length; i++)
      if (this.#samples[i]!.v < this.#samples[i - 1]!.v) n++;
    return n;
  }
}

/** A point of the series `d` of each shape: a histogram's count is the value. */
const SHAPES = {
  counter: (v: number, start: number, time: number, temporality: 'cumulative' | 'delta') =>
    metric('d', sum([numberPoint(v, {}, start, time)], temporality)),
  histogram: (v: number, start: number, time: number, temporality: 'cumulative' | 'delta') =>
    metric('d', histogram([histogramPoint([1], [v, 0], v / 2, {}, start, time)], temporality)),
};

/**
 * A sender's three points — [value, start, time] in seconds after {@link EPOCH_SECONDS} — the
 * last after a pause longer than the expiry; what it counted in all; and where its series starts
 * when first made and when made again.
 */
interface Sender {
  readonly temporality: 'cumulative' | 'delta';
  readonly points: readonly (readonly [number, number, number])[];
  readonly counted: number;
  readonly resets: number;
  readonly starts: readonly [number, number];
}

const SENDERS: Record<string, Sender> = {
  // One process, started at 1 s: its running totals go on across the pause.
  'a cumulative sender that goes on: its start, before the stored samples (no reset)': {
    temporality: 'cumulative',
    points: [
      [100, 1, 10],
      [130, 1, 20],
      [250, 1, 90],
    ],
    counted: 250,
    resets: 0,
    starts: [1, 1],
  },
  // Restarted at 85 s, during the pause, counting from 0 again: more than before by 90 s.
  'a cumulative sender that restarted while expired: its new start, after them': {
    temporality: 'cumulative',
    points: [
      [100, 1, 10],
      [130, 1, 20],
      [200, 85, 90],
    ],
    counted: 330,
    resets: 1,
    starts: [1, 85],
  },
  // The same counts as windows, the last one starting before the pause: the total starts over.
  'a delta sender: a fresh start, at the arrival': {
    temporality: 'delta',
    points: [
      [100, 5, 10],
      [30, 10, 20],
      [120, 20, 90],
    ],
    counted: 250,
    resets: 1,
    starts: [10, 90],
  },
};

describe('a series that expires and comes back', () => {
  for (const [shape, point] of Object.entries(SHAPES)) {
    for (const [name, sender] of Object.entries(SENDERS)) {
      it(`${shape}, ${name}: each format's start time makes a start-reading scraper count what was sent`, async () => {
        const clock = fakeClock();
        const store = new IngestStore({ clock, expiryMillis: EXPIRY });
        const read = reader(store);
        const scrapers = new Map(FORMATS.map((f) => [f, new StartReadingScraper()]));
        const at = (seconds: number) =>
          clock.advance(EPOCH_SECONDS * 1000 + seconds * 1000 - clock.wallMillis());
        const scrape = async () => {
          for (const f of FORMATS) scrapers.get(f)!.scrape(clock.wallMillis(), await read(f));
        };
        const starts: Partial<Record<Format, number>>[] = [];
        for (const [i, [value, start, time]] of sender.points.entries()) {
          at(time);
          const r = store.ingest(request([point(value, start, time, sender.temporality)]));
          assert.equal(r.rejectedDataPoints, 0, r.errorMessage);
          at(time + 2);
          await scrape();
          const now: Partial<Record<Format, number>> = {};
          for (const f of FORMATS) now[f] = (await read(f))?.start;
          starts.push(now);
          if (i === 1) {
            // Idle for the expiry: the series leaves every format.
            at(time + 2 + EXPIRY / 1000);
            for (const f of FORMATS) assert.equal(await read(f), undefined, f);
            assert.equal(store.expiredSeries, 1, 'the expiry is counted');
            await scrape();
          }
        }
        assert.equal(store.expiredSeries, 1, 'counted once');
        for (const f of FORMATS) {
          const s = scrapers.get(f)!;
          assert.equal(
            s.increase(),
            sender.counted,
            `${f}: the increase is what the sender counted`,
          );
          assert.equal(s.resets(), sender.resets, `${f}: resets`);
          const [first, , back] = starts.map((x) => x[f]!);
          assert.deepEqual(
            [first, back],
            sender.starts.map((t) => (EPOCH_SECONDS + t) * 1000),
            `${f}: the starts when made and when made again`,
          );
        }
      });
    }
  }
});
