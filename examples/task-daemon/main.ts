/**
 * task-daemon: a small fastify daemon that runs shell commands on a schedule (tasks.ts) and
 * serves its own metrics, the way a host application embeds jobmeter:
 *
 *   JOBMETER_CONFIG=examples/task-daemon/jobmeter.toml \
 *     node --import jobmeter/instrumentation examples/task-daemon/main.ts
 *
 * - `--import jobmeter/instrumentation` starts jobmeter before this file runs (profile, OTLP…
 *   from JOBMETER_* / OTEL_* / the config file, whose `[listener] enabled = false` turns the
 *   preload's own listener off); `import { jobmeter }` hands us that instance.
 * - The scheduler records every run through it; the metrics route is mounted on this daemon's own
 *   server with the crewshipd posture: loopback scrapes always pass (X-Forwarded-For aware),
 *   remote ones need `Authorization: Bearer $METRICS_TOKEN`, and without a token they get 404.
 *
 * Environment: HOST (default 127.0.0.1), PORT (default 8080; 0 picks a free one), METRICS_TOKEN
 * (default none), JOBMETER_PROFILE (which naming the metrics use; default otel).
 *
 * API: GET /tasks, POST /tasks/:name/run (202, 429 when its queue is full, 404), GET /healthz,
 * GET /metrics.
 */
import Fastify from 'fastify';
import { jobmeterMetrics } from 'jobmeter/http';
import { jobmeter } from 'jobmeter/instrumentation';
import { Scheduler } from './scheduler.ts';
import { TASKS } from './tasks.ts';

const host = process.env['HOST'] ?? '127.0.0.1';
const port = Number(process.env['PORT'] ?? 8080);
const token = process.env['METRICS_TOKEN'] || undefined;

if (jobmeter.pullAddress !== undefined) {
  process.stderr.write(
    'task-daemon: the preload also serves metrics on its own listener; set JOBMETER_CONFIG=examples/task-daemon/jobmeter.toml to keep them on this server only\n',
  );
}

const scheduler = new Scheduler(jobmeter, TASKS);
const app = Fastify({ logger: false });

await app.register(jobmeterMetrics, {
  jobmeter,
  posture: 'crewshipd',
  ...(token !== undefined ? { token } : {}),
});

app.get('/healthz', async () => ({ ok: true }));
app.get('/tasks', async () => scheduler.status());
app.post<{ Params: { name: string } }>('/tasks/:name/run', async (request, reply) => {
  switch (scheduler.trigger(request.params.name)) {
    case 'queued':
      return reply.code(202).send({ queued: true });
    case 'rejected':
      return reply.code(429).send({ error: 'a run of this task is already waiting' });
    case 'unknown-task':
      return reply.code(404).send({ error: 'no such task' });
    case 'stopped':
      return reply.code(503).send({ error: 'shutting down' });
  }
});

const address = await app.listen({ host, port });
scheduler.start();
process.stdout.write(
  `task-daemon: listening on ${address} (metrics: ${address}/metrics, profile ${jobmeter.profile.name})\n`,
);

// Our own handler owns the exit (the preload then only flushes jobmeter): cancel the runs in
// progress so they are recorded as cancelled, close the server, exit.
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await scheduler.stop();
      await app.close();
      await jobmeter.shutdown();
      process.exit(0);
    })();
  });
}
