/**
 * Full scrape: from the recorded state to the bytes of one response body, at 1k, 10k and 100k
 * counter series (+ a tenth as many 15-bucket histogram series; see series.ts for the layout and
 * its sharding).
 *
 * Timed, per contender, everything a scrape does before the socket write, ending in the body's
 * bytes: for the Prometheus clients and otel `Buffer.from(text, 'utf8')` of the string they hand to
 * `response.end` (which encodes it the same way); for jobmeter the Buffers of `renderBuffers`,
 * the ~64 KiB pieces its listener writes. The encode also flattens the strings: a renderer that
 * returns a V8 rope would otherwise not pay for its concatenation.
 *
 * - jobmeter: `await jm.scrape()` (collect + naming) → `renderBuffers(format, families)`, or
 *   `protobufBuffers(families)` for the protobuf exposition, each piece copied as the body's
 *   storage copies it (a sample line there: a counter's
 *   Metric, a histogram's buckets + 3, counted by decoding the body).
 * - @prometheus-io/client and prom-client: `await registry.metrics()`.
 * - otel: `await exporter.collect()` → `new PrometheusSerializer().serialize(resourceMetrics)`.
 * - otel-jobmeter-reader (text only): the otel contender's provider and instruments with a
 *   `JobmeterReader` for reader, served as its listener serves it: `await reader.scrape()` (the
 *   provider's collect + naming) → `renderBuffers('text', families)`, as jobmeter's.
 *
 * jobmeter is timed on the plain rendering, without the render memo its endpoint keeps
 * (exposition/render-memo.ts): what every scrape cost before the memo, and what a scrape costs
 * where every series changed. The memo's effect is scrape-changes.ts's table.
 *
 * Before every timed scrape 1% of the series get a new record (untimed), as between two real
 * scrapes, then a full gc and one turn of the event loop, where the gc's follow-up work runs
 * (`BENCH_SCRAPE_GC=phase`: the gc only between warm-up and timed runs, then each scrape also pays
 * for collecting the previous one's garbage; `charge`: no turn, the gc's follow-up work lands in
 * whichever scrape gives the loop back first). Each contender's output is checked
 * to hold exactly the expected sample lines.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { protobufBuffers } from '../src/exposition/protobuf.ts';
import { renderBuffers } from '../test/support/render-bytes.ts';
import { PROM_LABEL, SCRAPE_CONTENDERS, type ScrapeContender } from './contenders.ts';
import {
  bytes,
  cli,
  gc,
  isMain,
  log,
  markdownTable,
  num,
  profiled,
  spread,
  stats,
  type Job,
  type Scenario,
} from './harness.ts';
import type { TargetResult } from './targets.ts';
import {
  countBenchProtobufSamples,
  countBenchSamples,
  hostNames,
  referenceLayout,
  sampleLines,
  setUp,
  SHARD,
  type Layout,
  type ScrapeBuilt,
  type SizePlan,
} from './series.ts';

interface Params {
  readonly sizes: readonly SizePlan[];
  /** Fresh processes per job, interleaved with the other jobs'; their runs are pooled. */
  readonly processes: number;
}

interface Arg extends SizePlan {
  readonly contender: ScrapeContender;
}

export type Format = 'text' | 'openmetrics' | 'protobuf';

interface FormatResult {
  readonly bytes: number;
  readonly samples: number;
  /** Wall time of each timed scrape, ms. */
  readonly totalMs: number[];
  /** The same scrapes split into phases (name → ms per run). */
  readonly phases: Record<string, number[]>;
}

interface Result {
  readonly formats: Partial<Record<Format, FormatResult>>;
}

/** `BENCH_RUNS=<n>`: timed runs per size, overriding the defaults (e.g. more samples for a profile). */
function params(quick: boolean): Params {
  const runs = process.env.BENCH_RUNS === undefined ? undefined : Number(process.env.BENCH_RUNS);
  if (runs !== undefined && !(Number.isInteger(runs) && runs > 0))
    throw new Error(`BENCH_RUNS must be a positive integer, got ${process.env.BENCH_RUNS}`);
  const p = defaultParams(quick);
  return runs === undefined ? p : { ...p, sizes: p.sizes.map((s) => ({ ...s, runs })) };
}

