// Trace-linked exemplars in the OTLP push (issue 14 item 5), proven on the real Collector: a run
// recorded inside a sampled span reaches the Collector's debug exporter (detailed) with its trace
// and span ids on the finished counter's and the duration histogram's data points, over both
// protocols; a request without exemplars is the official serializer's bytes unchanged.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { createJobmeter } from '../../src/jobmeter.ts';
import type { OtlpProtocol } from '../../src/options.ts';
import { startCollector } from '../support/collector.ts';
import { startTracing } from '../support/tracing.ts';

const tracing = startTracing();
after(async () => {
  await tracing.stop();
  metrics.disable();
});

for (const protocol of ['http/protobuf', 'http/json'] as const satisfies readonly OtlpProtocol[]) {
  test(`${protocol}: the Collector's debug exporter shows the run's trace and span ids on both instruments`, async () => {
    const collector = await startCollector({
      ports: ['otlp'],
      config: (p, dir) => ({
        receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
        exporters: { debug: { verbosity: 'detailed', use_internal_logger: false, output_paths: [join(dir, 'debug.txt')] } },
        service: { pipelines: { metrics: { receivers: ['otlp'], exporters: ['debug'] } } },
      }),
    });
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      global: false,
      otlp: { endpoint: `http://127.0.0.1:${collector.ports.otlp}`, protocol, intervalMillis: 3_600_000 },
    });
    try {
      const span = tracing.tracer.startActiveSpan('nightly-backup', (s) => {
        jm.recordRun({ task: 'backup', outcome: 'failure', durationSeconds: 42 });
        s.end();
        return s.spanContext();
      });
      jm.recordRun({ task: 'untraced', outcome: 'success', durationSeconds: 1 });
      await jm.forceFlush();
      const debug = await collector.waitForOutput('debug.txt', (t) => t.includes('jobmeter.run.duration'));
      const blocks = debug.split(/(?=Metric #)/);
      for (const name of ['jobmeter.run.finished', 'jobmeter.run.duration']) {
        const block = blocks.find((b) => b.includes(`-> Name: ${name}\n`));
        assert.ok(block !== undefined, `${name} in:\n${debug}`);
        assert.match(block, new RegExp(`Trace ID: ${span.traceId}`), block);
        assert.match(block, new RegExp(`Span ID: ${span.spanId}`), block);
        // One exemplar: the traced run's; the untraced one has none.
        assert.equal(block.split('Exemplar #').length - 1, 1, block);
      }
      const duration = blocks.find((b) => b.includes('-> Name: jobmeter.run.duration\n'))!;
      assert.match(duration, /Exemplar #0[\s\S]*?-> Value: 42\.0+/);
      const started = blocks.find((b) => b.includes('-> Name: jobmeter.run.started\n'))!;
      assert.doesNotMatch(started, /Exemplar/);
    } finally {
      await jm.shutdown();
      await collector.stop();
    }
  });
}
