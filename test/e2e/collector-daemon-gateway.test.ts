/**
 * The Go daemon → the generated gateway → Prometheus 3, as docs/collector-profiles.md and docs/fleet.md's
 * "Many daemons" describe for a Go or Rust fleet: test/peers/go-daemon records jobmeter's canonical
 * instruments with the OpenTelemetry Go SDK configured by `jobmeter views --profile P` (otelconf:
 * the profile's buckets and attribute allow-lists), reports its hosts and fleet as gauges, and
 * pushes every second to a real Collector running `jobmeter collector-config --profile P
 * --gateway …` (one Prometheus 3 over its OTLP receiver) or `--remote-write …` (another, over
 * remote write). A third Prometheus 3 scrapes an embedded jobmeter that recorded the same runs and
 * holds the same host records, under P.
 *
 * Per profile (solti and rm, the Go/Rust originals) and per path: the stored series are the same
 * (names, label sets without job/instance, values; `le` as a number), jobmeter's own build info
 * aside; and every alert and recording expression of rules/P.rules.yml gives the same result at
 * the same moment. The daemon records 0 for each alert severity at start, as the docs tell a
 * daemon to, so rm's zero-filled `rm_active_alerts` is stored on both sides.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadRules } from '../../scripts/dashboards/rules-file.ts';
import { collectorConfigCommand } from '../../src/cli/collector-config-command.ts';
import { viewsCommand } from '../../src/cli/views-command.ts';
import { ALERT_SEVERITIES } from '../../src/domain/catalog.ts';
import type { HostRecord } from '../../src/domain/snapshot.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import {
  GENERATED_PORTS,
  generatedPortFlags,
  startCollector,
  type CollectorHandle,
} from '../support/collector.ts';
import { goDaemonBinary } from '../support/peers.ts';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';
import { tempFiles } from '../support/temp-files.ts';
import { recordRuns, RUNS } from './collector-runs.ts';
import { queryAt, resultTable, storedSeries } from './collector-store-compare.ts';

const PROFILES = ['solti', 'rm'] as const;
type Profile = (typeof PROFILES)[number];
const PATHS = ['otlp', 'remote-write'] as const;
type Path = (typeof PATHS)[number];
const temp = tempFiles('jobmeter-collector-daemon-gateway-');

const ERRORS: Readonly<Record<Profile, readonly { runner: string; error: string }[]>> = {
  solti: [
    { runner: 'subprocess', error: 'spawn_failed' },
    { runner: 'wasm', error: 'module_load_failed' },
  ],
  rm: [],
};

const NOW = Math.floor(Date.now() / 1000);
/** rm's hosts: one healthy, one whose last backup failed two days ago, offline, its repository not initialised. */
const HOSTS: readonly HostRecord[] = [
  {
    id: 'h1',
    name: 'alpha',
    online: true,
    lastBackup: { timeSeconds: NOW - 3600, success: true },
    repoSizeBytes: 5e9,
    snapshotCount: 40,
    openAlerts: 0,
    repoStatus: 'ready',
  },
  {
    id: 'h2',
    name: 'beta',
    online: false,
    lastBackup: { timeSeconds: NOW - 48 * 3600, success: false },
    snapshotCount: 0,
    openAlerts: 2,
    repoStatus: 'init_failed',
  },
];
const ALERTS: Readonly<Record<string, number>> = { critical: 2 };

interface GaugePoint {
  name: string;
  value: number;
  attributes: Record<string, string>;
}

