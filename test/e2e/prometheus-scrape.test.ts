/**
 * End to end with real Prometheus servers started here on loopback — Debian's 2.42 and the pinned
 * 3.x, side by side: two jobmeter listeners, one negotiating (both prefer OpenMetrics 1.0.0) and
 * one forced to text 0.0.4, scraped every second; everything asserted through Prometheus's own
 * HTTP API, on each server.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import {
  PROMETHEUS_MAJORS,
  startEachPrometheus,
  type PrometheusHandle,
  type PrometheusMajor,
} from '../support/prometheus.ts';

let om: Jobmeter;
let text: Jobmeter;
let proms = new Map<PrometheusMajor, PrometheusHandle>();

const TRICKY_TASK = 'say "hi" \\ bye\nnext';

function record(jm: Jobmeter): void {
  for (let i = 0; i < 3; i++)
    jm.recordRun({
      task: 'backup',
      kind: 'task',
      runner: 'subprocess',
      outcome: 'success',
      durationSeconds: 0.2,
    });
  jm.recordRun({
    task: 'backup',
    kind: 'task',
    runner: 'subprocess',
    outcome: 'failure',
    durationSeconds: 40,
  });
  jm.recordRun({ task: TRICKY_TASK, outcome: 'timeout', durationSeconds: 1 });
  jm.reject('concurrency');
  jm.startRun({ task: 'long', kind: 'service' });
}

before(async () => {
  om = await createJobmeter({ listener: { port: 0 }, serviceName: 'e2e-om' });
  text = await createJobmeter({ listener: { port: 0, format: 'text' }, serviceName: 'e2e-text' });
  record(om);
  record(text);
  proms = await startEachPrometheus({
    jobs: [
      { name: 'om', target: `127.0.0.1:${om.pullAddress!.port}` },
      { name: 'text', target: `127.0.0.1:${text.pullAddress!.port}` },
    ],
    scrapeInterval: '1s',
  });
  for (const prom of proms.values()) {
    await prom.waitForTargetsUp(60_000);
    // Targets can be up before the first scrape's samples are queryable.
    await prom.waitFor(
      'count(jobmeter_run_finished_total)',
      (r) => r.length > 0 && Number(r[0]!.value[1]) >= 6,
      30_000,
    );
  }
});

after(async () => {
  await Promise.allSettled([...proms.values()].map((prom) => prom.stop()));
  await om?.shutdown();
  await text?.shutdown();
});

function p(major: PrometheusMajor): PrometheusHandle {
  const prom = proms.get(major);
  assert.ok(prom, `prometheus ${major} did not start (see before())`);
  return prom;
}

for (const major of PROMETHEUS_MAJORS) {
  for (const job of ['om', 'text'] as const) {
    test(`Prometheus ${major}: ${job}: counters arrive with exact names, labels and values`, async () => {
      const r = await p(major).query(`jobmeter_run_finished_total{job="${job}"}`);
      const byOutcome = new Map(
        r.map((s) => [`${s.metric.task}|${s.metric.outcome}`, Number(s.value[1])]),
      );
      assert.equal(byOutcome.get('backup|success'), 3);
      assert.equal(byOutcome.get('backup|failure'), 1);
      assert.equal(
        byOutcome.get(`${TRICKY_TASK}|timeout`),
        1,
        'quotes, backslash and newline survive the round trip',
      );
      for (const s of r) {
        assert.equal(s.metric.__name__, 'jobmeter_run_finished_total');
        assert.equal(s.metric.otel_scope_name, 'jobmeter');
      }
    });

    test(`Prometheus ${major}: ${job}: histogram buckets are usable by histogram_quantile`, async () => {
      const r = await p(major).query(
        `jobmeter_run_duration_seconds_count{job="${job}",task="backup"}`,
      );
      assert.deepEqual(r.map((s) => Number(s.value[1])).sort(), [1, 3]);
      const le = await p(major).query(
        `jobmeter_run_duration_seconds_bucket{job="${job}",task="backup",outcome="success",le="0.25"}`,
      );
      assert.equal(Number(le[0]!.value[1]), 3, '0.2 s runs are in the le=0.25 bucket');
      const q = await p(major).query(
        `histogram_quantile(0.5, sum by (le) (jobmeter_run_duration_seconds_bucket{job="${job}",task="backup"}))`,
      );
      const p50 = Number(q[0]!.value[1]);
      assert.ok(p50 > 0.1 && p50 <= 0.25, `p50 ${p50}`);
    });

    test(`Prometheus ${major}: ${job}: gauges, process metrics and target_info`, async () => {
      const active = await p(major).query(`jobmeter_run_active{job="${job}",task="long"}`);
      assert.equal(Number(active[0]!.value[1]), 1);
      const up = await p(major).query(`process_uptime_seconds{job="${job}"}`);
      assert.ok(Number(up[0]!.value[1]) > 0);
      const info = await p(major).query(`target_info{job="${job}"}`);
      assert.equal(info[0]!.metric.service_name, `e2e-${job}`);
      const lastFailure = await p(major).query(
        `time() - jobmeter_run_last_failure_time_seconds{job="${job}"} < 600`,
      );
      assert.equal(
        lastFailure.length,
        1,
        'the "anything failed in the last ten minutes" alert fires',
      );
    });
  }

  test(`Prometheus ${major}: metadata shows the negotiated format: OpenMetrics families vs text 0.0.4 names`, async () => {
    // Prometheus keys metadata by family name: OpenMetrics counters drop the _total, text keeps it.
    const meta = async (name: string) => (await p(major).metadata(name))[name] ?? [];
    assert.equal((await meta('jobmeter_run_finished'))[0]?.type, 'counter');
    assert.equal((await meta('jobmeter_run_finished_total'))[0]?.type, 'counter');
    const hist = await meta('jobmeter_run_duration_seconds');
    assert.equal(hist[0]?.type, 'histogram');
    assert.ok(
      hist.find((m) => m.unit === 'seconds'),
      'OpenMetrics # UNIT reached Prometheus',
    );
    assert.equal((await meta('target'))[0]?.type, 'info');
  });

  test(`Prometheus ${major}: both targets are healthy and scraped without errors`, async () => {
    const targets = (await p(major).targets()).activeTargets;
    assert.equal(targets.length, 2);
    for (const t of targets) {
      assert.equal(t.health, 'up', `${t.labels.job}: ${t.lastError}`);
      assert.equal(t.lastError, '');
    }
  });
}
