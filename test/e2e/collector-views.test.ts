/**
 * `jobmeter views --profile P` with the official OpenTelemetry SDKs' declarative configuration —
 * the Node SDK (OTEL_CONFIG_FILE, @opentelemetry/sdk-node's startNodeSdk: otel-config-daemon.ts)
 * and the Go SDK (go.opentelemetry.io/contrib/otelconf: test/peers/go-daemon with `config`): a
 * daemon that records the canonical instruments with no bucket advice and extra attributes
 * gets the profile's buckets and allow-lists from the file's views, pushes to the real Collector
 * running `jobmeter collector-config --profile P`, and the Collector serves the series an
 * embedded jobmeter recording the same runs serves under P — rm's buckets (1 s … 24 h, not the
 * SDK's default) included. rm and solti with both SDKs; runwisp and wasmrun (history, last failure,
 * wasmrun's millisecond sum and count) with the Go daemon, which records those instruments;
 * solti with the Node SDK again, its runs saying when they were enqueued or due and which attempt
 * they are, under the host's rules of a --config file (queue wait, lateness, attempts); and
 * crewshipd with the Go daemon observing its records (statuses, queue, journal events, LLM ledger,
 * containers, migration version, connections: CREWSHIPD_RECORDS) with the host name in its resource
 * (OTEL_RESOURCE_ATTRIBUTES), as the embedded jobmeter reports them in its snapshot.
 *
 * Compared as test/e2e/collector-profiles.test.ts does; families the daemon records nothing for
 * (jobmeter's own build info, zero-filled series) are left out only where jobmeter's value is 0 or
 * the family is jobmeter's own.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { viewsCommand } from '../../src/cli/views-command.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { ProfileName } from '../../src/options.ts';
import {
  GENERATED_PORTS,
  generatedCollectorConfig,
  startCollector,
  startPrometheusCollector,
  type CollectorHandle,
} from '../support/collector.ts';
import { goDaemonBinary } from '../support/peers.ts';
import { diffSeries, seriesTable } from '../support/series-diff.ts';
import { tempFiles } from '../support/temp-files.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { loadConfigFile } from '../../src/config/file-parser.ts';
import { CREWSHIPD_RECORDS, QUEUED_RUNS, recordRuns, RUNS, type Run } from './collector-runs.ts';

const DAEMON = fileURLToPath(new URL('./otel-config-daemon.ts', import.meta.url));
const EXPORTER_LABELS = ['job', 'instance'];
const temp = tempFiles('jobmeter-collector-views-');

type Sdk = 'node' | 'go';
/** The last failure a daemon has on record (runwisp serves it): the Go daemon reports it, jobmeter's snapshot holds it. */
const LAST_FAILURE_SECONDS = 1_795_000_000;
/** crewshipd's `hostname` label: jobmeter's from its option, the Collector's from the daemon's resource. */
const HOST = 'host-1';

/** Runs the daemon of `sdk` with the configuration file; it exports once and exits. crewshipd's daemon observes its records. */
async function runDaemon(
  sdk: Sdk,
  configFile: string,
  profile: ProfileName & keyof typeof RUNS,
  runs: readonly Run[] = RUNS[profile],
): Promise<void> {
  const records =
    profile === 'crewshipd'
      ? { gauges: CREWSHIPD_RECORDS.gauges, counters: CREWSHIPD_RECORDS.counters }
      : {};
  const [command, args, stdin] =
    sdk === 'node'
      ? [process.execPath, [DAEMON], JSON.stringify(runs)]
      : [
          goDaemonBinary(),
          [],
          JSON.stringify({
            config: configFile,
            service: 'views-daemon',
            runs,
            lastFailureSeconds: LAST_FAILURE_SECONDS,
            ...records,
          }),
        ];
  const env = {
    ...process.env,
    OTEL_CONFIG_FILE: configFile,
    OTEL_SERVICE_NAME: 'views-daemon',
    OTEL_RESOURCE_ATTRIBUTES: `host.name=${HOST}`,
  };
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `${sdk} daemon exited ${code}:\n${stderr}`);
  assert.doesNotMatch(stderr, /Could not load OpenTelemetry configuration|error/i, stderr);
}

