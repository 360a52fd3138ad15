/**
 * jobmeter's OTLP push straight into Prometheus 3's own OTLP receiver (the pinned 3.x, started with
 * `--web.enable-otlp-receiver`, `otlp: translation_strategy: UnderscoreEscapingWithoutSuffixes` and
 * `promote_scope_metadata` true for the native profile only, as docs/fleet.md "Push to Prometheus 3" says),
 * for every profile: the series it stores equal the ones the same Prometheus stores from scraping
 * jobmeter's pull endpoint — names, label sets, values.
 *
 * Each profile has one jobmeter, scraped as job `scrape-<profile>` and pushing (profile naming)
 * as service `<profile>-daemon`, which Prometheus turns into the `job` label of what it receives.
 * Compared without `job`/`instance`, without Prometheus' own scrape series, and with `le` read as a
 * number (the two paths spell integral bounds differently; the last test pins that down).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runDemo } from '../../src/demo/scenarios.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { ProfileName } from '../../src/options.ts';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';
import { canonicalBound } from '../support/series-diff.ts';

const PROFILES: readonly ProfileName[] = ['otel', 'runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'];
const SCRAPE_SERIES = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
]);
/** Labels that say where a series came from, not what it is. */
const ORIGIN_LABELS = new Set(['job', 'instance']);

const meters = new Map<ProfileName, Jobmeter>();
/** Per profile, the Prometheus it is scraped by and pushes to. */
const promOf = new Map<ProfileName, PrometheusHandle>();

/**
 * A Prometheus 3 with the OTLP receiver on, scraping `profiles`' listeners. `promote_scope_metadata`
 * is what the native profile needs (its pull endpoint carries otel_scope_* labels; the legacy
 * originals have none): docs/fleet.md "Push to Prometheus 3".
 */
async function otlpPrometheus(
  profiles: readonly ProfileName[],
  promoteScope: boolean,
): Promise<PrometheusHandle> {
  const prom = await startPrometheus({
    major: 3,
    extraArgs: ['--web.enable-otlp-receiver'],
    extraConfig: {
      otlp: {
        translation_strategy: 'UnderscoreEscapingWithoutSuffixes',
        promote_scope_metadata: promoteScope,
      },
    },
    jobs: profiles.map((profile) => ({
      name: `scrape-${profile}`,
      target: `127.0.0.1:${meters.get(profile)!.pullAddress!.port}`,
    })),
    scrapeInterval: '1s',
  });
  for (const profile of profiles) promOf.set(profile, prom);
  await prom.waitForTargetsUp(30_000);
  return prom;
}

before(async () => {
  for (const profile of PROFILES) {
    const jm = await createJobmeter({
      profile,
      serviceName: `${profile}-daemon`,
      listener: { port: 0 },
      processMetrics: false,
      hostname: 'host-1',
      global: false,
    });
    meters.set(profile, jm);
    runDemo(jm, profile);
  }
  await Promise.all([
    otlpPrometheus(['otel'], true),
    otlpPrometheus(
      PROFILES.filter((p) => p !== 'otel'),
      false,
    ),
  ]);
  // The push: one export per profile, by a second jobmeter per profile that recorded the same demo.
  for (const profile of PROFILES) {
    const pusher = await createJobmeter({
      profile,
      serviceName: `${profile}-daemon`,
      listener: false,
      processMetrics: false,
      hostname: 'host-1',
      global: false,
      otlp: {
        endpoint: `${promOf.get(profile)!.url}/api/v1/otlp/v1/metrics`,
        intervalMillis: 3_600_000,
        naming: 'profile',
      },
    });
    runDemo(pusher, profile);
    await pusher.shutdown();
  }
});

after(async () => {
  await Promise.allSettled(
    [...new Set(promOf.values())]
      .map((p) => p.stop())
      .concat([...meters.values()].map((m) => m.shutdown())),
  );
});

/** `le` as a number: the scrape stores `le="1.0"`, the OTLP receiver `le="1"` (asserted below). */
const numericLe = (k: string, v: string): string => (k === 'le' ? canonicalBound(v) : v);

/** `name{labels}` → value of every series Prometheus holds for a job, origin labels left out. */
async function stored(prom: PrometheusHandle, job: string): Promise<Map<string, string>> {
  const samples = await prom.query(`{job="${job}"}`);
  const out = new Map<string, string>();
  for (const s of samples) {
    const { __name__: name, ...labels } = s.metric;
    if (SCRAPE_SERIES.has(name!)) continue;
    const kept = Object.entries(labels)
      .filter(([k]) => !ORIGIN_LABELS.has(k))
      .sort(([a], [b]) => a.localeCompare(b));
    out.set(
      `${name}{${kept.map(([k, v]) => `${k}=${JSON.stringify(numericLe(k, v))}`).join(',')}}`,
      s.value[1],
    );
  }
  return out;
}

for (const profile of PROFILES) {
  test(`${profile}: Prometheus 3 stores the same series from the OTLP push as from the scrape`, async () => {
    const prom = promOf.get(profile)!;
    const scraped = await stored(prom, `scrape-${profile}`);
    // target_info: the scrape's is jobmeter's own; the OTLP receiver writes its own from the
    // resource (docs/collector.md, "Push to Prometheus 3"). Compared apart below.
    scraped.delete([...scraped.keys()].find((k) => k.startsWith('target_info{')) ?? '');
    await prom.waitFor(`count({job="${profile}-daemon"})`, (r) => r.length === 1, 15_000);
    const pushed = await stored(prom, `${profile}-daemon`);
    pushed.delete([...pushed.keys()].find((k) => k.startsWith('target_info{')) ?? '');
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
  });
}

test('Prometheus 3 spells le differently for the two paths: 1.0 scraped, 1 pushed', async () => {
  const le = async (job: string): Promise<string[]> =>
    [
      ...new Set(
        (
          await promOf
            .get('solti')!
            .query(`solti_runner_task_duration_seconds_bucket{job="${job}"}`)
        ).map((s) => s.metric['le']!),
      ),
    ].sort();
  assert.ok((await le('scrape-solti')).includes('1.0'));
  assert.ok((await le('solti-daemon')).includes('1'));
  assert.ok(!(await le('solti-daemon')).includes('1.0'));
});
