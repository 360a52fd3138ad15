/**
 * pg-boss-worker: a pg-boss worker whose jobs are jobmeter runs, instrumented in one call. Needs a
 * PostgreSQL database pg-boss may create its schema in:
 *
 *   npm run build && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node examples/pg-boss-worker/main.ts
 *   curl -s localhost:9464/metrics | grep -E 'jobmeter_(run|queue|request)'
 *
 * It sends a made-up mix of jobs every half second — most succeed, some fail and are retried once —
 * and a throttled "nightly" send that pg-boss refuses after the first (a rejection). Ctrl-C
 * (SIGTERM) stops pg-boss and jobmeter.
 *
 * Environment: DATABASE_URL (required), PORT (metrics listener, default 9464; 0 picks a free one),
 * PROFILE (default otel; e.g. runwisp).
 */
import { PgBoss } from 'pg-boss';
import { createJobmeter, type ProfileName } from 'jobmeter';
import { instrumentBoss } from 'jobmeter/pg-boss';

const url = process.env['DATABASE_URL'];
if (url === undefined)
  throw new Error('pg-boss-worker: set DATABASE_URL (postgres://user@host:port/db)');
const jm = await createJobmeter({
  serviceName: 'pg-boss-worker-example',
  profile: (process.env['PROFILE'] ?? 'otel') as ProfileName,
  listener: { port: Number(process.env['PORT'] ?? 9464) },
});

const boss = new PgBoss(url);
const stop = instrumentBoss(boss, { jobmeter: jm, depthIntervalMillis: 2000 }); // before work()
await boss.start();
await boss.createQueue('reports', { retryLimit: 1, retryDelay: 0 });
await boss.createQueue('nightly');
await boss.work('reports', { pollingIntervalSeconds: 0.5, localConcurrency: 4 }, async ([job]) => {
  await new Promise((r) => setTimeout(r, 20 + Math.random() * 200));
  if ((job!.data as { flaky?: boolean }).flaky && job!.retryCount === 0)
    throw new Error('upstream timed out');
});

const timer = setInterval(() => {
  void boss.send('reports', { flaky: Math.random() < 0.2 });
  void boss.sendThrottled('nightly', {}, null, 3600);
}, 500);

console.log(`pg-boss-worker: metrics on http://127.0.0.1:${jm.pullAddress?.port}/metrics`);

process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
async function shutdown(): Promise<void> {
  clearInterval(timer);
  stop();
  await boss.stop({ graceful: true, timeout: 5000 });
  await jm.shutdown();
  console.log('pg-boss-worker: stopped');
}
