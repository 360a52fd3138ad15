/**
 * The drop-in path from `@opentelemetry/exporter-prometheus` (docs/host-apps.md, "Coming from
 * @opentelemetry/exporter-prometheus"): the official `PrometheusExporter` and a `JobmeterReader`
 * with `unitSuffixes: false` and a text listener, each the one reader of a MeterProvider given the
 * same recordings, scraped side by side by the real Prometheus 2.42 and 3.x. Every series each
 * stores from the exporter it stores from jobmeter, with the same labels (bucket bounds included)
 * and the same value. Text because Prometheus 2 keeps a bound as written: OpenMetrics' `le="5.0"`
 * would be another series than the exporter's `le="5"` (Prometheus 3 stores both as `5.0`).
 * Every option of the exporter has its counterpart named when given to JobmeterReader.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../../src/errors.ts';
import { JobmeterReader } from '../../src/jobmeter-reader.ts';
import {
  startEachPrometheus,
  type PrometheusHandle,
  type PrometheusMajor,
} from '../support/prometheus.ts';
import { storedByJob } from './exporter-stores.ts';

/** Each kind of instrument, with and without a unit, and attributes to turn into labels. */
function record(meter: Meter): void {
  const attributes = { 'job.queue': 'emails', 'http-method': 'GET' };
  meter.createCounter('app.jobs', { unit: '{job}' }).add(3, attributes);
  meter.createCounter('app.bytes.sent', { unit: 'By' }).add(1024, attributes);
  meter.createUpDownCounter('app.queue.depth').add(-2, attributes);
  meter.createGauge('app.workers', { unit: '1' }).record(0.5, attributes);
  const latency = meter.createHistogram('app.job.latency', { unit: 's' });
  for (const v of [0.003, 0.25, 4, 12]) latency.record(v, attributes);
  meter.createHistogram('app.job.size').record(700, attributes);
  meter
    .createObservableGauge('app.uptime', { unit: 's' })
    .addCallback((r) => r.observe(42, attributes));
}

const SCOPE = ['app', '1.4.0'] as const;
const shutdowns: Array<() => Promise<unknown>> = [];
let official: PrometheusExporter;
let reader: JobmeterReader;
let proms: Map<PrometheusMajor, PrometheusHandle>;

before(async () => {
  official = new PrometheusExporter({ preventServerStart: true });
  reader = new JobmeterReader({
    unitSuffixes: false,
    listener: { port: 0, format: 'text' },
  });
  for (const r of [official, reader]) {
    const provider = new MeterProvider({ readers: [r] });
    shutdowns.push(() => provider.shutdown());
    record(provider.getMeter(...SCOPE));
  }
  // The exporter's own handler on a server of the test's, on a free loopback port.
  const server = createServer((req, res) => official.getMetricsRequestHandler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  shutdowns.push(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as AddressInfo;
  await reader.ready;
  proms = await startEachPrometheus({
    jobs: [
      { name: 'exporter', target: `127.0.0.1:${port}` },
      { name: 'jobmeter', target: `127.0.0.1:${reader.pullAddress!.port}` },
    ],
  });
  for (const p of proms.values()) await p.waitForTargetsUp();
});

after(async () => {
  await Promise.all([...(proms?.values() ?? [])].map((p) => p.stop()));
  await Promise.all(shutdowns.splice(0).map((s) => s()));
});

describe('switching from @opentelemetry/exporter-prometheus', () => {
  for (const major of [2, 3] as const)
    it(`Prometheus ${major} stores every series of the exporter from JobmeterReader({ unitSuffixes: false, listener: { format: 'text' } }), labels, bounds and values alike`, async () => {
      const prom = proms.get(major)!;
      // Both scraped at least once after the recordings: every series is in.
      const exporter = await storedByJob(prom, 'exporter');
      const jobmeter = await storedByJob(prom, 'jobmeter');
      assert.ok(exporter.size >= 40, `the exporter's series stored: ${exporter.size}`);
      assert.ok(
        [...exporter.keys()].some((k) => k.includes('le="5')),
        'the histograms are stored with their bounds',
      );
      assert.deepEqual([...jobmeter.keys()].sort(), [...exporter.keys()].sort());
      for (const [key, value] of exporter) assert.equal(jobmeter.get(key), value, key);
    });

  it("each of PrometheusExporter's options is refused by JobmeterReader naming what to use, or taken", () => {
    const types = join(
      dirname(createRequire(import.meta.url).resolve('@opentelemetry/exporter-prometheus')),
      'export/types.d.mts',
    );
    const keys = [...readFileSync(types, 'utf8').matchAll(/^\s+(\w+)\?:/gm)].map((m) => m[1]!);
    assert.ok(keys.includes('withoutScopeInfo'), `read the exporter's options: ${keys.join(', ')}`);
    for (const key of keys) {
      if (key === 'metricProducers') {
        new JobmeterReader({ listener: false, metricProducers: [] }).shutdown().catch(() => {});
        continue;
      }
      assert.throws(
        () => new JobmeterReader({ listener: false, [key]: true } as never),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.key === key &&
          /PrometheusExporter's option/.test(e.message) &&
          !/expected a key of/.test(e.message),
        key,
      );
    }
  });
});
