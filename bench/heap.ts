/**
 * Heap bytes per series: N counter series (one `host` label value each, sharded as in series.ts),
 * each contender in 3 fresh processes.
 *
 * The JS side's memory (harness.ts `jsMemory`: `heapUsed` + `arrayBuffers`) after a full gc is
 * read four times: once the contender is set up with its (empty) instruments, after recording
 * the N series, after one text scrape in process (its output dropped), and after one more scrape
 * over HTTP from the contender's own server: the state a long-running process sits in, since the
 * first collection makes the OTel SDK keep its cumulative copy and jobmeter's naming cache its
 * label strings, and the first served scrape makes jobmeter's endpoint keep its render memo (the
 * bytes of every family, about the body's size) and the store its snapshot storage. The host names are built before the first reading, so no
 * contender is charged for the strings themselves, only for whatever it builds from them (keys,
 * label strings).
 *
 * Second table, the wide shape (heap-shape.ts): 11 counters × 10,000 series over two attributes,
 * jobmeter's two ways in (a host counter through the OTel API, and declared counters) beside the
 * same contenders, read the same way; target verdicts for bench/targets.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMetricsHandler } from '../src/index-http.ts';
import { CONTENDERS, PROM_LABEL, promClientServer, type Contender } from './contenders.ts';
import {
  cli,
  jsMemory,
  isMain,
  markdownTable,
  num,
  spread,
  stats,
  type Job,
  type Scenario,
} from './harness.ts';
import {
  get,
  heldMemory,
  labelValues,
  setUpWide,
  WIDE_CONTENDERS,
  WIDE_LABEL,
  wideLayout,
  wideSeries,
  type WideBuilt,
  type WideContender,
  type WideLayout,
} from './heap-shape.ts';
import { countBenchSamples, hostNames, scrapeText, setUp, SHARD, type Built } from './series.ts';
import { ratio, type TargetResult } from './targets.ts';

interface Params {
  readonly n: number;
  readonly wide: WideLayout;
}

type Arg =
  | (Params & { readonly shape: 'host'; readonly contender: Contender })
  | (Params & { readonly shape: 'wide'; readonly contender: WideContender });

/** Job ids of the wide shape. */
const wideId = (c: WideContender) => `wide-${c}`;

interface Result {
  /** Bytes per series after recording. */
  readonly recorded: number;
  /** Bytes per series after one scrape. */
  readonly scraped: number;
  /** The host shape: bytes per series after one more scrape, the first over HTTP from the contender's own server. */
  readonly served?: number;
  /** The wide shape: bytes per series after every series got a record and a second scrape. */
  readonly rescraped?: number;
}

/** Keeps the series alive until the last reading (a local could be collected once unused). */
let keep: Built | WideBuilt | undefined;

async function scrapeAndCount(b: Built): Promise<number> {
  return countBenchSamples(await scrapeText(b));
}

async function measure(arg: Arg): Promise<Result> {
  return arg.shape === 'wide'
    ? measureWide(arg.contender, arg.wide)
    : measureHost(arg.contender, arg.n);
}

/** The body is dropped here; the wait lets both ends of the connection close before the reading. */
async function scrapeAndCountWide(b: WideBuilt): Promise<number> {
  const lines = countBenchSamples(await b.scrape());
  await new Promise((resolve) => setTimeout(resolve, 100));
  return lines;
}

async function measureWide(contender: WideContender, l: WideLayout): Promise<Result> {
  const n = wideSeries(l);
  const values = labelValues(l);
  const built = await setUpWide(contender, l);
  const before = await heldMemory();
  built.record(values);
  keep = built;
  const recorded = await heldMemory();
  const lines = await scrapeAndCountWide(built);
  if (lines !== n) throw new Error(`${contender}: ${lines} sample lines, expected ${n}`);
  const scraped = await heldMemory();
  built.record(values);
  const again = await scrapeAndCountWide(built);
  if (again !== n)
    throw new Error(`${contender}: ${again} sample lines at the second scrape, expected ${n}`);
  const rescraped = await heldMemory();
  if (keep === undefined || values.hosts.length !== l.hosts) throw new Error('unreachable');
  await built.close();
  return {
    recorded: (recorded - before) / n,
    scraped: (scraped - before) / n,
    rescraped: (rescraped - before) / n,
  };
}

