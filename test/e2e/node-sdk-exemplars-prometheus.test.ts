// A NodeSDK host that keeps its traces on NodeSDK and gives jobmeter its metrics: createJobmeter()
// first (its provider the global one, `hostExemplars: true`), then NodeSDK with `metricReaders: []`
// so it makes no MeterProvider of its own. A histogram recorded inside a span of NodeSDK's tracer —
// the host's own through the global API, and jobmeter's run duration — reaches a real Prometheus 3
// with exemplar storage on, carrying the trace_id NodeSDK exported the span with.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import {
  context,
  diag,
  DiagLogLevel,
  metrics,
  propagation,
  trace,
  type DiagLogger,
} from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createJobmeter } from '../../src/index.ts';
import { startPrometheus } from '../support/prometheus.ts';

interface ExemplarResult {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string }>;
}

async function exemplarsOf(
  url: string,
  query: string,
  spanId: string,
  timeoutMs = 30_000,
): Promise<{ series: Record<string, string>; labels: Record<string, string>; value: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = Date.now() / 1000;
    const res = await fetch(
      `${url}/api/v1/query_exemplars?${new URLSearchParams({ query, start: String(now - 600), end: String(now + 60) }).toString()}`,
    );
    const body = (await res.json()) as { status: string; data: ExemplarResult[] };
    assert.equal(body.status, 'success', JSON.stringify(body));
    const found = body.data
      .flatMap((d) => d.exemplars.map((e) => ({ series: d.seriesLabels, ...e })))
      .find((e) => e.labels['span_id'] === spanId);
    if (found !== undefined) return found;
    if (Date.now() > deadline)
      throw new Error(`no exemplar of span ${spanId} for ${query}: ${JSON.stringify(body.data)}`);
    await sleep(500);
  }
}

test("NodeSDK keeps the traces, jobmeter the metrics: Prometheus 3 stores the histogram's exemplar with the span's trace_id", async (t) => {
  const reported: string[] = [];
  const record =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      void reported.push(`${level}: ${message} ${args.join(' ')}`);
  const logger: DiagLogger = {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
    verbose: record('verbose'),
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });

  const lines: string[] = [];
  const jm = await createJobmeter({
    listener: { port: 0 },
    processMetrics: false,
    hostExemplars: true,
    log: (line) => lines.push(line),
  });
  const global = metrics.getMeterProvider();
  const spans = new InMemorySpanExporter();
  const sdk = new NodeSDK({
    spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
    metricReaders: [], // no MeterProvider: jobmeter's stays the global one
    instrumentations: [],
    autoDetectResources: false,
  });
  sdk.start();
  t.after(async () => {
    await sdk.shutdown();
    await jm.shutdown();
    metrics.disable();
    trace.disable();
    context.disable();
    propagation.disable();
    diag.disable();
  });
  assert.equal(
    metrics.getMeterProvider(),
    global,
    "NodeSDK registered no MeterProvider over jobmeter's",
  );
  assert.deepEqual(
    reported,
    [],
    'nothing reached the diag logger (NodeSDK attempted no duplicate registration)',
  );
  assert.deepEqual(lines, [], 'jobmeter registered its provider without a word');

  const duration = metrics.getMeter('my-scheduler').createHistogram('scheduler.job.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [1, 10, 60] },
  });
  const ids = trace.getTracer('my-scheduler').startActiveSpan('nightly-backup', (span) => {
    duration.record(4.5, { queue: 'emails' });
    jm.recordRun({ task: 'nightly-backup', outcome: 'success', durationSeconds: 2.5 });
    span.end();
    return span.spanContext();
  });
  const exported = spans.getFinishedSpans();
  assert.equal(exported.length, 1, "NodeSDK's pipeline exported the span");
  assert.equal(exported[0]!.spanContext().traceId, ids.traceId);

  const prom = await startPrometheus({
    major: 3,
    jobs: [{ name: 'jobmeter', target: `127.0.0.1:${jm.pullAddress!.port}` }],
    extraArgs: ['--enable-feature=exemplar-storage'],
  });
  t.after(() => prom.stop());
  await prom.waitForTargetsUp(30_000);

  const host = await exemplarsOf(prom.url, 'scheduler_job_duration_seconds_bucket', ids.spanId);
  assert.equal(host.labels['trace_id'], exported[0]!.spanContext().traceId);
  assert.equal(Number(host.value), 4.5);
  assert.equal(host.series['otel_scope_name'], 'my-scheduler');
  assert.equal(host.series['le'], '10.0');

  const run = await exemplarsOf(prom.url, 'jobmeter_run_duration_seconds_bucket', ids.spanId);
  assert.equal(run.labels['trace_id'], ids.traceId);
  assert.equal(Number(run.value), 2.5);
  assert.equal(run.series['task'], 'nightly-backup');
});
