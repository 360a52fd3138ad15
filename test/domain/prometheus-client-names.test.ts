/**
 * `prometheusClientNames`: the Node process and runtime figures under the Prometheus client
 * libraries' names. The oracle is prom-client itself (`collectDefaultMetrics`, the names the
 * common Node.js dashboards query) in the same process: every family it serves, jobmeter serves
 * over its pull listener with the same type, help, label names and buckets, under every profile
 * and translation strategy; the figures that cannot differ between two readers in one process
 * (start time, version, descriptor limit) are equal; the OpenTelemetry names stay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ConfigError } from '../../src/errors.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { JobmeterOptions } from '../../src/options.ts';
import { PerformanceObserver } from 'node:perf_hooks';
import {
  groupFamilies,
  parseExposition,
  type ParsedFamily,
  type WireFormat,
} from '../support/exposition-parser.ts';

/**
 * Families of an exposition by the name a query uses (an OpenMetrics counter's with `_total`), those
 * with a series only: prom-client writes a family with none (no active request) as two comment
 * lines, which a query sees as nothing. prom-client puts a blank line between families and writes
 * NaN as `Nan` (Prometheus reads either).
 */
function families(text: string, format: WireFormat = 'text'): Map<string, ParsedFamily> {
  const problems: string[] = [];
  const lines = text.replace(/\n\n+/g, '\n').replace(/ Nan$/gm, ' NaN');
  const parsed = groupFamilies(parseExposition(lines, format), format, problems);
  assert.deepEqual(problems, []);
  return new Map(
    parsed
      .filter((f) => f.samples.length > 0)
      .map((f) => [
        format === 'openmetrics' && f.type === 'counter' ? `${f.name}_total` : f.name,
        f,
      ]),
  );
}

/** A series' label names but `le` and the native profile's `otel_scope_*` (which a selector ignores). */
const labelNames = (f: ParsedFamily): string[] =>
  [...new Set(f.samples.flatMap((s) => s.labels.map(([k]) => k)))]
    .filter((k) => k !== 'le' && !k.startsWith('otel_scope_'))
    .sort();
/** A histogram's bucket bounds, as numbers (OpenMetrics writes `1.0` where text writes `1`). */
const les = (f: ParsedFamily): number[] => [
  ...new Set(
    f.samples.flatMap((s) => s.labels.filter(([k]) => k === 'le').map(([, v]) => Number(v))),
  ),
];
const value = (f: ParsedFamily | undefined): number | undefined => f?.samples[0]?.value;

/** Allocates until V8 has collected at least once, so a reader's GC histogram has a series. */
async function garbage(): Promise<void> {
  let collected = false;
  const observer = new PerformanceObserver(() => {
    collected = true;
  });
  observer.observe({ entryTypes: ['gc'] });
  let keep: unknown[] = [];
  for (let round = 0; !collected && round < 1000; round++) {
    for (let i = 0; i < 50_000; i++) keep.push({ i, s: `x${i}` });
    keep = [];
    // The observers are told on a later turn.
    await new Promise((r) => setImmediate(r));
  }
  observer.disconnect();
  assert.ok(collected, 'V8 collected no garbage');
  // The readers' observers too.
  await new Promise((r) => setTimeout(r, 50));
}

/** A scrape asking for text 0.0.4, in what the profile serves (a legacy one may insist on OpenMetrics). */
async function scrape(jm: Jobmeter): Promise<Map<string, ParsedFamily>> {
  const { host, port } = jm.pullAddress!;
  const res = await fetch(`http://${host}:${port}/metrics`, {
    headers: { accept: 'text/plain;version=0.0.4' },
  });
  assert.equal(res.status, 200);
  const om = res.headers.get('content-type')!.startsWith('application/openmetrics-text');
  return families(await res.text(), om ? 'openmetrics' : 'text');
}

async function withJobmeter<T>(
  options: JobmeterOptions,
  use: (jm: Jobmeter) => Promise<T>,
): Promise<T> {
  const jm = await createJobmeter({
    global: false,
    cluster: false,
    listener: { port: 0 },
    ...options,
  });
  try {
    return await use(jm);
  } finally {
    await jm.shutdown();
  }
}

