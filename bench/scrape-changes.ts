/**
 * Scrape time against the share of series changed since the previous scrape (issue 16, target 1:
 * "a scrape costs what changed, not what exists"): at 110k series (the reference mix of
 * series.ts), jobmeter (text 0.0.4) and @prometheus-io/client, each scrape timed as in scrape.ts
 * (recorded state → the body's bytes) after 0%, 1%, 10% or 100% of the series got a record
 * (untimed, then a full gc). The changed series are spread evenly over the families (every
 * 1/share-th host), as between two real scrapes.
 *
 * The floor a scrape approaches as nothing changes: copying the body's bytes once (`Buffer.from`
 * of jobmeter's body, one Buffer), measured in the same process.
 */
import { PROM_LABEL } from './contenders.ts';
import { cli, gc, isMain, log, markdownTable, num, spread, stats, type Job, type Scenario } from './harness.ts';
import { phasesOf } from './scrape.ts';
import { countBenchSamples, hostNames, referenceLayout, sampleLines, setUp } from './series.ts';

type Contender = 'jobmeter' | 'prometheus-io';
const CONTENDERS: readonly Contender[] = ['jobmeter', 'prometheus-io'];
const LABEL: Readonly<Record<Contender, string>> = { jobmeter: 'jobmeter, text 0.0.4', 'prometheus-io': PROM_LABEL['prometheus-io'] };
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
  /** ms of each copy of the body (jobmeter only). */
  readonly floorMs: number[];
  readonly bodyBytes: number;
}

async function measure(arg: Arg): Promise<Result> {
  const layout = referenceLayout(arg.n);
  const built = (await setUp(arg.contender, layout)).populate(hostNames(arg.n));
  const scrape = phasesOf(built, 'text');
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
    const { bytes, text } = await scrape();
    bodyBytes = bytes;
    if (w === 0 && countBenchSamples(text()) !== sampleLines(layout)) throw new Error(`${arg.contender}: wrong sample lines`);
  }
  const ms: Record<string, number[]> = {};
  const floorMs: number[] = [];
  // Shares interleaved run by run, so each sees the same machine noise.
  for (let r = 0; r < arg.runs; r++) {
    for (const share of SHARES) {
      change(share);
      gc();
      const t = performance.now();
      const { text } = await scrape();
      (ms[String(share)] ??= []).push(performance.now() - t);
      if (arg.contender === 'jobmeter' && share === 0) {
        const body = Buffer.from(text(), 'latin1');
        gc();
        const t0 = performance.now();
        const copy = Buffer.from(body);
        floorMs.push(performance.now() - t0);
        if (copy.length !== body.length) throw new Error('unreachable');
      }
    }
  }
  log(`    ${arg.contender}: ${SHARES.map((s) => `${s * 100}% ${num(stats(ms[String(s)]!).median)} ms`).join(', ')}`);
  return { ms, floorMs, bodyBytes };
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'scrape-changes',
  title: 'Scrape time against the share of series changed',
  params: (quick) => (quick ? { n: 10_000, warmup: 2, runs: 3 } : { n: 100_000, warmup: 3, runs: 7 }),
  jobs: (p): Job<Arg>[] => CONTENDERS.map((contender) => ({ id: contender, arg: { ...p, contender } })),
  measure,
  table(p, results) {
    const layout = referenceLayout(p.n);
    const get = (c: Contender) => results.get(c)![0]!;
    const at = (c: Contender, share: number) => stats(get(c).ms[String(share)]!);
    const rows = SHARES.map((share) => {
      const jm = at('jobmeter', share);
      const io = at('prometheus-io', share);
      return [`${share * 100}%`, spread(jm, jm.median < 10 ? 2 : 1), (jm.median / at('jobmeter', 1).median).toFixed(2) + '×', spread(io, 0), (jm.median / io.median).toFixed(3) + '×'];
    });
    const floor = stats(get('jobmeter').floorMs);
    rows.push([`floor: one copy of the body's ${num(get('jobmeter').bodyBytes / 2 ** 20, 2)} MiB`, spread(floor, 2), (floor.median / at('jobmeter', 1).median).toFixed(2) + '×', '', '']);
    return [
      markdownTable(['series changed since the last scrape', `${LABEL.jobmeter}, ms`, '÷ jobmeter at 100%', `${LABEL['prometheus-io']}, ms`, `jobmeter ÷ ${LABEL['prometheus-io']}`], rows),
      '',
      `${num(layout.counters + layout.histograms, 0)} series (${num(layout.counters, 0)} counter + ${num(layout.histograms, 0)} histogram, 1,000 per family). Each scrape timed from the recorded state to the body's bytes (as in the full-scrape table), after the share of series got a record (every 1/share-th host, untimed) and a full gc; shares interleaved, ${p.runs} scrapes each after ${p.warmup} warm-up scrapes, one process per contender; median (min–max). Floor: \`Buffer.from\` of jobmeter's body (one Buffer) after a gc, in the same process. Target (issue 16): 1% changed ≤ 10 ms and ≥ 30× faster than ${LABEL['prometheus-io']}, 100% no slower than today.`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