/** A host's own rules for the queue wait, lateness and attempts under solti (both commands' --config). */
const QUEUE_RULES_FILE = fileURLToPath(
  new URL('../fixtures/solti-queue-rules.toml', import.meta.url),
);

for (const [profile, sdk, queued] of [
  ['rm', 'node', false],
  ['solti', 'node', false],
  ['rm', 'go', false],
  ['solti', 'go', false],
  ['runwisp', 'go', false],
  ['wasmrun', 'go', false],
  ['crewshipd', 'go', false],
  // The measures of a run before it ran, through the host's rules: the views give the SDK the
  // second-scale buckets and allow-lists of the two histograms and the attempts.
  ['solti', 'node', true],
] as const satisfies readonly (readonly [ProfileName, Sdk, boolean])[]) {
  const own = queued ? ['--config', QUEUE_RULES_FILE] : [];
  const runs = queued ? QUEUED_RUNS : RUNS[profile];
  describe(`jobmeter views + collector-config with the ${sdk} SDK's declarative configuration: ${profile}${queued ? ' with the queue rules of --config' : ''}`, () => {
    let collector: CollectorHandle<'otlp' | 'prom'> | undefined;
    let jm: Jobmeter | undefined;
    let pulled = '';
    let pulledFormat: 'text' | 'openmetrics' = 'text';
    let reexposed = '';

    before(async () => {
      collector = await startCollector({
        ports: ['otlp', 'prom', ...GENERATED_PORTS],
        config: (p) => generatedCollectorConfig(profile, p, own),
      });
      const configFile = await temp.file(
        `${profile}-${sdk}-views.yaml`,
        await viewsCommand([
          '--profile',
          profile,
          '--otlp',
          `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
          ...own,
        ]),
      );
      await runDaemon(sdk, configFile, profile, runs);
      const rules = queued
        ? parseServiceConfig(await loadConfigFile(QUEUE_RULES_FILE), QUEUE_RULES_FILE).profileRules
        : undefined;
      jm = await createJobmeter({
        profile: rules === undefined ? profile : { name: profile, rules },
        listener: { port: 0 },
        processMetrics: false,
        global: false,
        hostname: HOST,
      });
      if (profile === 'runwisp')
        jm.setSnapshotSource(() => ({ lastFailureSeconds: LAST_FAILURE_SECONDS }));
      if (profile === 'crewshipd') jm.setSnapshotSource(() => CREWSHIPD_RECORDS.snapshot);
      recordRuns(jm, runs);
      const res = await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
        headers: { accept: 'text/plain;version=0.0.4' },
      });
      // runwisp's endpoint serves OpenMetrics whatever is asked, as the original does.
      pulledFormat = res.headers.get('content-type')!.startsWith('application/openmetrics-text')
        ? 'openmetrics'
        : 'text';
      pulled = await res.text();
      for (let i = 0; i < 100; i++) {
        reexposed = await (await fetch(`http://127.0.0.1:${collector.ports.prom}/metrics`)).text();
        if (reexposed.includes(`${profile === 'rm' ? 'rm_job' : profile}_`)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    after(async () => {
      await jm?.shutdown();
      await collector?.stop();
    });

    it('the Collector serves what jobmeter serves for the same runs, buckets included', (t) => {
      const drop = ['target_info', `${profile}_build_info`];
      const left = seriesTable(pulled, { format: pulledFormat, dropFamilies: drop });
      const right = seriesTable(reexposed, { dropLabels: EXPORTER_LABELS, dropFamilies: drop });
      const diff = diffSeries(left, right);
      const zero = diff.onlyLeft.filter((k) => left.values.get(k) === 0);
      assert.deepEqual(
        { ...diff, onlyLeft: diff.onlyLeft.filter((k) => !zero.includes(k)) },
        { onlyLeft: [], onlyRight: [], values: [], types: [] },
        `jobmeter (left) vs Collector (right):\n${JSON.stringify(diff, null, 2)}\n--- jobmeter ---\n${pulled}\n--- collector ---\n${reexposed}`,
      );
      t.diagnostic(
        `${right.values.size} series the same; jobmeter's zeros the daemon never recorded: ${zero.join(' ') || '(none)'}`,
      );
      if (profile === 'rm' || profile === 'solti')
        assert.match(reexposed, /_duration_seconds_bucket\{/);
      if (profile === 'rm')
        assert.match(reexposed, /rm_job_duration_seconds_bucket\{[^}]*le="86400"/);
      // The waits in the catalog's 1 ms … 6 h buckets (the SDK's default ends at 10000), the
      // attempts under their rule's name.
      if (queued) {
        assert.match(reexposed, /^solti_runner_task_queue_wait_seconds_bucket\{[^}]*le="21600"/m);
        assert.match(
          reexposed,
          /^solti_runner_task_schedule_lateness_seconds_bucket\{(?=[^}]*runner="wasm")(?=[^}]*le="900")[^}]*\} 1$/m,
        );
        assert.match(reexposed, /^solti_runner_task_attempts_total\{[^}]*attempt="4\+"/m);
      }
      // crewshipd: the daemon's two models of one provider summed, under the host name of its resource.
      if (profile === 'crewshipd')
        assert.match(
          reexposed,
          /^crewshipd_llm_calls_total\{(?=[^}]*provider="anthropic")(?=[^}]*hostname="host-1")[^}]*\} 30$/m,
        );
    });
  });
}

/** The families of the runs' instruments under the native names (what the two sides both record). */
const NATIVE_RUN_FAMILIES = [
  'jobmeter_run_started_total',
  'jobmeter_run_finished_total',
  'jobmeter_run_duration_seconds',
  'jobmeter_queue_wait_seconds',
  'jobmeter_schedule_lateness_seconds',
  'jobmeter_run_attempts_total',
];

// The native profile needs no compiling: a Collector with the prometheus exporter's own naming
// (units and `_total` as suffixes) serves jobmeter's names. The sender still needs the catalog's
// buckets and allow-lists, which `views --profile otel` gives it.
describe("jobmeter views --profile otel with the node SDK's declarative configuration: the native names through a Collector that renames nothing", () => {
  let collector: CollectorHandle<'otlp' | 'prom'> | undefined;
  let jm: Jobmeter | undefined;
  let pulled = '';
  let reexposed = '';

  before(async () => {
    collector = await startPrometheusCollector();
    const configFile = await temp.file(
      'otel-node-views.yaml',
      await viewsCommand([
        '--profile',
        'otel',
        '--otlp',
        `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
      ]),
    );
    await runDaemon('node', configFile, 'solti', QUEUED_RUNS);
    jm = await createJobmeter({ listener: { port: 0 }, processMetrics: false, global: false });
    recordRuns(jm, QUEUED_RUNS);
    pulled = await (
      await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
        headers: { accept: 'text/plain;version=0.0.4' },
      })
    ).text();
    for (let i = 0; i < 100; i++) {
      reexposed = await (await fetch(`http://127.0.0.1:${collector.ports.prom}/metrics`)).text();
      if (reexposed.includes('jobmeter_run_attempts_total')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await jm?.shutdown();
    await collector?.stop();
  });

  it("the Collector serves jobmeter's native series for the same runs: the catalog's buckets, the attributes it keeps", () => {
    // The scope is each sender's own; job and instance are the exporter's.
    const labels = [
      'job',
      'instance',
      'otel_scope_name',
      'otel_scope_version',
      'otel_scope_schema_url',
    ];
    const others = (text: string): string[] =>
      [...seriesTable(text).families.keys()].filter((f) => !NATIVE_RUN_FAMILIES.includes(f));
    const left = seriesTable(pulled, { dropLabels: labels, dropFamilies: others(pulled) });
    const right = seriesTable(reexposed, { dropLabels: labels, dropFamilies: others(reexposed) });
    assert.deepEqual([...right.families.keys()].sort(), [...NATIVE_RUN_FAMILIES].sort(), reexposed);
    assert.deepEqual(
      diffSeries(left, right),
      { onlyLeft: [], onlyRight: [], values: [], types: [] },
      `jobmeter (left) vs Collector (right)\n--- jobmeter ---\n${pulled}\n--- collector ---\n${reexposed}`,
    );
    assert.match(reexposed, /^jobmeter_queue_wait_seconds_bucket\{[^}]*le="0\.5"[^}]*\} 1$/m);
  });
});
