import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import type { OtlpProtocol } from '../../src/options.ts';
import { otlpMetricsUrl, printableUrl } from '../../src/readers/otlp-endpoint.ts';
import { createOtlpPushReader, type ResolvedOtlpPushOptions } from '../../src/readers/otlp-push.ts';
import {
  startOtlpReceiver,
  type DecodedExport,
  type DecodedMetric,
  type OtlpReceiver,
} from '../support/otlp-receiver.ts';
import { logTo } from '../../src/common/log.ts';

const SERVICE = 'jobmeter-otlp-test';
const TOKEN_HEADER = 'x-jobmeter-token';
const BOUNDARIES = [0.5, 1, 5];

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});
afterEach(() => {
  // A refused request means the exporter sent something the receiver could not decode.
  assert.deepEqual(receiver.errors, []);
  receiver.requests.length = 0;
});

function options(overrides: Partial<ResolvedOtlpPushOptions> = {}): ResolvedOtlpPushOptions {
  return {
    endpoint: receiver.url,
    headers: { [TOKEN_HEADER]: 'secret-123' },
    protocol: 'http/protobuf',
    // Long enough that only forceFlush()/shutdown() export, so each request is one we asked for.
    intervalMillis: 60_000,
    timeoutMillis: 5_000,
    temporality: 'cumulative',
    ...overrides,
  };
}

/** A provider with the three instrument kinds; `record` adds to them. */
function setup(pushOptions: ResolvedOtlpPushOptions) {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE }),
    readers: [createOtlpPushReader(pushOptions)],
    views: [
      {
        instrumentName: 'job_duration',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: BOUNDARIES },
        },
      },
    ],
  });
  const meter = provider.getMeter('jobmeter.test', '1.2.3');
  const started = meter.createCounter('jobs_started', {
    unit: '{job}',
    description: 'Jobs started.',
  });
  const duration = meter.createHistogram('job_duration', {
    unit: 's',
    description: 'Job run time.',
  });
  let depth = 7;
  meter
    .createObservableGauge('queue_depth', { unit: '{job}', description: 'Jobs waiting.' })
    .addCallback((result) => result.observe(depth, { queue: 'a' }));
  return {
    provider,
    started,
    duration,
    setDepth(value: number) {
      depth = value;
    },
  };
}

function metric(request: DecodedExport | undefined, name: string): DecodedMetric {
  assert.ok(request, 'no request received');
  const found = request.metrics.find((m) => m.name === name);
  assert.ok(found, `metric ${name} missing; got ${request.metrics.map((m) => m.name).join(', ')}`);
  return found;
}

function valueFor(m: DecodedMetric, queue: string): number | undefined {
  return m.points.find((p) => p.attributes['queue'] === queue)?.value;
}

async function flush(provider: MeterProvider, expected: number): Promise<DecodedExport> {
  await provider.forceFlush();
  await receiver.waitForRequests(expected, 2_000);
  return receiver.requests[expected - 1]!;
}

