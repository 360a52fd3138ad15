/**
 * One row of scrape-changes.ts alone, for an A/B between two checkouts: jobmeter's endpoint scrape
 * (`jm.scrape()`, then `buildMetricsResponse` with the endpoint's render memos into its
 * `BodyStore`) of the reference mix after a share of the series changed (every 1/share-th host,
 * untimed, then a full gc), timed; one line of medians (min–max) per process.
 *
 *   node --expose-gc bench/scrape-changed-ab.ts [root] [n=100000] [share=0.01] [runs=30]
 *
 * `root`: the checkout whose src/ and bench/ are timed (default this one), so the same driver
 * times an older commit's tree. `BENCH_GC=0`: no forced gc before a timed scrape (each scrape
 * then pays for the previous one's garbage). `BENCH_EACH=1`: each scrape's ms too (total, scrape(),
 * body). `BENCH_CPU_PROF=<file>`: a cpu profile of the timed scrapes (harness.ts `profiled`).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [rootArg, nArg, shareArg, runsArg] = process.argv.slice(2);
const root = resolve(rootArg ?? new URL('..', import.meta.url).pathname);
const n = Number(nArg ?? 100_000);
const share = Number(shareArg ?? 0.01);
const runs = Number(runsArg ?? 30);
const load = (p: string) => import(pathToFileURL(`${root}/${p}`).href);

const { hostNames, referenceLayout, setUp } = await load('bench/series.ts');
const { profiled } = await import('./harness.ts');
const { endpointScrape, medianRange: med } = await import('./endpoint-scrape.ts');

const gc =
  globalThis.gc ??
  (() => {
    throw new Error('run with node --expose-gc');
  });
const layout = referenceLayout(n);
const built = (await setUp('jobmeter', layout)).populate(hostNames(n));
const stride = Math.round(1 / share);
let round = 0;
const change = () => {
  round++;
  for (let j = round % stride; j < layout.counters; j += stride) built.touch(j);
};
const scrape = await endpointScrape(root, () => built.jm.scrape());
for (let w = 0; w < 5; w++) {
  change();
  await scrape();
}
const cols: number[][] = [[], [], []];
await profiled(async () => {
  for (let r = 0; r < runs; r++) {
    change();
    if (process.env.BENCH_GC !== '0') gc();
    const ms = await scrape();
    ms.forEach((v, i) => cols[i]!.push(v));
    if (process.env.BENCH_EACH === '1') console.log(ms.map((v) => v.toFixed(1)).join(' '));
  }
});
console.log(
  `${root} n=${n} share=${share} runs=${runs}: total ${med(cols[0]!)} · scrape() ${med(cols[1]!)} · body ${med(cols[2]!)}`,
);
built.jm.shutdown?.();
process.exit(0);
