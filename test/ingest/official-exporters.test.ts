/**
 * What the official OTLP/HTTP exporters send decodes exactly in the ingest, and jobmeter's own push
 * decodes with the same schema to the values it recorded.
 *
 * - Foreign senders: `@opentelemetry/exporter-metrics-otlp-proto` and `-otlp-http`, each with and
 *   without gzip, export every instrument type (counter, up-down counter, histogram, gauge, the
 *   three observable ones) with attributes of every value type, under a resource and a scope with
 *   a version, a schema URL and attributes. The listener's decoded request (the ingest model) must
 *   equal what was recorded, value by value; the wire shape (src/debug/wire.ts, the same committed
 *   schema) must carry what that model leaves out: int or double, min/max, scope attributes.
 * - jobmeter's push, both protocols, into an ingest listener: decoded, it holds exactly the runs
 *   recorded, and a jobmeter accepts every point another jobmeter pushes.
 * - A refused request (400, 413, 415, a type conflict) loses nothing accepted before it.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ValueType, type Attributes } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  MetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { decodeWire } from '../../src/debug/wire.ts';
import { normalText } from '../../src/debug/normal-text.ts';
import { startIngestListener, type IngestListener } from '../../src/ingest/ingest-listener.ts';
import { resolveIngest } from '../../src/resolve-options.ts';
import type { IngestResult } from '../../src/ingest/ingest-report.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { createJobmeter, VERSION } from '../../src/index.ts';
import { DEFAULT_RUN_DURATION_BUCKETS } from '../../src/index-catalog.ts';
import type { OtlpExportRequest } from '../../src/otlp/types.ts';
import { otlpMetricsSchema } from '../support/otlp-receiver.ts';
import { histograms, values } from './helpers.ts';

// ---------------------------------------------------------------------------------------------
// One ingest listener; each test points it at a fresh store and reads what it decoded.

interface Received {
  request: OtlpExportRequest;
  result: IngestResult;
  /** The same body in its wire shape, through the listener's onRequest hook. */
  wire: unknown;
}

let store: IngestStore;
let received: Received[];
let listener: IngestListener;
let url: string;

function reset(): void {
  store = new IngestStore();
  received = [];
}

before(async () => {
  reset();
  let pending: Omit<Received, 'wire'> | undefined;
  listener = await startIngestListener({
    sink: {
      ingest(request) {
        const result = store.ingest(request);
        pending = { request, result };
        return result;
      },
    },
    ...resolveIngest({ port: 0, maxBodyBytes: 64 * 1024 }),
    onRequest: (body, encoding) => {
      received.push({ ...pending!, wire: decodeWire(body, encoding) });
    },
  });
  url = `http://127.0.0.1:${listener.address.port}/v1/metrics`;
});
after(async () => {
  await listener.close();
});

/** `Content-Encoding` of every request the process sends while `work` runs. */
async function contentEncodings(work: () => Promise<void>): Promise<Array<string | undefined>> {
  const seen: Array<string | undefined> = [];
  const onFinish = (message: unknown): void => {
    const header = (message as { request: ClientRequest }).request.getHeader('content-encoding');
    seen.push(header === undefined ? undefined : String(header));
  };
  subscribe('http.client.response.finish', onFinish);
  try {
    await work();
  } finally {
    unsubscribe('http.client.response.finish', onFinish);
  }
  return seen;
}

