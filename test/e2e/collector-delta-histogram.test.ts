/**
 * A host histogram pushed with delta temporality, against the real Collector (the release pinned
 * in test/peers/versions.env) and the official SDK side by side: the same records, collected in
 * the same windows, reach the Collector's `debug` exporter (`detailed`) from jobmeter's push and
 * from `sdk-metrics` + the OTLP/HTTP exporter; each window's points print the same count, sum, min
 * and max. The SDK's delta point has the window's min and max, not the life's.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { startDebugCollector, type CollectorHandle } from '../support/collector.ts';

const HOUR = 3_600_000;
const NAME = 'job.wait';

/**
 * The `queue` attribute and the `Count`, `Sum`, `Min` and `Max` lines of every `NAME` histogram
 * point in the debug exporter's detailed output, by the service that sent it, one entry per
 * export in order.
 */
function pointsByService(text: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  let service = '';
  let metric = '';
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const s = /-> service\.name: Str\((.*)\)$/.exec(line);
    if (s) {
      service = s[1]!;
      if (!out.has(service)) out.set(service, []);
      continue;
    }
    if (line.startsWith('ResourceMetrics #')) current = undefined;
    const m = /^\s+-> Name: (.*)$/.exec(line);
    if (m) metric = m[1]!;
    if (line.startsWith('HistogramDataPoints #') && metric === NAME) {
      if (line === 'HistogramDataPoints #0') out.get(service)!.push([]);
      out.get(service)!.at(-1)!.push('');
      current = out.get(service)!.at(-1)!;
      continue;
    }
    if (current !== undefined && /^(Count|Sum|Min|Max): |^\s+-> queue: /.test(line))
      current[current.length - 1] += `${line.trim()} `;
  }
  // A point's place in its export is not the data: each export's points in one order.
  for (const exports of out.values()) for (const e of exports) e.sort();
  return out;
}

let collector: CollectorHandle<'otlp'>;
before(async () => {
  collector = await startDebugCollector('detailed');
});
after(async () => {
  await collector?.stop();
});

it("each delta window's histogram points print the same count, sum, min and max from jobmeter's push as from the SDK's", async () => {
  const url = `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`;
  const sdk = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'sdk-side' }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          url,
          temporalityPreference: AggregationTemporalityPreference.DELTA,
        }),
        exportIntervalMillis: HOUR,
      }),
    ],
  });
  let jm: Jobmeter | undefined;
  try {
    jm = await createJobmeter({
      serviceName: 'jobmeter-side',
      listener: false,
      processMetrics: false,
      otlp: { endpoint: url, intervalMillis: HOUR, temporality: 'delta' },
    });
    const histograms = [jm.meterProvider, sdk].map((p) =>
      p.getMeter('host-app').createHistogram(NAME, { unit: 's' }),
    );
    // Windows of records ([queue, value]); the third has none.
    const windows: [string, number][][] = [
      [
        ['a', 7],
        ['a', 0.25],
        ['b', 2],
      ],
      [
        ['a', 3],
        ['a', 1],
        ['b', 5],
      ],
      [],
      [
        ['a', 0.5],
        ['b', 40],
      ],
    ];
    for (const records of windows) {
      for (const h of histograms) for (const [queue, v] of records) h.record(v, { queue });
      await Promise.all([jm.forceFlush(), sdk.forceFlush()]);
    }
  } finally {
    await Promise.all([jm?.shutdown(), sdk.shutdown()]);
  }
  const text = await collector.waitForOutput('debug.txt', (t) => {
    const p = pointsByService(t);
    return (p.get('jobmeter-side')?.length ?? 0) >= 3 && (p.get('sdk-side')?.length ?? 0) >= 3;
  });
  const points = pointsByService(text);
  const sdkPoints = points.get('sdk-side')!;
  // Three windows with records, each with its own extremes (queue a's second: max 3, not the life's 7).
  assert.equal(sdkPoints.length, 3, text);
  assert.match(sdkPoints[1]![0]!, /queue: Str\(a\) .*Min: 1\.0+ Max: 3\.0+ /);
  for (const p of sdkPoints) for (const line of p) assert.match(line, /Min: .* Max: /);
  assert.deepEqual(points.get('jobmeter-side'), sdkPoints);
});
