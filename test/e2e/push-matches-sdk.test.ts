/**
 * jobmeter's OTLP push held to the official one: a plain SDK `MeterProvider` with a
 * `PeriodicExportingMetricReader` and `@opentelemetry/exporter-metrics-otlp-proto`, recording the
 * same values on the same instruments, export for export. Through the real Collector (the release
 * pinned in test/peers/versions.env: its `otlp` receiver, its `otlp_http` exporter forwarding each
 * request to a receiver that decodes it), random record scripts under each temporality and both
 * protocols, the last export at shutdown right after records, declared observable instruments
 * whose series come and go, and the temporality preference read from the environment; straight to
 * a loopback receiver (the Collector is not needed to answer 503), an endpoint down at the start
 * and 503 or 429 with `Retry-After`.
 *
 * Each export's host scopes (name, version, schema URL), metrics (name, description, unit, type,
 * temporality, monotonicity) and points (attributes, values, buckets, min, max, no exemplars) are
 * the SDK's; its times follow the rules (every point at the export's time, later than the
 * previous export's; a cumulative series' start never moves; a delta point's start is the previous
 * export's time). The documented differences are left out of the comparison: jobmeter's
 * self-metrics (`jobmeter.*`), and a cumulative series' start, which is when jobmeter's storages
 * started where the SDK's is the series' first record (docs/host-apps.md, "How it records").
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as JsonExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { temporalityFromEnv } from '../../src/config/otel-env.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import type { OtlpProtocol } from '../../src/options.ts';
import { VERSION } from '../../src/version.ts';
import { JOBMETER_METER } from '../../src/views/host-views.ts';
import { startCollector, type CollectorHandle } from '../support/collector.ts';
import {
  otlpMetricsSchema,
  startOtlpReceiver,
  type OtlpJsonRequest,
  type OtlpReceiver,
} from '../support/otlp-receiver.ts';

const HOUR = 3_600_000;
const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.30.0';
const BOUNDARIES = [0.5, 1, 5];
type Temporality = 'cumulative' | 'delta';
const PREFERENCE = { cumulative: 'CUMULATIVE', delta: 'DELTA' } as const;

/** An attribute value of each type. */
type Value = string | number | boolean | string[];
/** One record: an instrument, its `q` attribute (none: no attributes), a value. */
type Record_ = readonly ['c' | 'u' | 'h' | 'g' | 'plain', Value | undefined, number];

/** The instruments of one side, made alike on the given provider. */
function instruments(provider: ApiMeterProvider) {
  const meter = provider.getMeter('host-app', '1.2.3', { schemaUrl: SCHEMA_URL });
  const made = {
    c: meter.createCounter('jobs.done', { unit: '{job}', description: 'Jobs done.' }),
    u: meter.createUpDownCounter('jobs.waiting', { unit: '{job}', description: 'Waiting.' }),
    h: meter.createHistogram('job.wait', {
      unit: 's',
      description: 'Wait.',
      advice: { explicitBucketBoundaries: BOUNDARIES },
    }),
    g: meter.createGauge('pool.size', { unit: '{worker}', description: 'Pool size.' }),
    plain: provider.getMeter('plain').createCounter('plain.count'),
  };
  return ([name, q, value]: Record_): void => {
    const attributes = q === undefined ? {} : { q };
    if (name === 'h') made.h.record(value, attributes);
    else if (name === 'g') made.g.record(value, attributes);
    else made[name].add(value, attributes);
  };
}

interface Sides {
  readonly jm: { forceFlush(): Promise<void>; shutdown(): Promise<void> };
  readonly sdk: MeterProvider;
  readonly record: (r: Record_) => void;
}

/**
 * jobmeter and the plain SDK pushing to `urls` with `temporality` (undefined: each reads
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, jobmeter through its env reader), each
 * under its own service name; every export has a point (`jobs.waiting`, cumulative whatever the
 * preference, is recorded first), so the exports of both sides line up one for one.
 */
