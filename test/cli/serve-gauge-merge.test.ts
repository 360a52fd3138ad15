/**
 * A daemon restarted with a new `service.instance.id` (what an SDK that makes one per process
 * does): until the old sender's streams expire, `jobmeter serve` holds the same series from two
 * resources. Its gauges follow the instrument's merge rule (domain/merge-rules.ts, the table
 * node:cluster reads too), never a sum of the two: a time or an info is the largest sent (a
 * timestamp never reads past the newest failure, `runwisp_build_info` stays 1), a level of the
 * process or of what it observes is the newest sender's (cpu, memory, uptime, runs in flight), a
 * gauge jobmeter does not declare is the newest sender's; counters of events still add up
 * (docs/collector.md "How ingested data is held").
 */
import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';

import { killChildren } from './harness.ts';
import { serveWithIngest } from '../support/serve.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-gauge-merge-');
afterEach(killChildren);

const NOW_S = Math.floor(Date.now() / 1000);
/** The failure the old process saw, and the later one the new process saw. */
const OLD_FAILURE = NOW_S - 600;
const NEW_FAILURE = NOW_S - 60;

interface Point {
  readonly value: number;
  readonly attributes?: Record<string, string>;
}

type Metric = Record<string, unknown>;

const attributesOf = (a: Record<string, string> = {}) =>
  Object.entries(a).map(([key, value]) => ({ key, value: { stringValue: value } }));

let clock = BigInt(Date.now()) * 1_000_000n;
/** Point times: each later than the one before (no point is stale). */
const nextTime = () => String((clock += 1_000_000n));

const dataPoints = (points: readonly Point[]) =>
  points.map((p) => ({
    asDouble: p.value,
    attributes: attributesOf(p.attributes),
    startTimeUnixNano: '1000000000',
    timeUnixNano: nextTime(),
  }));

function gauge(name: string, unit: string, ...points: Point[]): Metric {
  return { name, unit, gauge: { dataPoints: dataPoints(points) } };
}

function upDown(name: string, unit: string, ...points: Point[]): Metric {
  return {
    name,
    unit,
    sum: { aggregationTemporality: 2, isMonotonic: false, dataPoints: dataPoints(points) },
  };
}

function counter(name: string, unit: string, ...points: Point[]): Metric {
  return {
    name,
    unit,
    sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: dataPoints(points) },
  };
}

/** One export of the daemon process `instance` (its own resource; the daemon's scope). */
async function push(ingestPort: string, instance: string, metrics: Metric[]): Promise<void> {
  const body = {
    resourceMetrics: [
      {
        resource: {
          attributes: attributesOf({ 'service.name': 'runwisp', 'service.instance.id': instance }),
        },
        scopeMetrics: [{ scope: { name: 'runwisp', version: '1.4.0' }, metrics }],
      },
    ],
  };
  const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.doesNotMatch(text, /rejected/i, `a point was refused: ${text}`);
}

/** The pull endpoint's samples, by series name and labels as written (`name{labels}`). */
async function scrape(pullPort: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${pullPort}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/gm))
    samples.set(m[1]!, Number(m[2]));
  return samples;
}

/** What the daemon's process `instance` exports under the canonical names runwisp's series come from. */
function daemon(p: {
  cpu: number;
  memory: number;
  uptime: number;
  failure: number;
  active: number;
}): Metric[] {
  return [
    gauge('system.cpu.utilization', '1', { value: p.cpu }),
    gauge('system.memory.usage', 'By', { value: p.memory }),
    gauge('system.memory.limit', 'By', { value: 8e9 }),
    gauge('process.uptime', 's', { value: p.uptime }),
    gauge('jobmeter.run.last_failure.time', 's', { value: p.failure }),
    upDown('jobmeter.run.active', '{run}', {
      value: p.active,
      attributes: { task: 'backup', kind: 'task' },
    }),
    gauge('jobmeter.build.info', '', { value: 1, attributes: { version: '1.4.0' } }),
  ];
}

