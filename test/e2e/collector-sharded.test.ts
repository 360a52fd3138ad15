/**
 * A sharded Collector tier from `jobmeter collector-config --front` / `--worker`, against the real
 * Collector and Prometheus 3: senders push to a front (the profile's processors, then
 * `load_balancing` with `routing_key: streamID`) that routes each stream to one of two workers
 * (`delta_to_cumulative`, the `prometheus` exporter), which Prometheus 3 scrapes. The same senders
 * push the same runs to one jobmeter ingest (what `jobmeter serve` serves), which the same
 * Prometheus scrapes: the oracle.
 *
 * Senders: three jobmeter pushes of the canonical instruments (cumulative, each a pair recording the
 * same runs, one pushing to the front, one to the oracle) and one OTel JS SDK exporting a counter
 * with delta temporality (one provider, a reader per destination). Mid-run the worker holding the
 * delta stream is killed (SIGKILL) and started again on its address.
 *
 * Held, series by series from Prometheus' API: both workers hold series and none is held by both;
 * the tier's series, summed over senders (jobmeter's ingest adds senders up), have the oracle's
 * names and label sets; every cumulative sender's total is the oracle's exactly, with no reset, across
 * the kill; the delta stream's total as Prometheus counts it (resets included) is never more than
 * the oracle's, and what the kill lost is what the worker held since Prometheus last scraped it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { parse as parseYaml } from 'yaml';
import { collectorConfigCommand } from '../../src/cli/collector-config-command.ts';
import type { Outcome } from '../../src/domain/types.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import {
  GENERATED_PORTS,
  generatedPortFlags,
  startCollector,
  validateCollectorConfig,
  type CollectorHandle,
} from '../support/collector.ts';
import { startPrometheus, type PrometheusHandle, type Sample } from '../support/prometheus.ts';
import { tempFiles } from '../support/temp-files.ts';

const PROFILE = 'solti';
const FAMILY = /^solti_runner_/;
const CUMULATIVE_SENDERS = 3;
/** The delta sender's runner: no cumulative sender uses it, so its series are its own. */
const DELTA_RUNNER = 'wasm';
const RUNNERS = ['subprocess', 'container'] as const;
const OUTCOMES: readonly Outcome[] = ['success', 'failure', 'cancelled', 'timeout'];
const DURATIONS = [0.02, 0.3, 4, 45, 700] as const;
const ROUNDS = 16;
const ROUND_MS = 500;
const KILL_AT = 7;
const RESTART_AT = 10;
/** Labels that say where a series came from: the scrape target, and the sender's resource. */
const ORIGIN = new Set(['job', 'instance', 'exported_job', 'exported_instance']);
const WORKER_PORTS = ['otlp', 'prometheus', ...GENERATED_PORTS] as const;
type WorkerPort = (typeof WORKER_PORTS)[number];

const temp = tempFiles('jobmeter-collector-sharded-');

const workerConfig = async (p: Record<WorkerPort, number>): Promise<Record<string, unknown>> =>
  parseYaml(
    await collectorConfigCommand([
      '--worker',
      '--otlp',
      `127.0.0.1:${p.otlp}`,
      '--prometheus',
      `127.0.0.1:${p.prometheus}`,
      ...generatedPortFlags(p),
    ]),
  ) as Record<string, unknown>;

const startWorker = (
  fixedPorts?: Record<WorkerPort, number>,
): Promise<CollectorHandle<WorkerPort>> =>
  startCollector({
    ports: WORKER_PORTS,
    config: workerConfig,
    ...(fixedPorts !== undefined && { fixedPorts }),
  });

describe('collector-config --front / --worker: otelcol validate accepts both tiers', () => {
  it('a front for every legacy profile, and a worker with each kind of store', async () => {
    for (const profile of ['runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti']) {
      const text = await collectorConfigCommand([
        '--profile',
        profile,
        '--front',
        '--workers',
        '127.0.0.1:14317,127.0.0.1:24317',
      ]);
      const { code, output } = await validateCollectorConfig(
        await temp.file(`${profile}-front.yaml`, text),
      );
      assert.equal(code, 0, `${profile}: ${output}`);
    }
    for (const store of [
      ['--prometheus', '127.0.0.1:9464'],
      ['--gateway', 'http://127.0.0.1:9090/api/v1/otlp'],
      ['--remote-write', 'http://127.0.0.1:9090/api/v1/write'],
    ]) {
      const { code, output } = await validateCollectorConfig(
        await temp.file(
          `worker${store[0]}.yaml`,
          await collectorConfigCommand(['--worker', ...store]),
        ),
      );
      assert.equal(code, 0, `${store[0]}: ${output}`);
    }
  });
});

