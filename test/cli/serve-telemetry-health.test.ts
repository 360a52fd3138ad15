/**
 * What `jobmeter serve`'s `[telemetry]` listener tells an SRE about the service's own health, as
 * the Collector's and Prometheus' own metrics do: every family has its series from the first
 * scrape (an alert on a rate needs no absent()), the build, the process' memory, CPU and
 * event-loop delay, the ingest's series and memory budget; and `/health` and `/ready` as the main
 * server answers them. One child serve with the ingest on (a memory budget 1000 series overflow)
 * and the telemetry listener, read over HTTP in the order written; promtool (Prometheus 2.42's
 * linter) accepts each body.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';

import { EXIT_MS, killChildren, start, START_MS, type Running } from './harness.ts';
import { buildCommit, VERSION } from '../../src/version.ts';
import { checkMetrics } from '../support/promtool.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-telemetry-health-');

/** Every reason the ingest refuses points for (ingest-report.ts `RefusalReason`). */
const REFUSAL_REASONS = [
  'no_name',
  'too_long',
  'reserved_name',
  'name_clash',
  'unsupported_type',
  'type_conflict',
  'unit_conflict',
  'invalid_point',
  'invalid_histogram',
  'time_ahead',
  'time_too_old',
  'time_before_start',
  'bounds_conflict',
  'delta_repeat',
  'delta_overlap',
  'instrument_cap',
  'series_cap',
  'memory_budget',
  'vocabulary',
];

function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The ingest's memory budget: less than the 1000 series of {@link batch} take. */
const BUDGET = 300_000;

/** One OTLP/JSON request: 10 gauges × 100 series each. */
function batch(): string {
  const now = `${Date.now()}000000`;
  const metrics = Array.from({ length: 10 }, (_, j) => ({
    name: `g${j}`,
    gauge: {
      dataPoints: Array.from({ length: 100 }, (_, i) => ({
        asDouble: 1,
        timeUnixNano: now,
        attributes: [{ key: 'k', value: { stringValue: `v${i}` } }],
      })),
    },
  }));
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 's' } }] },
        scopeMetrics: [{ scope: { name: 't' }, metrics }],
      },
    ],
  });
}

let child: Running;
let telemetryUrl: string;
let mainOrigin: string;
let ingestUrl: string;

before(async () => {
  const config = await files.file(
    'jobmeter.toml',
    [
      'profile = "otel"',
      '[listener]',
      'port = 0',
      '[ingest]',
      'enabled = true',
      'port = 0',
      `max_memory_bytes = ${BUDGET}`,
      '[telemetry]',
      'listen = "127.0.0.1:0"',
      '',
    ].join('\n'),
  );
  child = start(['serve', '--config', config]);
  [, telemetryUrl] = (await child.stderrMatches(
    /serving jobmeter's own telemetry on (http:\/\/\S+\/metrics)\n/,
    START_MS,
  )) as unknown as [string, string];
  mainOrigin = new URL(/serving otel metrics on (http:\/\/\S+)\n/.exec(child.stderr())![1]!).origin;
  ingestUrl = /receiving OTLP\/HTTP metrics on (http:\/\/\S+)\n/.exec(child.stderr())![1]!;
});

after(async () => {
  child.child.kill('SIGTERM');
  const code = await child.exited(EXIT_MS).catch((err: unknown) => String(err));
  killChildren();
  assert.equal(code, 0, child.stderr());
});

async function telemetry(): Promise<string> {
  const body = await (
    await fetch(telemetryUrl, { headers: { accept: 'text/plain;version=0.0.4' } })
  ).text();
  const lint = await checkMetrics(body);
  assert.equal(lint.code, 0, `${lint.output}\n${body}`);
  return body;
}

