// A cluster primary's delta push, read by the real Collector (delta_to_cumulative, then its
// Prometheus exporter): the totals it serves are what was recorded, across the hand-over from the
// primary's own reader to the aggregate and after the member leaves, and no point is refused.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createJobmeter } from '../../src/index.ts';
import { startCollector } from '../support/collector.ts';

const OPTIONS = {
  serviceName: 'threads',
  processMetrics: false,
  global: false,
  listener: false as const,
};

async function next(w: Worker, key: string): Promise<void> {
  for (;;) {
    const [msg] = (await once(w, 'message')) as [Record<string, unknown>];
    if (key in msg) return;
  }
}

/** The Collector's Prometheus exporter's samples of the run instruments, once they equal `want` (or the last seen after 10 s). */
async function served(url: string, want: Record<string, number>): Promise<Record<string, number>> {
  let seen: Record<string, number> = {};
  for (const until = Date.now() + 10_000; Date.now() < until; await sleep(100)) {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
    seen = {};
    for (const m of text.matchAll(
      /^(jobmeter_run_(?:finished|duration_count|duration_sum))\{([^}]*)\} (\S+)$/gm,
    )) {
      const task = /task="([^"]*)"/.exec(m[2]!)?.[1];
      seen[`${m[1]} ${task}`] = Number(m[3]);
    }
    if (Object.keys(want).every((k) => seen[k] === want[k])) return seen;
  }
  return seen;
}

test('the Collector counts every run of a delta-pushing cluster once: before, across and after the hand-over to the aggregate', async () => {
  const collector = await startCollector({
    ports: ['otlp', 'prometheus', 'telemetry'],
    config: (p) => ({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
      processors: { delta_to_cumulative: {} },
      exporters: {
        prometheus: {
          endpoint: `127.0.0.1:${p.prometheus}`,
          translation_strategy: 'UnderscoreEscapingWithoutSuffixes',
          without_scope_info: true,
        },
      },
      service: {
        telemetry: {
          metrics: {
            level: 'normal',
            readers: [
              { pull: { exporter: { prometheus: { host: '127.0.0.1', port: p.telemetry } } } },
            ],
          },
        },
        pipelines: {
          metrics: {
            receivers: ['otlp'],
            processors: ['delta_to_cumulative'],
            exporters: ['prometheus'],
          },
        },
      },
    }),
  });
  const metricsUrl = `http://127.0.0.1:${collector.ports.prometheus}/metrics`;
  const options = {
    ...OPTIONS,
    otlp: {
      endpoint: `http://127.0.0.1:${collector.ports.otlp}`,
      intervalMillis: 600_000,
      temporality: 'delta' as const,
    },
  };
  const parent = await createJobmeter(options);
  const threads: Worker[] = [];
  try {
    const own = (n: number) => {
      for (let i = 0; i < n; i++)
        parent.recordRun({ task: 'nightly', outcome: 'success', durationSeconds: 0.5 });
    };
    const want = (nightly: number, crunch: number, crunchSeconds: number) => ({
      'jobmeter_run_finished nightly': nightly,
      'jobmeter_run_duration_count nightly': nightly,
      'jobmeter_run_duration_sum nightly': nightly * 0.5,
      'jobmeter_run_finished crunch': crunch,
      'jobmeter_run_duration_count crunch': crunch,
      'jobmeter_run_duration_sum crunch': crunchSeconds,
    });
    own(3);
    await parent.forceFlush();
    const a = new Worker(new URL('./fixtures/thread-member.ts', import.meta.url), {
      workerData: { options },
    });
    threads.push(a);
    parent.aggregate(a);
    await next(a, 'started');
    a.postMessage({ run: 4 });
    await next(a, 'recorded');
    own(2);
    await parent.forceFlush();
    assert.deepEqual(
      await served(metricsUrl, want(5, 4, 1.2)),
      want(5, 4, 1.2),
      'the hand-over export adds what the primary had not pushed, and the member once',
    );
    a.postMessage({ run: 1 });
    await next(a, 'recorded');
    a.postMessage({ stop: true });
    await next(a, 'stopped');
    await a.terminate();
    own(1);
    await parent.forceFlush();
    await parent.forceFlush();
    assert.deepEqual(
      await served(metricsUrl, want(6, 5, 1.5)),
      want(6, 5, 1.5),
      'after the member left',
    );
    const telemetry = await (
      await fetch(`http://127.0.0.1:${collector.ports.telemetry}/metrics`, {
        signal: AbortSignal.timeout(5_000),
      })
    ).text();
    const refused = [
      ...telemetry.matchAll(
        /^otelcol_deltatocumulative_datapoints(?:_total)?\{[^}]*error="[^"]+"[^}]*\} (\S+)$/gm,
      ),
    ].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(
      refused,
      0,
      'delta_to_cumulative refused no point (start times follow one another)',
    );
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
    await parent.shutdown();
    await collector.stop();
  }
});