it(
  'runwisp: a daemon restarted under a new service.instance.id serves the newest failure time, the new process cpu, memory, uptime and runs in flight, and build_info 1, while the old one has not expired',
  { timeout: 120_000 },
  async () => {
    const { ingestPort, pullPort } = await serveWithIngest(files, {
      args: ['--profile', 'runwisp'],
      // runwisp's metrics are opt-in, as in the original.
      lines: ['[metrics]', 'enabled = true'],
    });
    // The old process, long up, its last failure ten minutes ago; then it dies and the daemon
    // starts again as a new process: expiry (5 minutes by default) has not dropped the old one.
    await push(
      ingestPort,
      'old-process',
      daemon({ cpu: 0.93, memory: 6e9, uptime: 86_400, failure: OLD_FAILURE, active: 3 }),
    );
    await push(
      ingestPort,
      'new-process',
      daemon({ cpu: 0.41, memory: 2e9, uptime: 5, failure: NEW_FAILURE, active: 1 }),
    );
    const served = await scrape(pullPort);
    const expect = (series: string, value: number, why: string) =>
      assert.equal(served.get(series), value, `${series}: ${why}`);
    expect(
      'runwisp_runs_last_failure_timestamp_seconds',
      NEW_FAILURE,
      'the newest failure any process saw, never two times added',
    );
    expect('runwisp_daemon_cpu_percent', 41, "the new process's cpu (0.41 as percent)");
    expect('runwisp_daemon_memory_used_bytes', 2e9, "the new process's reading");
    expect('runwisp_daemon_memory_total_bytes', 8e9, 'the one machine, not two');
    expect('runwisp_daemon_uptime_seconds', 5, 'the daemon restarted: its uptime starts over');
    expect(
      'runwisp_task_active_runs{task="backup",kind="task"}',
      1,
      "the new process's runs in flight; the old process's died with it",
    );
    expect('runwisp_build_info{version="1.4.0"}', 1, 'an info gauge is always 1');

    // The new process goes on; the old one says nothing more.
    await push(
      ingestPort,
      'new-process',
      daemon({ cpu: 0.52, memory: 2.5e9, uptime: 20, failure: NEW_FAILURE, active: 0 }),
    );
    const later = await scrape(pullPort);
    assert.equal(later.get('runwisp_daemon_cpu_percent'), 52);
    assert.equal(later.get('runwisp_daemon_uptime_seconds'), 20);
    assert.equal(later.get('runwisp_task_active_runs{task="backup",kind="task"}'), 0);
    assert.equal(later.get('runwisp_runs_last_failure_timestamp_seconds'), NEW_FAILURE);
    assert.equal(later.get('runwisp_build_info{version="1.4.0"}'), 1);
  },
);

it(
  'otel: across two resources a timestamp is the largest, a level and an undeclared gauge the last written, and counters add',
  { timeout: 120_000 },
  async () => {
    const { ingestPort, pullPort } = await serveWithIngest(files);
    // The newer process reports the later failure first; the older one's stale time after it
    // must not win (the largest time, not the last written).
    await push(ingestPort, 'a', [
      gauge('jobmeter.run.last_failure.time', 's', { value: NEW_FAILURE }),
      gauge('process.uptime', 's', { value: 10 }),
      gauge('app.temperature', 'Cel', { value: 21 }),
      counter(
        'jobmeter.run.finished',
        '{run}',
        { value: 4, attributes: { task: 't', outcome: 'success' } },
        { value: 1, attributes: { task: 't', outcome: 'failure' } },
      ),
    ]);
    await push(ingestPort, 'b', [
      gauge('jobmeter.run.last_failure.time', 's', { value: OLD_FAILURE }),
      gauge('process.uptime', 's', { value: 7 }),
      gauge('app.temperature', 'Cel', { value: 19 }),
      counter('jobmeter.run.finished', '{run}', {
        value: 6,
        attributes: { task: 't', outcome: 'success' },
      }),
    ]);
    const served = await scrape(pullPort);
    const one = (prefix: string): number => {
      const found = [...served].filter(([k]) => k.startsWith(prefix));
      assert.equal(found.length, 1, `one series ${prefix}…: ${JSON.stringify(found)}`);
      return found[0]![1];
    };
    assert.equal(one('jobmeter_run_last_failure_time_seconds{'), NEW_FAILURE);
    assert.equal(one('process_uptime_seconds{'), 7, 'the last written');
    assert.equal(one('app_temperature_celsius{'), 19, 'an undeclared gauge: the last written');
    assert.equal(one('jobmeter_run_finished_total{task="t",outcome="success"'), 10, 'events add');
    assert.equal(one('jobmeter_run_finished_total{task="t",outcome="failure"'), 1);
    // Sender a again: the last written is its.
    await push(ingestPort, 'a', [gauge('process.uptime', 's', { value: 12 })]);
    const again = await scrape(pullPort);
    const uptime = [...again].filter(([k]) => k.startsWith('process_uptime_seconds{'));
    assert.deepEqual(
      uptime.map(([, v]) => v),
      [12],
    );
  },
);
