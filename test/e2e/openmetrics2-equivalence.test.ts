/**
 * OpenMetrics 2.0 reads back as OpenMetrics 1.0 does: each collection — the exposition tests'
 * `allTypes` fixture and families fast-check generates (every family type, hostile label values,
 * UTF-8 names, special values, start times, exemplars, negative and native buckets) — is served by
 * jobmeter's scrape handler to a real Prometheus 3 (`openmetrics2` on, start times and exemplars
 * stored) in two jobs that differ only in `scrape_protocols`: `[OpenMetricsText1.0.0]` and
 * `[OpenMetricsText2.0.0]`, so the negotiation picks the writer. Through `/api/v1/query` and
 * `/api/v1/query_exemplars` the two jobs hold the same series with the same values, the same
 * 0 samples at the start times, and the same exemplars — except what only 2.0 can carry, which
 * the test expects exactly:
 * - the `_sum` and `_count` of a histogram with a negative bucket (1.0 writes neither then; 2.0's
 *   "A Histogram Sample MUST contain Count and Sum");
 * - the start time and exemplars of a counter whose name lacks `_total` (1.0 writes it as
 *   `unknown`, which has neither; 2.0 keeps it a counter under the same name).
 * Bounded in time: four collections, one Prometheus, every job scraped each second.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';

import fc from 'fast-check';

import type { RenderFamily, RenderHistogramSeries } from '../../src/exposition/render-model.ts';
import type { ExpositionExemplar, NativeBuckets } from '../../src/exposition/types.ts';
import {
  createScrapeHandler,
  scrapeRequestOf,
  writeAnswer,
  type ScrapeHandler,
} from '../../src/http/scrape-handler.ts';
import { allTypes, labelPairs } from '../exposition/fixtures.ts';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';

/** Fixed seed: the same collections every run, so a failure reproduces. */
const SEED = 20261125;
const GENERATED = 3;
/** Start times and exemplar times are whole milliseconds some minutes back (Prometheus keeps ms). */
const NOW = Math.floor(Date.now() / 1000) * 1000;

const HOSTILE = ['say "hi"', 'back\\slash', 'new\nline', '\u0000nul', 'emoji 🧪', '} 1\nx 2', 'é'];
const labelValue = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
);
const startMs = fc.integer({ min: 2 * 60, max: 9 * 60 }).map((s) => NOW - s * 1000);
const exemplarOf = (value: number) =>
  fc
    .tuple(fc.stringMatching(/^[0-9a-f]{16}$/), fc.integer({ min: 1, max: 600 }))
    .map(([traceId, ago]): ExpositionExemplar => ({
      labels: labelPairs(['trace_id'], [traceId]),
      value,
      timestamp: (NOW - ago * 1000) / 1000,
    }));

/** Label strings of up to four series, distinct by their values, over `names`. */
function labelSets(names: readonly string[]): fc.Arbitrary<string[]> {
  if (names.length === 0) return fc.constant(['']);
  return fc
    .uniqueArray(fc.array(labelValue, { minLength: names.length, maxLength: names.length }), {
      minLength: 1,
      maxLength: 4,
      selector: (values) => values.join('\u0001'),
    })
    .map((sets) => sets.map((values) => labelPairs(names, values, true)));
}

const LABEL_NAMES = fc.constantFrom<readonly string[]>([], ['task'], ['task', 'kind']);
const UTF8_LABEL_NAMES = ['http.method', 'task'] as const;

interface Shape {
  readonly name: string;
  readonly utf8: boolean;
  readonly labels: readonly string[];
}

/** A family's name and label names: classic, or (marked `utf8Names`) dotted with a dotted label. */
const shape = (stem: string, suffix: string): fc.Arbitrary<Shape> =>
  fc.boolean().chain((utf8) =>
    (utf8 ? fc.constant<readonly string[]>(UTF8_LABEL_NAMES) : LABEL_NAMES).map((labels) => ({
      name: (utf8 ? `om2.${stem}` : `om2_${stem}`) + suffix,
      utf8,
      labels,
    })),
  );

