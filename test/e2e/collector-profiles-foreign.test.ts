/**
 * A foreign daemon (the official OpenTelemetry JS SDK standing in for a Go or Rust one) records
 * the canonical instruments with what such a daemon really sends — attributes no profile serves,
 * values outside a closed set, words the profile rewrites — and exports the same data twice: to
 * jobmeter's OTLP ingest, and to the real Collector running `jobmeter collector-config --profile
 * P`. The Collector's prometheus exporter must serve what jobmeter's pull endpoint serves: the
 * generated filters and folds do what jobmeter's own bounds and profile do, and dropping an
 * attribute sums the series it merged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Meter } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_RUN_DURATION_BUCKETS } from '../../src/domain/catalog.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { profile as rmProfile } from '../../src/naming/profiles/rm.ts';
import type { ProfileName } from '../../src/options.ts';
import {
  GENERATED_PORTS,
  generatedCollectorText,
  startCollector,
  type CollectorHandle,
} from '../support/collector.ts';
import { diffSeries, seriesTable } from '../support/series-diff.ts';

/** What the Collector's prometheus exporter adds to every series (from the resource). */
const EXPORTER_LABELS = ['job', 'instance'];

/** Each profile's scenario: what a foreign daemon records, the odd values included. */
const SCENARIOS: Partial<
  Record<ProfileName, { buckets: readonly number[]; record(meter: Meter): void }>
> = {
  solti: {
    buckets: DEFAULT_RUN_DURATION_BUCKETS,
    record(meter) {
      const started = meter.createCounter('jobmeter.run.started', { unit: '{run}' });
      const finished = meter.createCounter('jobmeter.run.finished', { unit: '{run}' });
      const duration = meter.createHistogram('jobmeter.run.duration', {
        unit: 's',
        advice: { explicitBucketBoundaries: [...DEFAULT_RUN_DURATION_BUCKETS] },
      });
      const errors = meter.createCounter('jobmeter.runner.error', { unit: '{error}' });
      const run = (task: string, runner: string, outcome: string, seconds: number): void => {
        started.add(1, { task, kind: 'task', runner });
        finished.add(1, { task, kind: 'task', runner, outcome, 'job.id': `${task}-${seconds}` });
        duration.record(seconds, { task, kind: 'task', runner, outcome });
      };
      // Two tasks on one runner and outcome: solti has no task label, so they are one series, summed.
      run('backup', 'subprocess', 'success', 0.2);
      run('lint', 'subprocess', 'success', 3);
      run('backup', 'wasm', 'cancelled', 12);
      run('lint', 'container', 'failure', 40);
      // Outside the canonical outcomes: folded into `other`.
      run('lint', 'container', 'exploded', 1);
      // Outside solti's RunnerType: dropped, in every family.
      run('backup', 'gpu', 'success', 1);
      errors.add(1, { runner: 'wasm', error: 'module_load_failed' });
      errors.add(2, { runner: 'container', error: 'spawn_failed' });
      // Outside solti's RunnerErrorKind: dropped.
      errors.add(1, { runner: 'container', error: 'disk on fire' });
    },
  },
  rm: {
    buckets: rmProfile.buckets!['jobmeter.run.duration']!,
    record(meter) {
      const duration = meter.createHistogram('jobmeter.run.duration', {
        unit: 's',
        advice: { explicitBucketBoundaries: [...rmProfile.buckets!['jobmeter.run.duration']!] },
      });
      // rm's outcome words: success → succeeded; failure and timeout are both `failed`, summed.
      duration.record(30, {
        task: 'nightly',
        kind: 'backup',
        runner: 'subprocess',
        outcome: 'success',
      });
      duration.record(70, {
        task: 'weekly',
        kind: 'backup',
        runner: 'subprocess',
        outcome: 'success',
      });
      duration.record(4000, { task: 'nightly', kind: 'prune', outcome: 'failure' });
      duration.record(90000, { task: 'nightly', kind: 'prune', outcome: 'timeout' });
      // Outside rm's job kinds: dropped.
      duration.record(5, { task: 'x', kind: 'defrag', outcome: 'success' });
      const repo = meter.createObservableGauge('jobmeter.host.repo.status');
      repo.addCallback((r) => {
        r.observe(1, { 'host.id': 'h1', 'host.name': 'alpha', status: 'ready' });
        // Outside the repository states rm documents: dropped.
        r.observe(1, { 'host.id': 'h2', 'host.name': 'beta', status: 'exploded' });
      });
      const alerts = meter.createObservableGauge('jobmeter.alert.open', { unit: '{alert}' });
      alerts.addCallback((r) => {
        r.observe(2, { severity: 'warning' });
        r.observe(1, { severity: 'critical' });
        r.observe(5, { severity: 'debug' });
      });
    },
  },
};