function defaultParams(quick: boolean): Params {
  return quick
    ? {
        sizes: [
          { n: 1_000, warmup: 2, runs: 3 },
          { n: 10_000, warmup: 1, runs: 3 },
        ],
        processes: 1,
      }
    : {
        // 110 series: a small exporter's (the legacy profiles' daemons), where a scrape's fixed
        // cost decides, not its cost per series.
        sizes: [
          { n: 100, warmup: 40, runs: 30 },
          { n: 1_000, warmup: 20, runs: 15 },
          { n: 10_000, warmup: 5, runs: 7 },
          { n: 100_000, warmup: 2, runs: 5 },
        ],
        processes: 2,
      };
}

const jobs = (p: Params): Job<Arg>[] =>
  p.sizes.flatMap((s) =>
    SCRAPE_CONTENDERS.map((contender) => ({
      id: `${contender}@${s.n}`,
      arg: { ...s, contender },
    })),
  );

/** One timed scrape as a list of phases; returns the body's size, its text (for the check) and each phase's ms. */
export type Phased = () => Promise<{
  bytes: number;
  text: () => string;
  samples?: () => number;
  ms: Record<string, number>;
}>;

export function phasesOf(b: ScrapeBuilt, format: Format): Phased {
  switch (b.contender) {
    case 'jobmeter':
    case 'otel-jobmeter-reader': {
      // What jobmeter's listener writes: the pieces of renderBuffers (whole lines, ~64 KiB each,
      // Latin-1-encoded when ASCII), not one string. The reader's listener serves its own
      // `scrape` the same way (http/metrics-listener.ts), so the two share the timing.
      const source = b.contender === 'jobmeter' ? b.jm : b.host.reader;
      return async () => {
        const t0 = performance.now();
        const families = await source.scrape();
        const t1 = performance.now();
        const chunks =
          format === 'protobuf'
            ? Array.from(protobufBuffers(families), (piece) => Buffer.from(piece))
            : [...renderBuffers(format, families)];
        const t2 = performance.now();
        let bytes = 0;
        for (const c of chunks) bytes += c.length;
        const samples =
          format === 'protobuf'
            ? { samples: () => countBenchProtobufSamples(Buffer.concat(chunks)) }
            : {};
        return {
          bytes,
          text: () => Buffer.concat(chunks).toString('utf8'),
          ...samples,
          ms: { 'scrape()': t1 - t0, 'render → bytes': t2 - t1 },
        };
      };
    }
    case 'prometheus-io':
    case 'prom-client':
      return async () => {
        const t0 = performance.now();
        const text = await b.registry.metrics();
        const t1 = performance.now();
        const body = Buffer.from(text, 'utf8');
        const t2 = performance.now();
        return {
          bytes: body.length,
          text: () => text,
          ms: { 'metrics()': t1 - t0, 'Buffer.from': t2 - t1 },
        };
      };
    case 'otel':
      return async () => {
        const t0 = performance.now();
        const { resourceMetrics, errors } = await b.otel.exporter.collect();
        const t1 = performance.now();
        if (errors.length > 0)
          throw new Error(`otel collect errors: ${errors.map(String).join('; ')}`);
        const text = b.otel.serializer.serialize(resourceMetrics);
        const t2 = performance.now();
        const body = Buffer.from(text, 'utf8');
        const t3 = performance.now();
        return {
          bytes: body.length,
          text: () => text,
          ms: { 'collect()': t1 - t0, serialize: t2 - t1, 'Buffer.from': t3 - t2 },
        };
      };
  }
}

