/**
 * Scrape time against the share of series changed since the previous scrape (a scrape costs
 * what changed, not what exists): at 110k series (the reference mix of
 * series.ts), jobmeter (text 0.0.4) and @prometheus-io/client, each scrape timed from the recorded
 * state to the body's bytes after 0%, 1%, 10% or 100% of the series got a record (untimed, then a
 * full gc). The changed series are spread evenly over the families (every 1/share-th host), as
 * between two real scrapes.
 *
 * jobmeter is timed as its endpoint answers a scrape (http/scrape-handler.ts): `jm.scrape()`
 * (collection and naming), then `buildMetricsResponse` with the endpoint's render memos into its
 * `BodyStore` (the body's bytes in the endpoint's storage, written in slices), the body given back
 * after each scrape. `BENCH_MEMO=0`: the same without the memos (the plain rendering), to compare.
 * @prometheus-io/client as in scrape.ts: `registry.metrics()` and `Buffer.from` of its text.
 *
 * The floor a scrape approaches as nothing changes: copying the body's bytes once, into storage
 * that was written before (as the body store's is: memory fresh from the system is mapped page by
 * page on first write, which on these machines costs several times the copy), measured in the same
 * process.
 */
import { BodyStore } from '../src/http/body-store.ts';
import { buildMetricsResponse, RenderMemos, variantOf } from '../src/http/metrics-response.ts';
import { PROM_LABEL } from './contenders.ts';
import {
  cli,
  gc,
  isMain,
  log,
  markdownTable,
  num,
  spread,
  stats,
  type Job,
  type Scenario,
} from './harness.ts';
import { phasesOf } from './scrape.ts';
import {
  countBenchSamples,
  hostNames,
  referenceLayout,
  sampleLines,
  setUp,
  type Built,
} from './series.ts';
import type { TargetResult } from './targets.ts';

type Contender = 'jobmeter' | 'prometheus-io';
const CONTENDERS: readonly Contender[] = ['jobmeter', 'prometheus-io'];
const LABEL: Readonly<Record<Contender, string>> = {
  jobmeter: 'jobmeter, text 0.0.4',
  'prometheus-io': PROM_LABEL['prometheus-io'],
};
const SHARES: readonly number[] = [0, 0.01, 0.1, 1];

interface Params {
  /** Counter series; histograms get a tenth. */
  readonly n: number;
  readonly warmup: number;
  /** Timed scrapes per share. */
  readonly runs: number;
}

interface Arg extends Params {
  readonly contender: Contender;
}

interface Result {
  /** Share → ms of each timed scrape. */
  readonly ms: Record<string, number[]>;
  /** Share → phase → ms of each timed scrape. */
  readonly phases: Record<string, Record<string, number[]>>;
  /** ms of each copy of the body (jobmeter only). */
  readonly floorMs: number[];
  readonly bodyBytes: number;
}

/** One timed scrape: the body's size, its bytes, each phase's ms, and `done` to give the body back. */
type Scrape = () => Promise<{
  bytes: number;
  body: () => Buffer;
  ms: Record<string, number>;
  done: () => void;
}>;

/** A text 0.0.4 scrape as jobmeter's endpoint answers it (see the file's comment). */
function endpointScrape(b: Extract<Built, { contender: 'jobmeter' }>): Scrape {
  const store = new BodyStore();
  const memos = process.env.BENCH_MEMO === '0' ? undefined : new RenderMemos();
  const request = { accept: 'text/plain;version=0.0.4', acceptEncoding: undefined };
  return async () => {
    const t0 = performance.now();
    const families = await b.jm.scrape();
    const t1 = performance.now();
    const r = await buildMetricsResponse(
      store,
      families,
      variantOf(request, 'negotiate'),
      undefined,
      1,
      memos,
    );
    const t2 = performance.now();
    return {
      bytes: r.length,
      body: () => Buffer.concat(r.body),
      ms: { 'scrape()': t1 - t0, 'body → store': t2 - t1 },
      done: r.done ?? (() => {}),
    };
  };
}

function scrapeOf(b: Built): Scrape {
  if (b.contender === 'jobmeter') return endpointScrape(b);
  const phased = phasesOf(b, 'text');
  return async () => {
    const { bytes, text, ms } = await phased();
    return { bytes, body: () => Buffer.from(text(), 'utf8'), ms, done: () => {} };
  };
}

