/**
 * Every @example of a name an entry point exports, written out so `tsc` (which `npm test` runs
 * over test/) type-checks it: root-docs.test.ts holds each example's text to occur here, so an
 * example that stops compiling, or one edited without this file, fails. Never run: the examples
 * start listeners and workers. Each sits in a block of its own, with what it leaves free declared
 * above (a jobmeter `jm` with the instruments the examples record, a worker, a pool…).
 */
import { createServer } from 'node:http';

import { metrics } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Worker, type ConnectionOptions } from 'bullmq';
import express from 'express';
import fastifyFactory from 'fastify';
import { run, type Runner } from 'graphile-worker';
import cron from 'node-cron';
import type { PgBoss } from 'pg-boss';
import type { Pool } from 'pg';

import {
  ConfigError,
  createJobmeter,
  createRecorder,
  guardMeter,
  JobmeterReader,
  jobmeterViews,
  VERSION,
  type Declared,
  type DeclaredInstrumentSpec,
  type FamilyRule,
  type HostRecorderOptions,
  type Jobmeter,
  type JobmeterOptions,
  type OtlpPushOptions,
  type PullListenerOptions,
} from '../../src/index.ts';
import {
  createMetricsHandler,
  createMetricsMiddleware,
  describeMetricsRoute,
  jobmeterMetrics,
  POSTURE_NAMES,
  POSTURES,
  setAccessLogTenant,
  type JobmeterMetricsOptions,
} from '../../src/index-http.ts';
import { renderOpenMetrics, renderPrometheusText } from '../../src/index-exposition.ts';
import { ATTEMPTS, DEFAULT_RUN_DURATION_BUCKETS, DOMAIN_INSTRUMENTS, OTHER, OUTCOMES, PROCESS_INSTRUMENTS, PROFILE_NAMES, WAIT_BUCKETS } from '../../src/index-catalog.ts';
import { instrumentWorker } from '../../src/integrations/bullmq.ts';
import { instrumentBoss } from '../../src/integrations/pg-boss.ts';
import { instrumentTask } from '../../src/integrations/node-cron.ts';
import { instrumentRunner } from '../../src/integrations/graphile-worker.ts';

/** The instruments the examples record, declared literally: the examples compile against their names and keys. */
export const INSTRUMENTS = [
  { name: 'app.emails.sent', kind: 'counter', unit: '{email}', description: 'Emails sent.', attributes: [{ key: 'queue', cap: 20 }] },
  { name: 'app.email.send.duration', kind: 'histogram', unit: 's', description: 'Send time.', attributes: [{ key: 'queue', cap: 20 }] },
  { name: 'app.queue.depth', kind: 'gauge', unit: '{job}', description: 'Jobs waiting.' },
  { name: 'app.jobs.stored', kind: 'observableGauge', unit: '{job}', description: 'Jobs stored.', attributes: [{ key: 'state', cap: 8 }] },
] as const satisfies readonly DeclaredInstrumentSpec[];

declare const jm: Declared<Jobmeter, (typeof INSTRUMENTS)[number]>;
declare const jobmeter: Jobmeter; // jobmeter/instrumentation's
declare const worker: Worker;
declare const connection: ConnectionOptions;
declare const boss: PgBoss;
declare const pgPool: Pool;
declare function send(data: unknown): Promise<void>;
declare function prune(): void;
declare function tenantOf(request: unknown): string;

