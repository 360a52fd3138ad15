/**
 * A daemon configured the declarative way: the official OpenTelemetry Node SDK started from the
 * configuration file in OTEL_CONFIG_FILE (`jobmeter views`' output), recording the canonical
 * instruments with no bucket advice and more attributes than the profile keeps, so that the
 * file's views decide both — the queue wait and lateness too, with no second-scale buckets of its
 * own. Reads its runs as JSON on stdin, exports once (at shutdown), exits.
 * Run by test/e2e/collector-views.test.ts; stands in for a Go, Rust or Java SDK reading the file.
 */
import { metrics } from '@opentelemetry/api';
import { startNodeSdk } from '@opentelemetry/sdk-node';
import { text } from 'node:stream/consumers';
import { attemptOf, waitOf, type Run } from './collector-runs.ts';

const runs = JSON.parse(await text(process.stdin)) as Run[];
const sdk = startNodeSdk();
const meter = metrics.getMeter('otel-config-daemon', '1.0.0');
const started = meter.createCounter('jobmeter.run.started', { unit: '{run}' });
const finished = meter.createCounter('jobmeter.run.finished', { unit: '{run}' });
const duration = meter.createHistogram('jobmeter.run.duration', { unit: 's' });
const wait = meter.createHistogram('jobmeter.queue.wait', { unit: 's' });
const lateness = meter.createHistogram('jobmeter.schedule.lateness', { unit: 's' });
const attempts = meter.createCounter('jobmeter.run.attempts', { unit: '{run}' });
for (const r of runs) {
  const attrs = {
    task: r.task,
    kind: r.kind,
    runner: r.runner,
    'job.id': `${r.task}-${r.seconds}`,
  };
  started.add(1, attrs);
  finished.add(1, { ...attrs, outcome: r.outcome });
  duration.record(r.seconds, { ...attrs, outcome: r.outcome });
  // What the run said before it ran, when it says it (QUEUED_RUNS).
  const waited = waitOf(r);
  if (waited !== undefined) wait.record(waited, attrs);
  if (r.dueBefore !== undefined) lateness.record(r.dueBefore, attrs);
  if (r.attempt !== undefined)
    attempts.add(1, { ...attrs, outcome: r.outcome, attempt: attemptOf(r.attempt) });
}
await sdk.shutdown();
