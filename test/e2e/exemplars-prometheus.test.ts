// Trace-linked exemplars on real Prometheus: 2.42 and 3.x with exemplar storage
// scrape jobmeter's OpenMetrics (3.x its protobuf too) and answer /api/v1/query_exemplars with the
// traced run's trace and span ids, on the duration histogram's bucket and on the finished counter.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { createJobmeter } from '../../src/jobmeter.ts';
import { PROMETHEUS_MAJORS, startPrometheus } from '../support/prometheus.ts';
import { startTracing } from '../support/tracing.ts';

const tracing = startTracing();
after(async () => {
  await tracing.stop();
  metrics.disable();
});

interface ExemplarResult {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

async function queryExemplars(url: string, query: string): Promise<ExemplarResult[]> {
  const now = Date.now() / 1000;
  const res = await fetch(
    `${url}/api/v1/query_exemplars?${new URLSearchParams({ query, start: String(now - 600), end: String(now + 60) }).toString()}`,
  );
  const body = (await res.json()) as { status: string; data: ExemplarResult[] };
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data;
}

async function waitForExemplars(
  url: string,
  query: string,
  timeoutMs = 30_000,
): Promise<ExemplarResult[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const data = await queryExemplars(url, query);
    if (data.some((d) => d.exemplars.length > 0)) return data;
    if (Date.now() > deadline)
      throw new Error(`no exemplars for ${query}: ${JSON.stringify(data)}`);
    await sleep(500);
  }
}

for (const major of PROMETHEUS_MAJORS) {
  describe(`Prometheus ${major}`, () => {
    test("stores the traced run's exemplars: the duration bucket it fell in, and the finished counter", async () => {
      const jm = await createJobmeter({
        listener: { port: 0 },
        processMetrics: false,
        global: false,
      });
      const prom = await startPrometheus({
        major,
        // Prometheus 3 also scrapes the same endpoint over protobuf: Counter and Bucket exemplars.
        jobs: [
          { name: 'jobmeter', target: `127.0.0.1:${jm.pullAddress!.port}` },
          ...(major === 3
            ? [
                {
                  name: 'proto',
                  target: `127.0.0.1:${jm.pullAddress!.port}`,
                  scrapeProtocols: ['PrometheusProto'],
                },
              ]
            : []),
        ],
        extraArgs: ['--enable-feature=exemplar-storage'],
      });
      try {
        const span = tracing.tracer.startActiveSpan('nightly-backup', (s) => {
          const run = jm.startRun({ task: 'backup' });
          s.end();
          return { run, ids: s.spanContext() };
        });
        span.run.finish('failure');
        jm.recordRun({ task: 'backup', outcome: 'failure', durationSeconds: 42 });
        tracing.tracer.startActiveSpan('slow', (s) => {
          jm.recordRun({ task: 'report', outcome: 'success', durationSeconds: 42 });
          s.end();
        });
        await prom.waitForTargetsUp(30_000);
        const buckets = await waitForExemplars(prom.url, 'jobmeter_run_duration_seconds_bucket');
        const traced = buckets.flatMap((d) =>
          d.exemplars.map((e) => ({ series: d.seriesLabels, ...e })),
        );
        const backup = traced.find((e) => e.labels['span_id'] === span.ids.spanId);
        assert.ok(backup !== undefined, JSON.stringify(traced));
        assert.equal(backup.labels['trace_id'], span.ids.traceId);
        assert.equal(backup.series['task'], 'backup');
        // A run of a few ms falls in the lowest bucket (Prometheus 3 stores `le` as a float: "60.0").
        assert.equal(Number(backup.series['le']), 0.01);
        const report = traced.find((e) => e.series['task'] === 'report');
        assert.ok(
          report !== undefined && Number(report.value) === 42 && Number(report.series['le']) === 60,
          JSON.stringify(traced),
        );
        const finished = await waitForExemplars(prom.url, 'jobmeter_run_finished_total');
        const ids = finished.flatMap((d) => d.exemplars.map((e) => e.labels['span_id']));
        assert.ok(ids.includes(span.ids.spanId), JSON.stringify(finished));
        if (major === 3) {
          const proto = await waitForExemplars(
            prom.url,
            'jobmeter_run_duration_seconds_bucket{job="proto"}',
          );
          const spans = proto.flatMap((d) => d.exemplars.map((e) => e.labels['span_id']));
          assert.ok(spans.includes(span.ids.spanId), JSON.stringify(proto));
          const counter = await waitForExemplars(
            prom.url,
            'jobmeter_run_finished_total{job="proto"}',
          );
          assert.ok(
            counter
              .flatMap((d) => d.exemplars.map((e) => e.labels['span_id']))
              .includes(span.ids.spanId),
            JSON.stringify(counter),
          );
        }
      } finally {
        await prom.stop();
        await jm.shutdown();
      }
    });
  });
}
