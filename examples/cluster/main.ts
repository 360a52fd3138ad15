/**
 * cluster: a node:cluster job runner. The primary and every worker call `createJobmeter()` with
 * the same options; only the primary listens, and every scrape of it is the sum over all workers,
 * live and exited:
 *
 *   npm run build && node examples/cluster/main.ts
 *   curl -s localhost:9464/metrics | grep jobmeter_run_finished_total
 *
 * Each worker runs made-up jobs (resize, email, report) with random durations and outcomes, and
 * crashes now and then (CRASH_EVERY_MS); the primary forks a replacement. The counters never go
 * back: a crashed worker's totals stay in the aggregate (those of its last report: what it
 * recorded since the last scrape is lost with it). Ctrl-C stops the workers (each sends its last
 * report) and then the primary.
 *
 * Environment: PORT (metrics listener, default 9464; 0 picks a free one), WORKERS (default 2),
 * CRASH_EVERY_MS (a worker crashes after this long; default 20000, 0 never).
 */
import cluster from 'node:cluster';
import { createJobmeter, type Outcome } from 'jobmeter';

const OPTIONS = {
  serviceName: 'cluster-example',
  listener: { port: Number(process.env['PORT'] ?? 9464) },
};
const WORKERS = Number(process.env['WORKERS'] ?? 2);
const CRASH_EVERY_MS = Number(process.env['CRASH_EVERY_MS'] ?? 20_000);

// The same call in the primary and in every worker: the role comes from node:cluster.
const jm = await createJobmeter(OPTIONS);

if (cluster.isPrimary) {
  let stopping = false;
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    console.log(`cluster: worker ${worker.id} exited (${signal ?? code}); forking a replacement`);
    cluster.fork();
  });
  console.log(
    `cluster: primary ${process.pid}, ${WORKERS} workers; metrics of all of them: http://127.0.0.1:${jm.pullAddress!.port}/metrics`,
  );
  const stop = async (): Promise<void> => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    await Promise.all(
      workers.map((w) => new Promise((resolve) => w.once('exit', resolve).process.kill('SIGTERM'))),
    );
    await jm.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
} else {
  const TASKS = ['resize', 'email', 'report'];
  const OUTCOMES: Outcome[] = ['success', 'success', 'success', 'failure', 'timeout'];
  const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
  const jobs = setInterval(() => {
    const run = jm.startRun({ task: pick(TASKS), kind: 'task' });
    setTimeout(() => run.finish(pick(OUTCOMES)), Math.random() * 2_000);
  }, 100);
  if (CRASH_EVERY_MS > 0) setTimeout(() => process.exit(1), CRASH_EVERY_MS * (0.5 + Math.random()));
  process.once('SIGTERM', () => {
    clearInterval(jobs);
    // Sends this worker's last report to the primary before it goes.
    void jm.shutdown().then(() => process.exit(0));
  });
}
