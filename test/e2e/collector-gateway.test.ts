/**
 * `jobmeter collector-config --gateway URL` / `--remote-write URL` against the real Collector and
 * the pinned Prometheus 3: jobmeter's canonical push through the generated gateway (memory_limiter,
 * the profile's processors, batch) lands in Prometheus 3 — over its OTLP receiver and over remote
 * write — as the same series the same Prometheus stores from scraping jobmeter's pull endpoint
 * under the profile: names, label sets, values. Prometheus 3 takes OTLP names as given with
 * `otlp: translation_strategy: UnderscoreEscapingWithoutSuffixes` (docs/collector-profiles.md).
 *
 * Each path has its own jobmeter recording the same demo (its service name becomes the `job`
 * label), compared without `job`/`instance`, Prometheus' own scrape series and `target_info`, and
 * with `le` read as a number. The series the profile fills in with 0 are compared like any other:
 * the push carries them (naming/zero-fill-push.ts), whether or not the demo recorded their words.
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
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';
import { tempFiles } from '../support/temp-files.ts';
import { storedSeries } from './collector-store-compare.ts';

const ALL_LEGACY = [
  'runwisp',
  'wasmrun',
  'crewshipd',
  'rm',
  'solti',
] as const satisfies readonly ProfileName[];
const PROFILES = ALL_LEGACY;
const PATHS = ['otlp', 'remote-write'] as const;
type Path = (typeof PATHS)[number];

/** crewshipd's `hostname` label: the pull's from the option, the Collector's from the host.name jobmeter's push carries. */
const HOST = { hostname: 'host-1' } as const;

const temp = tempFiles('jobmeter-collector-gateway-');

const flagsOf = (path: Path, promUrl: string): string[] =>
  path === 'otlp'
    ? ['--gateway', `${promUrl}/api/v1/otlp`]
    : ['--remote-write', `${promUrl}/api/v1/write`];

describe('collector-config --gateway / --remote-write: otelcol validate accepts every generated gateway', () => {
  for (const profile of ALL_LEGACY) {
    it(profile, async () => {
      const text = await collectorConfigCommand([
        '--profile',
        profile,
        '--gateway',
        'http://127.0.0.1:9090/api/v1/otlp',
        '--remote-write',
        'http://127.0.0.1:9090/api/v1/write',
      ]);
      const config = parseYaml(text) as {
        service: { pipelines: { metrics: { processors: string[]; exporters: string[] } } };
      };
      const { processors, exporters } = config.service.pipelines.metrics;
      assert.equal(processors[0], 'memory_limiter');
      assert.equal(processors.at(-1), 'batch');
      assert.deepEqual(exporters, ['otlp_http', 'prometheus_remote_write']);
      const { code, output } = await validateCollectorConfig(
        await temp.file(`${profile}-gateway.yaml`, text),
      );
      assert.equal(code, 0, output);
    });
  }
});

const meters: Jobmeter[] = [];
const collectors: CollectorHandle<'otlp' | 'health' | 'telemetry'>[] = [];
let prom: PrometheusHandle | undefined;

before(async () => {
  const scraped = new Map<ProfileName, Jobmeter>();
  for (const profile of PROFILES) {
    const jm = await createJobmeter({
      profile,
      serviceName: `scrape-${profile}`,
      ...HOST,
      listener: { port: 0 },
      processMetrics: false,
      global: false,
    });
    meters.push(jm);
    scraped.set(profile, jm);
    runDemo(jm, profile);
  }
  prom = await startPrometheus({
    major: 3,
    extraArgs: ['--web.enable-otlp-receiver', '--web.enable-remote-write-receiver'],
    extraConfig: { otlp: { translation_strategy: 'UnderscoreEscapingWithoutSuffixes' } },
    jobs: PROFILES.map((profile) => ({
      name: `scrape-${profile}`,
      target: `127.0.0.1:${scraped.get(profile)!.pullAddress!.port}`,
    })),
    scrapeInterval: '1s',
  });
  await prom.waitForTargetsUp(30_000);
  for (const profile of PROFILES) {
    for (const path of PATHS) {
      const collector = await startCollector({
        ports: ['otlp', ...GENERATED_PORTS],
        config: async (p) =>
          parseYaml(
            await collectorConfigCommand([
              '--profile',
              profile,
              '--otlp',
              `127.0.0.1:${p.otlp}`,
              ...flagsOf(path, prom!.url),
              ...generatedPortFlags(p),
            ]),
          ) as Record<string, unknown>,
      });
      collectors.push(collector);
      const pusher = await createJobmeter({
        profile,
        serviceName: `${profile}-${path}`,
        ...HOST,
        listener: false,
        processMetrics: false,
        global: false,
        otlp: {
          endpoint: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
          intervalMillis: 3_600_000,
          naming: 'canonical',
        },
      });
      meters.push(pusher);
      runDemo(pusher, profile);
      await pusher.forceFlush();
    }
  }
});

after(async () => {
  await Promise.allSettled([
    prom?.stop(),
    ...collectors.map((c) => c.stop()),
    ...meters.map((m) => m.shutdown()),
  ]);
});

const stored = (job: string): Promise<Map<string, string>> => storedSeries(prom!, job);

describe("a generated gateway's own health and telemetry", () => {
  it('its health_check extension answers 200 on the address --health gave, on every gateway', async () => {
    assert.equal(collectors.length, PROFILES.length * PATHS.length);
    for (const collector of collectors) {
      const res = await fetch(`http://127.0.0.1:${collector.ports.health}/`, {
        signal: AbortSignal.timeout(10_000),
      });
      const body = await res.text();
      assert.equal(res.status, 200, body);
      assert.match(body, /Server available/);
    }
  });

  it("its service.telemetry serves the Collector's own metrics on the address --telemetry gave: accepted points counted", async () => {
    for (const collector of collectors) {
      const res = await fetch(`http://127.0.0.1:${collector.ports.telemetry}/metrics`, {
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      assert.equal(res.status, 200);
      const accepted = [
        ...text.matchAll(/^otelcol_receiver_accepted_metric_points(?:_total)?\{[^}]*\} (\S+)$/gm),
      ].map((m) => Number(m[1]));
      assert.ok(accepted.length > 0 && accepted.every((v) => v > 0), text.slice(0, 2000));
      assert.match(text, /^otelcol_process_uptime/m);
    }
  });
});

for (const profile of PROFILES) {
  for (const path of PATHS) {
    it(`${profile} over ${path}: Prometheus 3 stores the scraped series from the gateway`, async (t) => {
      const scraped = await stored(`scrape-${profile}`);
      await prom!.waitFor(`count({job="${profile}-${path}"})`, (r) => r.length === 1, 20_000);
      const pushed = await stored(`${profile}-${path}`);
      const onlyScraped = [...scraped.keys()].filter((k) => !pushed.has(k));
      const onlyPushed = [...pushed.keys()].filter((k) => !scraped.has(k));
      const values = [...scraped]
        .filter(([k, v]) => pushed.has(k) && pushed.get(k) !== v)
        .map(([k, v]) => `${k}: ${v} != ${pushed.get(k)}`);
      const zeros = [...pushed]
        .filter(([k, v]) => v === '0' && !k.includes('_bucket'))
        .map(([k]) => k);
      t.diagnostic(
        `${pushed.size} series the same; at 0 (buckets aside): ${zeros.join(' ') || '(none)'}`,
      );
      assert.deepEqual(
        { onlyScraped, onlyPushed, values },
        { onlyScraped: [], onlyPushed: [], values: [] },
      );
      assert.ok(pushed.size > 0 && pushed.size === scraped.size);
    });
  }
}