async function sides(
  urls: { readonly jm: string; readonly sdk: string },
  run: string,
  temporality: Temporality | undefined,
  {
    timeoutMillis = 5_000,
    protocol = 'http/protobuf',
  }: { timeoutMillis?: number; protocol?: OtlpProtocol } = {},
): Promise<Sides> {
  const sdk = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': `sdk-${run}` }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new (protocol === 'http/json' ? JsonExporter : ProtobufExporter)({
          url: urls.sdk,
          timeoutMillis,
          ...(temporality !== undefined && {
            temporalityPreference: AggregationTemporalityPreference[PREFERENCE[temporality]],
          }),
        }),
        exportIntervalMillis: HOUR,
        exportTimeoutMillis: timeoutMillis,
      }),
    ],
  });
  const jm = await createJobmeter({
    serviceName: `jm-${run}`,
    listener: false,
    processMetrics: false,
    global: false,
    log: () => {},
    otlp: {
      endpoint: urls.jm,
      protocol,
      intervalMillis: HOUR,
      timeoutMillis,
      temporality: temporality ?? temporalityFromEnv(process.env) ?? 'cumulative',
    },
  });
  const both = [instruments(jm.meterProvider), instruments(sdk)];
  const record = (r: Record_): void => both.forEach((side) => side(r));
  record(['u', undefined, 1]);
  return { jm, sdk, record };
}

/**
 * Runs `windows` of records: an export after each, the last one the shutdown's; `before(i)` runs
 * before window `i`'s records.
 */
async function play(
  { jm, sdk, record }: Sides,
  windows: readonly (readonly Record_[])[],
  before?: (i: number) => Promise<void> | void,
) {
  for (const [i, records] of windows.entries()) {
    await before?.(i);
    records.forEach(record);
    // A failed export rejects a flush (the SDK's) or not (jobmeter's): what arrived is compared.
    if (i < windows.length - 1) await Promise.allSettled([jm.forceFlush(), sdk.forceFlush()]);
  }
  await Promise.all([jm.shutdown(), sdk.shutdown()]);
}

type Json = { [key: string]: unknown };
const attributesOf = (list: unknown): Json =>
  Object.fromEntries(
    ((list ?? []) as { key: string; value?: Json }[]).map(({ key, value }) => [
      key,
      Object.values(value ?? {})[0],
    ]),
  );
const num = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v));

/** One export as compared: its host scopes' metrics and points, and its points' times apart. */
interface Export {
  readonly resource: Json;
  readonly scopes: Json[];
  /** `metric{attributes}` → [start, time, temporality] of each point, times in ns as bigint. */
  readonly times: Map<string, [bigint, bigint, number | undefined]>;
}

/** `body` as compared (see the file comment): jobmeter's self-metrics left out, times apart. */
function exportOf(body: OtlpJsonRequest): Export {
  const times = new Map<string, [bigint, bigint, number | undefined]>();
  const [rm] = body.resourceMetrics ?? [];
  const { 'service.name': _, ...resource } = attributesOf(rm?.resource?.attributes);
  const scopes = (rm?.scopeMetrics ?? [])
    .map((sm) => ({
      ...sm,
      metrics: (sm.metrics ?? []).filter((m) => m.name?.startsWith('jobmeter.') !== true),
    }))
    .filter((sm) => sm.metrics.length > 0)
    .map((sm) => ({
      name: sm.scope?.name,
      version: sm.scope?.version ?? '',
      schemaUrl: (sm as { schemaUrl?: string }).schemaUrl ?? '',
      metrics: sm.metrics.map((m) => {
        const [kind, data] = Object.entries(m).find(([k]) =>
          ['sum', 'gauge', 'histogram', 'exponentialHistogram'].includes(k),
        ) as [string, Json & { dataPoints?: Json[] }];
        const temporality = num(data.aggregationTemporality);
        const points = (data.dataPoints ?? []).map((p) => {
          const attributes = attributesOf(p.attributes);
          const key = `${m.name}${JSON.stringify(attributes)}`;
          times.set(key, [
            BigInt(p.startTimeUnixNano as string),
            BigInt(p.timeUnixNano as string),
            temporality,
          ]);
          return {
            attributes,
            value: num(p.asDouble ?? p.asInt),
            count: num(p.count),
            sum: num(p.sum),
            min: num(p.min),
            max: num(p.max),
            buckets: (p.bucketCounts as unknown[] | undefined)?.map(Number),
            bounds: (p.explicitBounds as unknown[] | undefined)?.map(Number),
            exemplars: (p.exemplars as unknown[] | undefined)?.length ?? 0,
          };
        });
        points.sort((a, b) =>
          JSON.stringify(a.attributes) < JSON.stringify(b.attributes) ? -1 : 1,
        );
        return {
          name: m.name,
          description: m.description ?? '',
          unit: m.unit ?? '',
          kind,
          temporality,
          // proto3: false and absent are one value on the wire.
          monotonic: data.isMonotonic === true,
          points,
        };
      }),
    }));
  return { resource, scopes, times };
}

