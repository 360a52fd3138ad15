/**
 * The push path against the real Collector (the release pinned in test/peers/versions.env), for
 * every profile: jobmeter pushes its demo scenario with profile naming (what otel-collector.yaml's
 * header tells a user to set) to the Collector's otlp receiver, whose pipeline is the committed
 * otel-collector.yaml's: the `prometheus` exporter exactly as configured there (only its port
 * changed) and the `debug` exporter at `detailed`, written to a file.
 *
 * The claim under test is otel-collector.yaml's own: the Collector re-exposes the pull endpoint's
 * series — same names, types, label sets and values. What the exporter adds to every series (the
 * `job` label it derives from service.name) and its own `target_info` are the documented
 * differences (docs/collector.md, "What the Collector's prometheus exporter changes"); nothing else
 * may differ.
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
import { parseExposition, type WireFormat } from '../support/exposition-parser.ts';
import { diffSeries, seriesTable } from '../support/series-diff.ts';

const PROFILES: readonly ProfileName[] = ['otel', 'runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'];
const FILE_CONFIG = parseYaml(
  readFileSync(new URL('../../otel-collector.yaml', import.meta.url), 'utf8'),
) as {
  exporters: { prometheus: Record<string, unknown>; debug: Record<string, unknown> };
};
const PROMETHEUS_2_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
/** Labels the Collector's prometheus exporter puts on every series it serves (from the resource). */
const EXPORTER_LABELS = ['job', 'instance'];

interface Exposition {
  text: string;
  format: WireFormat;
}

/** What Prometheus 2.42 would get (it asks for OpenMetrics first); the profile decides. */
async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(url, {
    headers: { accept: PROMETHEUS_2_ACCEPT },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, `${url}: HTTP ${res.status}`);
  const format = res.headers.get('content-type')!.startsWith('application/openmetrics-text')
    ? 'openmetrics'
    : 'text';
  return { text: await res.text(), format };
}

interface Run {
  collector: CollectorHandle<'otlp' | 'prom'>;
  jm: Jobmeter;
  pulled: Exposition;
  reexposed: Exposition;
  debug: string;
}

async function pushThroughCollector(profile: ProfileName): Promise<Run> {
  const collector = await startCollector({
    ports: ['otlp', 'prom'],
    config: (p, dir) => ({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
      exporters: {
        debug: {
          ...FILE_CONFIG.exporters.debug,
          use_internal_logger: false,
          output_paths: [join(dir, 'debug.txt')],
        },
        // otel-collector.yaml: with the native profile, keep otel_scope_* as jobmeter's pull endpoint does.
        prometheus: {
          ...FILE_CONFIG.exporters.prometheus,
          endpoint: `127.0.0.1:${p.prom}`,
          ...(profile === 'otel' && { without_scope_info: false }),
        },
      },
      service: {
        pipelines: { metrics: { receivers: ['otlp'], exporters: ['debug', 'prometheus'] } },
      },
    }),
  });
  const jm = await createJobmeter({
    profile,
    serviceName: `${profile}-daemon`,
    listener: { port: 0 },
    processMetrics: false,
    hostname: 'host-1',
    otlp: {
      endpoint: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
      intervalMillis: 3_600_000,
      naming: 'profile',
    },
  });
  runDemo(jm, profile);
  await jm.forceFlush();
  const debug = await collector.waitForOutput('debug.txt', (t) => t.includes('Metric #'));
  const reexposed = await scrape(`http://127.0.0.1:${collector.ports.prom}/metrics`);
  const { host, port } = jm.pullAddress!;
  const pulled = await scrape(`http://${host}:${port}/metrics`);
  return { collector, jm, pulled, reexposed, debug };
}

for (const profile of PROFILES) {
  describe(`push through the real Collector: ${profile}`, () => {
    let run: Run | undefined;
    before(async () => {
      run = await pushThroughCollector(profile);
    });
    after(async () => {
      await run?.jm.shutdown();
      await run?.collector.stop();
    });

    it('the prometheus exporter serves exactly the pull endpoint series', () => {
      const pulled = seriesTable(run!.pulled.text, {
        format: run!.pulled.format,
        dropFamilies: ['target_info'],
      });
      const reexposed = seriesTable(run!.reexposed.text, {
        format: run!.reexposed.format,
        dropLabels: EXPORTER_LABELS,
        dropFamilies: ['target_info'],
      });
      const diff = diffSeries(pulled, reexposed);
      assert.deepEqual(
        diff,
        { onlyLeft: [], onlyRight: [], values: [], types: [] },
        `pull endpoint (left) vs Collector (right):\n${JSON.stringify(diff, null, 2)}\n--- pulled ---\n${run!.pulled.text}\n--- collector ---\n${run!.reexposed.text}`,
      );
      assert.ok(pulled.values.size > 0);
    });

    it('what the exporter adds: job from service.name on every series, no instance, no target_info', () => {
      const samples = parseExposition(run!.reexposed.text, 'text').filter(
        (l) => l.kind === 'sample',
      );
      assert.ok(samples.length > 0);
      const jobs = new Set(samples.map((s) => s.labels.find(([k]) => k === 'job')?.[1]));
      assert.deepEqual([...jobs], [`${profile}-daemon`]);
      assert.equal(samples.filter((s) => s.labels.some(([k]) => k === 'instance')).length, 0);
      // service.name is the resource's only attribute: it went into `job`, nothing is left for target_info.
      assert.equal(samples.filter((s) => s.name === 'target_info').length, 0);
    });

    it('the debug exporter shows every pushed metric by its profile name', () => {
      const names = [
        ...seriesTable(run!.reexposed.text, { dropFamilies: ['target_info'] }).families.keys(),
      ];
      const missing = names.filter((name) => !run!.debug.includes(`-> Name: ${name}\n`));
      assert.deepEqual(missing, [], 'metrics the debug exporter did not print');
      assert.ok(names.length > 0);
    });
  });
}