for (const [profile, scenario] of Object.entries(SCENARIOS) as [
  ProfileName,
  NonNullable<(typeof SCENARIOS)[ProfileName]>,
][]) {
  describe(`a foreign daemon through collector-config and through jobmeter's ingest: ${profile}`, () => {
    let collector: CollectorHandle<'otlp' | 'prom'> | undefined;
    let jm: Jobmeter | undefined;
    let provider: MeterProvider | undefined;
    let notReproduced: string[] = [];
    let pulled = '';
    let reexposed = '';

    before(async () => {
      collector = await startCollector({
        ports: ['otlp', 'prom', ...GENERATED_PORTS],
        config: async (p) => {
          const text = await generatedCollectorText(profile, p);
          const line = /^# not reproduced by the Collector: (.*)$/m.exec(text)![1]!;
          notReproduced = line === '(none)' ? [] : line.split(', ');
          return parseYaml(text) as Record<string, unknown>;
        },
      });
      jm = await createJobmeter({
        profile,
        listener: { port: 0 },
        processMetrics: false,
        global: false,
        ingest: { port: 0 },
      });
      const exporter = (port: number): OTLPMetricExporter =>
        new OTLPMetricExporter({ url: `http://127.0.0.1:${port}/v1/metrics` });
      provider = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': `${profile}-go-daemon` }),
        readers: [
          new PeriodicExportingMetricReader({
            exporter: exporter(jm.ingestAddress!.port),
            exportIntervalMillis: 3_600_000,
          }),
          new PeriodicExportingMetricReader({
            exporter: exporter(collector.ports.otlp),
            exportIntervalMillis: 3_600_000,
          }),
        ],
      });
      scenario.record(provider.getMeter(`${profile}-go-daemon`));
      await provider.forceFlush();
      pulled = await (
        await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
          headers: { accept: 'text/plain;version=0.0.4' },
        })
      ).text();
      const families = [...seriesTable(pulled).families.keys()];
      for (let i = 0; i < 100; i++) {
        reexposed = await (await fetch(`http://127.0.0.1:${collector.ports.prom}/metrics`)).text();
        const got = seriesTable(reexposed).families;
        if (families.every((f) => got.has(f) || notReproduced.includes(f))) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    after(async () => {
      await provider?.shutdown();
      await jm?.shutdown();
      await collector?.stop();
    });

    it('the Collector serves the series jobmeter serves from the same pushes', () => {
      const drop = ['target_info', ...notReproduced];
      // rm_build_info is jobmeter's own build, not the sender's: the daemon pushed none.
      const left = seriesTable(pulled, { dropFamilies: [...drop, 'rm_build_info'] });
      const right = seriesTable(reexposed, { dropLabels: EXPORTER_LABELS, dropFamilies: drop });
      // Only what was recorded: a zero-filled series is jobmeter's, not the sender's.
      const diff = diffSeries(left, right);
      const zeroFilled = diff.onlyLeft.filter((k) => left.values.get(k) === 0);
      assert.deepEqual(
        { ...diff, onlyLeft: diff.onlyLeft.filter((k) => !zeroFilled.includes(k)) },
        { onlyLeft: [], onlyRight: [], values: [], types: [] },
        `jobmeter (left) vs Collector (right):\n${JSON.stringify(diff, null, 2)}\n--- jobmeter ---\n${pulled}\n--- collector ---\n${reexposed}`,
      );
      assert.ok(right.values.size > 0);
    });

    it('what the closed sets refuse is in neither', () => {
      for (const word of ['gpu', 'disk on fire', 'defrag', 'exploded', 'debug']) {
        assert.ok(!reexposed.includes(`"${word}"`), `${word} in the Collector's series`);
        assert.ok(!pulled.includes(`"${word}"`), `${word} in jobmeter's series`);
      }
    });
  });
}
