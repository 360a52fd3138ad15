// node:cluster end to end: a real cluster app (test/cluster/fixtures/cluster-app.ts:
// the primary and 2 workers call createJobmeter() with the same listener port; worker 1 is killed
// with SIGKILL and replaced mid-run) scraped every second by real Prometheus servers (2.42 and the pinned 3.x, side by side) for RUN_MS.
// Every counter has resets() = 0 over the whole run, no scrape failed, and the totals equal what
// the workers (and the primary) say they recorded.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/free-port.ts';
import {
  PROMETHEUS_MAJORS,
  startEachPrometheus,
  type PrometheusHandle,
  type PrometheusMajor,
} from '../support/prometheus.ts';

/**
 * How long the workers record while Prometheus scrapes. A minute is what is asked; 24 s keeps
 * the suite's time reasonable and still spans ~24 scrapes, a kill and a restart. Raise it freely.
 */
const RUN_MS = 24_000;
/** When worker 1 is killed (then paused 2.5 s before, and replaced right after). */
const KILL_AT_MS = 9_000;
const FIXTURE = fileURLToPath(new URL('./fixtures/cluster-app.ts', import.meta.url));

let proms = new Map<PrometheusMajor, PrometheusHandle>();
let app: ReturnType<typeof spawn>;
const events: Array<Record<string, unknown>> = [];
let stderr = '';
let spawnedAt = 0;
let listeningAt = 0;

function event(name: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    for (;;) {
      const found = events.find((e) => e['event'] === name);
      if (found !== undefined) return found;
      if (Date.now() > deadline || app.exitCode !== null)
        throw new Error(`no ${name} event from the cluster app; stderr:\n${stderr}`);
      await sleep(100);
    }
  })();
}

before(async () => {
  const port = await freePort();
  // Prometheus first, so its scrapes span the whole run.
  proms = await startEachPrometheus({
    jobs: [{ name: 'cluster', target: `127.0.0.1:${port}` }],
    scrapeInterval: '1s',
  });
  spawnedAt = Date.now();
  app = spawn(process.execPath, [FIXTURE], {
    env: {
      ...process.env,
      PORT: String(port),
      RUN_MS: String(RUN_MS),
      KILL_AT_MS: String(KILL_AT_MS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffered = '';
  app.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      events.push(JSON.parse(buffered.slice(0, i)) as Record<string, unknown>);
      buffered = buffered.slice(i + 1);
    }
  });
  app.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await event('primary', 30_000);
  listeningAt = Date.now();
  for (const prom of proms.values()) await prom.waitForTargetsUp(60_000);
});

after(async () => {
  await Promise.allSettled([...proms.values()].map((prom) => prom.stop()));
  if (app !== undefined && app.exitCode === null) {
    app.kill('SIGTERM');
    await Promise.race([new Promise((r) => app.once('exit', r)), sleep(5_000)]);
    if (app.exitCode === null) app.kill('SIGKILL');
  }
});

test('workers report to the primary and bind nothing', async () => {
  await event('done', RUN_MS + 60_000);
  const workers = events.filter((e) => e['event'] === 'worker');
  assert.equal(workers.length, 3, 'two workers, then the replacement');
  for (const w of workers) {
    assert.equal(w['role'], 'member');
    assert.equal(w['listening'], false);
  }
});

for (const major of PROMETHEUS_MAJORS) {
  test(`Prometheus ${major}: every scrape is the aggregate: no counter resets, no failed scrape, totals equal what was recorded`, async () => {
    const prom = proms.get(major)!;
    const done = await event('done', RUN_MS + 60_000);
    const recorded = done['recorded'] as number;
    const killed = events.find((e) => e['event'] === 'killed')!;
    assert.ok((killed['recorded'] as number) > 0, 'the killed worker had recorded runs');
    assert.ok(recorded > (killed['recorded'] as number));
    await prom.waitFor(
      'sum(jobmeter_run_finished_total{job="cluster"})',
      (r) => r.length === 1 && Number(r[0]!.value[1]) === recorded,
      15_000,
    );
    // Counter families of the native profile: jobmeter's own, the histogram's, the process's.
    const counters = '{job="cluster",__name__=~".+_total|.+_count|.+_bucket|.+_sum"}';
    // resets() drops the name, so one query per family.
    const names = (await prom.query(`count by (__name__) (${counters})`)).map(
      (s) => s.metric.__name__!,
    );
    assert.ok(
      names.includes('jobmeter_run_finished_total') &&
        names.includes('process_cpu_time_seconds_total'),
      names.join(' '),
    );
    const wentBack: string[] = [];
    let checked = 0;
    for (const name of names) {
      const r = await prom.query(`resets(${name}{job="cluster"}[10m])`);
      checked += r.length;
      for (const s of r)
        if (Number(s.value[1]) !== 0)
          wentBack.push(`${name}${JSON.stringify(s.metric)}: ${s.value[1]} resets`);
    }
    assert.deepEqual(wentBack, [], 'no counter ever went backwards');
    assert.ok(checked >= 20, `resets() looked at ${checked} counter series`);
    // Scrapes since the primary listens (before it, the target is rightly down).
    const window = `${Math.ceil((Date.now() - listeningAt) / 1000) - 1}s`;
    const up = await prom.query(
      `count_over_time(up{job="cluster"}[${window}]) - sum_over_time(up{job="cluster"}[${window}])`,
    );
    assert.equal(Number(up[0]!.value[1]), 0, 'no scrape failed');
    const scrapes = await prom.query(`count_over_time(up{job="cluster"}[${window}])`);
    // Prometheus 2.42 discovers its target ~5 s after it starts (test/support/prometheus.ts).
    assert.ok(Number(scrapes[0]!.value[1]) >= RUN_MS / 1000 - 6, `${scrapes[0]!.value[1]} scrapes`);
    // The other counters and the histogram agree with the workers' records.
    const workers = recorded - 1;
    const rejected = await prom.query('sum(jobmeter_request_rejected_total{job="cluster"})');
    assert.equal(Number(rejected[0]!.value[1]), workers / 3, 'one rejection per three runs');
    const count = await prom.query('sum(jobmeter_run_duration_seconds_count{job="cluster"})');
    assert.equal(Number(count[0]!.value[1]), recorded);
    const inf = await prom.query(
      'sum(jobmeter_run_duration_seconds_bucket{job="cluster",le="+Inf"})',
    );
    assert.equal(Number(inf[0]!.value[1]), recorded);
    const failures = await prom.query(
      'sum(jobmeter_run_finished_total{job="cluster",outcome="failure"})',
    );
    assert.equal(Number(failures[0]!.value[1]), workers / 3);
  });

  test(`Prometheus ${major}: gauges follow the merge policy: uptime is the oldest process (max), build info stays 1`, async () => {
    const prom = proms.get(major)!;
    const info = await prom.query('jobmeter_build_info{job="cluster"}');
    assert.equal(info.length, 1);
    assert.equal(Number(info[0]!.value[1]), 1, 'max, not one per process');
    const uptime = Number((await prom.query('process_uptime_seconds{job="cluster"}'))[0]!.value[1]);
    const sinceSpawn = (Date.now() - spawnedAt) / 1000;
    assert.ok(
      uptime > RUN_MS / 1000 && uptime <= sinceSpawn,
      `uptime ${uptime} s, app started ${sinceSpawn} s ago (a sum over 3 processes would exceed it)`,
    );
  });
}
