/**
 * `jobmeter/bullmq` beside BullMQ's own OpenTelemetry metrics (bullmq-otel with `enableMetrics`)
 * on the same MeterProvider, jobmeter's global one: each run counted once in jobmeter's families
 * and once in BullMQ's own (`bullmq.jobs.*`, `bullmq.job.duration`), never one added to the other.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { Queue, Worker } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { instrumentWorker } from '../../src/integrations/bullmq.ts';
import { samples, scrapeText, value } from './scrape.ts';
import { startRedis, type StoreHandle } from './stores.ts';

let redis: StoreHandle;
let jm: Jobmeter;

before(async () => {
  redis = await startRedis();
  // The global MeterProvider: bullmq-otel takes its meter from it.
  jm = await createJobmeter({ listener: { port: 0 }, processMetrics: false });
});
after(async () => {
  await jm?.shutdown();
  await redis?.remove();
  metrics.disable();
});

test("BullMQ's own metrics on jobmeter's provider: every attempt one jobmeter run, every job one count in BullMQ's families", async () => {
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const telemetry = new BullMQOtel({ enableMetrics: true });
  const queue = new Queue('both', { connection, telemetry });
  const worker = new Worker(
    'both',
    async (job) => {
      if (job.name === 'flaky' && job.attemptsMade === 0) throw new Error('first attempt fails');
      return 'ok';
    },
    { connection, telemetry, autorun: false },
  );
  const stop = instrumentWorker(worker, { jobmeter: jm, depthIntervalMillis: false });
  try {
    await queue.addBulk([
      { name: 'ok', data: {} },
      { name: 'ok', data: {} },
      { name: 'flaky', data: {}, opts: { attempts: 2 } },
    ]);
    void worker.run();
    while ((await queue.getJobCounts('completed'))['completed']! < 3)
      await new Promise((r) => setTimeout(r, 50));
    const text = await scrapeText(jm.pullAddress!.port);
    // jobmeter: an attempt is a run (3 jobs, 4 attempts), recorded once whatever BullMQ records.
    assert.equal(value(text, 'jobmeter_run_started_total', { task: 'both' }), 4, text);
    assert.equal(value(text, 'jobmeter_run_finished_total', { outcome: 'success' }), 3);
    assert.equal(value(text, 'jobmeter_run_finished_total', { outcome: 'failure' }), 1);
    assert.equal(value(text, 'jobmeter_run_duration_seconds_count'), 4);
    assert.deepEqual(
      [1, 2].map((a) => value(text, 'jobmeter_run_attempts_total', { attempt: String(a) })),
      [3, 1],
    );
    // BullMQ: its own families, under its own scope; a job counted once when it completes.
    const own = text.split('\n').filter((l) => l.startsWith('bullmq_') && !l.startsWith('#'));
    assert.ok(own.length > 0, `BullMQ's own series are served: ${text}`);
    assert.equal(value(text, 'bullmq_jobs_completed_total'), 3, own.join('\n'));
    assert.equal(value(text, 'bullmq_jobs_retried_total'), 1, own.join('\n'));
    for (const s of samples(text, 'jobmeter_run_finished_total'))
      assert.ok(
        !s.labels.some(([k, v]) => k === 'otel_scope_name' && v === 'bullmq'),
        'no jobmeter series comes from BullMQ',
      );
  } finally {
    stop();
    await worker.close();
    await queue.close();
  }
});
