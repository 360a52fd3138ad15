/**
 * `jobmeter/bullmq` with BullMQ's own tracing (bullmq-otel): a job processed inside BullMQ's
 * `process` span finishes a run whose finished-counter series carries that span's trace as its
 * exemplar (OpenMetrics), so a dashboard jumps from a failure spike to the trace of one.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { Queue, Worker } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { instrumentWorker } from '../../src/integrations/bullmq.ts';
import { startRedis, type StoreHandle } from './stores.ts';

let redis: StoreHandle;
let jm: Jobmeter;
const spans = new InMemorySpanExporter();
const provider = new TracerProvider({
  sampler: new AlwaysOnSampler(),
  spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
});
const manager = new AsyncLocalStorageContextManager().enable();

before(async () => {
  context.setGlobalContextManager(manager);
  trace.setGlobalTracerProvider(provider);
  redis = await startRedis();
  jm = await createJobmeter({ listener: { port: 0 }, global: false });
});
after(async () => {
  await jm?.shutdown();
  await redis?.remove();
  await provider.shutdown();
  trace.disable();
  context.disable();
});

test("a job processed in BullMQ's span: the run's exemplar is that span's trace", async () => {
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const telemetry = new BullMQOtel({ tracerName: 'jobmeter-test' });
  const queue = new Queue('traced', { connection, telemetry });
  const worker = new Worker('traced', async () => 'ok', { connection, telemetry });
  const stop = instrumentWorker(worker, { jobmeter: jm, depthIntervalMillis: false });
  const done = new Promise((resolve) => worker.once('completed', resolve));
  await queue.add('one', {});
  await done;
  stop();
  await worker.close();
  await queue.close();
  const process = spans.getFinishedSpans().find((s) => s.name.startsWith('process'));
  assert.ok(
    process !== undefined,
    `BullMQ's process span: ${spans
      .getFinishedSpans()
      .map((s) => s.name)
      .join(', ')}`,
  );
  const res = await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
    headers: { accept: 'application/openmetrics-text; version=1.0.0' },
  });
  const line = (await res.text())
    .split('\n')
    .find((l) => l.startsWith('jobmeter_run_finished_total{task="traced"'));
  assert.ok(line !== undefined);
  assert.match(line, new RegExp(`# \\{[^}]*trace_id="${process.spanContext().traceId}"`), line);
});
