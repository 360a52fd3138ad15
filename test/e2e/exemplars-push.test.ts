// Trace-linked exemplars in the OTLP push, proven on the real Collector: a run
// recorded inside a sampled span reaches the Collector's debug exporter (detailed) with its trace
// and span ids on the finished counter's and the duration histogram's data points, over both
// protocols, under canonical and profile naming; a request without exemplars is the official
// serializer's bytes unchanged.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { createJobmeter } from '../../src/jobmeter.ts';
import type { OtlpProtocol, ProfileName } from '../../src/options.ts';
import { startDebugCollector, startPrometheusCollector } from '../support/collector.ts';
import { startTracing } from '../support/tracing.ts';

const tracing = startTracing();
after(async () => {
  await tracing.stop();
  metrics.disable();
});

const CASES = [
  {
    protocol: 'http/protobuf',
    profile: 'otel',
    finished: 'jobmeter.run.finished',
    duration: 'jobmeter.run.duration',
    started: 'jobmeter.run.started',
  },
  {
    protocol: 'http/json',
    profile: 'otel',
    finished: 'jobmeter.run.finished',
    duration: 'jobmeter.run.duration',
    started: 'jobmeter.run.started',
  },
  // A legacy profile pushes its exact series (profile naming): the exemplars follow them.
  {
    protocol: 'http/protobuf',
    profile: 'solti',
    finished: 'solti_runner_tasks_completed_total',
    duration: 'solti_runner_task_duration_seconds',
    started: 'solti_runner_tasks_started_total',
  },
] as const satisfies ReadonlyArray<{
  protocol: OtlpProtocol;
  profile: ProfileName;
  finished: string;
  duration: string;
  started: string;
}>;

for (const {
  protocol,
  profile,
  finished: finishedName,
  duration: durationName,
  started: startedName,
} of CASES) {
  test(`${profile}, ${protocol}: the Collector's debug exporter shows the run's trace and span ids on both instruments`, async () => {
    const collector = await startDebugCollector('detailed');
    const jm = await createJobmeter({
      profile,
      listener: false,
      processMetrics: false,
      global: false,
      otlp: {
        endpoint: `http://127.0.0.1:${collector.ports.otlp}`,
        protocol,
        intervalMillis: 3_600_000,
      },
    });
    try {
      const span = tracing.tracer.startActiveSpan('nightly-backup', (s) => {
        jm.recordRun({ task: 'backup', runner: 'wasm', outcome: 'failure', durationSeconds: 42 });
        s.end();
        return s.spanContext();
      });
      jm.recordRun({
        task: 'untraced',
        runner: 'container',
        outcome: 'success',
        durationSeconds: 1,
      });
      await jm.forceFlush();
      const debug = await collector.waitForOutput('debug.txt', (t) => t.includes(durationName));
      const blocks = debug.split(/(?=Metric #)/);
      for (const name of [finishedName, durationName]) {
        const block = blocks.find((b) => b.includes(`-> Name: ${name}\n`));
        assert.ok(block !== undefined, `${name} in:\n${debug}`);
        assert.match(block, new RegExp(`Trace ID: ${span.traceId}`), block);
        assert.match(block, new RegExp(`Span ID: ${span.spanId}`), block);
        // One exemplar: the traced run's; the untraced one has none.
        assert.equal(block.split('Exemplar #').length - 1, 1, block);
      }
      const duration = blocks.find((b) => b.includes(`-> Name: ${durationName}\n`))!;
      assert.match(duration, /Exemplar #0[\s\S]*?-> Value: 42\.0+/);
      const started = blocks.find((b) => b.includes(`-> Name: ${startedName}\n`))!;
      assert.doesNotMatch(started, /Exemplar/);
    } finally {
      await jm.shutdown();
      await collector.stop();
    }
  });
}

test("the Collector's prometheus exporter re-exposes them in OpenMetrics with enable_open_metrics: true (docs/exemplars.md)", async () => {
  const collector = await startPrometheusCollector({ enable_open_metrics: true });
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    otlp: { endpoint: `http://127.0.0.1:${collector.ports.otlp}`, intervalMillis: 3_600_000 },
  });
  try {
    const span = tracing.tracer.startActiveSpan('job', (s) => {
      jm.recordRun({ task: 'backup', outcome: 'success', durationSeconds: 3 });
      s.end();
      return s.spanContext();
    });
    await jm.forceFlush();
    const res = await fetch(`http://127.0.0.1:${collector.ports.prom}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0' },
    });
    const text = await res.text();
    assert.match(
      text,
      new RegExp(
        `^jobmeter_run_duration_seconds_bucket\\{.*\\} 1 # \\{.*trace_id="${span.traceId}".*\\} 3(\\.0)? `,
        'm',
      ),
      text,
    );
  } finally {
    await jm.shutdown();
    await collector.stop();
  }
});