describe('prometheusClientNames', () => {
  const registry = new Registry();
  let client: Map<string, ParsedFamily>;

  before(async () => {
    collectDefaultMetrics({ register: registry });
    await garbage();
    client = families(await registry.metrics());
    assert.ok(client.size >= 25, `prom-client served ${client.size} families`);
  });
  after(() => registry.clear());

  for (const [what, options] of [
    ['the otel profile', {}],
    [
      'the otel profile, UnderscoreEscapingWithoutSuffixes',
      { translationStrategy: 'UnderscoreEscapingWithoutSuffixes' },
    ],
    ['the otel profile, NoTranslation', { translationStrategy: 'NoTranslation' }],
    ['the runwisp profile', { profile: 'runwisp' }],
    ['the semconv profile', { profile: 'semconv' }],
  ] as const)
    it(`serves every family prom-client's collectDefaultMetrics serves, with its type, help, label names and buckets (${what})`, async () => {
      await withJobmeter({ prometheusClientNames: true, ...options }, async (jm) => {
        await scrape(jm);
        await garbage();
        const ours = await scrape(jm);
        for (const [name, theirs] of client) {
          const f = ours.get(name);
          assert.ok(f !== undefined, `${name} is not served`);
          assert.equal(f.type, theirs.type, `${name}: type`);
          assert.equal(f.help, theirs.help, `${name}: help`);
          assert.deepEqual(labelNames(f), labelNames(theirs), `${name}: label names`);
          if (theirs.type === 'histogram')
            assert.deepEqual(les(f), les(theirs), `${name}: buckets`);
        }
      });
    });

  it('serves the figures two readers in one process must agree on with prom-client’s values', async () => {
    await withJobmeter({ prometheusClientNames: true }, async (jm) => {
      const ours = await scrape(jm);
      const now = families(await registry.metrics());
      for (const name of ['process_start_time_seconds', 'process_max_fds', 'nodejs_version_info'])
        assert.equal(value(ours.get(name)), value(now.get(name)), name);
      const versionLabels = (m: Map<string, ParsedFamily>) =>
        m.get('nodejs_version_info')!.samples[0]!.labels.filter(([k]) => !k.startsWith('otel_'));
      assert.deepEqual(versionLabels(ours), versionLabels(now));
      // The process' CPU time since it started, as client_golang counts it (the Node clients count
      // from their registration, a smaller figure; rate() is the same): at least what prom-client
      // counted earlier, at most what the process has used by now.
      const cpu = value(ours.get('process_cpu_seconds_total'))!;
      assert.ok(cpu >= value(client.get('process_cpu_seconds_total'))!);
      const { user, system } = process.cpuUsage();
      assert.ok(cpu <= (user + system) / 1e6);
      const heapSpaces = (m: Map<string, ParsedFamily>) =>
        m
          .get('nodejs_heap_space_size_total_bytes')!
          .samples.map((s) => s.labels[0]![1])
          .sort();
      assert.deepEqual(heapSpaces(ours), heapSpaces(now));
    });
  });

  it('keeps the OpenTelemetry names beside them, and serves neither set of client names by default', async () => {
    const on = await withJobmeter({ prometheusClientNames: true }, async (jm) => await scrape(jm));
    assert.ok(on.has('process_cpu_time_seconds_total'));
    assert.ok(on.has('process_cpu_seconds_total'));
    const off = await withJobmeter({}, async (jm) => await scrape(jm));
    assert.ok(off.has('process_cpu_time_seconds_total'));
    for (const name of client.keys()) assert.ok(!off.has(name), `${name} is served by default`);
    const only = await withJobmeter(
      { prometheusClientNames: true, processMetrics: false },
      async (jm) => await scrape(jm),
    );
    assert.ok(only.has('process_cpu_seconds_total'));
    assert.ok(!only.has('process_cpu_time_seconds_total'));
  });

  it('is refused under a legacy profile whose host instruments are dropped, which would serve none of them', async () => {
    await assert.rejects(
      createJobmeter({
        prometheusClientNames: true,
        profile: 'rm',
        hostInstruments: 'drop',
        global: false,
        listener: false,
      }),
      (e: unknown) => e instanceof ConfigError && e.key === 'prometheusClientNames',
    );
  });
});
