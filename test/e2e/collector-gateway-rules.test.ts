/**
 * The seed rules (rules/<profile>.rules.yml) over the gateway path give what they give over
 * jobmeter's pull: one Prometheus 3 scrapes jobmeter's pull endpoint under the profile every second;
 * another receives, over its OTLP receiver, the same demo pushed every second as canonical
 * instruments through the Collector gateway of `jobmeter collector-config --gateway`. Every
 * alert and recording expression is evaluated on both at once and must return the same series
 * (labels without job/instance, values; NaN equal to NaN).
 *
 * Both stores hold constant values once the demo is recorded, so rate windows give the same
 * (zero) rates whatever the sample alignment, and both are asked about the same moment (`time()`
 * included). Every legacy profile, in one file run (one pair of Prometheus). No difference is
 * allowed: the series a profile fills in with 0 (wasmrun's rejected reasons nothing was rejected
 * for, rm's info alerts) are carried by the canonical push (naming/zero-fill-push.ts), so an
 * expression reading them has the same 0-valued results on both sides.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadRules } from '../../scripts/dashboards/rules-file.ts';
import { collectorConfigCommand } from '../../src/cli/collector-config-command.ts';
import { runDemo } from '../../src/demo/scenarios.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { ProfileName } from '../../src/options.ts';
import {
  GENERATED_PORTS,
  generatedPortFlags,
  startCollector,
  type CollectorHandle,
} from '../support/collector.ts';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';
import { queryAt, resultTable as table } from './collector-store-compare.ts';

const PROFILES = [
  'runwisp',
  'wasmrun',
  'crewshipd',
  'rm',
  'solti',
] as const satisfies readonly ProfileName[];
/** crewshipd's `hostname` label: the pull's from the option, the Collector's from the host.name jobmeter's push carries. */
const HOST = { hostname: 'host-1' } as const;

const meters: Jobmeter[] = [];
const collectors: CollectorHandle<'otlp'>[] = [];
let scraping: PrometheusHandle | undefined;
let receiving: PrometheusHandle | undefined;

before(async () => {
  const pulled = new Map<ProfileName, Jobmeter>();
  for (const profile of PROFILES) {
    const jm = await createJobmeter({
      profile,
      serviceName: profile,
      ...HOST,
      listener: { port: 0 },
      processMetrics: false,
      global: false,
    });
    meters.push(jm);
    pulled.set(profile, jm);
    runDemo(jm, profile);
  }
  [scraping, receiving] = await Promise.all([
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
      extraConfig: { otlp: { translation_strategy: 'UnderscoreEscapingWithoutSuffixes' } },
    }),
  ]);
  for (const profile of PROFILES) {
    const collector = await startCollector({
      ports: ['otlp', ...GENERATED_PORTS],
      config: async (p) =>
        parseYaml(
          await collectorConfigCommand([
            '--profile',
            profile,
            '--otlp',
            `127.0.0.1:${p.otlp}`,
            '--gateway',
            `${receiving!.url}/api/v1/otlp`,
            ...generatedPortFlags(p),
          ]),
        ) as Record<string, unknown>,
    });
    collectors.push(collector);
    const pusher = await createJobmeter({
      profile,
      serviceName: profile,
      ...HOST,
      listener: false,
      processMetrics: false,
      global: false,
      otlp: {
        endpoint: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
        intervalMillis: 1000,
        timeoutMillis: 1000,
        naming: 'canonical',
      },
    });
    meters.push(pusher);
    runDemo(pusher, profile);
  }
  await scraping.waitForTargetsUp(30_000);
  // Enough samples on both sides for every rate window to see two of them.
  for (const prom of [scraping, receiving]) {
    for (const profile of PROFILES) {
      // A family the push carries (the first the gateway delivered): `_over_time` drops names, so one at a time.
      const [first] = await receiving.waitFor(`{job="${profile}"}`, (r) => r.length > 0, 60_000);
      await prom.waitFor(
        `count(count_over_time({job="${profile}",__name__="${first!.metric['__name__']}"}[1m]) >= 5)`,
        (r) => r.length === 1,
        60_000,
      );
    }
  }
});

after(async () => {
  await Promise.allSettled([
    scraping?.stop(),
    receiving?.stop(),
    ...collectors.map((c) => c.stop()),
    ...meters.map((m) => m.shutdown()),
  ]);
});

for (const profile of PROFILES) {
  test(`${profile}: every seed rule expression gives the same result over the gateway as over the pull`, async (t) => {
    const { alerts, recordings } = loadRules(profile);
    const exprs = [
      ...alerts.map((a) => [a.alert, a.expr] as const),
      ...recordings.map((r) => [r.record, r.expr] as const),
    ];
    assert.ok(exprs.length > 0);
    const differ: string[] = [];
    let nonEmpty = 0;
    // A second ago: both stores have their samples up to then.
    const time = ((Date.now() - 1000) / 1000).toFixed(3);
    for (const [name, expr] of exprs) {
      const [left, right] = await Promise.all([
        queryAt(scraping!, expr, time),
        queryAt(receiving!, expr, time),
      ]);
      const [l, r] = [table(left), table(right)];
      if (l.size > 0) nonEmpty++;
      const same = l.size === r.size && [...r].every(([k, v]) => l.get(k) === v);
      if (!same)
        differ.push(`${name}: pull ${JSON.stringify([...l])} vs gateway ${JSON.stringify([...r])}`);
    }
    t.diagnostic(`${exprs.length} expressions, ${nonEmpty} with results`);
    assert.deepEqual(differ, []);
    // Not vacuous: some expressions have results.
    assert.ok(nonEmpty > 0, 'no rule expression returned anything');
  });
}