const workers: CollectorHandle<WorkerPort>[] = [];
let front: CollectorHandle<'otlp' | 'health' | 'telemetry'> | undefined;
let oracle: Jobmeter | undefined;
let prom: PrometheusHandle | undefined;
const pushers: Jobmeter[] = [];
let deltaProvider: MeterProvider | undefined;
let killed = -1;
let runStart = 0;
/** What the delta sender recorded: the oracle's total for its stream. */
let deltaRecorded = 0;

/** Every series a job held since the run began (`last_over_time`), by its full label set. */
async function heldSince(job: string): Promise<Sample[]> {
  const range = `${Math.ceil(Date.now() / 1000 - runStart) + 5}s`;
  const all = await prom!.query(`last_over_time({job="${job}"}[${range}])`);
  return all.filter((s) => FAMILY.test(s.metric['__name__'] ?? ''));
}

const keyOf = (metric: Record<string, string>, keep: (label: string) => boolean): string => {
  const labels = Object.entries(metric)
    .filter(([k]) => k !== '__name__' && keep(k))
    .sort(([a], [b]) => a.localeCompare(b));
  const le = (k: string, v: string): string => (k === 'le' ? String(Number(v)) : v);
  return `${metric['__name__']}{${labels.map(([k, v]) => `${k}=${JSON.stringify(le(k, v))}`).join(',')}}`;
};
/** A series as the oracle has it: origin labels left out (the ingest adds its senders up). */
const servedKey = (m: Record<string, string>): string => keyOf(m, (k) => !ORIGIN.has(k));
/** A series as one sender's stream: its sender kept. */
const streamKey = (m: Record<string, string>): string =>
  keyOf(m, (k) => k !== 'job' && k !== 'instance');

/** The current values, summed over senders (and workers): what the oracle serves for the same runs. */
async function summed(jobs: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const job of jobs) {
    for (const s of await prom!.query(`{job="${job}"}`)) {
      if (!FAMILY.test(s.metric['__name__'] ?? '')) continue;
      const key = servedKey(s.metric);
      out.set(key, (out.get(key) ?? 0) + Number(s.value[1]));
    }
  }
  return out;
}

/** Equal, up to the order in which a `_sum`'s floats were added (senders, then workers here; arrival order there). */
const close = (a: number | undefined, b: number | undefined): boolean =>
  a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/** A counter's total as Prometheus counts it over the run: increments summed, a drop read as a reset. */
