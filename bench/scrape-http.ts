/**
 * The scrape as Prometheus sees it: each contender serving the wide shape (heap-shape.ts: 11
 * counters × 10,000 series of two labels, 110,000 series) from its own server in its own process,
 * 1% of its series recorded every 50 ms while it serves, and scraped over HTTP by another process
 * (scrape-client.ts: HTTP/1.1 GETs on one keep-alive connection, text, no compression, the body
 * read and dropped), back to back. Each scrape is timed in the client, from the request to the
 * body's last byte: what a scraper waits, with the recording, the garbage of the scrapes before and
 * the server's event loop all in it, none of them forced into or out of the window by a gc.
 *
 * The warm-up scrapes are checked (every series' sample line there); the timed ones must be 200s.
 * Median, p90 and min–max of the timed scrapes, pooled over the processes of a contender.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startClient } from './event-loop.ts';
import {
  cli,
  isMain,
  log,
  markdownTable,
  num,
  spread,
  stats,
  type Job,
  type Scenario,
} from './harness.ts';
import {
  labelValues,
  setUpWide,
  WIDE_LABEL,
  wideLayout,
  wideSeries,
  type WideContender,
  type WideLayout,
} from './heap-shape.ts';
import { ratio, type TargetResult } from './targets.ts';

/** The contenders of this table: the wide shape's but the OTel exporter (seconds a scrape at this size). */
const CONTENDERS = [
  'jobmeter-host',
  'jobmeter-declared',
  'prometheus-io',
  'prom-client',
] as const satisfies readonly WideContender[];
type Contender = (typeof CONTENDERS)[number];

/** How often the server records its 1%, as a busy host between two scrapes. */
const RECORD_EVERY_MS = 50;

interface Params {
  readonly layout: WideLayout;
  readonly warmup: number;
  readonly scrapes: number;
  readonly processes: number;
}

interface Result {
  /** Timed scrapes, ms. */
  readonly ms: number[];
  readonly bodyBytes: number;
}

function params(quick: boolean): Params {
  return quick
    ? { layout: wideLayout(true), warmup: 3, scrapes: 10, processes: 1 }
    : { layout: wideLayout(false), warmup: 5, scrapes: 40, processes: 2 };
}

interface Arg extends Omit<Params, 'processes'> {
  readonly contender: Contender;
}

const jobs = (p: Params): Job<Arg>[] =>
  CONTENDERS.map((c) => ({ id: c, arg: { ...p, contender: c } }));

async function measure(p: Arg): Promise<Result> {
  const { contender, layout } = p;
  const built = await setUpWide(contender, layout);
  const all = labelValues(layout);
  built.record(all);
  // 1% of the series: a hundredth of the hosts, every queue, every counter.
  const slice = Math.max(1, Math.round(layout.hosts / 100));
  let at = 0;
  const timer = setInterval(() => {
    built.record({ hosts: all.hosts.slice(at, at + slice), queues: all.queues });
    at = (at + slice) % layout.hosts;
  }, RECORD_EVERY_MS);
  const client = startClient();
  try {
    const ms: number[] = [];
    let bodyBytes = 0;
    for (let i = 0; i < p.warmup + p.scrapes; i++) {
      const check = i < p.warmup;
      const a = await client.ask({ url: built.url, gzip: false, check });
      if (a.status !== 200) throw new Error(`${contender}: scrape ${i}: status ${a.status}`);
      if (check && a.samples !== wideSeries(layout))
        throw new Error(`${contender}: ${a.samples} sample lines, expected ${wideSeries(layout)}`);
      if (check) bodyBytes = a.bodyBytes!;
      else ms.push(a.ms);
      // One turn for the recorder between two scrapes, as a scraper's interval would give.
      await sleep(1);
    }
    return { ms, bodyBytes };
  } finally {
    clearInterval(timer);
    client.stop();
    await built.close();
  }
}

/** The `q` quantile of `xs` (nearest rank). */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

function pooled(results: ReadonlyMap<string, readonly Result[]>, c: Contender): number[] {
  return results.get(c)!.flatMap((r) => r.ms);
}

function table(p: Params, results: ReadonlyMap<string, readonly Result[]>): string {
  const anchor = stats(pooled(results, 'prometheus-io')).median;
  const rows = CONTENDERS.map((c) => {
    const ms = pooled(results, c);
    const s = stats(ms);
    return [
      WIDE_LABEL[c],
      spread(s, s.median < 10 ? 2 : 1),
      num(quantile(ms, 0.9), 1),
      ratio(quantile(ms, 0.9) / s.median),
      c === 'prometheus-io' ? '1.00×' : `${(anchor / s.median).toFixed(1)}× faster`,
      num(results.get(c)![0]!.bodyBytes / 1024 / 1024, 1) + ' MiB',
    ];
  });
  return [
    markdownTable(
      [
        'contender',
        'scrape, ms: median (min–max)',
        'p90, ms',
        'p90 ÷ median',
        '÷ @prometheus-io/client (median)',
        'body',
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    `${num(wideSeries(p.layout), 0)} counter series (heap-shape.ts's wide shape), each contender serving them from its own server in a process of its own (jobmeter: its pull listener; the Prometheus clients: \`http.createServer\` answering \`registry.metrics()\`), recording 1% of them (${num(wideSeries(p.layout) / 100, 0)} series) every ${RECORD_EVERY_MS} ms while it serves. Scraped over loopback by another process (scrape-client.ts: one keep-alive connection, text, no compression), back to back with a 1 ms pause, each scrape timed there from the request to the body's last byte; ${p.warmup} checked warm-up scrapes, then ${p.scrapes} timed, in each of ${p.processes} processes per contender, pooled. Target: jobmeter (both paths) ≥ 5× faster than @prometheus-io/client at the median, its p90 ≤ 2× its median.`,
  ].join('\n');
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'scrape-http',
  title: 'The scrape over HTTP from another process, 110k series, 1% changing every 50 ms',
  params,
  jobs,
  processes: (p) => p.processes,
  settleMillis: 2_000,
  measure,
  table,
  targets(_p, results): TargetResult[] {
    const anchor = stats(pooled(results, 'prometheus-io')).median;
    const of = (c: Contender) => {
      const ms = pooled(results, c);
      const median = stats(ms).median;
      return { median, p90: quantile(ms, 0.9), faster: anchor / median };
    };
    const host = of('jobmeter-host');
    const declared = of('jobmeter-declared');
    const says = (name: string, x: ReturnType<typeof of>) =>
      `${name} ${num(x.median, 1)} ms (p90 ${num(x.p90, 1)}, ${ratio(x.p90 / x.median)} the median) vs ${num(anchor, 1)} ms: **${x.faster.toFixed(1)}× faster**`;
    return [
      {
        id: 'scrape-110k-http',
        measured: `${says('host counter', host)}; ${says('declared', declared)}`,
        met: [host, declared].every((x) => x.faster >= 5 && x.p90 <= 2 * x.median),
      },
    ];
  },
};

if (isMain(import.meta.url)) {
  log(`scrape-http: ${CONTENDERS.join(', ')}`);
  await cli(import.meta.url, scenario);
}