const CONTENT_TYPES: Record<OtlpProtocol, string> = {
  'http/protobuf': 'application/x-protobuf',
  'http/json': 'application/json',
};

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`OTLP push over ${protocol}`, () => {
    it('sends resource, header, names, units and values with cumulative temporality by default', async () => {
      const { provider, started, duration, setDepth } = setup(options({ protocol }));
      started.add(2, { queue: 'a' });
      started.add(3, { queue: 'b' });
      started.add(1, { queue: 'a' });
      for (const seconds of [0.2, 0.7, 3, 10]) duration.record(seconds, { queue: 'a' });

      const first = await flush(provider, 1);
      assert.equal(first.contentType, CONTENT_TYPES[protocol]);
      assert.equal(first.contentEncoding, undefined);
      assert.equal(first.headers[TOKEN_HEADER], 'secret-123');
      assert.match(String(first.headers['user-agent']), /^OTel-OTLP-Exporter-JavaScript\//);
      assert.equal(first.resource['service.name'], SERVICE);

      const counter = metric(first, 'jobs_started');
      assert.deepEqual(
        {
          scope: counter.scope,
          kind: counter.kind,
          unit: counter.unit,
          description: counter.description,
        },
        { scope: 'jobmeter.test', kind: 'sum', unit: '{job}', description: 'Jobs started.' },
      );
      assert.equal(counter.monotonic, true);
      assert.equal(counter.temporality, 'cumulative');
      assert.equal(valueFor(counter, 'a'), 3);
      assert.equal(valueFor(counter, 'b'), 3);

      const histogram = metric(first, 'job_duration');
      assert.equal(histogram.kind, 'histogram');
      assert.equal(histogram.unit, 's');
      assert.equal(histogram.temporality, 'cumulative');
      assert.equal(histogram.points.length, 1);
      const [point] = histogram.points;
      assert.deepEqual(point!.attributes, { queue: 'a' });
      assert.deepEqual(point!.explicitBounds, BOUNDARIES);
      // (-inf, 0.5] (0.5, 1] (1, 5] (5, +inf)
      assert.deepEqual(point!.bucketCounts, [1, 1, 1, 1]);
      assert.equal(point!.count, 4);
      assert.ok(Math.abs(point!.sum! - 13.9) < 1e-9, `sum ${point!.sum}`);
      assert.equal(point!.min, 0.2);
      assert.equal(point!.max, 10);

      const gauge = metric(first, 'queue_depth');
      assert.equal(gauge.kind, 'gauge');
      assert.equal(gauge.unit, '{job}');
      assert.equal(gauge.temporality, undefined, 'OTLP gauges carry no temporality');
      assert.equal(valueFor(gauge, 'a'), 7);

      // A second export: cumulative totals keep growing from the same start time.
      started.add(4, { queue: 'a' });
      duration.record(0.1, { queue: 'a' });
      setDepth(2);
      const second = await flush(provider, 2);
      const counter2 = metric(second, 'jobs_started');
      assert.equal(valueFor(counter2, 'a'), 7);
      assert.equal(valueFor(counter2, 'b'), 3);
      assert.equal(
        counter2.points.find((p) => p.attributes['queue'] === 'a')!.startTimeUnixNano,
        counter.points.find((p) => p.attributes['queue'] === 'a')!.startTimeUnixNano,
      );
      const point2 = metric(second, 'job_duration').points[0]!;
      assert.equal(point2.count, 5);
      assert.deepEqual(point2.bucketCounts, [2, 1, 1, 1]);
      assert.equal(valueFor(metric(second, 'queue_depth'), 'a'), 2);

      await provider.shutdown();
    });

    it('sends delta temporality when asked: each export starts from zero', async () => {
      const { provider, started, duration } = setup(options({ protocol, temporality: 'delta' }));
      started.add(5, { queue: 'a' });
      duration.record(0.7, { queue: 'a' });
      duration.record(3, { queue: 'a' });
      const first = await flush(provider, 1);
      const counter = metric(first, 'jobs_started');
      assert.equal(counter.temporality, 'delta');
      assert.equal(counter.monotonic, true);
      assert.equal(valueFor(counter, 'a'), 5);
      const histogram = metric(first, 'job_duration');
      assert.equal(histogram.temporality, 'delta');
      assert.equal(histogram.points[0]!.count, 2);

      started.add(2, { queue: 'a' });
      duration.record(10, { queue: 'a' });
      const second = await flush(provider, 2);
      assert.equal(valueFor(metric(second, 'jobs_started'), 'a'), 2);
      const point = metric(second, 'job_duration').points[0]!;
      assert.equal(point.count, 1);
      assert.deepEqual(point.bucketCounts, [0, 0, 0, 1]);
      // Delta intervals are contiguous: this one starts where the last one ended.
      assert.equal(
        metric(second, 'jobs_started').points[0]!.startTimeUnixNano,
        counter.points[0]!.timeUnixNano,
      );

      await provider.shutdown();
    });

    it('exports the last measurements on shutdown, without a forceFlush', async () => {
      const { provider, started } = setup(options({ protocol }));
      started.add(9, { queue: 'z' });
      await provider.shutdown();
      // The receiver records a request before answering it, so it is there once shutdown resolves.
      assert.equal(receiver.requests.length, 1);
      assert.equal(valueFor(metric(receiver.requests[0], 'jobs_started'), 'z'), 9);
    });
  });
}

