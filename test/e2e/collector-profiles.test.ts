/**
 * `jobmeter collector-config --profile P` against the real Collector (the release pinned in
 * test/peers/versions.env), for every legacy profile: `otelcol validate` accepts the generated
 * configuration, and jobmeter's canonical push (OTLP/HTTP, the OpenTelemetry instrument names)
 * through the Collector running it comes out of the Collector's prometheus exporter as the series
 * jobmeter's own pull endpoint serves under P at the same moment: names, types, label sets and
 * values, the series P fills in with 0 included (the push carries them: naming/zero-fill-push.ts).
 *
 * The documented differences, and nothing else: the `job` and `instance` labels the exporter derives
 * from service.name and service.instance.id; the families the header lists as not reproduced.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { collectorConfigCommand } from '../../src/cli/collector-config-command.ts';
import { runDemo } from '../../src/demo/scenarios.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { ProfileName } from '../../src/options.ts';
import {
  GENERATED_PORTS,
  generatedPortFlags,
  startCollector,
  validateCollectorConfig,
  type CollectorHandle,
} from '../support/collector.ts';
import type { WireFormat } from '../support/exposition-parser.ts';
import { diffSeries, seriesTable } from '../support/series-diff.ts';
import { tempFiles } from '../support/temp-files.ts';

const PROFILES = [
  'solti',
  'runwisp',
  'wasmrun',
  'crewshipd',
  'rm',
] as const satisfies readonly ProfileName[];
/** What the Collector's prometheus exporter adds to every series (from the resource). */
const EXPORTER_LABELS = ['job', 'instance'];
const HOST = 'host-1';
const INSTANCE = 'daemon-1';

const temp = tempFiles('jobmeter-collector-profiles-');

interface Generated {
  text: string;
  config: Record<string, unknown>;
  notReproduced: string[];
}

/** The command's output, and the two lists its header gives. */
function generate(
  profile: string,
  otlp = '127.0.0.1:4318',
  prometheus = '127.0.0.1:9464',
  own: readonly string[] = [],
): Generated {
  const text = collectorConfigCommand([
    '--profile',
    profile,
    '--otlp',
    otlp,
    '--prometheus',
    prometheus,
    ...own,
  ]);
  const list = (prefix: string): string[] => {
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    const rest = line?.slice(prefix.length).trim() ?? '';
    return rest === '' || rest === '(none)' ? [] : rest.split(', ');
  };
  return {
    text,
    config: parseYaml(text) as Record<string, unknown>,
    notReproduced: list('# not reproduced by the Collector:'),
  };
}

interface Exposition {
  text: string;
  format: WireFormat;
}

/** Asks for text 0.0.4; a profile whose original serves OpenMetrics whatever is asked (runwisp) gets that. */
async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(url, {
    headers: { accept: 'text/plain;version=0.0.4' },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, `${url}: HTTP ${res.status}`);
  const format = (res.headers.get('content-type') ?? '').startsWith('application/openmetrics-text')
    ? 'openmetrics'
    : 'text';
  return { text: await res.text(), format };
}

describe('collector-config: otelcol validate accepts every generated configuration', () => {
  for (const profile of PROFILES) {
    it(profile, async () => {
      const { code, output } = await validateCollectorConfig(
        await temp.file(`${profile}.yaml`, generate(profile).text),
      );
      assert.equal(code, 0, output);
    });
  }

  it('a broken statement fails validation (the check has teeth)', async () => {
    const text = generate('solti').text.replace(
      'aggregate_on_attributes("sum"',
      'aggregate_on_attributes("no_such_function"',
    );
    const { code } = await validateCollectorConfig(await temp.file('bad.yaml', text));
    assert.notEqual(code, 0);
  });
});

interface Run {
  generated: Generated;
  pulled: Exposition;
  reexposed: Exposition;
}

/** Polls the exporter until every family the pull endpoint serves (less the listed ones) is there. */
async function reexposedOnce(url: string, expected: readonly string[]): Promise<Exposition> {
  let exposition: Exposition | undefined;
  for (let i = 0; i < 100; i++) {
    exposition = await scrape(url);
    const families = seriesTable(exposition.text, { format: exposition.format }).families;
    // OpenMetrics names a counter's family without `_total` (runwisp's pull); the exporter's text keeps it.
    if (expected.every((name) => families.has(name) || families.has(`${name}_total`)))
      return exposition;
    await new Promise((r) => setTimeout(r, 100));
  }
  return exposition!;
}

/** What a test started, for its `after` to stop even when `before` failed halfway. */
interface Started {
  collector?: CollectorHandle<'otlp' | 'prom' | 'health' | 'telemetry'>;
  jm?: Jobmeter;
}

