/**
 * The bench's targets as data: each has an id, what it asks, and the scenario
 * that measures it. A scenario's `targets()` turns its pooled results into verdicts; run.ts merges
 * them into bench/README.md's `<!-- bench:targets:… -->` table by id, so a row keeps the run that
 * last measured it (its commit and date are in the row) and a row no run has measured says so.
 * The verdict is computed from the numbers, never written by hand: a row that fails says "no".
 */

export interface Target {
  readonly id: string;
  /** What it asks, as the table states it. */
  readonly target: string;
  /** The scenario (bench/<name>.ts) whose run fills the row. */
  readonly scenario: string;
}

export const TARGETS: readonly Target[] = [
  {
    id: 'heap-host',
    target:
      "heap per series after the first scrape, 110k series (11 counters × 10k, two attributes), a host counter through the OTel API on jobmeter's provider ≤ 1.0× @prometheus-io/client",
    scenario: 'heap',
  },
  {
    id: 'heap-declared',
    target: '… the same counters declared in `options.instruments` ≤ 0.75× @prometheus-io/client',
    scenario: 'heap',
  },
  {
    id: 'heap-churn',
    target:
      "… flat under churn: label sets replaced round after round, heap after each round's scrape (after the first churn round, a round adds ≤ 1% of what round 0 added), both jobmeter paths",
    scenario: 'heap-churn',
  },
  {
    id: 'scrape-1.1k',
    target: '1.1k-series scrape (text) ≥ 5× faster than @prometheus-io/client',
    scenario: 'scrape',
  },
  {
    id: 'ingest-points',
    target: "ingest, the load a fleet sends: ≥ 2× the real Collector's data points/s",
    scenario: 'collector',
  },
  {
    id: 'ingest-rss',
    target:
      "… at ≤ ½ the Collector's RSS per 100k live series, on the fleets that hold 100k live series or more",
    scenario: 'collector',
  },
  {
    id: 'ingest-shared-points',
    target:
      "… one body shared by every sender (10 senders of one 11k-series body, 4 of one 110k-series body): ≥ 2× the Collector's data points/s",
    scenario: 'collector',
  },
  {
    id: 'ingest-shared-rss',
    target:
      "… at ≤ ½ the Collector's RSS per 100k live series, on the bodies of 100k series or more",
    scenario: 'collector',
  },
  {
    id: 'ingest-grpc-points',
    target:
      "… over OTLP/gRPC (`[ingest] grpc_port` against the Collector's `otlp` grpc protocol), shared and disjoint bodies: ≥ 2× the Collector's data points/s",
    scenario: 'collector',
  },
  {
    id: 'ingest-grpc-rss',
    target:
      "… at ≤ ½ the Collector's RSS per 100k live series, on the fleets that hold 100k live series or more",
    scenario: 'collector',
  },
  {
    id: 'ingest-no-503',
    target:
      '… no 503 (nor any request or point refused) under a load the Collector takes without refusing, every shape and transport',
    scenario: 'collector',
  },
  {
    id: 'startup',
    target:
      'a host serving one counter on a pull endpoint, a fresh process: RSS after the first scrape and time from spawn to it ≤ 1.0× `@opentelemetry/sdk-metrics` + `exporter-prometheus` doing the same (as installed today, two copies of the SDK; and with one)',
    scenario: 'startup',
  },
  {
    id: 'startup-prom-client',
    target:
      "… and ≤ 1.0× prom-client's RSS and time doing the same: jobmeter as created (process metrics on) against prom-client with `collectDefaultMetrics()`, and with `processMetrics: false` against prom-client without",
    scenario: 'startup',
  },
  {
    id: 'scrape-110k-http',
    target:
      'the scrape over HTTP from another process, 110k series (11 counters × 10k), 1% changing every 50 ms: ≥ 5× faster than @prometheus-io/client at the median, p90 ≤ 2× the median, a host counter and a declared one',
    scenario: 'scrape-http',
  },
  // Rows that must stay met: targets already met, each held by its scenario's verdict.
  {
    id: 'scrape-110k-1pct',
    target:
      'stays met: 110k-series scrape with 1% of series changed ≤ 10 ms end to end and ≥ 30× faster than @prometheus-io/client',
    scenario: 'scrape-changes',
  },
  {
    id: 'record-counter',
    target:
      "stays met: counter `add(1, { a, b })` through the OTel API on jobmeter's provider, declared and undeclared, ≤ 1.0× @prometheus-io/client `counter.inc({ a, b })`",
    scenario: 'record-counter',
  },
  {
    id: 'throughput',
    target:
      "stays met: `/metrics` at 11k series under autocannon ≥ 20× @prometheus-io/client's req/s, p99 latency ≤ 1/10 of its",
    scenario: 'throughput',
  },
  {
    id: 'event-loop',
    target:
      'stays met: event-loop max delay while a 110k-series scrape is served over a real socket ≤ 20 ms, every process, with and without gzip',
    scenario: 'event-loop',
  },
];

/** One row's verdict from a run. */
export interface TargetResult {
  readonly id: string;
  readonly measured: string;
  /** `true`/`false` for a threshold; `'measured'` for a row that only records a number. */
  readonly met: boolean | 'measured';
}

export function targetById(id: string): Target {
  const t = TARGETS.find((x) => x.id === id);
  if (t === undefined)
    throw new Error(
      `bench/targets.ts: no target ${JSON.stringify(id)}; targets: ${TARGETS.map((x) => x.id).join(', ')}`,
    );
  return t;
}

/** `x` as a ratio cell: `0.83×`. */
export const ratio = (x: number): string => x.toFixed(2) + '×';

const HEADER = ['id', 'target', 'measured', 'met', 'run'] as const;
const NOT_MEASURED = 'not measured yet';

const escape = (s: string) => s.replaceAll('|', '\\|');
const verdict = (met: TargetResult['met']) =>
  met === 'measured' ? 'measured' : met ? '**yes**' : '**no**';

/** The id (first cell) of each row of a targets table, with the row's line. */
function rowsOf(section: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\| `([^`]+)` \|/.exec(line);
    if (m !== null) rows.set(m[1]!, line);
  }
  return rows;
}

/** A verdict and the run it came from (commit, date). */
export interface MeasuredTarget {
  readonly result: TargetResult;
  readonly run: string;
}

/**
 * The targets table in {@link TARGETS} order. With `previous` (the README section as it stands):
 * every target, from `measured` where this run measured it, else the row as `previous` had it,
 * else "not measured yet". Without it: only the rows measured.
 */
export function targetsTable(measured: readonly MeasuredTarget[], previous?: string): string {
  for (const m of measured) targetById(m.result.id);
  const old = rowsOf(previous ?? '');
  const line = (cells: readonly string[]) => '| ' + cells.join(' | ') + ' |';
  const rows: string[] = [];
  for (const t of TARGETS) {
    const m = measured.find((x) => x.result.id === t.id);
    if (m !== undefined)
      rows.push(
        line([
          `\`${t.id}\``,
          escape(t.target),
          escape(m.result.measured),
          verdict(m.result.met),
          m.run,
        ]),
      );
    else if (previous !== undefined)
      rows.push(
        old.get(t.id) ??
          line([
            `\`${t.id}\``,
            escape(t.target),
            NOT_MEASURED,
            '—',
            `\`npm run bench -- ${t.scenario}\``,
          ]),
      );
  }
  return [line([...HEADER]), line([':--', ':--', ':--', ':--', ':--']), ...rows].join('\n');
}
