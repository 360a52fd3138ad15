/**
 * `jobmeter serve --demo` as a user runs it: on the real clock, with figures that agree with each
 * other, saying what runwisp and rm need before they serve anything; and, scraped every 5 s by
 * real Prometheus servers (Debian's 2.42 and the pinned 3.x), the originals' own alert
 * expressions (the seeds') and the dashboards' rate() / histogram_quantile() panels have data
 * within a minute.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { evaluatePanel, hasData, instantQuery } from '../../scripts/dashboards/evaluate.ts';
import { DASHBOARDS } from '../../scripts/dashboards/panels.ts';
import { panelExpr } from '../../scripts/dashboards/grafana.ts';
import { PROFILE_NAMES, type ProfileName } from '../../src/options.ts';
import {
  PROMETHEUS_MAJORS,
  startEachPrometheus,
  type PrometheusHandle,
  type PrometheusMajor,
} from '../support/prometheus.ts';
import { killChildren, start, START_MS, type Running } from './harness.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobmeter-demo-'));
  await writeFile(
    join(dir, 'runwisp.toml'),
    'profile = "runwisp"\n[daemon]\nmetrics_enabled = true\n',
  );
});
after(async () => {
  killChildren();
  await rm(dir, { recursive: true, force: true });
});

/** What each profile's demo needs to be served, as the startup line says it. */
function demoArgs(profile: ProfileName): { args: string[]; env: Record<string, string> } {
  const args = ['serve', '--demo', '--listen', '127.0.0.1:0'];
  if (profile === 'runwisp')
    return { args: [...args, '--config', join(dir, 'runwisp.toml')], env: {} };
  return {
    args: [...args, '--profile', profile],
    env: profile === 'rm' ? { RM_METRICS_TRUSTED_CIDR: '127.0.0.1/32' } : {},
  };
}

/** Starts a served demo; resolves with the child and its metrics URL. */
async function startDemo(profile: ProfileName): Promise<{ demo: Running; url: string }> {
  const { args, env } = demoArgs(profile);
  const demo = start(args, env);
  const [, url] = await demo.stderrMatches(
    new RegExp(`^jobmeter: serving ${profile} metrics on (\\S+)$`, 'm'),
    START_MS,
  );
  await demo.stderrMatches(
    /^jobmeter: feeding the demo scenario on the real clock \(a run every 2 s\)$/m,
    START_MS,
  );
  return { demo, url: url! };
}

async function stop(demo: Running): Promise<void> {
  demo.child.kill('SIGTERM');
  assert.equal(await demo.exited(START_MS), 0, demo.stderr());
}

const sample = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line !== undefined, `${series} is served`);
  return Number(line.slice(series.length + 1));
};

describe('what runwisp and rm need, said at startup', () => {
  afterEach(killChildren);

  it('runwisp: opt-in, so the line says to add [daemon] metrics_enabled = true; with it, served', async () => {
    const bare = start(['serve', '--profile', 'runwisp', '--demo', '--listen', '127.0.0.1:0']);
    await bare.stderrMatches(
      /^jobmeter: feeding the demo scenario on the real clock \(a run every 2 s\), but no metrics route serves it: runwisp metrics are opt-in: put \[daemon\] metrics_enabled = true in a config file and add --config FILE$/m,
      START_MS,
    );
    const [, main] = await bare.stderrMatches(
      /^jobmeter: main server on (\S+) \(\/health\)$/m,
      START_MS,
    );
    assert.equal((await fetch(`${main}/metrics`)).status, 404);
    await stop(bare);
    const { demo, url } = await startDemo('runwisp');
    assert.equal((await fetch(url)).status, 200);
    await stop(demo);
  });

  it('rm: no route without a gate, so the line names RM_METRICS_TRUSTED_CIDR and RM_METRICS_TOKEN; with one, served', async () => {
    const bare = start(['serve', '--profile', 'rm', '--demo', '--listen', '127.0.0.1:0']);
    await bare.stderrMatches(
      /^jobmeter: feeding the demo scenario on the real clock \(a run every 2 s\), but no metrics route serves it: the rm posture registers no route without a gate: add RM_METRICS_TRUSTED_CIDR=127\.0\.0\.1\/32 \(or RM_METRICS_TOKEN=TOKEN and scrape with Authorization: Bearer TOKEN\)$/m,
      START_MS,
    );
    await stop(bare);
    const { demo, url } = await startDemo('rm');
    assert.match(await (await fetch(url)).text(), /^rm_hosts_total 3$/m);
    await stop(demo);
  });
});