/** The same host records as the Go daemon reports them: the canonical instruments' names and attributes. */
function hostGauges(): GaugePoint[] {
  const out: GaugePoint[] = [
    { name: 'jobmeter.fleet.hosts', value: HOSTS.length, attributes: {} },
    {
      name: 'jobmeter.fleet.hosts.online',
      value: HOSTS.filter((h) => h.online).length,
      attributes: {},
    },
    // Every severity from the start, 0 where none is open: the zero-filled series the profile serves.
    ...ALERT_SEVERITIES.map((severity) => ({
      name: 'jobmeter.alert.open',
      value: ALERTS[severity] ?? 0,
      attributes: { severity },
    })),
  ];
  for (const h of HOSTS) {
    const host = { 'host.id': h.id, 'host.name': h.name };
    out.push({ name: 'jobmeter.host.agent.online', value: h.online ? 1 : 0, attributes: host });
    if (h.lastBackup !== undefined) {
      out.push({
        name: 'jobmeter.host.last_backup.time',
        value: h.lastBackup.timeSeconds,
        attributes: host,
      });
      out.push({
        name: 'jobmeter.host.last_backup.success',
        value: h.lastBackup.success ? 1 : 0,
        attributes: host,
      });
    }
    if (h.repoSizeBytes !== undefined)
      out.push({ name: 'jobmeter.host.repo.size', value: h.repoSizeBytes, attributes: host });
    out.push({ name: 'jobmeter.host.snapshots', value: h.snapshotCount, attributes: host });
    out.push({ name: 'jobmeter.host.alert.open', value: h.openAlerts, attributes: host });
    out.push({
      name: 'jobmeter.host.repo.status',
      value: 1,
      attributes: { ...host, status: h.repoStatus },
    });
  }
  return out;
}

const jobOf = (profile: Profile, path: Path): string => `${profile}-daemon-${path}`;

const meters: Jobmeter[] = [];
const collectors: CollectorHandle<'otlp'>[] = [];
const daemons: ChildProcess[] = [];
let scraping: PrometheusHandle | undefined;
const receiving = new Map<Path, PrometheusHandle>();

