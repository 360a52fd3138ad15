/**
 * bullmq-worker: a BullMQ worker whose jobs are jobmeter runs, instrumented in one call. Needs a
 * Redis (a local `redis-server` is enough):
 *
 *   npm run build && node examples/bullmq-worker/main.ts
 *   curl -s localhost:9464/metrics | grep -E 'jobmeter_(run|queue)'
 *
 * It queues a made-up mix of jobs every half second — most succeed, some fail and are retried once,
 * a few are delayed — so the run counters, durations, in-flight runs and the queue depth by state
 * all move. Ctrl-C (SIGTERM) closes the worker and jobmeter.
 *
 * Environment: REDIS_URL (default redis://127.0.0.1:6379), PORT (metrics listener, default 9464;
 * 0 picks a free one), PROFILE (default otel; e.g. runwisp).
 */
import { Queue, Worker } from 'bullmq';
import { createJobmeter, type ProfileName } from 'jobmeter';
import { instrumentWorker } from 'jobmeter/bullmq';

const redis = new URL(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const connection = {
  host: redis.hostname,
  port: Number(redis.port || 6379),
  maxRetriesPerRequest: null,
};
const jm = await createJobmeter({
  serviceName: 'bullmq-worker-example',
  profile: (process.env['PROFILE'] ?? 'otel') as ProfileName,
  listener: { port: Number(process.env['PORT'] ?? 9464) },
});

const queue = new Queue('emails', { connection });
const worker = new Worker(
  'emails',
  async (job) => {
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 200));
    if (job.name === 'bounce' && job.attemptsMade === 0) throw new Error('mailbox full');
    return 'sent';
  },
  { connection, concurrency: 4 },
);
const stop = instrumentWorker(worker, { jobmeter: jm, task: 'name', depthIntervalMillis: 2000 });

const timer = setInterval(() => {
  const r = Math.random();
  const name = r < 0.7 ? 'welcome' : r < 0.9 ? 'bounce' : 'digest';
  void queue.add(name, {}, { attempts: 2, ...(name === 'digest' && { delay: 60_000 }) });
}, 500);

console.log(
  `bullmq-worker: metrics on http://127.0.0.1:${jm.pullAddress?.port}/metrics, jobs on ${redis.host}`,
);

process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
async function shutdown(): Promise<void> {
  clearInterval(timer);
  stop();
  await worker.close();
  await queue.close();
  await jm.shutdown();
  console.log('bullmq-worker: stopped');
}
