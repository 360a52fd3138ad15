import { PgBoss } from 'pg-boss';
import { spawn } from 'node:child_process';
import { startPostgres } from '/work/wt-jobs/test/integrations/stores.ts';
const pg = await startPostgres();
const boss = new PgBoss({ connectionString: pg.url, superviseIntervalSeconds: 1, monitorIntervalSeconds: 1 } as any);
boss.on('error', (e) => console.log('error', e.message));
await boss.start();
await boss.createQueue('stall', { retryLimit: 1, retryDelay: 0, expireInSeconds: 1 });
const id = await boss.send('stall', {});
const t0 = Date.now();
const child = spawn(process.execPath, ['/work/wt-jobs/test/integrations/fixtures/pg-boss-stall-worker.ts', pg.url, 'stall'], { stdio: ['ignore', 'pipe', 'inherit'] });
child.stdout.on('data', (d) => console.log('child:', String(d), Date.now() - t0));
await new Promise((r) => child.stdout.once('data', r));
child.kill('SIGKILL');
await boss.work('stall', { pollingIntervalSeconds: 0.5 }, async ([job]) => { console.log('parent job', job.retryCount, Date.now() - t0); });
for (let i = 0; i < 20; i++) { await new Promise((r) => setTimeout(r, 1000)); console.log((await boss.findJobs('stall')).map((j) => [j.state, j.retryCount]), Date.now() - t0); }
process.exit(0);
