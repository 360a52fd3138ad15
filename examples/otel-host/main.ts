/**
 * otel-host: a daemon that already runs OpenTelemetry's NodeSDK adds jobmeter as one more reader.
 * Its own instruments, its Views and its resource are served on jobmeter's pull endpoint under a
 * profile, and jobmeter's domain API records on the host's own Meter:
 *
 *   npm run build && node examples/otel-host/main.ts
 *   curl -s localhost:9464/metrics | grep -E 'jobmeter_run|app_'
 *
 * A made-up job loop: jobs of three kinds on two queues, each with a job id that a View keeps out
 * of the series (it would grow them without bound). Ctrl-C (SIGTERM) shuts the SDK down, which
 * closes jobmeter's listener.
 *
 * Environment: PORT (metrics listener, default 9464; 0 picks a free one), PROFILE (default otel).
 */
import { metrics } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createAllowListAttributesProcessor } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  createRecorder,
  JobmeterReader,
  jobmeterViews,
  type Outcome,
  type ProfileName,
} from 'jobmeter';

const profile = (process.env['PROFILE'] ?? 'otel') as ProfileName;
const reader = new JobmeterReader({
  profile,
  listener: { port: Number(process.env['PORT'] ?? 9464) },
});

const sdk = new NodeSDK({
  resource: resourceFromAttributes({
    'service.name': 'otel-host-example',
    'service.version': '1.0.0',
  }),
  metricReaders: [reader],
  views: [
    // jobmeter's buckets and attribute bounds for its instruments (the profile's, e.g. rm's buckets)…
    ...jobmeterViews(profile),
    // …and the host's own: keep `queue`, drop `job_id` before aggregation.
    {
      instrumentName: 'app.jobs.enqueued',
      attributesProcessors: [createAllowListAttributesProcessor(['queue'])],
    },
  ],
  instrumentations: [],
});
sdk.start();
await reader.ready;
const { port } = reader.pullAddress!;
console.log(
  `otel-host: NodeSDK with jobmeter's reader on http://127.0.0.1:${port}/metrics (profile ${profile})`,
);

// jobmeter's domain API on the host's Meter: the SDK aggregates, jobmeter names and serves.
const jm = createRecorder(metrics.getMeter('jobmeter'), { profile });
const enqueued = metrics
  .getMeter('otel-host-example', '1.0.0')
  .createCounter('app.jobs.enqueued', { unit: '{job}' });

const KINDS = ['resize', 'email', 'report'] as const;
const OUTCOMES: readonly Outcome[] = ['success', 'success', 'success', 'failure', 'timeout'];
let jobId = 0;
const timer = setInterval(() => {
  const task = KINDS[jobId % KINDS.length]!;
  enqueued.add(1, { queue: jobId % 2 === 0 ? 'fast' : 'bulk', job_id: `job-${++jobId}` });
  const run = jm.startRun({ task, runner: 'subprocess' });
  setTimeout(() => run.finish(OUTCOMES[jobId % OUTCOMES.length]!), 50 + Math.random() * 400);
}, 200);

process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
async function stop(): Promise<void> {
  clearInterval(timer);
  await sdk.shutdown();
  console.log('otel-host: stopped');
}
