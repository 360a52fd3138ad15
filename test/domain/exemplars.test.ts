// Trace-linked exemplars, record side: a run started while a sampled span is
// active carries that span's ids on the finished counter's series and the duration histogram's
// bucket — the latest per series or bucket; none without a span, none for an unsampled one, none
// on instruments whose spec keeps no exemplars.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { Span } from '@opentelemetry/api';
import type { DataPoint, MetricData } from '@opentelemetry/sdk-metrics';
import { DOMAIN_INSTRUMENTS, SELF_INSTRUMENTS } from '../../src/domain/catalog.ts';
import type { Exemplar } from '../../src/domain/exemplars.ts';
import { JobmeterMeterProvider } from '../../src/domain/meter-provider.ts';
import { RecordGuard } from '../../src/domain/record-guard.ts';
import { createRecorder, type Recorder } from '../../src/domain/recorder.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';
import { startTracing, type Tracing } from '../support/tracing.ts';

const SCOPE = { name: 'jobmeter', version: 'test' };
let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.stop();
  tracing = undefined;
});

function setup(): { recorder: Recorder; collect: () => Promise<Map<string, MetricData>> } {
  const reader = newPullReader([]);
  const guard = new RecordGuard();
  const provider = new JobmeterMeterProvider(
    { readers: [reader] },
    {
      guard,
      specs: [...DOMAIN_INSTRUMENTS, ...SELF_INSTRUMENTS],
      scope: SCOPE,
    },
  );
  const recorder = createRecorder(provider.getMeter(SCOPE.name, SCOPE.version), { guard });
  return {
    recorder,
    async collect() {
      const { resourceMetrics } = await reader.collect();
      return new Map(
        resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]),
      );
    },
  };
}

/** The exemplars of the series of `task` (one series per task in these tests). */
function exemplarsOf(m: MetricData | undefined, task: string): readonly Exemplar[] | undefined {
  const point = (m?.dataPoints as DataPoint<unknown>[] | undefined)?.find(
    (p) => p.attributes['task'] === task,
  );
  return (point as { exemplars?: readonly Exemplar[] } | undefined)?.exemplars;
}

function inSpan<T>(t: Tracing, fn: (span: Span) => T): T {
  return t.tracer.startActiveSpan('job', (span) => {
    try {
      return fn(span);
    } finally {
      span.end();
    }
  });
}

test("a run started in a sampled span: its ids on the finished counter and the duration's bucket, even when finished outside it", async () => {
  tracing = startTracing();
  const { recorder, collect } = setup();
  const before = Date.now();
  const { run, span } = inSpan(tracing, (span) => ({
    run: recorder.startRun({ task: 'backup' }),
    span: span.spanContext(),
  }));
  run.finish('success');
  const metrics = await collect();
  const [finished] = exemplarsOf(metrics.get('jobmeter.run.finished'), 'backup')!;
  assert.deepEqual(
    { ...finished!, timeMillis: 0 },
    { value: 1, timeMillis: 0, traceId: span.traceId, spanId: span.spanId },
  );
  assert.ok(finished!.timeMillis >= before && finished!.timeMillis <= Date.now());
  const duration = exemplarsOf(metrics.get('jobmeter.run.duration'), 'backup')!;
  assert.equal(duration.length, 1);
  assert.equal(duration[0]!.spanId, span.spanId);
  assert.ok(duration[0]!.value >= 0 && duration[0]!.value < 1);
  // Instruments whose spec keeps none: none.
  assert.equal(exemplarsOf(metrics.get('jobmeter.run.started'), 'backup'), undefined);
});

test('recordRun inside a span; the latest per bucket; separate buckets keep their own', async () => {
  tracing = startTracing();
  const { recorder, collect } = setup();
  const first = inSpan(
    tracing,
    (s) => (
      recorder.recordRun({ task: 'sync', outcome: 'success', durationSeconds: 0.3 }),
      s.spanContext().spanId
    ),
  );
  const second = inSpan(
    tracing,
    (s) => (
      recorder.recordRun({ task: 'sync', outcome: 'success', durationSeconds: 0.4 }),
      s.spanContext().spanId
    ),
  );
  const slow = inSpan(
    tracing,
    (s) => (
      recorder.recordRun({ task: 'sync', outcome: 'success', durationSeconds: 100 }),
      s.spanContext().spanId
    ),
  );
  assert.notEqual(first, second);
  const metrics = await collect();
  const duration = exemplarsOf(metrics.get('jobmeter.run.duration'), 'sync')!;
  // 0.3 and 0.4 share the 0.5 bucket: the latest stays; 100 s is in the 300 bucket.
  assert.deepEqual(
    duration.map((e) => [e.value, e.spanId]),
    [
      [0.4, second],
      [100, slow],
    ],
  );
  assert.deepEqual(
    exemplarsOf(metrics.get('jobmeter.run.finished'), 'sync')!.map((e) => e.spanId),
    [slow],
  );
});

test('no exemplar without a span, or with an unsampled one', async () => {
  const plain = setup();
  plain.recorder.recordRun({ task: 'a', outcome: 'success', durationSeconds: 1 });
  assert.equal(exemplarsOf((await plain.collect()).get('jobmeter.run.duration'), 'a'), undefined);
  tracing = startTracing({ sampled: false });
  const unsampled = setup();
  inSpan(tracing, () =>
    unsampled.recorder.recordRun({ task: 'a', outcome: 'success', durationSeconds: 1 }),
  );
  const metrics = await unsampled.collect();
  assert.equal(exemplarsOf(metrics.get('jobmeter.run.duration'), 'a'), undefined);
  assert.equal(exemplarsOf(metrics.get('jobmeter.run.finished'), 'a'), undefined);
});
