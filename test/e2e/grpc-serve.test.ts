/**
 * `jobmeter serve` with its OTLP/gRPC ingest turned on by JOBMETER_INGEST_GRPC_PORT or by
 * `--ingest-grpc-port` (the `[ingest] grpc_port` row's variable and flag): serve says where it listens, the JS SDK's
 * `@opentelemetry/exporter-metrics-otlp-grpc` exports to it, and the pull endpoint serves what was
 * recorded.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { killChildren, run, START_MS } from '../cli/harness.ts';
import { serveWithIngest } from '../support/serve.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-grpc-serve-');
afterEach(killChildren);

const WAYS = {
  JOBMETER_INGEST_GRPC_PORT: { env: { JOBMETER_INGEST_GRPC_PORT: '0' } },
  // The flag is the highest layer: over the variable, whose port 1 the test refuses below.
  '--ingest-grpc-port': {
    env: { JOBMETER_INGEST_GRPC_PORT: '1' },
    args: ['--ingest-grpc-port', '0'],
  },
} as const;

for (const [way, { env, ...rest }] of Object.entries(WAYS))
  test(`serve with ${way} receives the JS SDK over gRPC and serves what it recorded`, () =>
    receivesOverGrpc({ env, args: 'args' in rest ? [...rest.args] : [] }));

test('a bad --ingest-grpc-port exits 2 naming the flag, the value and what was expected', async () => {
  const { code, stderr } = await run(['serve', '--ingest-grpc-port', '70000']);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /invalid --ingest-grpc-port=70000: expected an integer from 0 to 65535/);
});

async function receivesOverGrpc(way: { env: Record<string, string>; args: string[] }) {
  const { child, pullPort } = await serveWithIngest(files, {
    env: { XDG_STATE_HOME: files.dir, ...way.env },
    args: way.args,
  });
  const [, grpcPort] = await child.stderrMatches(
    /receiving OTLP\/gRPC metrics on 127\.0\.0\.1:(\d+)/,
    START_MS,
  );
  // The variable's port 0 and the flag's both pick a free port; the flag's is not the variable's 1.
  assert.notEqual(grpcPort, '1', 'the flag is over the variable');
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'grpc-daemon' }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `http://127.0.0.1:${grpcPort}` }),
        exportIntervalMillis: 60_000,
      }),
    ],
  });
  const meter = provider.getMeter('daemon');
  meter.createCounter('grpc.tasks.done', { unit: '{task}' }).add(7, { queue: 'a' });
  const duration = meter.createHistogram('grpc.task.duration', { unit: 's' });
  for (const v of [0.2, 1.5]) duration.record(v);
  await provider.forceFlush();
  await provider.shutdown();

  const body = await (await fetch(`http://127.0.0.1:${pullPort}/metrics`)).text();
  assert.match(body, /^grpc_tasks_done_total\{[^}]*queue="a"[^}]*\} 7$/m, body);
  assert.match(body, /^grpc_task_duration_seconds_count\{[^}]*\} 2$/m, body);
  assert.match(body, /^grpc_task_duration_seconds_sum\{[^}]*\} 1\.7$/m, body);
}
