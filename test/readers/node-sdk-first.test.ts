// NodeSDK first, then createJobmeter(): jobmeter checks the global before
// registering, so the host's diag logger gets nothing from the OTel API (no "Attempted duplicate
// registration of API: metrics" and its stack trace), and jobmeter's own advisory line is the one
// line — with the real @opentelemetry/sdk-node NodeSDK and a diag logger that records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diag, DiagLogLevel, metrics, type DiagLogger } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { createJobmeter, JobmeterReader } from '../../src/index.ts';

test('NodeSDK started first: createJobmeter() leaves its provider, logs its one line, and nothing reaches the diag logger', async (t) => {
  const logged: string[] = [];
  const record =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      void logged.push(`${level}: ${message} ${args.join(' ')}`);
  const logger: DiagLogger = {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
    verbose: record('verbose'),
  };
  // Everything the API reports (registration is reported at debug level), as a host at its most verbose sees it.
  diag.setLogger(logger, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
  const reader = new JobmeterReader({ listener: false });
  const sdk = new NodeSDK({
    traceExporter: undefined,
    instrumentations: [],
    resourceDetectors: [],
    autoDetectResources: false,
    metricReaders: [reader],
  });
  sdk.start();
  t.after(async () => {
    await sdk.shutdown();
    metrics.disable();
    diag.disable();
  });
  const hosts = metrics.getMeterProvider();
  logged.length = 0;

  const lines: string[] = [];
  const jm = await createJobmeter({
    listener: { port: 0 },
    processMetrics: false,
    log: (line) => lines.push(line),
  });
  t.after(() => jm.shutdown());
  assert.equal(metrics.getMeterProvider(), hosts, "NodeSDK's provider stays the global one");
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(
    lines[0]!,
    /a global MeterProvider is already registered.*jobmeter\.meter.*metricReaders: \[\].*OTEL_METRICS_EXPORTER=none.*global: false/,
  );
  assert.deepEqual(
    logged.filter((l) => /opentelemetry\/api|duplicate registration|at createJobmeter/.test(l)),
    [],
    'the OTel API reported nothing about metrics through the host diag logger',
  );
  await jm.shutdown();
  assert.equal(metrics.getMeterProvider(), hosts, 'shutdown leaves a provider it did not register');
});