async function measure(arg: Arg): Promise<Result> {
  const layout = referenceLayout(arg.n);
  const built = (await setUp(arg.contender, layout)).populate(hostNames(arg.n));
  const scrape = scrapeOf(built);
  let round = 0;
  /** Records `share` of the counter series (and the histogram series among them), spread evenly. */
  const change = (share: number) => {
    if (share === 0) return;
    const stride = Math.round(1 / share);
    round++;
    for (let j = round % stride; j < layout.counters; j += stride) built.touch(j);
  };
  let bodyBytes = 0;
  for (let w = 0; w < arg.warmup; w++) {
    change(0.01);
    const { bytes, body, done } = await scrape();
    bodyBytes = bytes;
    if (w === 0 && countBenchSamples(body().toString('utf8')) !== sampleLines(layout))
      throw new Error(`${arg.contender}: wrong sample lines`);
    done();
  }
  const ms: Record<string, number[]> = {};
  const phases: Record<string, Record<string, number[]>> = {};
  const floorMs: number[] = [];
  let floorStorage = Buffer.alloc(0);
  // Shares interleaved run by run, so each sees the same machine noise.
  for (let r = 0; r < arg.runs; r++) {
    for (const share of SHARES) {
      change(share);
      gc();
      const t = performance.now();
      const scraped = await scrape();
      (ms[String(share)] ??= []).push(performance.now() - t);
      for (const [phase, v] of Object.entries(scraped.ms))
        ((phases[String(share)] ??= {})[phase] ??= []).push(v);
      const body = arg.contender === 'jobmeter' && share === 0 ? scraped.body() : undefined;
      scraped.done();
      if (body !== undefined) {
        // With room to grow, as the body store's: the body lengthens as its values gain digits.
        if (floorStorage.length < body.length)
          floorStorage = Buffer.alloc(Math.ceil(body.length * 1.25));
        gc();
        const t0 = performance.now();
        const copied = body.copy(floorStorage);
        floorMs.push(performance.now() - t0);
        if (copied !== body.length) throw new Error('unreachable');
      }
    }
  }
  log(
    `    ${arg.contender}: ${SHARES.map((s) => `${s * 100}% ${num(stats(ms[String(s)]!).median)} ms (${phaseMedians(phases[String(s)]!)})`).join(', ')}`,
  );
  return { ms, phases, floorMs, bodyBytes };
}

/** `phase median · phase median`, ms. */
function phaseMedians(phases: Record<string, number[]>): string {
  return Object.entries(phases)
    .map(([name, v]) => `${name} ${num(stats(v).median, 2)}`)
    .join(' · ');
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'scrape-changes',
  title: 'Scrape time against the share of series changed',
  params: (quick) =>
    quick ? { n: 10_000, warmup: 2, runs: 3 } : { n: 100_000, warmup: 3, runs: 15 },
  jobs: (p): Job<Arg>[] =>
    CONTENDERS.map((contender) => ({ id: contender, arg: { ...p, contender } })),
  measure,
  table(p, results) {
    const layout = referenceLayout(p.n);
    const get = (c: Contender) => results.get(c)![0]!;
    const at = (c: Contender, share: number) => stats(get(c).ms[String(share)]!);
    const rows = SHARES.map((share) => {
      const jm = at('jobmeter', share);
      const io = at('prometheus-io', share);
      return [
        `${share * 100}%`,
        spread(jm, jm.median < 10 ? 2 : 1),
        (jm.median / at('jobmeter', 1).median).toFixed(2) + '×',
        spread(io, 0),
        (jm.median / io.median).toFixed(3) + '×',
      ];
    });
    const floor = stats(get('jobmeter').floorMs);
    rows.push([
      `floor: one copy of the body's ${num(get('jobmeter').bodyBytes / 2 ** 20, 2)} MiB`,
      spread(floor, 2),
      (floor.median / at('jobmeter', 1).median).toFixed(2) + '×',
      '',
      '',
    ]);
    return [
      markdownTable(
        [
          'series changed since the last scrape',
          `${LABEL.jobmeter}, ms`,
          '÷ jobmeter at 100%',
          `${LABEL['prometheus-io']}, ms`,
          `jobmeter ÷ ${LABEL['prometheus-io']}`,
        ],
        rows,
      ),
      '',
      `${num(layout.counters + layout.histograms, 0)} series (${num(layout.counters, 0)} counter + ${num(layout.histograms, 0)} histogram, 1,000 per family). Each scrape timed from the recorded state to the body's bytes: jobmeter as its endpoint answers (\`jm.scrape()\`, then \`buildMetricsResponse\` through the endpoint's render memo into its \`BodyStore\`; ${process.env.BENCH_MEMO === '0' ? '**memo off** (`BENCH_MEMO=0`)' : 'memo on'}), ${LABEL['prometheus-io']} as in the full-scrape table; after the share of series got a record (every 1/share-th host, untimed) and a full gc; shares interleaved, ${p.runs} scrapes each after ${p.warmup} warm-up scrapes, one process per contender; median (min–max). Floor: one copy of jobmeter's body into storage written before (as the body store's), after a gc, in the same process. Target: 1% changed ≤ 10 ms and ≥ 30× faster than ${LABEL['prometheus-io']}, 100% no slower than today.`,
      '',
      `jobmeter's phases (medians, ms): ${SHARES.map((share) => `${share * 100}%: ${phaseMedians(get('jobmeter').phases[String(share)]!)}`).join('; ')}.`,
    ].join('\n');
  },
  targets(p, results): TargetResult[] {
    const at = (c: Contender) => stats(results.get(c)![0]!.ms['0.01']!);
    const jm = at('jobmeter');
    const io = at('prometheus-io').median;
    const series = referenceLayout(p.n).counters + referenceLayout(p.n).histograms;
    const measured = `${num(series, 0)} series, 1% changed: ${spread(jm, 2)} vs ${num(io, 0)} ms: **${(io / jm.median).toFixed(0)}× faster**`;
    return [{ id: 'scrape-110k-1pct', measured, met: jm.median <= 10 && io / jm.median >= 30 }];
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