/** The decoded request without point times, after checking they are set and ordered. */
function withoutTimes(request: OtlpExportRequest): unknown {
  return {
    resourceMetrics: request.resourceMetrics.map((rm) => ({
      ...rm,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({
        ...sm,
        metrics: sm.metrics.map((m) => {
          if (!('points' in m.data)) return m;
          const points = (
            m.data.points as ReadonlyArray<{ startTimeUnixNano: bigint; timeUnixNano: bigint }>
          ).map(({ startTimeUnixNano, timeUnixNano, ...rest }) => {
            assert.ok(timeUnixNano > 1_600_000_000_000_000_000n, `${m.name}: a time`);
            assert.ok(
              startTimeUnixNano > 0n && startTimeUnixNano <= timeUnixNano,
              `${m.name}: a start time, not after the time`,
            );
            return rest;
          });
          return { ...m, data: { ...m.data, points } };
        }),
      })),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// A foreign sender: every instrument type, every attribute value type.

const RESOURCE: Attributes = {
  'service.name': 'go-daemon',
  'service.instance.id': 'go-daemon-7f3a',
  'host.name': 'ci-7',
  'host.cpu.count': 8,
  'process.runtime.tiny': 0.5,
  'deployment.canary': false,
  'process.command_args': ['daemon', '--verbose'],
};
const SCOPE = {
  name: 'daemon',
  version: '1.4.2',
  schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
};
const SCOPE_ATTRIBUTES: Attributes = { team: 'infra', shard: 3, sampled: true };
/** Every attribute value type OTel JS records: string, bool, int, double and their arrays. */
const ALL_TYPES: Attributes = {
  s: 'x',
  b: true,
  i: 42,
  d: 1.5,
  ss: ['a', 'b'],
  bs: [true, false],
  is: [1, 2],
  ds: [1.5, 2.5],
};
const OTHER: Attributes = { s: 'y' };
const BOUNDS = [0.1, 1, 10];

/** A reader the test collects from by hand, so one collection goes to one exporter call. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Records the same measurements on a fresh provider; returns one collection. */
async function recordEverything(): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes(RESOURCE),
    readers: [reader],
  });
  const meter = provider.getMeter(SCOPE.name, SCOPE.version, { schemaUrl: SCOPE.schemaUrl });
  const counter = meter.createCounter('jobs.done', {
    unit: '{job}',
    description: 'Jobs done.',
    valueType: ValueType.INT,
  });
  counter.add(3, ALL_TYPES);
  counter.add(2, ALL_TYPES);
  counter.add(1, OTHER);
  const upDown = meter.createUpDownCounter('jobs.active', {
    unit: '{job}',
    description: 'Jobs running.',
  });
  upDown.add(4, ALL_TYPES);
  upDown.add(-1.5, ALL_TYPES);
  const histogram = meter.createHistogram('jobs.duration', {
    unit: 's',
    description: 'Job time.',
    advice: { explicitBucketBoundaries: BOUNDS },
  });
  for (const v of [0.05, 0.5, 5, 50]) histogram.record(v, ALL_TYPES);
  const gauge = meter.createGauge('queue.depth', { unit: '{item}', description: 'Queued.' });
  gauge.record(7, ALL_TYPES);
  gauge.record(9, ALL_TYPES);
  meter
    .createObservableCounter('cpu.seconds', { unit: 's', description: 'CPU.' })
    .addCallback((r) => r.observe(12.5, ALL_TYPES));
  meter
    .createObservableGauge('temperature', { unit: 'Cel', description: 'Heat.' })
    .addCallback((r) => r.observe(-3.25, ALL_TYPES));
  meter
    .createObservableUpDownCounter('connections', { unit: '{connection}', description: 'Open.' })
    .addCallback((r) => r.observe(6, ALL_TYPES));
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  // OTel JS has no API for scope attributes yet; its exporters send them when the scope has some
  // (otlp-transformer's createInstrumentationScope), as a producer may supply.
  return {
    ...resourceMetrics,
    scopeMetrics: resourceMetrics.scopeMetrics.map((sm) => ({
      ...sm,
      scope: { ...sm.scope, attributes: SCOPE_ATTRIBUTES },
    })),
  };
}

const point = (value: number, attributes: Attributes = ALL_TYPES) => ({
  attributes,
  noRecordedValue: false,
  value,
});
const metric = (
  name: string,
  unit: string,
  description: string,
  data: Record<string, unknown>,
) => ({ name, unit, description, data });

/** The ingest model of what recordEverything recorded, times aside. */
const EXPECTED = {
  resourceMetrics: [
    {
      resource: RESOURCE,
      scopeMetrics: [
        {
          scope: { name: SCOPE.name, version: SCOPE.version },
          metrics: [
            metric('jobs.done', '{job}', 'Jobs done.', {
              type: 'sum',
              monotonic: true,
              temporality: 'cumulative',
              points: [point(5), point(1, OTHER)],
            }),
            metric('jobs.active', '{job}', 'Jobs running.', {
              type: 'sum',
              monotonic: false,
              temporality: 'cumulative',
              points: [point(2.5)],
            }),
            metric('jobs.duration', 's', 'Job time.', {
              type: 'histogram',
              temporality: 'cumulative',
              points: [
                {
                  attributes: ALL_TYPES,
                  noRecordedValue: false,
                  count: 4,
                  sum: 55.55,
                  bucketCounts: [1, 1, 1, 1],
                  explicitBounds: BOUNDS,
                },
              ],
            }),
            metric('queue.depth', '{item}', 'Queued.', { type: 'gauge', points: [point(9)] }),
            metric('cpu.seconds', 's', 'CPU.', {
              type: 'sum',
              monotonic: true,
              temporality: 'cumulative',
              points: [point(12.5)],
            }),
            metric('temperature', 'Cel', 'Heat.', { type: 'gauge', points: [point(-3.25)] }),
            metric('connections', '{connection}', 'Open.', {
              type: 'sum',
              monotonic: false,
              temporality: 'cumulative',
              points: [point(6)],
            }),
          ],
        },
      ],
    },
  ],
};

/** One collection, sent several times where the times must be the same. */
let EXPORTED: ResourceMetrics;
before(async () => {
  EXPORTED = await recordEverything();
});

type ExporterConfig = NonNullable<ConstructorParameters<typeof ProtobufExporter>[0]>;

const SENDERS: Array<{
  name: string;
  make: (compression: ExporterConfig['compression']) => PushMetricExporter;
}> = [
  {
    name: 'exporter-metrics-otlp-proto',
    make: (compression) => new ProtobufExporter({ url, compression }),
  },
  {
    name: 'exporter-metrics-otlp-http (JSON)',
    make: (compression) => new JsonExporter({ url, compression }),
  },
];
const COMPRESSIONS = [
  ['none', 'none' as ExporterConfig['compression'], undefined],
  ['gzip', 'gzip' as ExporterConfig['compression'], 'gzip'],
] as const;

/** An attribute list in wire shape as `key → type:value`, so int and double are told apart. */
function typed(list: unknown): Record<string, string> {
  const one = (v: Record<string, unknown>): string => {
    if ('stringValue' in v) return `string:${String(v['stringValue'])}`;
    if ('boolValue' in v) return `bool:${String(v['boolValue'])}`;
    if ('intValue' in v) return `int:${String(v['intValue'])}`;
    if ('doubleValue' in v) return `double:${String(v['doubleValue'])}`;
    if ('arrayValue' in v)
      return `[${((v['arrayValue'] as { values?: Record<string, unknown>[] }).values ?? []).map(one).join(',')}]`;
    return `?${JSON.stringify(v)}`;
  };
  return Object.fromEntries(
    (list as Array<{ key: string; value: Record<string, unknown> }>).map(({ key, value }) => [
      key,
      one(value),
    ]),
  );
}

const TYPED_ALL = {
  s: 'string:x',
  b: 'bool:true',
  i: 'int:42',
  d: 'double:1.5',
  ss: '[string:a,string:b]',
  bs: '[bool:true,bool:false]',
  is: '[int:1,int:2]',
  ds: '[double:1.5,double:2.5]',
};

describe('payloads of the official exporters decode exactly in the ingest', () => {
  for (const sender of SENDERS) {
    for (const [label, compression, wireEncoding] of COMPRESSIONS) {
      it(`${sender.name}, ${label}: every instrument type, attribute type, resource and scope`, async () => {
        reset();
        const rm = await recordEverything();
        const exporter = sender.make(compression);
        let code: ExportResultCode | undefined;
        const encodings = await contentEncodings(async () => {
          code = await new Promise<ExportResultCode>((resolve) =>
            exporter.export(rm, (r) => resolve(r.code)),
          );
        });
        await exporter.shutdown();
        assert.equal(code, ExportResultCode.SUCCESS);
        assert.deepEqual(encodings, [wireEncoding], 'the body went over the wire as configured');
        assert.equal(received.length, 1);
        const [{ request, result, wire }] = received as [Received];

        // The ingest model: exactly what was recorded.
        assert.deepEqual(withoutTimes(request), EXPECTED);
        assert.deepEqual(result, {
          acceptedDataPoints: 8,
          rejectedDataPoints: 0,
          errorMessage: '',
        });

        // The wire shape, same schema: what the model leaves out is there, typed.
        const rmWire = (wire as { resourceMetrics: Array<Record<string, unknown>> })
          .resourceMetrics[0]!;
        assert.deepEqual(typed((rmWire['resource'] as { attributes: unknown }).attributes), {
          'service.name': 'string:go-daemon',
          'service.instance.id': 'string:go-daemon-7f3a',
          'host.name': 'string:ci-7',
          'host.cpu.count': 'int:8',
          'process.runtime.tiny': 'double:0.5',
          'deployment.canary': 'bool:false',
          'process.command_args': '[string:daemon,string:--verbose]',
        });
        const smWire = (rmWire['scopeMetrics'] as Array<Record<string, unknown>>)[0]!;
        const scopeWire = smWire['scope'] as { name: string; version: string; attributes: unknown };
        assert.deepEqual(
          { name: scopeWire.name, version: scopeWire.version, schemaUrl: smWire['schemaUrl'] },
          SCOPE,
        );
        assert.deepEqual(typed(scopeWire.attributes), {
          team: 'string:infra',
          shard: 'int:3',
          sampled: 'bool:true',
        });
        const metricsWire = smWire['metrics'] as Array<
          Record<string, Record<string, Array<Record<string, unknown>>>>
        >;
        for (const m of metricsWire) {
          const data = (m['sum'] ?? m['gauge'] ?? m['histogram'])!;
          assert.deepEqual(
            typed(data['dataPoints']![0]!['attributes']),
            TYPED_ALL,
            String(m['name']),
          );
        }
        const done = metricsWire[0]!['sum']!['dataPoints']![0]!;
        assert.ok('asInt' in done && !('asDouble' in done), 'an INT counter is sent as as_int');
        const depth = metricsWire[3]!['gauge']!['dataPoints']![0]!;
        assert.ok(
          'asDouble' in depth && !('asInt' in depth),
          'a DOUBLE gauge is sent as as_double',
        );
        const duration = metricsWire[2]!['histogram']!['dataPoints']![0]!;
        assert.deepEqual([duration['min'], duration['max']], [0.05, 50]);

        // And as --debug prints it (the Collector debug exporter's normal verbosity).
        const attrs = 's=x,b=true,i=42,d=1.5,ss=["a","b"],bs=[true,false],is=[1,2],ds=[1.5,2.5]';
        assert.deepEqual(normalText(wire).lines, [
          'ResourceMetrics #0 service.name=go-daemon service.instance.id=go-daemon-7f3a host.name=ci-7 host.cpu.count=8 process.runtime.tiny=0.5 deployment.canary=false process.command_args=["daemon","--verbose"]',
          'ScopeMetrics #0 daemon@1.4.2 [https://opentelemetry.io/schemas/1.26.0] team=infra shard=3 sampled=true',
          `jobs.done{${attrs}} 5`,
          'jobs.done{s=y} 1',
          `jobs.active{${attrs}} 2.5`,
          `jobs.duration{${attrs}} count=4 sum=55.55 min=0.05 max=50 le0.1=1 le1=1 le10=1 1`,
          `queue.depth{${attrs}} 9`,
          `cpu.seconds{${attrs}} 12.5`,
          `temperature{${attrs}} -3.25`,
          `connections{${attrs}} 6`,
        ]);
      });
    }
  }

  it('protobuf and JSON, gzip or not, decode to the same request', async () => {
    const decoded: unknown[] = [];
    for (const sender of SENDERS) {
      for (const [, compression] of COMPRESSIONS) {
        reset();
        const exporter = sender.make(compression);
        await new Promise<void>((resolve) => exporter.export(EXPORTED, () => resolve()));
        await exporter.shutdown();
        decoded.push(received[0]!.request);
      }
    }
    for (const other of decoded.slice(1)) assert.deepEqual(other, decoded[0]);
  });
});

// ---------------------------------------------------------------------------------------------
// jobmeter's own push, decoded by the same schema.

describe("jobmeter's own push decodes to the values it recorded", () => {
  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`${protocol}: every pushed point is what was recorded; another jobmeter accepts them all`, async () => {
      reset();
      const jm = await createJobmeter({
        listener: false,
        processMetrics: false,
        build: { version: '2.3.4', commit: 'abc123' },
        otlp: { endpoint: url, protocol, naming: 'canonical', intervalMillis: 60_000 },
      });
      try {
        jm.recordRun({
          task: 'backup',
          kind: 'task',
          runner: 'subprocess',
          outcome: 'success',
          durationSeconds: 0.25,
        });
        jm.recordRun({
          task: 'backup',
          kind: 'task',
          runner: 'subprocess',
          outcome: 'failure',
          durationSeconds: 42,
        });
        jm.recordRun({
          task: 'lint',
          kind: 'check',
          runner: 'container',
          outcome: 'success',
          durationSeconds: 2,
        });
        jm.reject('concurrency');
        jm.reject('concurrency');
        jm.runnerError('subprocess', 'spawn_failed');
        await jm.forceFlush();
      } finally {
        await jm.shutdown();
      }
      assert.ok(received.length >= 1);
      const { request, result } = received[0]!;
      assert.equal(result.rejectedDataPoints, 0, result.errorMessage);
      assert.equal(result.errorMessage, '');

      const [rm] = request.resourceMetrics;
      assert.equal(rm!.resource['service.name'], 'jobmeter');
      const byName = new Map(
        rm!.scopeMetrics.flatMap((sm) =>
          sm.metrics.map((m) => [m.name, { scope: sm.scope, metric: m }] as const),
        ),
      );
      for (const { scope } of byName.values())
        assert.deepEqual(scope, { name: 'jobmeter', version: VERSION });

      /** `attributes as JSON → value` of a sum or gauge. */
      const values = (name: string) => {
        const m = byName.get(name)?.metric;
        assert.ok(
          m !== undefined && (m.data.type === 'sum' || m.data.type === 'gauge'),
          `${name} pushed as a sum or gauge`,
        );
        return Object.fromEntries(
          m.data.points.map((p) => [
            JSON.stringify(p.attributes, Object.keys(p.attributes).sort()),
            p.value,
          ]),
        );
      };
      const key = (a: Record<string, string>) => JSON.stringify(a, Object.keys(a).sort());
      const backup = { task: 'backup', kind: 'task', runner: 'subprocess' };
      const lint = { task: 'lint', kind: 'check', runner: 'container' };
      assert.deepEqual(values('jobmeter.run.started'), { [key(backup)]: 2, [key(lint)]: 1 });
      assert.deepEqual(values('jobmeter.run.finished'), {
        [key({ ...backup, outcome: 'success' })]: 1,
        [key({ ...backup, outcome: 'failure' })]: 1,
        [key({ ...lint, outcome: 'success' })]: 1,
      });
      assert.deepEqual(values('jobmeter.request.rejected'), {
        [key({ reason: 'concurrency' })]: 2,
      });
      assert.deepEqual(values('jobmeter.runner.error'), {
        [key({ runner: 'subprocess', error: 'spawn_failed' })]: 1,
      });
      assert.deepEqual(values('jobmeter.build.info'), {
        [key({ version: '2.3.4', commit: 'abc123', 'runtime.version': process.version })]: 1,
      });
      const started = byName.get('jobmeter.run.started')!.metric;
      assert.ok(
        started.data.type === 'sum' &&
          started.data.monotonic &&
          started.data.temporality === 'cumulative',
      );
      assert.equal(started.unit, '{run}');

      const duration = byName.get('jobmeter.run.duration')?.metric;
      assert.ok(duration?.data.type === 'histogram' && duration.data.temporality === 'cumulative');
      assert.equal(duration.unit, 's');
      const buckets = (...values: number[]) =>
        DEFAULT_RUN_DURATION_BUCKETS.map(
          (b, i) =>
            values.filter((v) => v <= b && (i === 0 || v > DEFAULT_RUN_DURATION_BUCKETS[i - 1]!))
              .length,
        ).concat(values.filter((v) => v > DEFAULT_RUN_DURATION_BUCKETS.at(-1)!).length);
      const histograms = Object.fromEntries(
        duration.data.points.map((p) => [
          JSON.stringify(p.attributes, Object.keys(p.attributes).sort()),
          {
            count: p.count,
            sum: p.sum,
            bucketCounts: p.bucketCounts,
            explicitBounds: p.explicitBounds,
          },
        ]),
      );
      assert.deepEqual(histograms, {
        [key({ ...backup, outcome: 'success' })]: {
          count: 1,
          sum: 0.25,
          bucketCounts: buckets(0.25),
          explicitBounds: [...DEFAULT_RUN_DURATION_BUCKETS],
        },
        [key({ ...backup, outcome: 'failure' })]: {
          count: 1,
          sum: 42,
          bucketCounts: buckets(42),
          explicitBounds: [...DEFAULT_RUN_DURATION_BUCKETS],
        },
        [key({ ...lint, outcome: 'success' })]: {
          count: 1,
          sum: 2,
          bucketCounts: buckets(2),
          explicitBounds: [...DEFAULT_RUN_DURATION_BUCKETS],
        },
      });
      const lastFailure = values('jobmeter.run.last_failure.time');
      assert.equal(Object.keys(lastFailure).length, 1);
      assert.ok(Object.values(lastFailure)[0]! > 1_600_000_000, 'a Unix time in seconds');
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Refusals keep what was accepted.

describe('a refused request loses nothing accepted before it', () => {
  it('400, 413, 415 and a type conflict leave the held series as they were', async () => {
    reset();
    const exporter = new ProtobufExporter({ url });
    await new Promise<void>((resolve) => exporter.export(EXPORTED, () => resolve()));
    await exporter.shutdown();
    const held = async () => ({
      sums: Object.fromEntries(
        await Promise.all(
          [
            'jobs.done',
            'jobs.active',
            'queue.depth',
            'cpu.seconds',
            'temperature',
            'connections',
          ].map(async (n) => [n, await values(store, n)] as const),
        ),
      ),
      histogram: await histograms(store, 'jobs.duration'),
    });
    const before = await held();
    assert.equal(Object.keys(before.sums['jobs.done']!).length, 2);

    const { request: type } = otlpMetricsSchema();
    const conflict = Buffer.from(
      type
        .encode(
          type.fromObject({
            resourceMetrics: [
              {
                scopeMetrics: [
                  {
                    scope: { name: 'daemon', version: '1.4.2' },
                    // jobs.done is held as a monotonic sum: a gauge under that name is refused.
                    metrics: [
                      {
                        name: 'jobs.done',
                        gauge: {
                          dataPoints: [
                            {
                              asDouble: 1e9,
                              timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                            },
                          ],
                        },
                      },
                    ],
                  },
                ],
              },
            ],
          }),
        )
        .finish(),
    );
    const post = async (body: Uint8Array | string, headers: Record<string, string>) =>
      (await fetch(url, { method: 'POST', headers, body })).status;
    assert.equal(
      await post(Buffer.from([0x0a, 0xff, 0x01]), { 'content-type': 'application/x-protobuf' }),
      400,
      'a body that does not decode',
    );
    assert.equal(
      await post('{"resourceMetrics": [', { 'content-type': 'application/json' }),
      400,
      'JSON that does not parse',
    );
    assert.equal(
      await post(Buffer.from('not gzip'), {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'gzip',
      }),
      400,
      'a corrupt gzip body',
    );
    assert.equal(
      await post(gzipSync(Buffer.alloc(128 * 1024)), {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'gzip',
      }),
      413,
      'too large once inflated',
    );
    assert.equal(await post('x', { 'content-type': 'text/plain' }), 415);
    assert.equal(
      await post(conflict, { 'content-type': 'application/x-protobuf' }),
      200,
      'a type conflict is a partial success',
    );
    assert.equal(received.at(-1)!.result.rejectedDataPoints, 1);

    assert.deepEqual(await held(), before, 'the store holds exactly what it held');
  });
});