/**
 * The exports of both sides compared one for one (see the file comment); `what` names the run.
 * `after`: the indexes of exports a failed one came before (a delta window starts at that one's
 * time, which no receiver saw).
 */
function assertSameExports(
  jm: Export[],
  sdk: Export[],
  what: string,
  after: ReadonlySet<number> = new Set(),
): void {
  assert.equal(jm.length, sdk.length, `${what}: exports`);
  const started = new Map<string, bigint>();
  let previous: bigint | undefined;
  for (const [i, e] of jm.entries()) {
    const at = `${what}, export ${i}`;
    assert.deepEqual(e.resource, sdk[i]!.resource, `${at}: resource`);
    assert.deepEqual(e.scopes, sdk[i]!.scopes, `${at}: scopes, metrics and points`);
    const ends = new Set([...e.times.values()].map(([, end]) => end));
    assert.equal(ends.size, 1, `${at}: one time for every point`);
    const [end] = ends;
    if (previous !== undefined) assert.ok(end! > previous, `${at}: a time after the previous one`);
    for (const [series, [start, time, temporality]] of e.times) {
      assert.ok(start <= time, `${at}: ${series} starts after its time`);
      if (temporality === 2) {
        assert.equal(start, started.get(series) ?? start, `${at}: ${series}'s start moved`);
        started.set(series, start);
      } else if (temporality === 1 && previous !== undefined && !after.has(i)) {
        assert.equal(start, previous, `${at}: ${series}'s window starts at the previous export`);
      }
    }
    previous = end;
  }
}

/**
 * Values exact in binary (quarters), so sums do not depend on the order they are added in: the SDK
 * adds a window's records, then the windows; jobmeter's storages add each record to the total and
 * take a delta as a difference of totals, which rounds otherwise (0.4 + 0.2 less 0.2).
 */
const value = (min: number) => fc.integer({ min: min * 4, max: 40 }).map((n) => n / 4);
// Attribute values of every type, the empty string included.
const q = fc.constantFrom<Value | undefined>(undefined, 'a', 'b', '', 1, 2.5, true, ['x', 'y']);
const record: fc.Arbitrary<Record_> = fc.oneof(
  // A counter's or histogram's negative value is refused by both (jobmeter counts it apart).
  fc.tuple(fc.constant('c' as const), q, value(-2)),
  fc.tuple(fc.constant('u' as const), q, value(-10)),
  fc.tuple(fc.constant('h' as const), q, value(-2)),
  fc.tuple(fc.constant('g' as const), q, value(-10)),
  fc.tuple(fc.constant('plain' as const), fc.constant(undefined), value(0)),
);
const windows = fc.array(fc.array(record, { maxLength: 6 }), { minLength: 1, maxLength: 4 });