describe('on the real clock', () => {
  afterEach(killChildren);

  it('counters and histograms advance every few seconds; timestamps are recent', async () => {
    const { demo, url } = await startDemo('rm');
    const first = await (await fetch(url)).text();
    await new Promise((r) => setTimeout(r, 4500));
    const second = await (await fetch(url)).text();
    // A run every 2 s: the histogram's count and the runs' counts grew in between.
    const runs = (text: string): number =>
      text
        .split('\n')
        .filter((l) => l.startsWith('rm_job_duration_seconds_count{'))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    assert.ok(
      runs(second) >= runs(first) + 2,
      `runs recorded: ${runs(first)} then ${runs(second)}`,
    );
    const now = Date.now() / 1000;
    const lastBackup = sample(
      second,
      'rm_host_last_backup_timestamp_seconds{host_id="01HZX8K2M3N4P5Q6R7S8T9V0W1",host="alpha"}',
    );
    assert.ok(
      now - lastBackup >= 0 && now - lastBackup < 3600 + 60,
      `alpha's last backup is recent: ${now - lastBackup} s ago`,
    );
    await stop(demo);
  });

  it('wasmrun: sessions listed = sessions active, their disk bytes the aggregate, created >= tracked >= active, as sessions come and go', async () => {
    const { demo, url } = await startDemo('wasmrun');
    const seen = new Set<number>();
    for (let i = 0; i < 4; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 3000));
      const doc = (await (await fetch(`${url}?format=json`)).json()) as Record<string, number> & {
        sessions: { disk_bytes: number }[];
      };
      assert.equal(doc.sessions.length, doc.sessions_active);
      assert.equal(
        doc.sessions.reduce((sum, s) => sum + s.disk_bytes, 0),
        doc.sessions_disk_bytes,
      );
      assert.ok(
        doc.sessions_created_total! >= doc.sessions_total! &&
          doc.sessions_total! >= doc.sessions_active!,
        JSON.stringify(doc),
      );
      seen.add(doc.sessions_created_total!);
    }
    assert.ok(seen.size > 1, 'sessions were created while it ran');
    await stop(demo);
  });
});

/**
 * The originals' own alert expressions and panels, from their documents (/work/shared/seeds):
 * each must return data on the demo.
 */
const SEED_EXPRESSIONS: Readonly<Partial<Record<ProfileName, readonly string[]>>> = {
  runwisp: ['time() - runwisp_runs_last_failure_timestamp_seconds < 600'],
  crewshipd: [
    'sum(rate(crewshipd_agent_run_events_total{event="failed"}[10m])) / sum(rate(crewshipd_agent_run_events_total{event="started"}[10m])) > 0.2',
    'sum(increase(crewshipd_llm_cost_usd_total[1h])) > 5',
    'crewshipd_containers_tracked - crewshipd_containers_reporting > 0',
  ],
  rm: ['histogram_quantile(0.95, sum by (le, kind) (rate(rm_job_duration_seconds_bucket[1h])))'],
};
const SCRAPE_INTERVAL_SECONDS = 5;
const WITHIN_MS = 60_000;

describe('on real Prometheus servers, within a minute', () => {
  const demos: Running[] = [];
  let proms = new Map<PrometheusMajor, PrometheusHandle>();
  let scrapingSince = 0;
  before(async () => {
    const jobs = [];
    for (const profile of PROFILE_NAMES) {
      const { demo, url } = await startDemo(profile);
      demos.push(demo);
      const u = new URL(url);
      jobs.push({ name: profile, target: u.host, metricsPath: u.pathname });
    }
    proms = await startEachPrometheus({ jobs, scrapeInterval: `${SCRAPE_INTERVAL_SECONDS}s` });
    scrapingSince = Date.now();
  });
  after(async () => {
    await Promise.allSettled([...proms.values()].map((p) => p.stop()));
    for (const d of demos) d.child.kill('SIGTERM');
  });

  /** Asks until `ok` holds, up to a minute after scraping began. */
  async function withinAMinute<T>(
    evaluate: () => Promise<T>,
    ok: (result: T) => boolean,
  ): Promise<T> {
    let result = await evaluate();
    while (!ok(result) && Date.now() < scrapingSince + WITHIN_MS) {
      await new Promise((r) => setTimeout(r, 1000));
      result = await evaluate();
    }
    return result;
  }

  for (const major of PROMETHEUS_MAJORS) {
    it(`Prometheus ${major}: the seeds' alert expressions return data`, async () => {
      const prom = proms.get(major)!;
      const empty: string[] = [];
      for (const [profile, exprs] of Object.entries(SEED_EXPRESSIONS)) {
        for (const expr of exprs) {
          const withJob = expr.replace(
            /(\b(?:runwisp|crewshipd|rm)_[a-z_]+)(\{([^}]*)\})?/g,
            (_, name: string, _b: string, labels?: string) =>
              `${name}{job="${profile}"${labels ? `,${labels}` : ''}}`,
          );
          const finite = (r: Awaited<ReturnType<typeof instantQuery>>): boolean =>
            r.some((s) => s.values.some(([, v]) => Number.isFinite(v)));
          const result = await withinAMinute(
            () => instantQuery(prom.url, withJob, Date.now() / 1000),
            finite,
          );
          if (!finite(result)) empty.push(`${profile}: ${withJob}`);
        }
      }
      assert.deepEqual(empty, []);
    });

    it(`Prometheus ${major}: every dashboard panel with rate() or histogram_quantile() has data`, async () => {
      const prom = proms.get(major)!;
      const empty: string[] = [];
      for (const profile of PROFILE_NAMES) {
        const spec = DASHBOARDS[profile];
        for (const panel of spec.panels) {
          if ((panel.emptyFor ?? []).includes('demo')) continue;
          if (
            !panel.targets.some((t) =>
              /\b(?:rate|irate|increase|histogram_quantile)\(/.test(panelExpr(spec, t)),
            )
          )
            continue;
          const ctx = () => ({
            scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
            rangeSeconds: 300,
            endSeconds: Date.now() / 1000,
            variables: { job: profile },
          });
          const result = await withinAMinute(
            () => evaluatePanel(prom.url, spec, panel, ctx()),
            hasData,
          );
          if (!hasData(result))
            empty.push(
              `${profile}: "${panel.title}"\n  ${result.targets.map((t) => t.expr).join('\n  ')}`,
            );
        }
      }
      assert.deepEqual(empty, []);
    });
  }
});
