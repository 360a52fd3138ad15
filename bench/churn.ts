/**
 * Label churn: does the heap stay flat when a process is offered an unbounded stream of label
 * values? 1,000,000 distinct values, with `heapUsed` + `arrayBuffers` (after a full gc) read every 100,000, and a
 * scrape (collection, naming, rendering to bytes) before every reading so that whatever the
 * scrape path caches is counted too.
 *
 * - jobmeter, domain API: `jm.recordRun({ task: 'task-<i>', … })`. `task` is capped at 500
 *   values per instrument: the first 500 keep their series, every later value folds into
 *   `other`. The run counters and the duration histogram all see the churn.
 * - jobmeter, ingest path: OTLP export requests pushed into the ingest store, each point a new
 *   stream (`job_id` = a new value) of a foreign counter, the clock moving 1 s per request of 1000
 *   points and streams expiring after 30 s: at most ≈ 30,000 streams are held at a time, and the
 *   store's collection is named and rendered at every reading.
 * - @prometheus-io/client and prom-client: `finished.inc(l); duration.observe(l, s)` with the same
 *   values. They have no bound: every value is a series for the life of the process (their
 *   documented answer is to `remove()` label sets yourself), so their curves are the reference for
 *   "not flat". Their scrape time grows with the series, so they are offered the first
 *   {@link PROM_LIMIT} values only.
 */
import { DEFAULT_RUN_DURATION_BUCKETS } from '../src/domain/catalog.ts';
import { renderBuffers } from '../test/support/render-bytes.ts';
import { IngestStore } from '../src/ingest/ingest-store.ts';
import { otelProfile } from '../src/naming/profiles/otel.ts';
import { createNamer } from '../src/naming/to-families.ts';
import type { OtlpExportRequest, OtlpNumberPoint } from '../src/otlp/types.ts';
import { benchJobmeter, isPromLib, promLib, promRegistry, PROM_LABEL } from './contenders.ts';
import {
  cli,
  jsMemory,
  isMain,
  log,
  markdownTable,
  num,
  type Job,
  type Scenario,
} from './harness.ts';
import { VALUES } from './hot-path.ts';

type Variant = 'jobmeter' | 'ingest' | 'prometheus-io' | 'prom-client';
const VARIANTS: readonly Variant[] = ['jobmeter', 'ingest', 'prometheus-io', 'prom-client'];
const LABEL: Readonly<Record<Variant, string>> = {
  jobmeter: 'jobmeter `recordRun` (task capped at 500)',
  ingest: 'jobmeter ingest (streams expire after 30 s)',
  'prometheus-io': `${PROM_LABEL['prometheus-io']} \`inc(labels)\` (no bound)`,
  'prom-client': 'prom-client `inc(labels)` (no bound)',
};

interface Params {
  readonly total: number;
  readonly every: number;
}

interface Arg extends Params {
  readonly variant: Variant;
}

interface Result {
  /** jsMemory (bytes) before any value, then after every `every` values. */
  readonly heap: number[];
  /** Series the last scrape held. */
  readonly series: number;
}

const value = (i: number) => 'task-' + i;
/** The Prometheus clients are stopped here: past it each scrape takes seconds, and the slope is plain already. */
const PROM_LIMIT = 200_000;
const OUTCOMES = ['success', 'failure'] as const;

/** One step: offers values [from, to), then scrapes; returns the series count of the scrape. */
type Step = (from: number, to: number) => Promise<number>;

