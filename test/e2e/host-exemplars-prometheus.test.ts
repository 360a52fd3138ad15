// Exemplars on host instruments: with `hostExemplars: true`, a host's counter and
// histogram made on jobmeter's provider keep the sampled span's ids as jobmeter's own instruments
// do, under the host's own scope (otel_scope_name="my-scheduler", not "jobmeter") — the OpenMetrics
// body accepted by the official Python parser, and real Prometheus (2.x and 3.x, exemplar storage)
// answering /api/v1/query_exemplars with the traced record's ids. Off by default.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { startOpenMetricsParser } from '../support/openmetrics-python.ts';
import { PROMETHEUS_MAJORS, startPrometheus } from '../support/prometheus.ts';
import { startTracing } from '../support/tracing.ts';

const tracing = startTracing();
after(async () => {
  await tracing.stop();
  metrics.disable();
});

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0';

/** A counter add and a histogram record in one sampled span, on the host's meter of `jm`'s provider. */
function recordTraced(jm: Jobmeter): { traceId: string; spanId: string } {
  const meter = jm.meterProvider.getMeter('my-scheduler', '1.2.0');
  const done = meter.createCounter('scheduler.jobs.done');
  const duration = meter.createHistogram('scheduler.job.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [1, 10, 60] },
  });
  done.add(1, { queue: 'emails' }); // outside any span: no exemplar
  return tracing.tracer.startActiveSpan('job', (span) => {
    done.add(2, { queue: 'emails' });
    duration.record(4.5, { queue: 'emails' });
    span.end();
    return span.spanContext();
  });
}

async function openMetrics(jm: Jobmeter): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
    headers: { accept: OPENMETRICS },
  });
  assert.match(res.headers.get('content-type')!, /openmetrics-text/);
  return res.text();
}

describe('the OpenMetrics body', () => {
  test("hostExemplars: the host's counter and bucket carry the span's ids, under the host's scope; the official parser accepts it", async () => {
    const jm = await createJobmeter({
      listener: { port: 0 },
      processMetrics: false,
      global: false,
      hostExemplars: true,
    });
    const parser = await startOpenMetricsParser();
    try {
      const ids = recordTraced(jm);
      const body = await openMetrics(jm);
      const scope = 'otel_scope_name="my-scheduler",otel_scope_version="1.2.0"';
      const counter = new RegExp(
        `^scheduler_jobs_done_total\\{queue="emails",${scope}\\} 3 # \\{trace_id="${ids.traceId}",span_id="${ids.spanId}"\\} 2 \\d+(\\.\\d+)?$`,
        'm',
      );
      assert.match(body, counter);
      const bucket = new RegExp(
        `^scheduler_job_duration_seconds_bucket\\{queue="emails",${scope},le="10(\\.0)?"\\} 1 # \\{trace_id="${ids.traceId}",span_id="${ids.spanId}"\\} 4\\.5 \\d+(\\.\\d+)?$`,
        'm',
      );
      assert.match(body, bucket);
      assert.doesNotMatch(body, /otel_scope_name="jobmeter"[^\n]*trace_id/);
      assert.deepEqual((await parser.check(body)).error, undefined);
    } finally {
      await parser.close();
      await jm.shutdown();
    }
  });

  test("by default, host instruments keep no exemplars (jobmeter's own still do)", async () => {
    const jm = await createJobmeter({
      listener: { port: 0 },
      processMetrics: false,
      global: false,
    });
    try {
      recordTraced(jm);
      tracing.tracer.startActiveSpan('run', (span) => {
        jm.recordRun({ task: 'backup', outcome: 'success', durationSeconds: 1 });
        span.end();
      });
      const body = await openMetrics(jm);
      assert.match(body, /^scheduler_jobs_done_total\{[^}]*\} 3$/m);
      assert.doesNotMatch(body, /^scheduler_[^\n]*trace_id/m);
      assert.match(body, /^jobmeter_run_finished_total\{[^\n]*# \{trace_id="/m);
    } finally {
      await jm.shutdown();
    }
  });
});

interface ExemplarResult {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string }>;
}

async function waitForExemplars(
  url: string,
  query: string,
  timeoutMs = 30_000,
): Promise<ExemplarResult[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = Date.now() / 1000;
    const res = await fetch(
      `${url}/api/v1/query_exemplars?${new URLSearchParams({ query, start: String(now - 600), end: String(now + 60) }).toString()}`,
    );
    const body = (await res.json()) as { status: string; data: ExemplarResult[] };
    assert.equal(body.status, 'success', JSON.stringify(body));
    if (body.data.some((d) => d.exemplars.length > 0)) return body.data;
    if (Date.now() > deadline)
      throw new Error(`no exemplars for ${query}: ${JSON.stringify(body.data)}`);
    await sleep(500);
  }
}

for (const major of PROMETHEUS_MAJORS) {
  describe(`Prometheus ${major}`, () => {
    test("stores the host instruments' exemplars, on series of the host's scope", async () => {
      const jm = await createJobmeter({
        listener: { port: 0 },
        processMetrics: false,
        global: false,
        hostExemplars: true,
      });
      const prom = await startPrometheus({
        major,
        jobs: [{ name: 'jobmeter', target: `127.0.0.1:${jm.pullAddress!.port}` }],
        extraArgs: ['--enable-feature=exemplar-storage'],
      });
      try {
        const ids = recordTraced(jm);
        await prom.waitForTargetsUp(30_000);
        for (const query of [
          'scheduler_jobs_done_total',
          'scheduler_job_duration_seconds_bucket',
        ]) {
          const data = await waitForExemplars(prom.url, query);
          const traced = data.flatMap((d) =>
            d.exemplars.map((e) => ({ series: d.seriesLabels, ...e })),
          );
          const mine = traced.find((e) => e.labels['span_id'] === ids.spanId);
          assert.ok(mine !== undefined, `${query}: ${JSON.stringify(traced)}`);
          assert.equal(mine.labels['trace_id'], ids.traceId);
          assert.equal(mine.series['otel_scope_name'], 'my-scheduler');
          assert.equal(mine.series['queue'], 'emails');
        }
      } finally {
        await prom.stop();
        await jm.shutdown();
      }
    });
  });
}