describe('OTLP push reader: the endpoint as users write it', () => {
  it('a base URL (no path), as OTEL_EXPORTER_OTLP_ENDPOINT takes it, posts to /v1/metrics', async () => {
    const base = new URL(receiver.url).origin;
    for (const endpoint of [base, `${base}/`]) {
      receiver.requests.length = 0;
      const { provider, started } = setup(options({ endpoint }));
      started.add(2, { queue: 'base' });
      const request = await flush(provider, 1);
      assert.equal(valueFor(metric(request, 'jobs_started'), 'base'), 2);
      await provider.shutdown();
    }
  });

  it('a failing push logs the full URL it posts to and the HTTP status, never userinfo or query', async () => {
    const lines: string[] = [];
    const wrong = new URL(receiver.url);
    wrong.pathname = '/otlp/v1/metrics';
    wrong.username = 'user';
    wrong.password = 'hunter2';
    wrong.search = '?token=s3cr3t';
    const provider = new MeterProvider({
      readers: [
        createOtlpPushReader(options({ endpoint: wrong.href }), {
          log: logTo((l) => lines.push(l)),
        }),
      ],
    });
    provider.getMeter('m').createCounter('c').add(1);
    await provider.forceFlush().catch(() => {});
    await provider.shutdown().catch(() => {});
    receiver.errors.length = 0; // the receiver refused the wrong path, as it should
    assert.equal(lines.length >= 1, true, 'a failing line');
    assert.match(
      lines[0]!,
      new RegExp(
        `^OTLP push to ${wrong.origin.replace(/\./g, '\\.')}/otlp/v1/metrics failing \\(HTTP 404\\)`,
      ),
    );
    assert.doesNotMatch(lines.join('\n'), /hunter2|s3cr3t|user@/);
  });

  it('otlpMetricsUrl appends /v1/metrics only to a URL without a path', () => {
    assert.equal(otlpMetricsUrl('http://127.0.0.1:4318'), 'http://127.0.0.1:4318/v1/metrics');
    assert.equal(
      otlpMetricsUrl('https://collector.example:4318/'),
      'https://collector.example:4318/v1/metrics',
    );
    assert.equal(
      otlpMetricsUrl('http://127.0.0.1:4318/v1/metrics'),
      'http://127.0.0.1:4318/v1/metrics',
    );
    assert.equal(
      otlpMetricsUrl('http://gw.example/otlp/metrics'),
      'http://gw.example/otlp/metrics',
    );
    assert.equal(printableUrl('http://u:p@h.example:1/a/b?token=x#f'), 'http://h.example:1/a/b');
  });
});

describe('OTLP push reader', () => {
  it('exports on its own every intervalMillis', async () => {
    const { provider, started } = setup(options({ intervalMillis: 200, timeoutMillis: 200 }));
    started.add(1, { queue: 'a' });
    await receiver.waitForRequests(2, 3_000);
    assert.equal(valueFor(metric(receiver.requests[1], 'jobs_started'), 'a'), 1);
    await provider.shutdown();
  });

  it('gzips the body when the exporter is told to by OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', async () => {
    // jobmeter has no compression option; the exporter reads this variable from process.env itself.
    const saved = process.env['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION'];
    process.env['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION'] = 'gzip';
    try {
      for (const protocol of ['http/protobuf', 'http/json'] as const) {
        receiver.requests.length = 0;
        const { provider, started } = setup(options({ protocol }));
        started.add(4, { queue: 'g' });
        const request = await flush(provider, 1);
        assert.equal(request.contentEncoding, 'gzip');
        assert.equal(request.contentType, CONTENT_TYPES[protocol]);
        assert.equal(valueFor(metric(request, 'jobs_started'), 'g'), 4);
        await provider.shutdown();
      }
    } finally {
      if (saved === undefined) delete process.env['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION'];
      else process.env['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION'] = saved;
    }
  });

  it('accepts a timeout equal to the interval', () => {
    const reader = createOtlpPushReader(options({ intervalMillis: 1_000, timeoutMillis: 1_000 }));
    assert.ok(reader);
  });
});
