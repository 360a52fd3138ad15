/**
 * examples/bullmq-worker and examples/pg-boss-worker, started as their headers say (the built
 * package, `jobmeter/bullmq` and `jobmeter/pg-boss` through the package's own exports) against a
 * Redis and a PostgreSQL started here: their jobs show as runs, failures and retries, the queue
 * depth by state is served, and SIGTERM stops them with exit code 0.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startExample } from '../support/example-process.ts';
import { startPostgres, startRedis, type StoreHandle } from '../integrations/stores.ts';

let redis: StoreHandle;
let pg: StoreHandle;

before(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
});
after(async () => {
  await Promise.all([redis?.remove(), pg?.remove()]);
});

/** Runs `main` until its scrape satisfies every pattern, then SIGTERMs it; returns its output. */
async function runExample(
  main: string,
  env: Record<string, string>,
  patterns: readonly RegExp[],
): Promise<string> {
  const example = await startExample(main, env);
  try {
    const deadline = Date.now() + 60_000;
    let body = '';
    while (!patterns.every((p) => p.test(body))) {
      assert.ok(
        Date.now() < deadline && example.running(),
        `${example.output()}\n${body}\nmissing: ${patterns.filter((p) => !p.test(body)).join(', ')}`,
      );
      await sleep(300);
      if (example.output().includes('metrics on'))
        body = await (
          await fetch(`http://127.0.0.1:${example.port}/metrics`, {
            headers: { accept: 'text/plain' },
          })
        ).text();
    }
  } finally {
    example.stop();
  }
  assert.equal(await example.exited, 0, example.output());
  return example.output();
}

test('examples/bullmq-worker: runs by job name, retried failures, depth by state', async () => {
  const out = await runExample('examples/bullmq-worker/main.ts', { REDIS_URL: redis.url }, [
    /^jobmeter_run_finished_total\{task="welcome",kind="task",runner="bullmq",outcome="success",.*\} [1-9]/m,
    /^jobmeter_run_finished_total\{task="bounce",kind="task",runner="bullmq",outcome="failure",.*\} [1-9]/m,
    /^jobmeter_queue_jobs\{queue="emails",state="waiting",.*\} \d+$/m,
    /^jobmeter_run_duration_seconds_count\{task="welcome",.*\} [1-9]/m,
  ]);
  assert.match(out, /bullmq-worker: stopped/);
});

test('examples/pg-boss-worker: runs, retried failures, a throttled send, depth by state', async () => {
  const out = await runExample('examples/pg-boss-worker/main.ts', { DATABASE_URL: pg.url }, [
    /^jobmeter_run_finished_total\{task="reports",kind="task",runner="pg-boss",outcome="success",.*\} [1-9]/m,
    /^jobmeter_request_rejected_total\{reason="throttled",.*\} [1-9]/m,
    /^jobmeter_queue_jobs\{queue="reports",state="(waiting|active|failed|delayed)",.*\} \d+$/m,
  ]);
  assert.match(out, /pg-boss-worker: stopped/);
});