async function countedOverRun(
  job: string,
  selector: string,
): Promise<{ counted: number; resets: number }> {
  const end = Date.now() / 1000;
  const params = new URLSearchParams({
    query: selector,
    start: String(runStart - 5),
    end: String(end),
    step: '0.25',
  });
  const res = await fetch(`${prom!.url}/api/v1/query_range?${params.toString()}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as {
    data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
  };
  const series = body.data.result.filter((r) => r.metric['job'] === job);
  assert.equal(
    series.length,
    1,
    `${selector} on ${job}: ${JSON.stringify(body.data.result.map((r) => r.metric))}`,
  );
  let counted = 0;
  let resets = 0;
  let last = 0;
  for (const [, text] of series[0]!.values) {
    const v = Number(text);
    if (v < last) resets++;
    counted += v >= last ? v - last : v;
    last = v;
  }
  return { counted, resets };
}

before(async () => {
  oracle = await createJobmeter({
    profile: PROFILE,
    serviceName: 'oracle',
    listener: { port: 0 },
    processMetrics: false,
    global: false,
    ingest: { port: 0 },
  });
  for (let w = 0; w < 2; w++) workers.push(await startWorker());
  prom = await startPrometheus({
    major: 3,
    jobs: [
      { name: 'oracle', target: `127.0.0.1:${oracle.pullAddress!.port}` },
      ...workers.map((w, i) => ({
        name: `worker-${i}`,
        target: `127.0.0.1:${w.ports.prometheus}`,
      })),
    ],
    scrapeInterval: '1s',
  });
  await prom.waitForTargetsUp(30_000);
  const workerList = workers.map((w) => `127.0.0.1:${w.ports.otlp}`).join(',');
  front = await startCollector({
    ports: ['otlp', ...GENERATED_PORTS],
    config: async (p) =>
      parseYaml(
        await collectorConfigCommand([
          '--profile',
          PROFILE,
          '--front',
          '--workers',
          workerList,
          '--otlp',
          `127.0.0.1:${p.otlp}`,
          ...generatedPortFlags(p),
        ]),
      ) as Record<string, unknown>,
  });
  const destinations = [
    `http://127.0.0.1:${front.ports.otlp}/v1/metrics`,
    `http://127.0.0.1:${oracle.ingestAddress!.port}/v1/metrics`,
  ];
  const pairs: Jobmeter[][] = [];
  for (let i = 0; i < CUMULATIVE_SENDERS; i++) {
    const pair: Jobmeter[] = [];
    for (const endpoint of destinations) {
      pair.push(
        await createJobmeter({
          profile: PROFILE,
          serviceName: `sender-${i}`,
          listener: false,
          processMetrics: false,
          global: false,
          otlp: { endpoint, intervalMillis: 1_000, naming: 'canonical' },
        }),
      );
    }
    pushers.push(...pair);
    pairs.push(pair);
  }
  deltaProvider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'delta-sender' }),
    readers: destinations.map(
      (url) =>
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({
            url,
            temporalityPreference: AggregationTemporalityPreference.DELTA,
            timeoutMillis: 1_000,
          }),
          exportIntervalMillis: 1_000,
          exportTimeoutMillis: 1_000,
        }),
    ),
  });
  const finished = deltaProvider
    .getMeter('delta-sender')
    .createCounter('jobmeter.run.finished', { unit: '{run}' });

  runStart = Date.now() / 1000;
  for (let round = 0; round < ROUNDS; round++) {
    pairs.forEach((pair, i) => {
      for (let k = 0; k <= i; k++) {
        const run = {
          task: `t${round}-${k}`,
          runner: RUNNERS[(round + k) % RUNNERS.length]!,
          outcome: OUTCOMES[(round + i + k) % OUTCOMES.length]!,
          durationSeconds: DURATIONS[(round + k) % DURATIONS.length]!,
        };
        for (const jm of pair) jm.recordRun(run);
      }
      if (round % 4 === i) for (const jm of pair) jm.runnerError(RUNNERS[i % 2]!, 'spawn_failed');
    });
    // One stream, as most delta senders have; and one whose task differs run to run, which the
    // front sums away (solti drops `task`) before routing.
    finished.add(3, { runner: DELTA_RUNNER, outcome: 'success' });
    deltaRecorded += 3;
    for (let k = 0; k < 3; k++)
      finished.add(1, { task: `d${round}-${k}`, runner: DELTA_RUNNER, outcome: 'failure' });
    if (round === KILL_AT) {
      // The worker that holds the delta stream: a crash there loses what it had made cumulative.
      const holders = await prom.waitFor(
        `{exported_job="delta-sender", outcome="success", __name__=~"solti_runner_.*"}`,
        (r) => r.length > 0,
        20_000,
      );
      killed = Number(holders[0]!.metric['job']!.replace('worker-', ''));
      await workers[killed]!.kill();
    }
    if (round === RESTART_AT) {
      workers[killed] = await startWorker(workers[killed]!.ports);
    }
    await sleep(ROUND_MS);
  }
  await Promise.all([...pushers.map((p) => p.forceFlush()), deltaProvider.forceFlush()]);
});

after(async () => {
  await Promise.allSettled([deltaProvider?.shutdown(), ...pushers.map((p) => p.shutdown())]);
  await Promise.allSettled([
    front?.stop(),
    ...workers.map((w) => w.stop()),
    prom?.stop(),
    oracle?.shutdown(),
  ]);
});