async function measure(arg: Arg): Promise<Result> {
  const layout: Layout = referenceLayout(arg.n);
  const hosts = hostNames(arg.n);
  const t0 = performance.now();
  const built: ScrapeBuilt = (await setUp(arg.contender, layout)).populate(hosts);
  log(
    `    ${arg.contender}@${arg.n}: ${layout.counters + layout.histograms} series recorded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const formats: Format[] =
    arg.contender === 'jobmeter' ? ['text', 'openmetrics', 'protobuf'] : ['text'];
  const perTouch = Math.max(1, Math.ceil(arg.n / 100));
  let touched = 0;
  const touch = () => {
    for (let i = 0; i < perTouch; i++) built.touch(touched++);
  };

  const results: Partial<Record<Format, FormatResult>> = {};
  const scrapes = formats.map((f) => phasesOf(built, f));
  // Warm-up, and the check: every format holds exactly the expected sample lines.
  for (let w = 0; w < arg.warmup; w++) {
    for (let f = 0; f < formats.length; f++) {
      touch();
      const { text, samples, bytes } = await scrapes[f]!();
      if (w === 0) {
        const got = samples?.() ?? countBenchSamples(text());
        if (got !== sampleLines(layout))
          throw new Error(
            `${arg.contender} ${formats[f]}@${arg.n}: ${got} sample lines, expected ${sampleLines(layout)}`,
          );
        results[formats[f]!] = { bytes, samples: got, totalMs: [], phases: {} };
      }
    }
  }
  // Timed runs; formats alternate so both see the same machine noise. Under a profile the
  // gc between runs is left out: the profile would show our forced collections, not the scrape's.
  // A forced gc leaves work for the event loop's next turn (V8's follow-up tasks): one turn is let
  // pass before the clock starts, or a contender whose scrape gives the loop back (jobmeter's)
  // would be charged for the gc's work and one that never does (the Prometheus clients) not.
  // `BENCH_SCRAPE_GC=charge` keeps that work in the timed scrape, as the table did before.
  const settle =
    process.env.BENCH_CPU_PROF || process.env.BENCH_SCRAPE_GC === 'phase'
      ? async () => {}
      : async () => {
          gc();
          if (process.env.BENCH_SCRAPE_GC !== 'charge') await nextTurn();
        };
  await profiled(async () => {
    for (let r = 0; r < arg.runs; r++) {
      for (let f = 0; f < formats.length; f++) {
        touch();
        await settle();
        const t = performance.now();
        const { ms } = await scrapes[f]!();
        const total = performance.now() - t;
        const res = results[formats[f]!]!;
        res.totalMs.push(total);
        for (const [phase, v] of Object.entries(ms)) (res.phases[phase] ??= []).push(v);
      }
    }
  });
  return { formats: results };
}

/** One format's results from several processes, runs pooled (bytes and lines are the same in each). */
function pool(rs: readonly FormatResult[]): FormatResult {
  const phases: Record<string, number[]> = {};
  for (const r of rs)
    for (const [name, v] of Object.entries(r.phases)) (phases[name] ??= []).push(...v);
  return {
    bytes: rs[0]!.bytes,
    samples: rs[0]!.samples,
    totalMs: rs.flatMap((r) => r.totalMs),
    phases,
  };
}

/** The table's rows per size: contender, format, label. */
const CELLS: readonly [ScrapeContender, Format, string][] = [
  ['jobmeter', 'text', 'jobmeter, text 0.0.4'],
  ['jobmeter', 'openmetrics', 'jobmeter, OpenMetrics'],
  ['jobmeter', 'protobuf', 'jobmeter, protobuf'],
  ['prometheus-io', 'text', PROM_LABEL['prometheus-io']],
  ['prom-client', 'text', 'prom-client'],
  ['otel', 'text', 'otel PrometheusExporter'],
  ['otel-jobmeter-reader', 'text', 'otel SDK + JobmeterReader'],
];

function table(p: Params, results: ReadonlyMap<string, readonly Result[]>): string {
  const rows: string[][] = [];
  const phaseRows: string[][] = [];
  for (const size of p.sizes) {
    const layout = referenceLayout(size.n);
    const get = (c: ScrapeContender, f: Format) => {
      const r = pool(results.get(`${c}@${size.n}`)!.map((x) => x.formats[f]!));
      return { r, total: stats(r.totalMs) };
    };
    const anchor = get('prometheus-io', 'text').total.median;
    for (const [c, f, label] of CELLS) {
      const { r, total } = get(c, f);
      const label0 = `${num(layout.counters + layout.histograms, 0)} (${num(r.samples, 0)} lines)`;
      rows.push([
        label0,
        label,
        spread(total, total.median < 10 ? 2 : 1),
        bytes(r.bytes),
        (total.median / anchor).toFixed(2) + '×',
      ]);
      const phases = Object.entries(r.phases).map(
        ([name, v]) => `${name} ${num(stats(v).median, stats(v).median < 10 ? 2 : 1)}`,
      );
      phaseRows.push([num(size.n, 0), label, phases.join(' · ')]);
    }
  }
  const runs = p.sizes
    .map((s) => `${num(s.n, 0)}: ${s.runs} runs after ${s.warmup} warm-up scrapes`)
    .join('; ');
  // Scaling: µs per series at each size, and the exponent b of time ∝ series^b between the
  // smallest and the largest size (b = 1: time per series flat).
  const first = p.sizes[0]!;
  const last = p.sizes[p.sizes.length - 1]!;
  const perSeries = (c: ScrapeContender, f: Format, n: number) => {
    const layout = referenceLayout(n);
    return (
      (stats(pool(results.get(`${c}@${n}`)!.map((x) => x.formats[f]!)).totalMs).median * 1000) /
      (layout.counters + layout.histograms)
    );
  };
  const scaleRows = CELLS.map(([c, f, label]) => {
    const us = p.sizes.map((s) => perSeries(c, f, s.n));
    const a = referenceLayout(first.n);
    const b = referenceLayout(last.n);
    const exponent =
      Math.log(
        (perSeries(c, f, last.n) * (b.counters + b.histograms)) /
          (perSeries(c, f, first.n) * (a.counters + a.histograms)),
      ) / Math.log((b.counters + b.histograms) / (a.counters + a.histograms));
    return [
      label,
      ...us.map((x) => num(x, 2)),
      (us[us.length - 1]! / us[0]!).toFixed(2) + '×',
      exponent.toFixed(2),
    ];
  });
  return [
    markdownTable(
      [
        'series (sample lines)',
        'contender',
        'ms per scrape',
        'body',
        `÷ ${PROM_LABEL['prometheus-io']}`,
      ],
      rows,
      ['l', 'l', 'r', 'r', 'r'],
    ),
    '',
    `Median (min–max) ms from the recorded state to the response body's bytes. "Series" are label sets (n counter + n/10 histogram series, as in the reference mix); "lines" are the exposition's sample lines (1 per counter series, 18 per histogram series), checked on every contender's output. jobmeter's rows time the plain rendering (\`renderBuffers\`), without the render memo its endpoint keeps (that is the next table's). At most ${num(SHARD, 0)} series per family (\`BENCH_SHARD\`). ${p.processes} processes per row (interleaved), each: ${runs}; the runs are pooled.`,
    '',
    'Where the time goes (medians, ms):',
    '',
    markdownTable(['counter series', 'contender', 'phases'], phaseRows, ['l', 'l', 'l']),
    '',
    'Scaling: median µs per series (label set) at each size; last columns: per-series time at the largest size ÷ at the smallest, and the exponent b of time ∝ series^b over that span (1.00 = time per series flat).',
    '',
    markdownTable(
      [
        'contender',
        ...p.sizes.map(
          (s) =>
            `${num(referenceLayout(s.n).counters + referenceLayout(s.n).histograms, 0)} series`,
        ),
        `${num(last.n / first.n, 0)}× the series: µs/series ÷`,
        'exponent b',
      ],
      scaleRows,
      ['l', ...p.sizes.map(() => 'r' as const), 'r', 'r'],
    ),
  ].join('\n');
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'scrape',
  title: 'Full scrape',
  params,
  processes: (p) => p.processes,
  jobs,
  measure,
  table,
  targets(p, results): TargetResult[] {
    // The scrape target is judged at 1,000 counter + 100 histogram series (a size of every run).
    const n = 1_000;
    const median = (c: ScrapeContender) =>
      stats(pool(results.get(`${c}@${n}`)!.map((x) => x.formats.text!)).totalMs).median;
    const jm = median('jobmeter');
    const io = median('prometheus-io');
    const series = referenceLayout(n).counters + referenceLayout(n).histograms;
    return [
      {
        id: 'scrape-1.1k',
        measured: `${num(series, 0)} series, text: ${num(jm, 2)} vs ${num(io, 2)} ms: **${(io / jm).toFixed(1)}× faster**`,
        met: io / jm >= 5,
      },
    ];
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