const counter = (i: number): fc.Arbitrary<RenderFamily> =>
  fc.boolean().chain((total) =>
    shape(`c${i}`, total ? '_total' : '_events').chain((s) =>
      labelSets(s.labels).chain((labels) =>
        fc
          .tuple(
            fc.array(fc.oneof(fc.nat(1000), fc.double({ min: 0, max: 1e9, noNaN: true })), {
              minLength: labels.length,
              maxLength: labels.length,
            }),
            fc.option(fc.array(startMs, { minLength: labels.length, maxLength: labels.length })),
            fc.array(fc.option(exemplarOf(1)), {
              minLength: labels.length,
              maxLength: labels.length,
            }),
          )
          .map(([values, created, exemplars]) => ({
            name: s.name,
            type: 'counter' as const,
            help: `counter ${i}`,
            unit: '',
            ...(s.utf8 && { utf8Names: true }),
            columns: {
              labels,
              values,
              ...(created !== null && { created }),
              exemplars: exemplars.map((e) => e ?? undefined),
            },
            get series() {
              return labels.map((l, k) => ({ labels: l, value: values[k]! }));
            },
          })),
      ),
    ),
  );

const numberFamily = (
  i: number,
  type: 'gauge' | 'unknown' | 'info',
  suffix: string,
): fc.Arbitrary<RenderFamily> =>
  shape(`${type[0]}${i}`, suffix).chain((s) =>
    labelSets(s.labels).chain((labels) =>
      fc
        .array(type === 'info' ? fc.constant(1) : fc.double(), {
          minLength: labels.length,
          maxLength: labels.length,
        })
        .map((values) => ({
          name: s.name,
          type,
          help: '',
          unit: type === 'info' ? '' : 'bytes',
          ...(s.utf8 && { utf8Names: true }),
          series: labels.map((l, k) => ({ labels: l, value: values[k]! })),
        })),
    ),
  );

const BOUNDS_POOL = [-5, -1, 0, 0.1, 0.5, 1, 2.5, 10, 1e6];

/** Native buckets of `total` observations or fewer, all counted (zero bucket, both sides). */
const native: fc.Arbitrary<NativeBuckets> = fc
  .tuple(
    fc.integer({ min: -4, max: 8 }),
    fc.constantFrom(0, 1e-3),
    fc.nat(5),
    fc.integer({ min: -5, max: 5 }),
    fc.array(fc.nat(9), { maxLength: 6 }),
    fc.integer({ min: -5, max: 5 }),
    fc.array(fc.nat(9), { maxLength: 3 }),
  )
  .map(([schema, zeroThreshold, zeroCount, po, pc, no, nc]) => ({
    schema,
    zeroThreshold,
    zeroCount,
    positiveOffset: po,
    positiveCounts: pc,
    negativeOffset: no,
    negativeCounts: nc,
  }));

const total = (n: NativeBuckets): number =>
  [n.zeroCount, ...n.positiveCounts, ...n.negativeCounts].reduce((a, b) => a + b, 0);

/** `count` observations spread over the buckets by `weights` (the rest in the last). */
function spread(count: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => (sum === 0 ? 0 : Math.floor((count * w) / sum)));
  counts[counts.length - 1]! += count - counts.reduce((a, b) => a + b, 0);
  return counts;
}

/** An exemplar inside bucket `k`: its upper bound, or past the last bound for `+Inf`. */
const exemplarValue = (bounds: readonly number[], k: number): number =>
  k < bounds.length ? bounds[k]! : (bounds[bounds.length - 1] ?? 0) + 1;

const histogram = (i: number): fc.Arbitrary<RenderFamily> =>
  shape(`h${i}`, '_seconds').chain((s) =>
    fc
      .tuple(
        labelSets(s.labels),
        fc.subarray(BOUNDS_POOL, { minLength: 0, maxLength: 5 }),
        fc.option(native),
      )
      .chain(([labels, bounds, nat]) =>
        fc
          .array(
            fc.tuple(
              fc.array(fc.nat(20), { minLength: bounds.length + 1, maxLength: bounds.length + 1 }),
              fc.double({ min: -1e6, max: 1e6, noNaN: true }),
              fc.option(startMs),
              fc.array(fc.boolean(), {
                minLength: bounds.length + 1,
                maxLength: bounds.length + 1,
              }),
              fc.integer({ min: 1, max: 600 }),
            ),
            { minLength: labels.length, maxLength: labels.length },
          )
          .map((perSeries) => ({
            name: s.name,
            type: 'histogram' as const,
            help: `histogram ${i}`,
            unit: 'seconds',
            ...(s.utf8 && { utf8Names: true }),
            series: perSeries.map(
              ([weights, sum, created, marked, ago], k): RenderHistogramSeries => {
                const counts = nat === null ? weights : spread(total(nat), weights);
                const exemplars = marked.map((on, b) =>
                  on
                    ? {
                        labels: labelPairs(['trace_id'], [`${i}${k}${b}`.padStart(16, 'a')]),
                        value: exemplarValue(bounds, b),
                        timestamp: (NOW - ago * 1000) / 1000,
                      }
                    : undefined,
                );
                return {
                  labels: labels[k]!,
                  bounds,
                  counts,
                  sum,
                  count: counts.reduce((a, b) => a + b, 0),
                  exemplars,
                  ...(nat !== null && { native: nat }),
                  ...(created !== null && { created }),
                };
              },
            ),
          })),
      ),
  );