describe('a sharded tier (front → two workers → Prometheus 3) against one jobmeter ingest', () => {
  it('every stream is held by exactly one worker, and both workers hold some', async () => {
    const [zero, one] = await Promise.all([heldSince('worker-0'), heldSince('worker-1')]);
    const keys = [
      new Set(zero.map((s) => streamKey(s.metric))),
      new Set(one.map((s) => streamKey(s.metric))),
    ];
    const both = [...keys[0]!].filter((k) => keys[1]!.has(k));
    assert.ok(
      keys[0]!.size > 0 && keys[1]!.size > 0,
      `worker-0 ${keys[0]!.size}, worker-1 ${keys[1]!.size} series`,
    );
    assert.deepEqual(both, []);
  });

  it("every cumulative sender's series: the oracle's names, label sets and values exactly, with no reset across the worker's crash", async (t) => {
    assert.ok(killed >= 0, 'a worker was killed');
    const cumulative = (key: string): boolean => !key.includes(`runner="${DELTA_RUNNER}"`);
    let last = { tier: new Map<string, number>(), oracle: new Map<string, number>() };
    const deadline = Date.now() + 60_000;
    // The last pushes reach Prometheus a scrape later on both sides; wait until they settle.
    while (Date.now() < deadline) {
      last = { tier: await summed(['worker-0', 'worker-1']), oracle: await summed(['oracle']) };
      const differ = [...last.oracle].filter(
        ([k, v]) => cumulative(k) && !close(last.tier.get(k), v),
      );
      if (differ.length === 0 && last.oracle.size > 0) break;
      await sleep(1_000);
    }
    const tierKeys = [...last.tier.keys()].filter(cumulative).sort();
    const oracleKeys = [...last.oracle.keys()].filter(cumulative).sort();
    assert.deepEqual(tierKeys, oracleKeys);
    const values = oracleKeys
      .filter((k) => !close(last.tier.get(k), last.oracle.get(k)))
      .map((k) => `${k}: tier ${last.tier.get(k)} oracle ${last.oracle.get(k)}`);
    assert.deepEqual(values, []);
    const resets = await prom!.query(
      `sum by (job) (resets({job=~"worker-.", exported_job=~"sender-.", __name__=~"solti_runner_.*_total"}[10m]))`,
    );
    assert.deepEqual(resets.map((s) => [s.metric['job'], s.value[1]]).sort(), [
      ['worker-0', '0'],
      ['worker-1', '0'],
    ]);
    t.diagnostic(
      `${oracleKeys.length} cumulative series equal; worker-${killed} killed at round ${KILL_AT}, back at round ${RESTART_AT}`,
    );
  });

  it('a delta stream on the crashed worker: Prometheus never counts more than was sent; what the crash lost is measured', async (t) => {
    const selector = `solti_runner_tasks_completed_total{outcome="success",runner="${DELTA_RUNNER}"}`;
    await prom!.waitFor(
      selector,
      (r) => r.some((s) => s.metric['job'] === 'oracle' && Number(s.value[1]) === deltaRecorded),
      30_000,
    );
    const holder = `worker-${killed}`;
    // The stream comes back on the restarted worker once the front reconnects to it.
    await prom!.waitFor(selector, (r) => r.some((s) => s.metric['job'] === holder), 30_000);
    await sleep(2_500);
    const { counted, resets } = await countedOverRun(holder, selector);
    t.diagnostic(
      `delta stream on worker-${killed}: sent ${deltaRecorded}, counted ${counted} by Prometheus (${resets} reset(s) seen): ${deltaRecorded - counted} lost`,
    );
    assert.ok(
      counted > 0 && counted <= deltaRecorded,
      `counted ${counted} of ${deltaRecorded} sent`,
    );
  });

  it("a delta stream whose points the profile folds together is refused by the worker's delta_to_cumulative, and counted there", async () => {
    let refused = 0;
    for (const w of workers) {
      const text = await (
        await fetch(`http://127.0.0.1:${w.ports.telemetry}/metrics`, {
          signal: AbortSignal.timeout(10_000),
        })
      ).text();
      for (const m of text.matchAll(
        /^otelcol_deltatocumulative_datapoints(?:_total)?\{[^}]*error="[^"]+"[^}]*\} (\S+)$/gm,
      ))
        refused += Number(m[1]);
    }
    // Each run's task is a stream of its own at the sender; summed into one by the front, the points'
    // start times no longer follow one another, which delta_to_cumulative refuses (ErrOutOfOrder).
    assert.ok(refused > 0, `refused ${refused}`);
  });
});