/** Starts the Go daemon pushing once a second; it runs until the test ends (or 10 minutes). */
async function startDaemon(
  profile: Profile,
  path: Path,
  configFile: string,
): Promise<ChildProcess> {
  const child = spawn(goDaemonBinary(), [], {
    env: { ...process.env, OTEL_SERVICE_NAME: jobOf(profile, path) },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('exit', (code, signal) => {
    if (signal === null && code !== 0)
      console.error(`go-daemon ${jobOf(profile, path)} exited ${code}: ${stderr}`);
  });
  child.stdin.end(
    JSON.stringify({
      config: configFile,
      service: jobOf(profile, path),
      runs: RUNS[profile],
      errors: ERRORS[profile],
      gauges: profile === 'rm' ? hostGauges() : [],
      pushes: 600,
    }),
  );
  return child;
}

before(async () => {
  const pulled = new Map<Profile, Jobmeter>();
  for (const profile of PROFILES) {
    const jm = await createJobmeter({
      profile,
      serviceName: profile,
      listener: { port: 0 },
      processMetrics: false,
      global: false,
    });
    meters.push(jm);
    pulled.set(profile, jm);
    recordRuns(jm, RUNS[profile]);
    for (const e of ERRORS[profile]) jm.runnerError(e.runner, e.error);
    if (profile === 'rm') jm.setSnapshotSource(() => ({ hosts: HOSTS, alerts: ALERTS }));
  }
  const otlpConfig = { otlp: { translation_strategy: 'UnderscoreEscapingWithoutSuffixes' } };
  const [s, viaOtlp, viaRemoteWrite] = await Promise.all([
    startPrometheus({
      major: 3,
      jobs: PROFILES.map((p) => ({
        name: p,
        target: `127.0.0.1:${pulled.get(p)!.pullAddress!.port}`,
      })),
      scrapeInterval: '1s',
    }),
    startPrometheus({
      major: 3,
      jobs: [],
      extraArgs: ['--web.enable-otlp-receiver'],
      extraConfig: otlpConfig,
    }),
    startPrometheus({ major: 3, jobs: [], extraArgs: ['--web.enable-remote-write-receiver'] }),
  ]);
  scraping = s;
  receiving.set('otlp', viaOtlp).set('remote-write', viaRemoteWrite);
  for (const profile of PROFILES) {
    for (const path of PATHS) {
      const store = receiving.get(path)!.url;
      const flags =
        path === 'otlp'
          ? ['--gateway', `${store}/api/v1/otlp`]
          : ['--remote-write', `${store}/api/v1/write`];
      const collector = await startCollector({
        ports: ['otlp', ...GENERATED_PORTS],
        config: async (p) =>
          parseYaml(
            await collectorConfigCommand([
              '--profile',
              profile,
              '--otlp',
              `127.0.0.1:${p.otlp}`,
              ...flags,
              ...generatedPortFlags(p),
            ]),
          ) as Record<string, unknown>,
      });
      collectors.push(collector);
      const views = await viewsCommand([
        '--profile',
        profile,
        '--otlp',
        `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
      ]);
      daemons.push(
        await startDaemon(profile, path, await temp.file(`${profile}-${path}-views.yaml`, views)),
      );
    }
  }
  await scraping.waitForTargetsUp(30_000);
  // Enough samples everywhere for every rate window to see two of them.
  for (const prom of [scraping, ...receiving.values()]) {
    await prom.waitFor(
      'count(count_over_time(solti_runner_tasks_started_total[1m]) >= 5)',
      (r) => r.length === 1,
      90_000,
    );
    await prom.waitFor(
      'count(count_over_time(rm_job_duration_seconds_count[1m]) >= 5)',
      (r) => r.length === 1,
      90_000,
    );
  }
});

after(async () => {
  for (const d of daemons) d.kill();
  await Promise.allSettled([
    scraping?.stop(),
    ...[...receiving.values()].map((p) => p.stop()),
    ...collectors.map((c) => c.stop()),
    ...meters.map((m) => m.shutdown()),
  ]);
});

for (const profile of PROFILES) {
  describe(`${profile}: the Go daemon with \`jobmeter views\` through the generated gateway`, () => {
    for (const path of PATHS) {
      it(`over ${path}, Prometheus 3 stores the series it scrapes from jobmeter`, async () => {
        const drop = new Set([`${profile}_build_info`]);
        const scraped = await storedSeries(scraping!, profile, drop);
        const pushed = await storedSeries(receiving.get(path)!, jobOf(profile, path), drop);
        const onlyScraped = [...scraped.keys()].filter((k) => !pushed.has(k));
        const onlyPushed = [...pushed.keys()].filter((k) => !scraped.has(k));
        const values = [...scraped]
          .filter(([k, v]) => pushed.has(k) && pushed.get(k) !== v)
          .map(([k, v]) => `${k}: ${v} != ${pushed.get(k)}`);
        assert.deepEqual(
          { onlyScraped, onlyPushed, values },
          { onlyScraped: [], onlyPushed: [], values: [] },
        );
        assert.ok(scraped.size > 0);
        if (profile === 'rm')
          assert.ok(
            pushed.has('rm_job_duration_seconds_bucket{kind="prune",le="86400",status="failed"}'),
            [...pushed.keys()].join('\n'),
          );
      });

      it(`over ${path}, every seed rule expression gives the result it gives over the pull`, async (t) => {
        const { alerts, recordings } = loadRules(profile);
        const exprs = [
          ...alerts.map((a) => [a.alert, a.expr] as const),
          ...recordings.map((r) => [r.record, r.expr] as const),
        ];
        const time = ((Date.now() - 1000) / 1000).toFixed(3);
        const differ: string[] = [];
        let nonEmpty = 0;
        for (const [name, expr] of exprs) {
          const [l, r] = (
            await Promise.all([
              queryAt(scraping!, expr, time),
              queryAt(receiving.get(path)!, expr, time),
            ])
          ).map(resultTable);
          if (l!.size > 0) nonEmpty++;
          if (l!.size !== r!.size || ![...l!].every(([k, v]) => r!.get(k) === v))
            differ.push(
              `${name}: pull ${JSON.stringify([...l!])} vs daemon ${JSON.stringify([...r!])}`,
            );
        }
        t.diagnostic(`${exprs.length} expressions, ${nonEmpty} with results`);
        assert.deepEqual(differ, []);
        // Not vacuous: alerts fire on these records (solti's errors; rm's failed backup, offline host, init_failed repository).
        assert.ok(
          nonEmpty >= (profile === 'rm' ? 4 : 2),
          `only ${nonEmpty} expressions returned anything`,
        );
      });
    }
  });
}
