// jobmeter's provider is a MeterProvider any standard reader reads: a
// PeriodicExportingMetricReader with the official OTLP/HTTP exporter, pushing to the real
// Collector, and the official PrometheusExporter both see jobmeter's domain instruments (recorded
// into its storages), an own instrument a View sends to the SDK, and the host instruments made
// on one of its meters — every instrument kind of the Metrics API.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { AggregationType, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { startDebugCollector } from '../support/collector.ts';

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
  metrics.disable();
});

/** Records through every instrument kind: the domain API, and a host meter of jobmeter's provider. */
function record(jm: Jobmeter): void {
  jm.recordRun({ task: 'backup', outcome: 'success', durationSeconds: 3 });
  jm.startRun({ task: 'sync' });
  jm.reject('queue_full');
  const meter = jm.meterProvider.getMeter('host-app', '1.0.0');
  meter.createCounter('host.jobs').add(2, { queue: 'emails' });
  meter.createUpDownCounter('host.workers').add(3);
  meter.createHistogram('host.wait', { unit: 's' }).record(0.4);
  meter.createGauge('host.temperature').record(21.5);
  meter.createObservableGauge('host.queue.depth').addCallback((r) => r.observe(7));
  const uptime = meter.createObservableCounter('host.ticks');
  const open = meter.createObservableUpDownCounter('host.open');
  meter.addBatchObservableCallback(
    (r) => {
      r.observe(uptime, 11);
      r.observe(open, 5);
    },
    [uptime, open],
  );
}

const VIEWS = [{ instrumentName: 'jobmeter.request.rejected', name: 'daemon.rejected' }];
const EXPECTED = [
  'jobmeter.run.finished',
  'jobmeter.run.duration',
  'jobmeter.run.active',
  'daemon.rejected',
  'host.jobs',
  'host.workers',
  'host.wait',
  'host.temperature',
  'host.queue.depth',
  'host.ticks',
  'host.open',
];

test("a PeriodicExportingMetricReader with the official OTLP exporter, on jobmeter's provider, pushes every instrument to the real Collector", async () => {
  const collector = await startDebugCollector('normal');
  cleanup.push(() => collector.stop());
  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({
      url: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
    }),
    exportIntervalMillis: 3_600_000,
  });
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    readers: [reader],
    views: VIEWS,
  });
  cleanup.push(() => jm.shutdown());
  record(jm);
  await jm.forceFlush();
  const debug = await collector.waitForOutput('debug.txt', (t) => t.includes('host.open'));
  for (const name of EXPECTED)
    assert.match(
      debug,
      new RegExp(`^${name.replace(/\./g, '\\.')}[{ ]`, 'm'),
      `${name} in:\n${debug}`,
    );
  assert.match(
    debug,
    /^jobmeter\.run\.finished\{task=backup,kind=task,runner=default,outcome=success\} 1$/m,
  );
  assert.match(debug, /^daemon\.rejected\{reason=queue_full\} 1$/m);
  assert.match(debug, /^host\.jobs\{queue=emails\} 2$/m);
});

test("the official PrometheusExporter, on jobmeter's provider, serves jobmeter's instruments beside the host's", async () => {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    readers: [exporter],
    views: [
      ...VIEWS,
      {
        instrumentName: 'jobmeter.run.duration',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: [1, 10] },
        },
      },
    ],
  });
  cleanup.push(() => jm.shutdown());
  record(jm);
  const server: Server = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as { port: number };
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.match(
    text,
    /^jobmeter_run_finished_total\{[^}]*task="backup"[^}]*outcome="success"[^}]*\} 1/m,
  );
  assert.match(text, /^jobmeter_run_duration_bucket\{[^}]*le="10"\} 1/m);
  assert.match(text, /^daemon_rejected_total\{[^}]*reason="queue_full"[^}]*\} 1/m);
  assert.match(text, /^host_jobs_total\{[^}]*queue="emails"[^}]*\} 2/m);
  assert.match(text, /^host_queue_depth\{[^}]*\} 7/m);
});