const collection: fc.Arbitrary<RenderFamily[]> = fc
  .tuple(
    counter(0),
    counter(1),
    counter(2),
    numberFamily(0, 'gauge', ''),
    numberFamily(1, 'unknown', ''),
    numberFamily(2, 'info', '_info'),
    numberFamily(3, 'info', '_state'),
    histogram(0),
    histogram(1),
    histogram(2),
  )
  .map((families) => families);

const COLLECTIONS: RenderFamily[][] = [
  allTypes(),
  ...fc.sample(collection, { seed: SEED, numRuns: GENERATED }),
];

let server: Server;
let handlers: ScrapeHandler[];
let prom: PrometheusHandle;
let startedAt: number;

before(async () => {
  handlers = COLLECTIONS.map((families) =>
    createScrapeHandler({ scrape: () => Promise.resolve(families), format: 'negotiate' }),
  );
  server = createServer((req, res) => {
    const k = Number(/^\/c(\d+)$/.exec(req.url ?? '')?.[1] ?? NaN);
    const handler = handlers[k];
    if (handler === undefined) {
      res.statusCode = 404;
      res.end();
      return;
    }
    void handler.answer(scrapeRequestOf(req)).then((answer) => writeAnswer(req, res, answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  startedAt = Date.now();
  prom = await startPrometheus({
    major: 3,
    extraArgs: ['--enable-feature=openmetrics2,created-timestamp-zero-ingestion,exemplar-storage'],
    jobs: COLLECTIONS.flatMap((_, k) => [
      {
        name: `om1-${k}`,
        target,
        metricsPath: `/c${k}`,
        scrapeProtocols: ['OpenMetricsText1.0.0'],
      },
      {
        name: `om2-${k}`,
        target,
        metricsPath: `/c${k}`,
        scrapeProtocols: ['OpenMetricsText2.0.0'],
      },
    ]),
  });
  await prom.waitForTargetsUp(60_000);
  // Two scrapes of each job in: exemplars are stored with the samples, the second adds nothing.
  await sleep(2_500);
});

after(async () => {
  await prom?.stop();
  for (const h of handlers ?? []) h.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

/** A series' identity without its job: name and sorted labels. */
function keyOf(metric: Record<string, string>): string {
  const { job: _job, instance: _instance, ...rest } = metric;
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function api<T>(path: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${prom.url}${path}?${new URLSearchParams(params).toString()}`);
  const body = (await res.json()) as { status: string; data: T };
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data;
}

const OWN = '__name__!~"up|scrape_.+"';

/** Each stored series of `job`: its latest value. */
async function values(job: string): Promise<Map<string, string>> {
  const samples = await prom.query(`{job="${job}",${OWN}}`);
  return new Map(samples.map((s) => [keyOf(s.metric), s.value[1]]));
}

/** Each series of `job` whose first sample comes before the scrapes began: that `[time, value]`. */
async function starts(job: string): Promise<Map<string, string>> {
  const data = await api<{
    result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
  }>('/api/v1/query', { query: `{job="${job}",${OWN}}[15m]` });
  const out = new Map<string, string>();
  for (const r of data.result)
    if (r.values[0]![0] * 1000 < startedAt) out.set(keyOf(r.metric), JSON.stringify(r.values[0]));
  return out;
}

/** Each series' exemplars in `job`, as labels, value and time. */
async function exemplars(job: string): Promise<Map<string, string>> {
  const now = Date.now() / 1000;
  const data = await api<
    Array<{
      seriesLabels: Record<string, string>;
      exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
    }>
  >('/api/v1/query_exemplars', {
    query: `{job="${job}",${OWN}}`,
    start: String(now - 3600),
    end: String(now + 60),
  });
  return new Map(data.map((d) => [keyOf(d.seriesLabels), JSON.stringify(d.exemplars)]));
}

/** What 2.0 carries and 1.0 cannot, in collection `families`, as the keys of `keyOf`. */
function onlyInOpenMetrics2(families: readonly RenderFamily[]): {
  readonly series: Set<string>;
  readonly counters: Set<string>;
} {
  const series = new Set<string>();
  const counters = new Set<string>();
  const key = (name: string, labels: string): string => {
    const pairs = parseLabels(labels);
    return keyOf({ __name__: name, ...pairs });
  };
  for (const f of families) {
    if (f.type === 'histogram') {
      for (const s of f.series)
        if (s.bounds.some((b) => b < 0 && b > -Infinity)) {
          series.add(key(f.name + '_sum', s.labels));
          series.add(key(f.name + '_count', s.labels));
        }
    } else if (f.type === 'counter' && !f.name.endsWith('_total')) {
      for (const s of f.series) counters.add(key(f.name, s.labels));
    }
  }
  return { series, counters };
}

/** A label string back into pairs, as Prometheus stores them (values unescaped; empty dropped). */
function parseLabels(labels: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(?:"((?:[^"\\]|\\.)*)"|([a-zA-Z_][a-zA-Z0-9_]*))="((?:[^"\\]|\\.)*)"/g;
  const unescape = (s: string): string =>
    s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  for (const m of labels.matchAll(re)) {
    const value = unescape(m[3]!);
    if (value !== '') out[unescape(m[1] ?? m[2]!)] = value;
  }
  return out;
}

/** `map` without the keys in `drop`. */
function without<V>(map: ReadonlyMap<string, V>, drop: ReadonlySet<string>): Map<string, V> {
  return new Map([...map].filter(([k]) => !drop.has(k)));
}

COLLECTIONS.forEach((families, k) => {
  const { series: extraSeries, counters: extraCounters } = onlyInOpenMetrics2(families);

  test(`collection ${k}: both jobs up, and 2.0 stores every series 1.0 does, with the same value (plus a negative-bucket histogram's _sum and _count)`, async () => {
    const [up] = await prom.query(`min(up{job=~"om[12]-${k}"})`);
    assert.equal(up?.value[1], '1');
    const om1 = await values(`om1-${k}`);
    const om2 = await values(`om2-${k}`);
    assert.ok(om1.size > 0);
    assert.deepEqual(without(om2, extraSeries), om1);
    for (const key of extraSeries) assert.ok(om2.has(key), `2.0 stores ${key}`);
  });

  test(`collection ${k}: the same 0 samples at the same start times (plus a counter without _total's: 1.0 has no start time for it)`, async () => {
    const om1 = await starts(`om1-${k}`);
    const om2 = await starts(`om2-${k}`);
    assert.deepEqual(without(without(om2, extraSeries), extraCounters), om1);
  });

  test(`collection ${k}: the same exemplars on the same series (plus a counter without _total's)`, async () => {
    const om1 = await exemplars(`om1-${k}`);
    const om2 = await exemplars(`om2-${k}`);
    assert.deepEqual(without(om2, extraCounters), om1);
  });
});

test('the generated collections hold what the comparison is about', () => {
  const generated = COLLECTIONS.slice(1).flat();
  const histograms = generated.filter((f) => f.type === 'histogram');
  assert.ok(
    generated.some((f) => f.utf8Names === true),
    'a UTF-8 name',
  );
  assert.ok(
    histograms.some((f) => f.series.some((s) => s.native !== undefined)),
    'native buckets',
  );
  assert.ok(
    histograms.some((f) => f.series.some((s) => s.bounds.some((b) => b < 0))),
    'a negative bucket',
  );
  assert.ok(
    histograms.some((f) => f.series.some((s) => s.exemplars?.some((e) => e !== undefined))),
    'a bucket exemplar',
  );
  assert.ok(
    generated.some((f) => f.type === 'counter' && !f.name.endsWith('_total') && f.columns?.created),
    'a counter without _total with start times',
  );
});