async function pushThroughGeneratedCollector(profile: ProfileName, started: Started): Promise<Run> {
  let generated: Generated | undefined;
  const collector = await startCollector({
    ports: ['otlp', 'prom', ...GENERATED_PORTS],
    config: (p) => {
      generated = generate(
        profile,
        `127.0.0.1:${p.otlp}`,
        `127.0.0.1:${p.prom}`,
        generatedPortFlags(p),
      );
      return generated.config;
    },
  });
  started.collector = collector;
  const jm = await createJobmeter({
    profile,
    serviceName: `${profile}-daemon`,
    // With service.instance.id the exporter would describe the resource in a target_info.
    resourceAttributes: { 'service.instance.id': INSTANCE },
    listener: { port: 0 },
    processMetrics: false,
    // crewshipd's `hostname` label: the Collector reads it from the host.name jobmeter's push carries
    // (not the Collector's own host's: its detection never overrides the sender's).
    hostname: HOST,
    otlp: {
      endpoint: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
      intervalMillis: 3_600_000,
      naming: 'canonical',
    },
  });
  started.jm = jm;
  runDemo(jm, profile);
  await jm.forceFlush();
  const { host, port } = jm.pullAddress!;
  const pulled = await scrape(`http://${host}:${port}/metrics`);
  const served = [...seriesTable(pulled.text, { format: pulled.format }).families.keys()].filter(
    (f) => !generated!.notReproduced.includes(f),
  );
  const reexposed = await reexposedOnce(`http://127.0.0.1:${collector.ports.prom}/metrics`, served);
  return { generated: generated!, pulled, reexposed };
}

for (const profile of PROFILES) {
  describe(`collector-config through the real Collector: ${profile}`, () => {
    let run: Run | undefined;
    const started: Started = {};
    before(async () => {
      run = await pushThroughGeneratedCollector(profile, started);
    });
    after(async () => {
      await started.jm?.shutdown();
      await started.collector?.stop();
    });

    it('the prometheus exporter serves the pull endpoint series, zero fills included, but for the listed families', (t) => {
      const { generated } = run!;
      // No target_info either: the original serves none, and the generated configuration leaves the
      // resource none to describe.
      const drop = [...generated.notReproduced];
      const pulled = seriesTable(run!.pulled.text, {
        format: run!.pulled.format,
        dropFamilies: drop,
      });
      const reexposed = seriesTable(run!.reexposed.text, {
        format: run!.reexposed.format,
        dropLabels: EXPORTER_LABELS,
        dropFamilies: drop,
      });
      const diff = diffSeries(pulled, reexposed);
      const report = `pull endpoint (left) vs Collector (right):\n${JSON.stringify(diff, null, 2)}\n--- pulled ---\n${run!.pulled.text}\n--- collector ---\n${run!.reexposed.text}`;
      assert.deepEqual(diff, { onlyLeft: [], onlyRight: [], values: [], types: [] }, report);
      const zeros = [...reexposed.values]
        .filter(([k, v]) => v === 0 && !(JSON.parse(k) as [string])[0].endsWith('_bucket'))
        .map(([k]) => k);
      t.diagnostic(
        `${reexposed.values.size} series the same; at 0 (buckets aside): ${zeros.join(' ') || 'none'}`,
      );
      // The exporter's `instance` label is still the sender's service.instance.id, on every series.
      const instances = new Set(
        [...run!.reexposed.text.matchAll(/^[a-z_]\w*\{[^}]*\binstance="([^"]*)"/gm)].map(
          (m) => m[1],
        ),
      );
      assert.deepEqual([...instances], [INSTANCE], report);
      // The comparison is not vacuous: the pull endpoint's series came through.
      assert.ok(reexposed.values.size > 0 && reexposed.values.size === pulled.values.size, report);
    });

    it('HELP comes through as each family description', () => {
      // OpenMetrics names a counter's family without `_total`; the Collector's text keeps it.
      const help = ({ text, format }: Exposition): Map<string, string> =>
        new Map(
          [...text.matchAll(/^# HELP (\S+) (.*)$/gm)].map((m) => [
            format === 'openmetrics' ? m[1]!.replace(/_total$/, '') : m[1]!,
            m[2]!,
          ]),
        );
      const pulled = help(run!.pulled);
      const reexposed = new Map(
        [...help(run!.reexposed)].map(([family, text]) => [
          pulled.has(family) ? family : family.replace(/_total$/, ''),
          text,
        ]),
      );
      const compared = [...reexposed].filter(([family]) => pulled.has(family));
      for (const [family, text] of compared) assert.equal(text, pulled.get(family), family);
      assert.equal(
        compared.length,
        reexposed.size,
        `families the pull endpoint has no HELP for: ${[...reexposed.keys()].filter((f) => !pulled.has(f)).join(',')}`,
      );
    });
  });
}
