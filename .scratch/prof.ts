import { Queue, Worker } from 'bullmq';
import { startRedis } from '/work/wt-jobs/test/integrations/stores.ts';
import { createJobmeter } from '/work/wt-jobs/src/index.ts';
import { instrumentWorker } from '/work/wt-jobs/src/integrations/bullmq.ts';
const redis = await startRedis();
const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
const queue = new Queue('emails', { connection });
const worker = new Worker('emails', async (job) => { if (job.name === 'f') throw new Error('x'); }, { connection });
for (const profile of ['runwisp', 'otel'] as const) {
  const jm = await createJobmeter({ profile, listener: { port: 0 }, global: false });
  const stop = instrumentWorker(worker, { jobmeter: jm });
  await queue.add('ok', {}); await queue.add('f', {});
  await new Promise((r) => setTimeout(r, 1500));
  await stop.pollDepth();
  const t = await (await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, { headers: { accept: 'text/plain' } })).text();
  console.log('== ' + profile + '\n' + t.split('\n').filter((l) => /queue|run|reject|error/.test(l) && !l.startsWith('#') && !/_bucket/.test(l)).join('\n'));
  stop(); await jm.shutdown();
}
process.exit(0);