describe("through the real Collector: jobmeter's push is the SDK's, export for export", () => {
  let collector: CollectorHandle<'otlp'>;
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
    collector = await startCollector({
      ports: ['otlp'],
      config: (p) => ({
        receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
        exporters: {
          // No queue: the Collector answers a push once it is forwarded, in the order received.
          otlp_http: {
            metrics_endpoint: receiver.url,
            retry_on_failure: { enabled: false },
            sending_queue: { enabled: false },
          },
        },
        service: { pipelines: { metrics: { receivers: ['otlp'], exporters: ['otlp_http'] } } },
      }),
    });
  });
  after(async () => {
    await collector?.stop();
    await receiver?.close();
  });

  let runs = 0;
  async function compare(
    temporality: Temporality | undefined,
    script: Record_[][],
    what: string,
    protocol?: OtlpProtocol,
  ) {
    const run = String(runs++);
    const url = `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`;
    await play(await sides({ jm: url, sdk: url }, run, temporality, { protocol }), script);
    const of = (service: string) =>
      receiver.requests
        .filter((r) => r.resource['service.name'] === service)
        .map((r) => exportOf(r.body));
    assert.deepEqual(receiver.errors, []);
    assert.equal(of(`jm-${run}`).length, script.length, `${what}: one export a window`);
    assertSameExports(of(`jm-${run}`), of(`sdk-${run}`), `${what} ${JSON.stringify(script)}`);
  }

  for (const temporality of ['cumulative', 'delta'] as const)
    for (const protocol of ['http/protobuf', 'http/json'] as const)
      it(`${temporality}, ${protocol}: random record scripts, the last window exported at shutdown`, async () => {
        await fc.assert(
          fc.asyncProperty(windows, (script) =>
            compare(temporality, script, `${temporality} ${protocol}`, protocol),
          ),
          { numRuns: 25 },
        );
      });

  for (const temporality of ['cumulative', 'delta'] as const)
    it(`${temporality}: declared observable instruments, series observed, not observed, back`, async () => {
      const run = String(runs++);
      const windows: Record<string, number>[] = [
        { a: 5 },
        { a: 5, b: 2 },
        { b: 3 },
        {},
        { a: 9, b: 3 },
      ];
      await observedSides(
        `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
        run,
        temporality,
        windows,
      );
      const of = (service: string) =>
        receiver.requests
          .filter((r) => r.resource['service.name'] === service)
          .map((r) => exportOf(r.body));
      assert.equal(of(`jm-${run}`).length, windows.length);
      assertSameExports(of(`jm-${run}`), of(`sdk-${run}`), temporality);
    });

  // lowmemory keeps synchronous gauges (and up-down counters, observable counters) cumulative, as
  // the SDK's exporter selects them: a gauge set once is in every export.
  for (const preference of ['cumulative', 'delta', 'lowmemory']) {
    it(`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=${preference}, read by both`, async () => {
      process.env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE = preference;
      try {
        await compare(
          undefined,
          [
            [
              ['c', 'a', 2],
              ['g', 'a', 5],
              ['h', 'a', 0.75],
              ['u', 'b', -3],
            ],
            [],
            [
              ['c', 'a', 1],
              ['c', 'b', 4],
              ['h', 'a', 7],
              ['h', 'a', 0.25],
            ],
            [['plain', undefined, 1]],
          ],
          preference,
        );
      } finally {
        delete process.env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE;
      }
    });
  }
});

/** The observable kinds a host declares (`instruments`, observed with `jm.observe`). */
const OBSERVED = ['observableCounter', 'observableUpDownCounter', 'observableGauge'] as const;
const CREATE = {
  observableCounter: 'createObservableCounter',
  observableUpDownCounter: 'createObservableUpDownCounter',
  observableGauge: 'createObservableGauge',
} as const;

/**
 * jobmeter's declared observable instruments (read from its storages) and the SDK's, on the meter
 * jobmeter names its own, observing `windows[i]` (`q` → value) at export `i`.
 */
async function observedSides(
  url: string,
  run: string,
  temporality: Temporality,
  windows: readonly Readonly<Record<string, number>>[],
): Promise<void> {
  let at = 0;
  const observations = () =>
    Object.entries(windows[at] ?? {}).map(([q, value]) => ({ value, attributes: { q } }));
  const sdk = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': `sdk-${run}` }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new ProtobufExporter({
          url,
          temporalityPreference: AggregationTemporalityPreference[PREFERENCE[temporality]],
        }),
        exportIntervalMillis: HOUR,
      }),
    ],
  });
  const jm = await createJobmeter({
    serviceName: `jm-${run}`,
    listener: false,
    processMetrics: false,
    global: false,
    instruments: OBSERVED.map((kind) => ({
      name: `stored.${kind}`,
      kind,
      unit: '{job}',
      description: `A host's ${kind}.`,
      attributes: [{ key: 'q', cap: 10 }],
    })),
    otlp: { endpoint: url, intervalMillis: HOUR, temporality },
  });
  const meter = sdk.getMeter(JOBMETER_METER, VERSION);
  for (const kind of OBSERVED) {
    jm.observe(`stored.${kind}`, observations);
    meter[CREATE[kind]](`stored.${kind}`, {
      unit: '{job}',
      description: `A host's ${kind}.`,
    }).addCallback((result) =>
      observations().forEach((o) => result.observe(o.value, o.attributes)),
    );
  }
  for (at = 0; at < windows.length - 1; at++)
    await Promise.all([jm.forceFlush(), sdk.forceFlush()]);
  await Promise.all([jm.shutdown(), sdk.shutdown()]);
}