export async function examples(): Promise<unknown[]> {
  const fastify = fastifyFactory();
  const made: unknown[] = [];
  // src/index.ts
  {
    const jm = await createJobmeter({ serviceName: 'my-scheduler', profile: 'runwisp' });
    jm.recordRun({ task: 'nightly', kind: 'task', runner: 'local', outcome: 'success', durationSeconds: 1.2 });
    await jm.shutdown();
  }
  {
    const jm: Jobmeter = await createJobmeter({ listener: false });
    jm.startRun({ task: 'nightly' }).finish('success');
    await jm.shutdown();
  }
  {
    const jm = await createJobmeter({
      instruments: [{ name: 'app.emails.sent', kind: 'counter', unit: '{email}', description: 'Emails sent.', attributes: [{ key: 'queue', cap: 20 }] }],
    });
    jm.counter('app.emails.sent').add(1, { queue: 'emails' });
  }
  {
    const jm = createRecorder(metrics.getMeter('jobmeter'), { profile: 'solti' });
    jm.recordRun({ task: 'build', runner: 'wasm', outcome: 'success', durationSeconds: 2.5 });
  }
  {
    const jm = createRecorder(metrics.getMeter('jobmeter'), { profile: 'solti' });
    instrumentWorker(worker, { jobmeter: jm, meter: metrics.getMeter('jobmeter') });
  }
  {
    const reader = new JobmeterReader({ profile: 'solti', listener: { port: 9464 } });
    const provider = new MeterProvider({ views: jobmeterViews('solti'), readers: [reader] });
    await reader.ready;
    made.push(provider);
  }
  {
    const sdk = new NodeSDK({ metricReaders: [new JobmeterReader({ profile: 'rm' })], views: jobmeterViews('rm') });
    made.push(sdk);
  }
  {
    const meter = guardMeter(metrics.getMeter('my-scheduler'));
    meter.createCounter('app.uploads').add(NaN); // dropped and counted, never served
  }
  {
    // @ts-expect-error a profile with a typo: in TypeScript a compile error too; run (or from JavaScript), a ConfigError
    try { await createJobmeter({ profile: 'runwsip' }); }
    catch (err) { if (err instanceof ConfigError) console.error(err.message); } // names `profile`, and 'runwisp'
  }
  console.log(`jobmeter ${VERSION}`);
  {
    const options: JobmeterOptions = { serviceName: 'my-scheduler', profile: 'runwisp', listener: { port: 9464 } };
    const listener: PullListenerOptions = { host: '127.0.0.1', port: 9464 };
    const otlp: OtlpPushOptions = { endpoint: 'http://127.0.0.1:4318/v1/metrics', intervalMillis: 15_000 };
    const rule: FamilyRule = { instrument: 'app.emails.sent', name: 'mailer_sent_total', type: 'counter', help: 'Emails sent.', labels: [['queue', 'queue']] };
    const spec: DeclaredInstrumentSpec = { name: 'app.queue.depth', kind: 'gauge', unit: '{job}', description: 'Jobs waiting.' };
    made.push(options, listener, otlp, rule, spec);
  }
  {
    const options: HostRecorderOptions = { profile: 'solti', snapshot: { ttlMillis: 15_000 } };
    made.push(options);
  }
  jm.recordRun({ task: 'lint', outcome: 'failure', durationSeconds: 2.5 });
  jm.observe('app.jobs.stored', () => [{ value: 12, attributes: { state: 'queued' } }]);
  jm.counter('app.emails.sent').add(1, { queue: 'emails' });
  jm.histogram('app.email.send.duration').record(0.42, { queue: 'emails' });
  jm.gauge('app.queue.depth').record(7);
  jm.setSnapshotSource(async () => ({ queue: { depth: 4, groups: 1, depthMax: 4 } }), { ttlMillis: 15_000 });

  // src/index-http.ts
  await fastify.register(jobmeterMetrics, { jobmeter: jm, posture: 'crewshipd' });
  fastify.addHook('preHandler', async (request) => setAccessLogTenant(request, tenantOf(request)));
  {
    const options: JobmeterMetricsOptions = { jobmeter: jm, posture: 'wasmrun', apiKeys: [{ key: process.env.METRICS_KEY ?? '', tenant: 'ops' }] };
    made.push(options);
  }
  console.log(describeMetricsRoute({ jobmeter: jm, posture: 'rm' }).description);
  {
    const metrics = createMetricsHandler({ jobmeter: jm, posture: 'solti' });
    createServer((req, res) => { if (!metrics(req, res)) res.writeHead(404).end(); }).listen(8080);
  }
  {
    const app = express();
    app.use(createMetricsMiddleware({ jobmeter: jm, posture: 'wasmrun' }));
  }
  console.log(POSTURES.rm.gates); // ['bearer', 'cidr']
  for (const name of POSTURE_NAMES) console.log(name, POSTURES[name].path);

  // src/index-exposition.ts
  {
    const body = renderPrometheusText(await jm.scrape());
    made.push(body);
  }
  {
    const body = renderOpenMetrics(await jm.scrape());
    made.push(body);
  }

  // src/index-catalog.ts
  {
    const profile = PROFILE_NAMES.find((name) => name === process.env.METRICS_PROFILE) ?? 'otel';
    const spec: DeclaredInstrumentSpec = { name: 'app.job.duration', kind: 'histogram', unit: 's', description: 'Job time.', buckets: DEFAULT_RUN_DURATION_BUCKETS };
    made.push(profile, spec);
  }
  {
    const spec: DeclaredInstrumentSpec = { name: 'app.job.wait', kind: 'histogram', unit: 's', description: 'Job wait.', buckets: WAIT_BUCKETS };
    made.push(spec);
  }
  console.log(ATTEMPTS.at(-1)); // '4+'
  console.log(DOMAIN_INSTRUMENTS.map((spec) => `${spec.name} (${spec.kind}, ${spec.unit})`));
  console.log(PROCESS_INSTRUMENTS.map((spec) => spec.name));
  console.log(OUTCOMES.includes('timeout')); // true
  console.log(OTHER); // 'other'

  // instrumentation/index.ts
  jobmeter.recordRun({ task: 'nightly', outcome: 'success', durationSeconds: 1.2 });

  // the integrations
  {
    const worker = new Worker('emails', async (job) => send(job.data), { connection });
    instrumentWorker(worker, { jobmeter: jm });
  }
  {
    const stop = instrumentWorker(worker, { jobmeter: jm });
    stop();
  }
  {
    instrumentBoss(boss, { jobmeter: jm });
    await boss.work('emails', async (jobs) => { for (const job of jobs) await send(job.data); });
  }
  {
    const task = cron.schedule('0 3 * * *', () => prune(), { name: 'prune' });
    instrumentTask(task, { jobmeter: jm });
  }
  {
    const runner = await run({ pgPool, taskList: { send: async (payload) => send(payload) } });
    instrumentRunner(runner, { jobmeter: jm, pgPool });
    made.push(runner satisfies Runner);
  }
  return made;
}