it(
  'the first scrape of the telemetry listener has every refusal reason and the expiries at 0, before any point was refused or expired',
  { timeout: 60_000 },
  async () => {
    const body = await telemetry();
    for (const reason of REFUSAL_REASONS) {
      assert.equal(
        sample(body, `jobmeter_ingest_refused_points_total{reason="${reason}"}`),
        0,
        `reason ${reason}:\n${body}`,
      );
    }
    assert.equal(sample(body, 'jobmeter_ingest_series_expired_total'), 0, body);
    assert.match(body, /# TYPE jobmeter_ingest_series_expired_total counter\n/);
    const served = body
      .split('\n')
      .filter((l) => l.startsWith('jobmeter_ingest_refused_points_total{'));
    assert.equal(served.length, REFUSAL_REASONS.length, served.join('\n'));
  },
);

it(
  "jobmeter_build_info is 1 with serve's own version, commit and runtime version",
  { timeout: 60_000 },
  async () => {
    const body = await telemetry();
    const line = body.split('\n').find((l) => l.startsWith('jobmeter_build_info{'));
    assert.ok(line !== undefined, body);
    const [, labels, value] = /^jobmeter_build_info\{(.*)\} (\S+)$/.exec(line)!;
    assert.equal(value, '1');
    const pairs = Object.fromEntries(
      [...labels!.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]),
    );
    assert.deepEqual(pairs, {
      version: VERSION,
      // serve runs from this checkout's sources: the commit git names (scripts/build.ts's for a build).
      commit: buildCommit(),
      runtime_version: process.version,
    });
    assert.match(body, /# TYPE jobmeter_build_info gauge\n/);
  },
);

it(
  'the process families (resident memory, CPU seconds by mode, event-loop delay) are served under their semantic-convention names',
  { timeout: 60_000 },
  async () => {
    await telemetry();
    // The delay figures cover the time since the previous scrape: give the 10 ms sampler a few turns.
    await new Promise((r) => setTimeout(r, 200));
    const body = await telemetry();
    const rss = sample(body, 'jobmeter_process_memory_usage_bytes');
    assert.ok(rss !== undefined && rss > 1e6 && rss < 8e9, `resident memory ${rss}:\n${body}`);
    assert.match(body, /# TYPE jobmeter_process_memory_usage_bytes gauge\n/);
    const user = sample(body, 'jobmeter_process_cpu_time_seconds_total{cpu_mode="user"}');
    const system = sample(body, 'jobmeter_process_cpu_time_seconds_total{cpu_mode="system"}');
    assert.ok(user !== undefined && user > 0 && system !== undefined && system >= 0, body);
    assert.match(body, /# TYPE jobmeter_process_cpu_time_seconds_total counter\n/);
    const delay = Object.fromEntries(
      ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'].map((f) => [
        f,
        sample(body, `jobmeter_nodejs_eventloop_delay_${f}_seconds`),
      ]),
    );
    for (const [figure, value] of Object.entries(delay))
      assert.ok(
        value !== undefined && Number.isFinite(value) && value >= 0,
        `${figure}: ${value}\n${body}`,
      );
    assert.ok(
      delay.min! > 0 &&
        delay.min! <= delay.p50! &&
        delay.p50! <= delay.p90! &&
        delay.p90! <= delay.p99! &&
        delay.p99! <= delay.max!,
      JSON.stringify(delay),
    );
  },
);

it(
  "series held against their cap, the ingest's memory budget used and limit, and /ready's answer are gauges, the figures /ready's text shows",
  { timeout: 60_000 },
  async () => {
    const before = await telemetry();
    assert.equal(sample(before, 'jobmeter_ingest_series'), 0, before);
    assert.equal(sample(before, 'jobmeter_ingest_series_limit'), 50_000, before);
    assert.equal(sample(before, 'jobmeter_ingest_memory_limit_bytes'), BUDGET, before);
    assert.equal(sample(before, 'jobmeter_ready'), 1, before);
    const sent = await fetch(ingestUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: batch(),
    });
    assert.equal(sent.status, 200);
    const rejected = Number(
      (JSON.parse(await sent.text()) as { partialSuccess: { rejectedDataPoints: string } })
        .partialSuccess.rejectedDataPoints,
    );
    assert.ok(
      rejected > 0 && rejected < 1000,
      `the batch is larger than the budget: ${rejected} of 1000 refused`,
    );

    const ready = await fetch(`${mainOrigin}/ready`);
    assert.equal(ready.status, 503);
    const [, held, budget] = /ingest at its memory budget: (\d+) of (\d+) bytes held/.exec(
      await ready.text(),
    )!;
    const body = await telemetry();
    assert.equal(sample(body, 'jobmeter_ingest_memory_usage_bytes'), Number(held), body);
    assert.equal(sample(body, 'jobmeter_ingest_memory_limit_bytes'), Number(budget), body);
    assert.equal(sample(body, 'jobmeter_ingest_series'), 1000 - rejected, body);
    assert.match(body, /# TYPE jobmeter_ingest_series gauge\n/);
    assert.equal(sample(body, 'jobmeter_ready'), 0, body);
  },
);

it(
  'the telemetry and ingest listeners answer /health and /ready as the main server does (here 503: the ingest at its budget)',
  { timeout: 60_000 },
  async () => {
    const main = await fetch(`${mainOrigin}/ready`);
    const mainAnswer = [main.status, await main.text()];
    assert.equal(mainAnswer[0], 503, 'the budget test before this one filled the ingest');
    for (const origin of [new URL(telemetryUrl).origin, new URL(ingestUrl).origin]) {
      const health = await fetch(`${origin}/health`);
      assert.deepEqual([health.status, await health.text()], [200, 'ok\n'], origin);
      const ready = await fetch(`${origin}/ready`);
      assert.deepEqual([ready.status, await ready.text()], mainAnswer, origin);
    }
    // Not an ingest request: the ingest's request count has no 404 for them.
    const notFound = (await telemetry())
      .split('\n')
      .find((l) => l.startsWith('jobmeter_ingest_requests_total{code="404"'));
    assert.match(notFound ?? '', / 0$/, notFound);
  },
);
