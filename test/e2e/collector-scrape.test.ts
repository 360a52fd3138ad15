/**
 * The scrape path against the real Collector (the release pinned in test/peers/versions.env): the
 * Collector's `prometheus` receiver scrapes jobmeter's loopback listener — once as negotiated
 * (OpenMetrics first, the receiver's default) and once forced to text 0.0.4 — and hands it to the
 * `debug` exporter (detailed, to a file) and to the `prometheus` exporter configured as
 * otel-collector.yaml says. For every profile:
 *
 * - the debug output names every family with the right OTLP data type (counter → monotonic Sum,
 *   gauge → Gauge, histogram → Histogram) and unit;
 * - re-exposed, the series equal the pull endpoint's, less what the receiver adds (docs/collector.md,
 *   "The scrape path"): `job`/`instance` on every series, its own scrape series (`up`,
 *   `scrape_*`), and `target_info`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { runDemo } from '../../src/demo/scenarios.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { ProfileName } from '../../src/options.ts';
import { startCollector, type CollectorHandle } from '../support/collector.ts';
import type { WireFormat } from '../support/exposition-parser.ts';
import { diffSeries, seriesTable, type SeriesTable } from '../support/series-diff.ts';

const PROFILES: readonly ProfileName[] = ['otel', 'runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'];
const FILE_CONFIG = parseYaml(
  readFileSync(new URL('../../otel-collector.yaml', import.meta.url), 'utf8'),
) as {
  exporters: { prometheus: Record<string, unknown> };
};
/** What the receiver adds: labels on every series, its own series per scrape, the target's info. */
const RECEIVER_LABELS = ['job', 'instance'];
const RECEIVER_FAMILIES = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
  'target_info',
];
const TEXT_004 = 'text/plain;version=0.0.4';
const OPENMETRICS = 'application/openmetrics-text;version=1.0.0';
const OTLP_TYPE: Readonly<Record<string, string>> = {
  counter: 'Sum',
  gauge: 'Gauge',
  histogram: 'Histogram',
  untyped: 'Gauge',
};
/** The receiver gives OpenMetrics units in UCUM, as OpenTelemetry writes them (every unit the profiles use). */
const UCUM: Readonly<Record<string, string>> = { '': '', seconds: 's', bytes: 'By', ratio: '1' };

type Protocol = 'negotiated' | 'PrometheusText0.0.4';

interface Run {
  collector: CollectorHandle<'prom'>;
  jm: Jobmeter;
  pulledFormat: WireFormat;
  pulled: SeriesTable;
  reexposed: SeriesTable;
  debug: string;
}