async function stepper(variant: Variant): Promise<Step> {
  switch (variant) {
    case 'jobmeter': {
      const jm = await benchJobmeter([]);
      return async (from, to) => {
        for (let i = from; i < to; i++)
          jm.recordRun({
            task: value(i),
            kind: 'task',
            runner: 'subprocess',
            outcome: OUTCOMES[i & 1]!,
            durationSeconds: VALUES[i & 1023]!,
          });
        const families = await jm.scrape();
        for (const _ of renderBuffers('text', families));
        return families.reduce((n, f) => n + f.series.length, 0);
      };
    }
    case 'ingest': {
      let now = Date.UTC(2026, 0, 1);
      const store = new IngestStore({
        clock: { wallMillis: () => now, monotonicMillis: () => now },
        expiryMillis: 30_000,
        maxSeriesPerInstrument: 50_000,
        maxSeries: 100_000,
      });
      const namer = createNamer(otelProfile(false));
      const request = (from: number, to: number): OtlpExportRequest => {
        const t = BigInt(now) * 1_000_000n;
        const points: OtlpNumberPoint[] = [];
        for (let i = from; i < to; i++)
          points.push({
            attributes: { job_id: value(i) },
            startTimeUnixNano: t,
            timeUnixNano: t,
            noRecordedValue: false,
            value: 1,
          });
        return {
          resourceMetrics: [
            {
              resource: { 'service.name': 'churn' },
              scopeMetrics: [
                {
                  scope: { name: 'churn', version: '1' },
                  metrics: [
                    {
                      name: 'foreign.jobs',
                      description: 'Jobs.',
                      unit: '{job}',
                      data: { type: 'sum', monotonic: true, temporality: 'cumulative', points },
                    },
                  ],
                },
              ],
            },
          ],
        };
      };
      return async (from, to) => {
        for (let i = from; i < to; i += 1000) {
          store.ingest(request(i, Math.min(to, i + 1000)));
          now += 1000;
        }
        const families = namer.toFamilies((await store.collect()).resourceMetrics);
        for (const _ of renderBuffers('text', families));
        return families.reduce((n, f) => n + f.series.length, 0);
      };
    }
    case 'prometheus-io':
    case 'prom-client': {
      const { Counter, Histogram } = promLib(variant);
      const registers = [promRegistry(variant)];
      const labelNames = ['task', 'kind', 'runner', 'outcome'];
      const finished = new Counter({
        name: 'jobmeter_run_finished_total',
        help: 'Runs.',
        labelNames,
        registers,
      });
      const duration = new Histogram({
        name: 'jobmeter_run_duration_seconds',
        help: 'Durations.',
        labelNames,
        buckets: [...DEFAULT_RUN_DURATION_BUCKETS],
        registers,
      });
      return async (from, to) => {
        for (let i = from; i < to; i++) {
          const l = {
            task: value(i),
            kind: 'task',
            runner: 'subprocess',
            outcome: OUTCOMES[i & 1]!,
          };
          finished.inc(l);
          duration.observe(l, VALUES[i & 1023]!);
        }
        const text = await registers[0]!.metrics();
        Buffer.from(text, 'utf8');
        return (await finished.get()).values.length * 2;
      };
    }
  }
}

async function measure(arg: Arg): Promise<Result> {
  const step = await stepper(arg.variant);
  // Warm the code paths on values that are not part of the run.
  await step(-2000, -1000);
  const heap = [jsMemory()];
  let series = 0;
  const total = isPromLib(arg.variant) ? Math.min(arg.total, PROM_LIMIT) : arg.total;
  for (let at = 0; at < total; at += arg.every) {
    series = await step(at, at + arg.every);
    heap.push(jsMemory());
    log(
      `    ${arg.variant}: ${num(at + arg.every, 0)} values, ${(heap.at(-1)! / 2 ** 20).toFixed(1)} MiB, ${num(series, 0)} series`,
    );
  }
  return { heap, series };
}

const mib = (b: number) => (b / 2 ** 20).toFixed(1);

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'churn',
  title: 'Heap under label churn',
  params: (quick) =>
    quick ? { total: 100_000, every: 25_000 } : { total: 1_000_000, every: 100_000 },
  jobs: (p): Job<Arg>[] => VARIANTS.map((variant) => ({ id: variant, arg: { ...p, variant } })),
  measure,
  table(p, results) {
    const r = (v: Variant) => results.get(v)![0]!;
    const rows: string[][] = [];
    for (let k = 0; k <= p.total / p.every; k++) {
      rows.push([
        num(k * p.every, 0),
        ...VARIANTS.map((v) => (r(v).heap[k] === undefined ? '—' : mib(r(v).heap[k]!))),
      ]);
    }
    // Growth after warm-up: from the second reading to the last, per 100,000 values.
    const slope = (v: Variant) => {
      const h = r(v).heap;
      const per = ((h.at(-1)! - h[1]!) / ((h.length - 2) * p.every)) * 100_000;
      return `${per >= 0 ? '+' : ''}${(per / 2 ** 20).toFixed(2)} MiB`;
    };
    rows.push(['**growth per 100,000 after warm-up**', ...VARIANTS.map(slope)]);
    rows.push(['series at the end', ...VARIANTS.map((v) => num(r(v).series, 0))]);
    return [
      markdownTable(['values offered', ...VARIANTS.map((v) => LABEL[v] + ', MiB')], rows),
      '',
      `\`heapUsed\` + \`arrayBuffers\` after a full gc, each reading after a scrape; the first column is the number of distinct label values offered so far ("0" is after set-up and warm-up). "After warm-up" is from the ${num(p.every, 0)}-value reading on. "Series" counts the label sets the last scrape held (the Prometheus clients: the counter's and the histogram's). The Prometheus clients are offered the first ${num(PROM_LIMIT, 0)} values only (their scrape time grows with their series). One process per column.`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
