/**
 * Start timestamps: with `startTimestamps`, counters and histograms carry their
 * OpenTelemetry start time — OpenMetrics `_created` samples (checked by the strict parser) and
 * protobuf `created_timestamp` (decoded with the official metrics.proto) — equal to the SDK's
 * point start times; without it (the default) neither appears, and text 0.0.4 never has them.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { AggregationType, MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import type { Family } from '../../src/exposition/types.ts';
import { JobmeterReader, type JobmeterReaderOptions } from '../../src/jobmeter-reader.ts';
import { groupFamilies, parseExposition } from '../support/exposition-parser.ts';
import { decodeProtobufExposition } from '../support/protobuf-exposition.ts';

interface Timestamp {
  seconds?: number;
  nanos?: number;
}
interface Decoded {
  name: string;
  metric: Array<{
    counter?: { value: number; createdTimestamp?: Timestamp };
    histogram?: { createdTimestamp?: Timestamp };
    gauge?: object;
  }>;
}

const decodeAll = (families: readonly Family[]) => decodeProtobufExposition<Decoded>(families);

const providers: MeterProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

async function setup(
  options: JobmeterReaderOptions,
): Promise<{ reader: JobmeterReader; families: Family[]; starts: Map<string, number> }> {
  const reader = new JobmeterReader({ listener: false, ...options });
  const provider = new MeterProvider({
    views: [
      {
        instrumentName: 'exp.latency',
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
      },
    ],
    readers: [reader],
  });
  providers.push(provider);
  const meter = provider.getMeter('app');
  meter.createCounter('app.jobs').add(5, { queue: 'a' });
  await new Promise((r) => setTimeout(r, 20));
  meter.createCounter('app.jobs').add(2, { queue: 'b' });
  meter.createHistogram('app.latency', { unit: 's' }).record(0.3);
  meter.createHistogram('exp.latency', { unit: 's' }).record(0.3);
  meter.createGauge('app.depth').record(4);
  const families = await reader.scrape();
  // The SDK's own start times, from a collection of the same reader.
  const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics };
  const starts = new Map<string, number>();
  for (const m of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
    for (const p of m.dataPoints)
      starts.set(
        `${m.descriptor.name}${JSON.stringify(p.attributes)}`,
        p.startTime[0] * 1000 + p.startTime[1] / 1e6,
      );
  }
  return { reader, families, starts };
}

const seconds = (ms: number): number => ms / 1000;
const ms = (t: Timestamp | undefined): number | undefined =>
  t === undefined ? undefined : (t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;

describe('start timestamps', () => {
  it('on: OpenMetrics _created and protobuf created_timestamp, the SDK start times', async () => {
    const { families, starts } = await setup({ startTimestamps: true });
    const om = renderOpenMetrics(families);
    const problems: string[] = [];
    groupFamilies(parseExposition(om, 'openmetrics'), 'openmetrics', problems);
    assert.deepEqual(problems, []);
    const created = (name: string, labels: string): number => {
      const m = new RegExp(`^${name}_created${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(
        om,
      );
      assert.ok(m, `${name}_created${labels} in\n${om}`);
      return Number(m[1]);
    };
    const a = starts.get('app.jobs{"queue":"a"}')!;
    const b = starts.get('app.jobs{"queue":"b"}')!;
    assert.ok(
      Math.abs(created('app_jobs', '{queue="a",otel_scope_name="app"}') - seconds(a)) < 1e-6,
    );
    assert.ok(
      Math.abs(created('app_jobs', '{queue="b",otel_scope_name="app"}') - seconds(b)) < 1e-6,
    );
    assert.ok(
      Math.abs(
        created('app_latency_seconds', '{otel_scope_name="app"}') -
          seconds(starts.get('app.latency{}')!),
      ) < 1e-6,
    );
    assert.ok(
      Math.abs(
        created('exp_latency_seconds', '{otel_scope_name="app"}') -
          seconds(starts.get('exp.latency{}')!),
      ) < 1e-6,
    );
    // Each `_created` right after its series' last sample; gauges have none.
    assert.match(
      om,
      /^app_jobs_total\{queue="a",otel_scope_name="app"\} 5\napp_jobs_created\{queue="a",otel_scope_name="app"\} /m,
    );
    assert.match(
      om,
      /^app_latency_seconds_count\{otel_scope_name="app"\} 1\napp_latency_seconds_created\{/m,
    );
    assert.doesNotMatch(om, /app_depth_created/);
    assert.doesNotMatch(renderPrometheusText(families), /_created/);

    const decoded = await decodeAll(families);
    const jobs = decoded.find((f) => f.name === 'app_jobs_total')!;
    const got = jobs.metric.map((m) => ms(m.counter!.createdTimestamp)!);
    assert.equal(got.length, 2);
    [a, b].forEach((t, i) => assert.ok(Math.abs(got[i]! - t) < 1e-3, `${got[i]} vs ${t}`));
    for (const name of ['app_latency_seconds', 'exp_latency_seconds']) {
      const f = decoded.find((x) => x.name === name)!;
      const start = starts.get(name.replace('_seconds', '').replace('_', '.') + '{}')!;
      assert.ok(Math.abs(ms(f.metric[0]!.histogram!.createdTimestamp)! - start) < 1e-3, name);
    }
  });

  it('off by default: no _created, no created_timestamp', async () => {
    const { families } = await setup({});
    assert.doesNotMatch(renderOpenMetrics(families), /_created/);
    for (const f of await decodeAll(families))
      for (const m of f.metric)
        assert.equal(m.counter?.createdTimestamp ?? m.histogram?.createdTimestamp, undefined);
  });

  it('a legacy profile with them on: its counters get _created too, zero-filled ones the start of jobmeter', async () => {
    const before = Date.now();
    const { families } = await setup({ profile: 'runwisp', startTimestamps: true });
    const om = renderOpenMetrics(families);
    const problems: string[] = [];
    groupFamilies(parseExposition(om, 'openmetrics'), 'openmetrics', problems);
    assert.deepEqual(problems, []);
    // runwisp_runs_total is zero-filled: no source yet, so it started with the namer.
    const m = /^runwisp_runs_created\{[^}]*\} (\S+)$/m.exec(om);
    assert.ok(m, om);
    assert.ok(Number(m[1]) * 1000 >= before - 1 && Number(m[1]) * 1000 <= Date.now());
  });
});