/**
 * A loopback OTLP/HTTP receiver answering each request as `answer` says (200 unless told), down
 * (its port closed: connections refused) until `start()`.
 */
async function startFlaky() {
  const { request, response } = otlpMetricsSchema();
  const got: { status: number; body: OtlpJsonRequest }[] = [];
  const flaky = {
    url: '',
    got,
    answer: (_i: number): { status: number; headers?: Record<string, string> } => ({ status: 200 }),
    start: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = request.toObject(request.decode(Buffer.concat(chunks)), {
        longs: String,
        enums: Number,
        bytes: String,
      }) as OtlpJsonRequest;
      const { status, headers } = flaky.answer(got.length);
      got.push({ status, body });
      const answer = status === 200 ? response.encode(response.create({})).finish() : '';
      res.writeHead(status, { 'content-type': 'application/x-protobuf', ...headers });
      res.end(answer);
    });
  });
  let port = 0;
  await flaky.start();
  port = (server.address() as AddressInfo).port;
  flaky.url = `http://127.0.0.1:${port}/v1/metrics`;
  await flaky.stop();
  return flaky;
}

describe("through outages: what is delivered is the SDK's, export for export", () => {
  const script: Record_[][] = [
    [
      ['c', 'a', 1],
      ['h', 'a', 3],
      ['g', 'a', 5],
    ],
    [
      ['c', 'a', 2],
      ['h', 'a', 1],
    ],
    [
      ['c', 'a', 4],
      ['c', 'b', 4],
    ],
    [
      ['c', 'a', 8],
      ['h', 'a', 10],
    ],
  ];
  for (const temporality of ['cumulative', 'delta'] as const) {
    for (const status of [503, 429]) {
      it(`${temporality}: down at the start, then ${status} with Retry-After before a 200`, async () => {
        const receivers = await Promise.all([startFlaky(), startFlaky()]);
        const [jm, sdk] = receivers;
        try {
          const pair = await sides({ jm: jm.url, sdk: sdk.url }, 'outage', temporality, {
            timeoutMillis: 2_000,
          });
          // Down for the first export (refused until the exporter's 2 s are out), then up; the
          // third export's first try is answered `status` with Retry-After: 1, its retry 200.
          await play(pair, script, async (i) => {
            if (i === 1) await Promise.all(receivers.map((r) => r.start()));
            if (i === 2)
              for (const r of receivers) {
                const first = r.got.length;
                r.answer = (n) =>
                  n === first ? { status, headers: { 'retry-after': '1' } } : { status: 200 };
              }
          });
          for (const r of receivers)
            assert.deepEqual(
              r.got.map((g) => g.status),
              [200, status, 200, 200],
            );
          const delivered = (r: typeof jm) =>
            r.got.filter((g) => g.status === 200).map((g) => exportOf(g.body));
          assertSameExports(delivered(jm), delivered(sdk), temporality, new Set([0]));
        } finally {
          await Promise.all(receivers.map((r) => r.stop()));
        }
      });
    }
  }
});
