// JobmeterReader: jobmeter's pull endpoint as a reader of the host's own
// MeterProvider: the host's instruments, Views and resource, under any profile, beside the
// official PrometheusExporter.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { afterEach, test } from 'node:test';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { ConfigError, JobmeterReader } from '../../src/index.ts';

const providers: MeterProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

function provider(readers: ConstructorParameters<typeof MeterProvider>[0]): MeterProvider {
  const p = new MeterProvider(readers);
  providers.push(p);
  return p;
}

async function get(reader: JobmeterReader, accept = 'text/plain'): Promise<Response> {
  await reader.ready;
  return fetch(`http://127.0.0.1:${reader.pullAddress!.port}/metrics`, { headers: { accept } });
}

test("the host's provider, its View and its resource are served on jobmeter's endpoint, with negotiation", async () => {
  const reader = new JobmeterReader({ listener: { port: 0 } });
  const meterProvider = provider({
    resource: resourceFromAttributes({
      'service.name': 'host-app',
      'deployment.environment': 'test',
    }),
    views: [
      {
        instrumentName: 'host.wait',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: [0.5, 2] },
        },
      },
    ],
    readers: [reader],
  });
  const meter = meterProvider.getMeter('host', '2.0.0');
  meter.createCounter('host.jobs').add(4, { queue: 'emails' });
  meter.createHistogram('host.wait', { unit: 's' }).record(1);
  const text = await (await get(reader)).text();
  assert.match(text, /^target_info\{service_name="host-app",deployment_environment="test"\} 1$/m);
  assert.match(
    text,
    /^host_jobs_total\{queue="emails",otel_scope_name="host",otel_scope_version="2\.0\.0"\} 4$/m,
  );
  assert.match(
    text,
    /^host_wait_seconds_bucket\{otel_scope_name="host",otel_scope_version="2\.0\.0",le="0\.5"\} 0$/m,
  );
  assert.match(
    text,
    /^host_wait_seconds_bucket\{otel_scope_name="host",otel_scope_version="2\.0\.0",le="2"\} 1$/m,
  );
  const om = await get(reader, 'application/openmetrics-text; version=1.0.0');
  assert.match(om.headers.get('content-type')!, /openmetrics-text/);
  assert.match(await om.text(), /# EOF\n$/);
});

test('a legacy profile with rules of the host: its own counter as the exact solti series, the rest under native names', async () => {
  const reader = new JobmeterReader({
    profile: {
      name: 'solti',
      rules: [
        {
          instrument: 'port.started',
          name: 'solti_runner_tasks_started_total',
          type: 'counter',
          help: 'Total number of tasks started',
          labels: [['backend', 'runner']],
        },
      ],
    },
    listener: { port: 0 },
  });
  const meter = provider({ readers: [reader] }).getMeter('solti-port');
  meter.createCounter('port.started').add(2, { backend: 'wasm' });
  meter.createCounter('port.unmapped').add(1);
  assert.equal(
    await (await get(reader)).text(),
    [
      '# HELP solti_runner_tasks_started_total Total number of tasks started',
      '# TYPE solti_runner_tasks_started_total counter',
      'solti_runner_tasks_started_total{runner="wasm"} 2',
      '# TYPE port_unmapped_total counter',
      'port_unmapped_total 1',
      '',
    ].join('\n'),
  );
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('beside a PrometheusExporter: both serve the same provider on their own ports; a port in use is refused through ready', async () => {
  const port = await freePort();
  const exporter = new PrometheusExporter({ host: '127.0.0.1', port, preventServerStart: true });
  const reader = new JobmeterReader({ listener: { port: 0 } });
  const meter = provider({ readers: [exporter, reader] }).getMeter('host');
  meter.createCounter('host.jobs').add(1);
  await exporter.startServer();
  assert.match(
    await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
    /^host_jobs_total\{otel_scope_name="host"\} 1$/m,
  );
  assert.match(await (await get(reader)).text(), /^host_jobs_total\{otel_scope_name="host"\} 1$/m);
  // Another provider's reader on the exporter's port: the system refuses it (test/readers/port-clash.test.ts: the same provider's).
  const clash = new JobmeterReader({ listener: { port } });
  provider({ readers: [clash] });
  await assert.rejects(clash.ready, /EADDRINUSE/);
});

test('the provider shutdown closes the listener; a bad profile is a ConfigError at construction', async () => {
  const reader = new JobmeterReader({ listener: { port: 0 } });
  const p = new MeterProvider({ readers: [reader] });
  await reader.ready;
  const url = `http://127.0.0.1:${reader.pullAddress!.port}/metrics`;
  assert.equal((await fetch(url)).status, 200);
  await p.shutdown();
  await assert.rejects(fetch(url));
  assert.throws(
    () => new JobmeterReader({ profile: 'bogus' as 'otel', listener: false }),
    ConfigError,
  );
});

test("the provider's forceFlush resolves (nothing is buffered), and the reader serves what was recorded before and after it", async () => {
  const reader = new JobmeterReader({ listener: { port: 0 } });
  const p = provider({ readers: [reader] });
  const counter = p.getMeter('host').createCounter('app.flushed');
  counter.add(2);
  await p.forceFlush();
  counter.add(3);
  assert.match(await (await get(reader)).text(), /^app_flushed_total\{[^}]*\} 5$/m);
});

test('a non-loopback host without its opt-in is a ConfigError at construction, before any provider takes the reader', () => {
  assert.throws(
    () => new JobmeterReader({ listener: { host: '0.0.0.0', port: 0 } }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.key === 'listener.host' &&
      err.message.endsWith('to expose the metrics listener'),
  );
});
