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
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { collectorConfigCommand } from '../../src/cli/collector-config-command.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { loadConfigFile } from '../../src/config/file-parser.ts';
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
async function generate(
  profile: string,
  otlp = '127.0.0.1:4318',
  prometheus = '127.0.0.1:9464',
  own: readonly string[] = [],
): Promise<Generated> {
  const text = await collectorConfigCommand([
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
        await temp.file(`${profile}.yaml`, (await generate(profile)).text),
      );
      assert.equal(code, 0, output);
    });
  }

  it('solti with the queue rules of --config', async () => {
    const { code, output } = await validateCollectorConfig(
      await temp.file(
        'solti-queue.yaml',
        (await generate('solti', undefined, undefined, ['--config', QUEUE_RULES_FILE])).text,
      ),
    );
    assert.equal(code, 0, output);
  });

  it('a broken statement fails validation (the check has teeth)', async () => {
    const text = (await generate('solti')).text.replace(
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

/** A host's own rules for the measures of a run before it ran (the file serve would read). */
const OLDEST_AGE = 'solti_runner_queue_oldest_age_seconds';
const QUEUE_RULES_FILE = fileURLToPath(
  new URL('../fixtures/solti-queue-rules.toml', import.meta.url),
);

/**
 * What a run says before it ran, through the domain API: runs that waited, were due, were
 * retried (one past the third: `4+`), a missed schedule, and a queue source's oldest waiting job.
 */
async function recordBeforeTheRuns(jm: Jobmeter): Promise<void> {
  const now = Date.now();
  const attrs = { task: 't1', runner: 'subprocess' };
  jm.recordRun({
    ...attrs,
    outcome: 'success',
    durationSeconds: 1,
    startedAt: now - 1000,
    enqueuedAt: now - 4000,
    attempt: 1,
  });
  jm.recordRun({
    ...attrs,
    runner: 'wasm',
    outcome: 'cancelled',
    durationSeconds: 2,
    startedAt: now - 2000,
    enqueuedAt: now - 2500,
    scheduledAt: now - 3000,
    attempt: 2,
  });
  jm.recordRun({
    ...attrs,
    outcome: 'failure',
    durationSeconds: 1,
    startedAt: now - 1000,
    scheduledAt: now - 700_000,
    attempt: 6,
  });
  jm.missedSchedule(attrs);
  let read!: () => void;
  const wasRead = new Promise<void>((resolve) => (read = resolve));
  jm.addQueueSource(() => {
    read();
    return { default: now - 90_000, bulk: undefined };
  });
  await wasRead;
}

async function pushThroughGeneratedCollector(
  profile: ProfileName,
  started: Started,
  withQueueRules = false,
): Promise<Run> {
  let generated: Generated | undefined;
  const collector = await startCollector({
    ports: ['otlp', 'prom', ...GENERATED_PORTS],
    config: async (p) => {
      generated = await generate(profile, `127.0.0.1:${p.otlp}`, `127.0.0.1:${p.prom}`, [
        ...generatedPortFlags(p),
        ...(withQueueRules ? ['--config', QUEUE_RULES_FILE] : []),
      ]);
      return generated.config;
    },
  });
  started.collector = collector;
  const rules = withQueueRules
    ? parseServiceConfig(await loadConfigFile(QUEUE_RULES_FILE), QUEUE_RULES_FILE).profileRules
    : undefined;
  const jm = await createJobmeter({
    profile: rules === undefined ? profile : { name: profile, rules },
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
  if (withQueueRules) await recordBeforeTheRuns(jm);
  await jm.forceFlush();
  const { host, port } = jm.pullAddress!;
  const pulled = await scrape(`http://${host}:${port}/metrics`);
  const served = [...seriesTable(pulled.text, { format: pulled.format }).families.keys()].filter(
    (f) => !generated!.notReproduced.includes(f),
  );
  const reexposed = await reexposedOnce(`http://127.0.0.1:${collector.ports.prom}/metrics`, served);
  return { generated: generated!, pulled, reexposed };
}

const CASES = [
  ...PROFILES.map((profile) => ({ profile, withQueueRules: false, title: profile })),
  // The measures a legacy original never had, through a host's own rules (--config): the
  // histograms' second-scale buckets, the attempt's closed set, the rules' names.
  {
    profile: 'solti' as const,
    withQueueRules: true,
    title: 'solti with the queue rules of --config',
  },
];

for (const { profile, withQueueRules, title } of CASES) {
  describe(`collector-config through the real Collector: ${title}`, () => {
    let run: Run | undefined;
    const started: Started = {};
    before(async () => {
      run = await pushThroughGeneratedCollector(profile, started, withQueueRules);
    });
    after(async () => {
      await started.jm?.shutdown();
      await started.collector?.stop();
    });

    it('the prometheus exporter serves the pull endpoint series, zero fills included, but for the listed families', (t) => {
      const { generated } = run!;
      // No target_info either: the original serves none, and the generated configuration leaves the
      // resource none to describe.
      // The oldest job's age is taken at each collection: the push's and the scrape's moments
      // differ, so its values are compared apart (the queue-rules test below).
      const drop = [...generated.notReproduced, ...(withQueueRules ? [OLDEST_AGE] : [])];
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

    if (withQueueRules) {
      it("the host's rules come through: the waits in second-scale buckets, the attempts in their closed set, the oldest job's age", () => {
        const text = run!.reexposed.text;
        const line = (re: RegExp): string | undefined =>
          text.split('\n').find((l) => re.test(l) && !l.startsWith('#'));
        // 3 s and 0.5 s: in the second-scale buckets, not the SDK's millisecond-scale default.
        assert.match(
          line(
            /^solti_runner_task_queue_wait_seconds_bucket\{(?=.*le="5")(?=.*runner="subprocess")/,
          ) ?? '',
          / 1$/,
          text,
        );
        assert.ok(line(/^solti_runner_task_queue_wait_seconds_bucket\{.*le="21600"/), text);
        // 700 s late: past 300, within 900.
        for (const [le, count] of [
          ['300', 0],
          ['900', 1],
        ] as const) {
          const bucket = new RegExp(
            `^solti_runner_task_schedule_lateness_seconds_bucket\\{(?=.*le="${le}")(?=.*runner="subprocess")`,
          );
          assert.match(line(bucket) ?? '', new RegExp(` ${count}$`), text);
        }
        assert.ok(
          line(/^solti_runner_task_attempts_total\{attempt="4\+".*outcome="failure"/),
          text,
        );
        assert.ok(line(/^solti_runner_task_attempts_total\{attempt="2".*outcome="canceled"/), text);
        assert.match(line(/^solti_runner_schedules_missed_total\{/) ?? '', / 1$/, text);
        // The same age as the pull's, but for the time between the push and the scrape.
        const ages = (t: string): Map<string, number> =>
          new Map(
            [...t.matchAll(new RegExp(`^${OLDEST_AGE}\\{.*queue="(\\w+)".*\\} (\\S+)$`, 'gm'))].map(
              (m) => [m[1]!, Number(m[2])],
            ),
          );
        const [pulled, reexposed] = [ages(run!.pulled.text), ages(text)];
        assert.deepEqual([...reexposed.keys()].sort(), ['bulk', 'default'], text);
        assert.equal(reexposed.get('bulk'), 0);
        assert.equal(pulled.get('bulk'), 0);
        const age = reexposed.get('default')!;
        assert.ok(age >= 90 && Math.abs(age - pulled.get('default')!) < 5, `${age}\n${text}`);
      });
    }

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
