/**
 * docs/fleet.md "Push to Prometheus 3", followed for the `otel` profile: the pinned Prometheus 3
 * started with the recipe's `otlp:` block and `--web.enable-otlp-receiver`, and a jobmeter on the
 * otel profile pushing to it with the recipe's jobmeter.toml (its `[otlp]` keys and its
 * `[resource_attributes]`), recording the live demo. Nothing scrapes it: what the otel dashboard
 * shows is what the push stored.
 *
 * Asserted: the dashboard's Job and Instance pickers list the pushing service and its one
 * instance, and every panel that has data for the scraped demo (test/dashboards/queries.test.ts:
 * not `emptyFor` it) has data here too, its queries interpolated and sent as Grafana does. A
 * recipe that stores the canonical names without their suffixes (`jobmeter_run_finished`), or no
 * `instance`, leaves the pickers and those panels empty.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';

import {
  evaluatePanel,
  hasData,
  labelValues,
  type EvaluationContext,
} from '../../scripts/dashboards/evaluate.ts';
import { DASHBOARDS } from '../../scripts/dashboards/panels.ts';
import { startLiveDemo, type LiveDemo } from '../../src/demo/live.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { settled, startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';

const PROFILES = ['otel', 'semconv'] as const;
type Profile = (typeof PROFILES)[number];
const serviceOf = (profile: Profile): string => `${profile}-daemon`;
const PUSH_INTERVAL_SECONDS = 1;
const RANGE_SECONDS = 300;
/** One export may land late on a loaded machine: a query is asked again for this long. */
const SETTLE_MS = 15_000;

/** The fenced blocks of docs/fleet.md's "Push to Prometheus 3" section, by their language. */
function recipe(): { prometheus: Record<string, unknown>; jobmeter: Record<string, unknown> } {
  const doc = readFileSync(new URL('../../docs/fleet.md', import.meta.url), 'utf8');
  const section = /^## Push to Prometheus 3\n([\s\S]*?)^## /m.exec(doc)?.[1];
  assert.ok(section, 'docs/fleet.md has a "Push to Prometheus 3" section');
  const block = (lang: string): string => {
    const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
    assert.ok(m, `a \`\`\`${lang} block in "Push to Prometheus 3"`);
    return m[1]!;
  };
  return {
    prometheus: parseYaml(block('yaml')) as Record<string, unknown>,
    jobmeter: parseToml(block('toml')),
  };
}

let prom: PrometheusHandle;
const meters: Jobmeter[] = [];
const demos: LiveDemo[] = [];

before(async () => {
  const { prometheus, jobmeter } = recipe();
  // Only keys this test passes on: a key added to the recipe must be added here too.
  assert.deepEqual(Object.keys(jobmeter).sort(), ['otlp', 'resource_attributes']);
  const otlp = jobmeter['otlp'] as { endpoint: string; naming?: 'profile' | 'canonical' };
  assert.deepEqual(Object.keys(otlp).sort(), ['endpoint', 'naming']);
  prom = await startPrometheus({
    major: 3,
    extraArgs: ['--web.enable-otlp-receiver'],
    extraConfig: prometheus,
    jobs: [],
    scrapeInterval: '1s',
  });
  const endpoint = new URL(new URL(otlp.endpoint).pathname, prom.url).toString();
  for (const profile of PROFILES) {
    const jm = await createJobmeter({
      profile,
      serviceName: serviceOf(profile),
      listener: false,
      global: false,
      resourceAttributes: jobmeter['resource_attributes'] as Record<string, string>,
      otlp: { endpoint, intervalMillis: PUSH_INTERVAL_SECONDS * 1000, naming: otlp.naming },
    });
    meters.push(jm);
    demos.push(startLiveDemo(jm, profile, { tickMs: 250 }));
  }
  // Six exports: a 4 s rate window then holds two points with growth.
  await new Promise((resolve) => setTimeout(resolve, 6 * PUSH_INTERVAL_SECONDS * 1000));
});

after(async () => {
  for (const d of demos) d.stop();
  // The meters' last export first, while its receiver still answers.
  await Promise.allSettled(meters.map((m) => m.shutdown()));
  await prom?.stop();
});

const context = (profile: Profile): EvaluationContext => ({
  scrapeIntervalSeconds: PUSH_INTERVAL_SECONDS,
  rangeSeconds: RANGE_SECONDS,
  endSeconds: Date.now() / 1000,
  variables: { job: serviceOf(profile) }, // instance: All
});

for (const profile of PROFILES) {
  const spec = DASHBOARDS[profile];

  test(`Prometheus 3 OTLP recipe: the ${profile} dashboard lists the pushing service and its instance`, async () => {
    const names = spec.variables.map((v) => v.name);
    const [jobVar, instanceVar] = spec.variables;
    const jobs = await settled(
      () => labelValues(prom.url, jobVar!.query, context(profile), names),
      (v) => v.includes(serviceOf(profile)),
      SETTLE_MS,
    );
    assert.ok(jobs.includes(serviceOf(profile)), `${jobVar!.query}: ${jobs.join(', ')}`);
    assert.equal(
      (await labelValues(prom.url, instanceVar!.query, context(profile), names)).length,
      1,
      instanceVar!.query,
    );
  });

  test(`Prometheus 3 OTLP recipe: every ${profile} panel the scraped demo fills has data from the push`, async () => {
    const empty: string[] = [];
    for (const panel of spec.panels) {
      if ((panel.emptyFor ?? []).includes('demo')) continue;
      const r = await settled(
        () => evaluatePanel(prom.url, spec, panel, context(profile)),
        hasData,
        SETTLE_MS,
      );
      if (!hasData(r))
        empty.push(`"${panel.title}": no data\n  ${r.targets.map((t) => t.expr).join('\n  ')}`);
    }
    assert.deepEqual(empty, []);
  });
}