/** The body and the format the server chose (a legacy profile may answer OpenMetrics whatever is asked). */
async function getExposition(
  url: string,
  accept: string,
): Promise<{ text: string; format: WireFormat }> {
  const res = await fetch(url, { headers: { accept }, signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, `${url}: HTTP ${res.status}`);
  const format = res.headers.get('content-type')!.startsWith('application/openmetrics-text')
    ? 'openmetrics'
    : 'text';
  return { text: await res.text(), format };
}

/** Started pieces, stopped by `after` even when `before` failed half-way. */
const started: Array<{ stop(): Promise<void> }> = [];

async function scrapeThroughCollector(profile: ProfileName, protocol: Protocol): Promise<Run> {
  const jm = await createJobmeter({
    profile,
    serviceName: `${profile}-daemon`,
    listener: { port: 0 },
    processMetrics: false,
    hostname: 'host-1',
  });
  started.push({ stop: () => jm.shutdown() });
  runDemo(jm, profile);
  const target = `127.0.0.1:${jm.pullAddress!.port}`;
  const collector = await startCollector({
    ports: ['prom'],
    config: (p, dir) => ({
      receivers: {
        prometheus: {
          config: {
            scrape_configs: [
              {
                job_name: 'jobmeter',
                scrape_interval: '1s',
                ...(protocol !== 'negotiated' && { scrape_protocols: [protocol] }),
                static_configs: [{ targets: [target] }],
              },
            ],
          },
        },
      },
      exporters: {
        debug: {
          verbosity: 'detailed',
          use_internal_logger: false,
          output_paths: [join(dir, 'debug.txt')],
        },
        prometheus: {
          ...FILE_CONFIG.exporters.prometheus,
          endpoint: `127.0.0.1:${p.prom}`,
          ...(profile === 'otel' && { without_scope_info: false }),
        },
      },
      service: {
        pipelines: { metrics: { receivers: ['prometheus'], exporters: ['debug', 'prometheus'] } },
      },
    }),
  });
  started.push(collector);
  // The demo's values do not move: any complete scrape is the one to compare. The exporter writes
  // a scrape's block while the file is read, so the first block is whole once a second one begins.
  const debug = firstBlock(
    await collector.waitForOutput('debug.txt', (t) => firstBlock(t) !== undefined, 30_000),
  )!;
  const reexposed = await getExposition(
    `http://127.0.0.1:${collector.ports.prom}/metrics`,
    TEXT_004,
  );
  // What the receiver got: the format it asked for first, as the listener answers it.
  const pulled = await getExposition(
    `http://${target}/metrics`,
    protocol === 'negotiated' ? OPENMETRICS : TEXT_004,
  );
  return {
    collector,
    jm,
    debug,
    pulledFormat: pulled.format,
    pulled: seriesTable(pulled.text, { format: pulled.format, dropFamilies: ['target_info'] }),
    reexposed: seriesTable(reexposed.text, {
      format: reexposed.format,
      dropLabels: RECEIVER_LABELS,
      dropFamilies: RECEIVER_FAMILIES,
    }),
  };
}

/** The debug output's first block (`Metrics\t{…}` and what follows), once the next one has begun. */
function firstBlock(debug: string): string | undefined {
  const first = debug.indexOf('Metrics\t');
  const next = first < 0 ? -1 : debug.indexOf('\nMetrics\t', first);
  return next < 0 ? undefined : debug.slice(0, next + 1);
}

/** The debug exporter's `-> Name`/`-> Unit`/`-> DataType` per metric. */
function describedMetrics(
  debug: string,
): Map<string, { unit: string; type: string; monotonic: boolean | undefined }> {
  const out = new Map<string, { unit: string; type: string; monotonic: boolean | undefined }>();
  const re =
    /-> Name: (\S+)\n(?: +-> Description: .*\n)? +-> Unit: (.*)\n +-> DataType: (\w+)\n(?: +-> Metadata:\n(?: {10}-> .*\n)*)?(?: +-> IsMonotonic: (\w+)\n)?/g;
  for (const m of debug.matchAll(re))
    out.set(m[1]!, {
      unit: m[2]!,
      type: m[3]!,
      monotonic: m[4] === undefined ? undefined : m[4] === 'true',
    });
  return out;
}

for (const profile of PROFILES) {
  for (const protocol of ['negotiated', 'PrometheusText0.0.4'] as const) {
    describe(`the real Collector scrapes jobmeter: ${profile}, ${protocol}`, () => {
      let run: Run | undefined;
      before(async () => {
        run = await scrapeThroughCollector(profile, protocol);
      });
      after(async () => {
        await Promise.allSettled(started.splice(0).map((s) => s.stop()));
      });

      it('re-exposed, the series are the pull endpoint series', () => {
        const diff = diffSeries(run!.pulled, run!.reexposed);
        assert.deepEqual(
          diff,
          { onlyLeft: [], onlyRight: [], values: [], types: [] },
          JSON.stringify(diff, null, 2),
        );
        assert.ok(run!.pulled.values.size > 0);
      });

      it('the debug exporter shows every family with its type (and, from OpenMetrics, its unit)', () => {
        const described = describedMetrics(run!.debug);
        const wrong: string[] = [];
        for (const [family, unit] of run!.pulled.families) {
          // target_info becomes the resource's attributes, not a metric.
          if (family === 'target' || family === 'target_info') continue;
          const sample = [...run!.pulled.types.keys()].find(
            (n) => n === family || n.startsWith(`${family}_`),
          )!;
          const type = run!.pulled.types.get(sample)!;
          // An OpenMetrics counter family is named without the `_total` its samples carry.
          const got = described.get(family) ?? described.get(`${family}_total`);
          if (got === undefined) wrong.push(`${family}: not printed`);
          else if (got.type !== OTLP_TYPE[type])
            wrong.push(`${family}: ${type} printed as ${got.type}`);
          else if (type === 'counter' && got.monotonic !== true)
            wrong.push(`${family}: counter not monotonic`);
          else if (
            run!.pulledFormat === 'openmetrics' &&
            got.unit !== (UCUM[unit] ?? `(no UCUM form known for ${unit})`)
          ) {
            wrong.push(
              `${family}: unit ${JSON.stringify(unit)} printed as ${JSON.stringify(got.unit)}`,
            );
          }
        }
        assert.deepEqual(wrong, []);
      });
    });
  }
}
