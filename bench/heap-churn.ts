/**
 * Churn on the wide shape (heap-shape.ts): does the heap stay flat when every round brings a
 * new set of label sets? Round 0 records the 110,000 series; each later round records 110,000
 * label sets none seen before (new `host` values), then scrapes; `heapUsed` + `arrayBuffers` after
 * a full gc is read after every round's scrape.
 *
 * - jobmeter, host counter: each counter holds its 10,000 sets for its life (the cardinality limit
 *   counted over the instrument's life), so a new set records into the overflow series.
 * - jobmeter, declared: `host` is capped at 1,000 values, so a new host folds into `other`.
 * - @prometheus-io/client: no bound; a user replaces label sets with `remove()`, so each round
 *   removes the previous round's sets before recording its own (the series stay 110,000).
 */
import { PROM_LABEL } from './contenders.ts';
import { cli, isMain, log, markdownTable, num, stats, type Job, type Scenario } from './harness.ts';
import {
  heldMemory,
  labelValues,
  setUpWide,
  WIDE_LABEL,
  wideLayout,
  wideSeries,
  type LabelValues,
  type WideContender,
  type WideLayout,
} from './heap-shape.ts';
import { countBenchSamples } from './series.ts';
import type { TargetResult } from './targets.ts';

const CHURNERS = [
  'jobmeter-host',
  'jobmeter-declared',
  'prometheus-io',
] as const satisfies readonly WideContender[];
type Churner = (typeof CHURNERS)[number];

interface Params {
  readonly wide: WideLayout;
  /** Rounds after round 0. */
  readonly rounds: number;
}

interface Arg extends Params {
  readonly contender: Churner;
}

interface Result {
  /** Bytes before any series, then after each round's scrape (round 0 first). */
  readonly heap: number[];
  /** Sample lines of the last scrape. */
  readonly lines: number;
}

/** Flat: after the first churn round, a round may add at most this share of what round 0 added. */
const FLAT = 0.01;

async function measure(arg: Arg): Promise<Result> {
  const l = arg.wide;
  const rounds: LabelValues[] = Array.from({ length: arg.rounds + 1 }, (_, r) => labelValues(l, r));
  const built = await setUpWide(arg.contender, l);
  const heap = [await heldMemory()];
  let lines = 0;
  for (let r = 0; r <= arg.rounds; r++) {
    if (r > 0) built.remove(rounds[r - 1]!);
    built.record(rounds[r]!);
    lines = countBenchSamples(await built.scrape());
    heap.push(await heldMemory());
    log(
      `    ${arg.contender}: round ${r}, ${(heap.at(-1)! / 2 ** 20).toFixed(1)} MiB, ${num(lines, 0)} sample lines`,
    );
  }
  if (rounds.length !== arg.rounds + 1) throw new Error('unreachable');
  await built.close();
  return { heap, lines };
}

/** Per round after the first churn round (bytes), and as a share of what round 0 added. */
function growth(r: Result): { perRound: number; share: number } {
  const h = r.heap;
  const perRound = (h.at(-1)! - h[2]!) / (h.length - 3);
  return { perRound, share: perRound / (h[1]! - h[0]!) };
}

const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const signed = (b: number) => `${b >= 0 ? '+' : '−'}${num(Math.abs(b) / 2 ** 20, 2)} MiB`;

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'heap-churn',
  title: 'Heap under churn',
  params: (quick) => ({ wide: wideLayout(quick), rounds: quick ? 3 : 6 }),
  jobs: (p): Job<Arg>[] =>
    CHURNERS.map((contender) => ({ id: contender, arg: { ...p, contender } })),
  processes: () => 3,
  measure,
  table(p, results) {
    const rows: string[][] = [];
    const median = (c: Churner, k: number) => stats(results.get(c)!.map((r) => r.heap[k]!)).median;
    rows.push(['set up, empty', ...CHURNERS.map((c) => mib(median(c, 0)))]);
    for (let k = 1; k <= p.rounds + 1; k++)
      rows.push([
        k === 1 ? 'round 0 (the series recorded)' : `round ${k - 1}`,
        ...CHURNERS.map((c) => mib(median(c, k))),
      ]);
    rows.push([
      `**growth per round from round 1 on**`,
      ...CHURNERS.map((c) => {
        const g = results.get(c)!.map(growth);
        const s = stats(g.map((x) => x.perRound));
        return `${signed(s.median)} (${signed(s.min)} to ${signed(s.max)})`;
      }),
    ]);
    rows.push([
      'sample lines of the last scrape',
      ...CHURNERS.map((c) => num(results.get(c)![0]!.lines, 0)),
    ]);
    const label = (c: Churner) =>
      c === 'prometheus-io'
        ? `${PROM_LABEL['prometheus-io']} (\`remove()\` of the previous round's sets)`
        : WIDE_LABEL[c];
    return [
      markdownTable(['heap after', ...CHURNERS.map((c) => label(c) + ', MiB')], rows),
      '',
      `${num(wideSeries(p.wide), 0)} series (heap.ts's second table), then ${p.rounds} rounds of ${num(wideSeries(p.wide), 0)} label sets with \`host\` values none seen before; \`heapUsed\` + \`arrayBuffers\` after a full gc, after each round's scrape. Medians of ${results.get(CHURNERS[0])!.length} processes per column; growth: median (min to max). Target: flat, a round adding at most ${FLAT * 100}% of what round 0 added (round 1 may add the overflow or \`other\` series).`,
    ].join('\n');
  },
  targets(_p, results): TargetResult[] {
    const parts = (['jobmeter-host', 'jobmeter-declared'] as const).map((c) => {
      const shares = stats(results.get(c)!.map((r) => growth(r).share));
      const perRound = stats(results.get(c)!.map((r) => growth(r).perRound)).median;
      const first = stats(results.get(c)!.map((r) => r.heap[2]! - r.heap[1]!)).median;
      const name = c === 'jobmeter-host' ? 'host counter' : 'declared';
      return {
        c,
        ok: shares.max <= FLAT,
        text: `${name}: round 1 ${signed(first)}, then ${signed(perRound)} a round (${(shares.median * 100).toFixed(2)}% of round 0, at most ${(shares.max * 100).toFixed(2)}%)`,
      };
    });
    return [
      {
        id: 'heap-churn',
        measured: parts.map((x) => x.text).join('; '),
        met: parts.every((x) => x.ok),
      },
    ];
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