async function measureHost(contender: Contender, n: number): Promise<Result> {
  const arg = { contender, n };
  const hosts = hostNames(arg.n);
  const empty = await setUp(arg.contender, { counters: arg.n, histograms: 0 });
  const before = jsMemory();
  keep = empty.populate(hosts);
  const recorded = jsMemory();
  // In a function of its own, so the output string is unreachable at the reading.
  const lines = await scrapeAndCount(keep);
  if (lines !== arg.n)
    throw new Error(`${arg.contender}: ${lines} sample lines, expected ${arg.n}`);
  const scraped = jsMemory();
  const server = await serve(keep);
  const overHttp = countBenchSamples(await get(server.url));
  if (overHttp !== arg.n)
    throw new Error(`${arg.contender}: ${overHttp} sample lines over HTTP, expected ${arg.n}`);
  // Both ends of the connection close before the reading (heap-shape.ts scrapeAndCountWide).
  await new Promise((resolve) => setTimeout(resolve, 100));
  const served = await heldMemory();
  if (keep === undefined || hosts.length !== arg.n) throw new Error('unreachable');
  await server.close();
  return {
    recorded: (recorded - before) / arg.n,
    scraped: (scraped - before) / arg.n,
    served: (served - before) / arg.n,
  };
}

/**
 * The contender's own server on loopback, as a host serves it: jobmeter's node:http handler
 * (`jobmeter/http` `createMetricsHandler`, its render memo and body storage), the Prometheus
 * clients answering `registry.metrics()`, the exporter's request handler.
 */
