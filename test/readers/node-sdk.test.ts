// A host on @opentelemetry/sdk-node: JobmeterReader in NodeSDK's `metricReaders`, the
// host's own instruments, Views and resource on jobmeter's endpoint, and jobmeter's domain API
// recording on the host's Meter (`createRecorder`) — with NodeSDK's own copy of sdk-metrics, as
// an installed host has it.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, createAllowListAttributesProcessor } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { createRecorder, JobmeterReader, jobmeterViews } from '../../src/index.ts';

const sdks: NodeSDK[] = [];
afterEach(async () => {
  await Promise.all(sdks.splice(0).map((s) => s.shutdown()));
  metrics.disable();
});

function startSdk(options: ConstructorParameters<typeof NodeSDK>[0]): NodeSDK {
  // Nothing but metrics: no trace or log exporters, no auto-instrumentation, no env-driven detectors.
  const sdk = new NodeSDK({
    traceExporter: undefined,
    instrumentations: [],
    resourceDetectors: [],
    autoDetectResources: false,
    ...options,
  });
  sdk.start();
  sdks.push(sdk);
  return sdk;
}

async function scrape(reader: JobmeterReader): Promise<string> {
  await reader.ready;
  const res = await fetch(`http://127.0.0.1:${reader.pullAddress!.port}/metrics`, {
    headers: { accept: 'text/plain' },
  });
  assert.equal(res.status, 200);
  return res.text();
}

test("NodeSDK + JobmeterReader: the host's instruments, its View and its resource; the domain API on the host's Meter", async () => {
  const reader = new JobmeterReader({ listener: { port: 0 } });
  startSdk({
    resource: resourceFromAttributes({ 'service.name': 'host-daemon', 'service.version': '4.2.0' }),
    metricReaders: [reader],
    views: [
      {
        instrumentName: 'app.jobs',
        attributesProcessors: [createAllowListAttributesProcessor(['queue'])],
      },
      {
        instrumentName: 'jobmeter.run.duration',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: [1, 10] },
        },
      },
    ],
  });
  const jobs = metrics.getMeter('host-app', '4.2.0').createCounter('app.jobs');
  for (let i = 0; i < 50; i++)
    jobs.add(1, { queue: i % 2 === 0 ? 'emails' : 'reports', job_id: `job-${i}` });
  const jm = createRecorder(metrics.getMeter('jobmeter'));
  jm.recordRun({ task: 'backup', outcome: 'success', durationSeconds: 5 });
  jm.startRun({ task: 'sync' }).finish('failure');
  jm.reject('queue_full');

  const text = await scrape(reader);
  assert.match(text, /^target_info\{service_name="host-daemon",service_version="4\.2\.0"\} 1$/m);
  assert.match(
    text,
    /^app_jobs_total\{queue="emails",otel_scope_name="host-app",otel_scope_version="4\.2\.0"\} 25$/m,
  );
  assert.doesNotMatch(text, /job_id/);
  assert.match(
    text,
    /^jobmeter_run_finished_total\{task="backup",kind="task",runner="default",outcome="success",otel_scope_name="jobmeter"\} 1$/m,
  );
  assert.match(
    text,
    /^jobmeter_run_finished_total\{task="sync",kind="task",runner="default",outcome="failure",otel_scope_name="jobmeter"\} 1$/m,
  );
  assert.match(
    text,
    /^jobmeter_request_rejected_total\{reason="queue_full",otel_scope_name="jobmeter"\} 1$/m,
  );
  // The host's View on jobmeter's histogram: its buckets, not the catalog's.
  const les = [
    ...text.matchAll(/^jobmeter_run_duration_seconds_bucket\{task="backup"[^}]*le="([^"]+)"\}/gm),
  ].map((m) => m[1]);
  assert.deepEqual(les, ['1', '10', '+Inf']);
  // Bad values from code: dropped and counted on the host's meter.
  jm.recordRun({ task: 'backup', outcome: 'success', durationSeconds: Number.NaN });
  assert.match(
    await scrape(reader),
    /^jobmeter_records_dropped_total\{reason="nan",otel_scope_name="jobmeter"\} 1$/m,
  );
});

test("a solti host on NodeSDK: jobmeterViews('solti') and createRecorder serve the exact solti_runner_* series", async () => {
  const reader = new JobmeterReader({ profile: 'solti', listener: { port: 0 } });
  startSdk({ metricReaders: [reader], views: jobmeterViews('solti') });
  const jm = createRecorder(metrics.getMeter('jobmeter'), { profile: 'solti' });
  jm.recordRun({ task: 't', runner: 'wasm', outcome: 'success', durationSeconds: 0.2 });
  jm.runnerError('wasm', 'module_load_failed');
  // solti's runner vocabulary is closed: a run on another backend is dropped, not served.
  jm.recordRun({ task: 't', runner: 'gpu', outcome: 'success', durationSeconds: 0.2 });
  const text = await scrape(reader);
  assert.match(text, /^solti_runner_tasks_completed_total\{outcome="success",runner="wasm"\} 1$/m);
  assert.match(
    text,
    /^solti_runner_task_duration_seconds_bucket\{outcome="success",runner="wasm",le="0\.25"\} 1$/m,
  );
  assert.match(text, /^solti_runner_errors_total\{error="module_load_failed",runner="wasm"\} 1$/m);
  assert.doesNotMatch(text, /gpu/);
});
