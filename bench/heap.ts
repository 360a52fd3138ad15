/**
 * Heap bytes per series: N counter series (one `host` label value each, sharded as in series.ts),
 * each contender in 3 fresh processes.
 *
 * The JS side's memory (harness.ts `jsMemory`: `heapUsed` + `arrayBuffers`) after a full gc is
 * read three times: once the contender is set up with its (empty) instruments, after recording
 * the N series, and after one text scrape (its output dropped): the state a long-running process
 * sits in, since the first collection makes the OTel SDK keep its cumulative copy and jobmeter's
 * naming cache its label strings. The host names are built before the first reading, so no
 * contender is charged for the strings themselves, only for whatever it builds from them (keys,
 * label strings).
 */
import { CONTENDERS, PROM_LABEL, type Contender } from './contenders.ts';
import { cli, jsMemory, isMain, markdownTable, num, spread, stats, type Job, type Scenario } from './harness.ts';
import { countBenchSamples, hostNames, scrapeText, setUp, SHARD, type Built } from './series.ts';

interface Params {
  readonly n: number;
}

interface Arg extends Params {
  readonly contender: Contender;
}

interface Result {
  /** Bytes per series after recording. */
  readonly recorded: number;
  /** Bytes per series after one scrape. */
  readonly scraped: number;
}

/** Keeps the series alive until the last reading (a local could be collected once unused). */
let keep: Built | undefined;

async function scrapeAndCount(b: Built): Promise<number> {
  return countBenchSamples(await scrapeText(b));
}

async function measure(arg: Arg): Promise<Result> {
  const hosts = hostNames(arg.n);
  const empty = await setUp(arg.contender, { counters: arg.n, histograms: 0 });
  const before = jsMemory();
  keep = empty.populate(hosts);
  const recorded = jsMemory();
  // In a function of its own, so the output string is unreachable at the reading.
  const lines = await scrapeAndCount(keep);
  if (lines !== arg.n) throw new Error(`${arg.contender}: ${lines} sample lines, expected ${arg.n}`);
  const scraped = jsMemory();
  if (keep === undefined || hosts.length !== arg.n) throw new Error('unreachable');
  return { recorded: (recorded - before) / arg.n, scraped: (scraped - before) / arg.n };
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'heap',
  title: 'Heap per series',
  params: (quick) => ({ n: quick ? 10_000 : 100_000 }),
  jobs: (p): Job<Arg>[] => CONTENDERS.map((contender) => ({ id: contender, arg: { ...p, contender } })),
  processes: () => 3,
  measure,
  table(p, results) {
    const labels: Record<Contender, string> = { jobmeter: 'jobmeter', 'prometheus-io': PROM_LABEL['prometheus-io'], 'prom-client': 'prom-client', otel: 'otel PrometheusExporter' };
    const anchor = stats(results.get('prometheus-io')!.map((r) => r.scraped)).median;
    const rows = CONTENDERS.map((c) => {
      const rs = results.get(c)!;
      const scraped = stats(rs.map((r) => r.scraped));
      return [labels[c], spread(stats(rs.map((r) => r.recorded)), 0), spread(scraped, 0), (scraped.median / anchor).toFixed(2) + '×'];
    });
    return [
      markdownTable(['contender', 'B/series after recording', 'B/series after the first scrape', `after the scrape ÷ ${PROM_LABEL['prometheus-io']}`], rows),
      '',
      `${num(p.n, 0)} counter series, ${num(SHARD, 0)} per family; \`heapUsed\` + \`arrayBuffers\` after gc, minus the reading with the instruments set up but empty. Median (min–max) of ${results.get(CONTENDERS[0])!.length} processes per contender.`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