async function serve(b: Built): Promise<{ url: string; close: () => Promise<void> }> {
  if (b.contender !== 'jobmeter' && b.contender !== 'otel') return promClientServer(b.registry);
  let server: Server;
  if (b.contender === 'jobmeter') {
    const metrics = createMetricsHandler({ jobmeter: b.jm });
    server = createServer((req, res) => {
      if (!metrics(req, res)) res.writeHead(404).end();
    });
  } else {
    const otel = b.otel;
    server = createServer((req, res) => {
      otel.exporter.getMetricsRequestHandler(req, res);
    });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'heap',
  title: 'Heap per series',
  params: (quick) => ({ n: quick ? 10_000 : 100_000, wide: wideLayout(quick) }),
  jobs: (p): Job<Arg>[] => [
    ...CONTENDERS.map((contender) => ({
      id: contender,
      arg: { ...p, shape: 'host' as const, contender },
    })),
    ...WIDE_CONTENDERS.map((contender) => ({
      id: wideId(contender),
      arg: { ...p, shape: 'wide' as const, contender },
    })),
  ],
  processes: () => 3,
  measure,
  table(p, results) {
    const labels: Record<Contender, string> = {
      jobmeter: 'jobmeter',
      'prometheus-io': PROM_LABEL['prometheus-io'],
      'prom-client': 'prom-client',
      otel: 'otel PrometheusExporter',
    };
    const anchor = stats(results.get('prometheus-io')!.map((r) => r.scraped)).median;
    const servedAnchor = stats(results.get('prometheus-io')!.map((r) => r.served!)).median;
    const rows = CONTENDERS.map((c) => {
      const rs = results.get(c)!;
      const scraped = stats(rs.map((r) => r.scraped));
      const served = stats(rs.map((r) => r.served!));
      return [
        labels[c],
        spread(stats(rs.map((r) => r.recorded)), 0),
        spread(scraped, 0),
        (scraped.median / anchor).toFixed(2) + '×',
        spread(served, 0),
        (served.median / servedAnchor).toFixed(2) + '×',
      ];
    });
    const wideAnchor = wideMedians(results, 'prometheus-io');
    const wideRows = WIDE_CONTENDERS.map((c) => {
      const rs = results.get(wideId(c))!;
      const recorded = stats(rs.map((r) => r.recorded));
      const scraped = stats(rs.map((r) => r.scraped));
      const rescraped = stats(rs.map((r) => r.rescraped!));
      return [
        WIDE_LABEL[c],
        spread(recorded, 0),
        ratio(recorded.median / wideAnchor.recorded),
        spread(scraped, 0),
        ratio(scraped.median / wideAnchor.scraped),
        spread(rescraped, 0),
        ratio(rescraped.median / wideAnchor.rescraped!),
      ];
    });
    const io = PROM_LABEL['prometheus-io'];
    return [
      markdownTable(
        [
          'contender',
          'B/series after recording',
          'B/series after the first scrape (in process)',
          `after the scrape ÷ ${io}`,
          'B/series after a scrape over HTTP',
          `after HTTP ÷ ${io}`,
        ],
        rows,
      ),
      '',
      `${num(p.n, 0)} counter series, one \`host\` attribute, ${num(SHARD, 0)} per family; \`heapUsed\` + \`arrayBuffers\` after gc, minus the reading with the instruments set up but empty. The in-process scrape renders the text without a server (jobmeter: \`renderPrometheusText(await jm.scrape())\`); then one GET over loopback to the contender's own server, set up after that reading (jobmeter: \`createMetricsHandler\` from \`jobmeter/http\` behind \`http.createServer\`), text, no compression, the body dropped, read in a turn of its own after two full gcs. What the HTTP scrape adds for jobmeter is what its endpoint keeps for the next scrape: the render memo's bytes of every family (about the body's size) with each series' value and line length, and the store's snapshot storage (one double a series). Median (min–max) of ${results.get(CONTENDERS[0])!.length} processes per contender.`,
      '',
      markdownTable(
        [
          'contender (11 counters × 10k series)',
          'B/series after recording',
          `÷ ${io}`,
          'B/series after the first scrape',
          `÷ ${io}`,
          'after every series changed and a second scrape',
          `÷ ${io}`,
        ],
        wideRows,
      ),
      '',
      `${num(wideSeries(p.wide), 0)} counter series: ${p.wide.instruments} counters × ${num(p.wide.hosts * p.wide.queues, 0)} series, two attributes (\`host\` × ${num(p.wide.hosts, 0)}, \`queue\` × ${p.wide.queues}), each contender in its own process, read the same way (in a turn of its own, after two full gcs: heap-shape.ts \`heldMemory\`). The host counter is made with \`metrics.getMeter('host').createCounter()\` after \`createJobmeter({ listener: { port: 0 }, processMetrics: false, cardinalityLimit: ${num(p.wide.hosts * p.wide.queues + 1, 0)} })\` registered the global provider (a host's defaults otherwise: every line carries \`otel_scope_name\` and \`otel_scope_version\`, which the Prometheus clients' lines have not); the declared ones are \`options.instruments\` specs (\`host\` capped at ${num(p.wide.hosts, 0)}, \`queue\` at ${p.wide.queues}) recorded through \`jm.counter(name)\`. A scrape is one GET over loopback to the contender's own server in the same process (jobmeter's pull listener; the Prometheus clients behind \`http.createServer\`; the exporter's request handler), text, no compression, the body dropped; the last columns record every series once more and scrape again. Targets: after the first scrape, the host counter ≤ 1.0× ${io}, declared ≤ 0.75×.`,
    ].join('\n');
  },
  targets(_p, results): TargetResult[] {
    const anchor = wideMedians(results, 'prometheus-io');
    const verdict = (id: string, c: WideContender, limit: number): TargetResult => {
      const m = wideMedians(results, c);
      const x = m.scraped / anchor.scraped;
      const after = `after recording ${num(m.recorded, 0)} vs ${num(anchor.recorded, 0)} B; after every series changed and a second scrape ${num(m.rescraped!, 0)} vs ${num(anchor.rescraped!, 0)} B`;
      return {
        id,
        measured: `${num(m.scraped, 0)} vs ${num(anchor.scraped, 0)} B a series: **${ratio(x)}** (${after})`,
        met: x <= limit,
      };
    };
    return [
      verdict('heap-host', 'jobmeter-host', 1.0),
      verdict('heap-declared', 'jobmeter-declared', 0.75),
    ];
  },
};

function wideMedians(results: ReadonlyMap<string, readonly Result[]>, c: WideContender): Result {
  const rs = results.get(wideId(c))!;
  return {
    recorded: stats(rs.map((r) => r.recorded)).median,
    scraped: stats(rs.map((r) => r.scraped)).median,
    rescraped: stats(rs.map((r) => r.rescraped!)).median,
  };
}

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
