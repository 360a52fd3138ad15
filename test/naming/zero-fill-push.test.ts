/**
 * A legacy table's zero fills in jobmeter's canonical push (src/naming/zero-fill-push.ts): the
 * 0-valued canonical points it adds are, through the profile's own naming, exactly the series the
 * pull endpoint fills in for every legacy profile; jobmeter's real push carries them (and only with
 * canonical names under a legacy profile), a recorded series replaces its zero, a counter's zero
 * never comes back once replaced, and delta temporality gets no 0 deltas.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ValueType } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { DOMAIN_INSTRUMENTS } from '../../src/domain/catalog.ts';
import type { Family } from '../../src/exposition/types.ts';
import { withProfileBuckets } from '../../src/jobmeter-views.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { LEGACY_PROFILES } from '../../src/naming/profiles/index.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import type { TableProfile } from '../../src/naming/types.ts';
import { createPushZeroFill } from '../../src/naming/zero-fill-push.ts';
import type { JobmeterOptions } from '../../src/options.ts';
import {
  startOtlpReceiver,
  type DecodedExport,
  type OtlpReceiver,
} from '../support/otlp-receiver.ts';
import { runHistory } from '../support/run-history.ts';

const SCOPE = { name: 'jobmeter', version: '0.0.0-test' };
const EMPTY: ResourceMetrics = {
  resource: resourceFromAttributes({ 'service.name': 'zero-test' }),
  scopeMetrics: [],
};

/** Every series of `families` as `name{labels} value` (a histogram's count and sum), sorted. */
function seriesOf(families: readonly Family[]): string[] {
  return families
    .flatMap((f) =>
      f.type === 'histogram'
        ? f.series.map((s) => `${f.name}{${s.labels}} count=${s.count} sum=${s.sum}`)
        : f.series.map((s) => `${f.name}{${s.labels}} ${s.value}`),
    )
    .sort();
}

/** The table without its zero fills: what it names is only what it is given. */
const withoutZeroFill = (profile: TableProfile): TableProfile => ({
  ...profile,
  rules: profile.rules.map(({ zeroFill: _z, emitZero: _e, ...rule }) => rule),
});

describe('the canonical zero points, named by the profile, are the pull endpoint zero fills', () => {
  for (const [name, profile] of Object.entries(LEGACY_PROFILES)) {
    it(name, () => {
      const zeros = createPushZeroFill(profile, {
        specs: withProfileBuckets(DOMAIN_INSTRUMENTS, profile.buckets ?? {}),
        scope: SCOPE,
      });
      const pushed = zeros(EMPTY);
      const pulled = seriesOf(createNamer(profile, { hostname: 'h' }).toFamilies(EMPTY));
      assert.deepEqual(
        seriesOf(createNamer(withoutZeroFill(profile), { hostname: 'h' }).toFamilies(pushed)),
        pulled,
      );
      // Not vacuous where the table fills anything; nothing added where it fills nothing.
      const fills = profile.rules.some((r) => r.emitZero === true || r.zeroFill !== undefined);
      assert.equal(pulled.length > 0, fills);
      assert.equal(pushed === EMPTY, !fills);
    });
  }
});

describe('zero points in a collection', () => {
  const zeros = createPushZeroFill(LEGACY_PROFILES.runwisp, {
    specs: DOMAIN_INSTRUMENTS,
    scope: SCOPE,
  });
  const history = (points: [outcome: string, value: number][]): ResourceMetrics =>
    runHistory(
      EMPTY.resource,
      SCOPE,
      points.map(([outcome, value]) => [{ outcome }, value]),
    );
  const served = (rm: ResourceMetrics): string[] =>
    rm.scopeMetrics
      .flatMap((sm) =>
        sm.metrics.flatMap((m) =>
          m.dataPoints.map((p) => `${JSON.stringify(p.attributes)}=${String(p.value)}`),
        ),
      )
      .sort();

  it("a point the Collector's vocabulary filter drops replaces no zero (a host's producer may send one)", () => {
    const fresh = createPushZeroFill(LEGACY_PROFILES.runwisp, {
      specs: DOMAIN_INSTRUMENTS,
      scope: SCOPE,
    });
    const outside = history([['success', 3]]);
    const point = outside.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!;
    Object.assign(point, { attributes: { outcome: 'success', kind: 'bogus' } });
    const zeros = served(fresh(outside)).filter((p) => p.endsWith('=0'));
    assert.ok(zeros.includes('{"outcome":"success"}=0'), zeros.join('\n'));
    // Inside the vocabulary the same point replaces it.
    const inside = history([['success', 3]]);
    assert.ok(!served(fresh(inside)).includes('{"outcome":"success"}=0'));
  });

  it('a gauge zero comes back when its word is no longer observed (a level, as the pull serves it)', () => {
    const rm = createPushZeroFill(LEGACY_PROFILES.rm, {
      specs: DOMAIN_INSTRUMENTS,
      scope: SCOPE,
    });
    const alerts = (severities: string[]): ResourceMetrics => ({
      resource: EMPTY.resource,
      scopeMetrics: [
        {
          scope: SCOPE,
          metrics: [
            {
              descriptor: {
                name: 'jobmeter.alert.open',
                description: '',
                unit: '{alert}',
                valueType: ValueType.INT,
              },
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.GAUGE,
              dataPoints: severities.map((severity) => ({
                startTime: [0, 0],
                endTime: [1, 0],
                attributes: { severity },
                value: 1,
              })),
            },
          ],
        },
      ],
    });
    const open = (r: ResourceMetrics): string[] => served(r).filter((p) => p.includes('severity'));
    assert.deepEqual(open(rm(alerts(['info']))), [
      '{"severity":"critical"}=0',
      '{"severity":"info"}=1',
      '{"severity":"warning"}=0',
    ]);
    assert.deepEqual(open(rm(alerts([]))), [
      '{"severity":"critical"}=0',
      '{"severity":"info"}=0',
      '{"severity":"warning"}=0',
    ]);
  });

  it("a zero joins the instrument's metric as the collection shapes it (an exponential histogram's zero is one)", () => {
    const wasmrun = createPushZeroFill(LEGACY_PROFILES.wasmrun, {
      specs: DOMAIN_INSTRUMENTS,
      scope: SCOPE,
    });
    const rm: ResourceMetrics = {
      resource: EMPTY.resource,
      scopeMetrics: [
        {
          scope: { name: 'a-sender' },
          metrics: [
            {
              descriptor: {
                name: 'jobmeter.run.duration',
                description: '',
                unit: 's',
                valueType: ValueType.DOUBLE,
              },
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
              dataPoints: [],
            },
          ],
        },
      ],
    };
    const out = wasmrun(rm);
    const duration = out.scopeMetrics.flatMap((sm) =>
      sm.metrics
        .filter((m) => m.descriptor.name === 'jobmeter.run.duration')
        .map((m) => [sm.scope.name, m] as const),
    );
    assert.equal(duration.length, 1);
    const [scope, metric] = duration[0]!;
    assert.equal(scope, 'a-sender');
    assert.equal(metric.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
    assert.deepEqual(
      metric.dataPoints.map((p) => [p.attributes, (p.value as { count: number }).count]),
      [[{}, 0]],
    );
    // The collection given is left as it was.
    assert.equal(rm.scopeMetrics[0]!.metrics[0]!.dataPoints.length, 0);
  });

  it('a counter zero, once a recorded point took its place, is not sent again when that point goes (no reset to 0)', () => {
    assert.deepEqual(served(zeros(history([]))), [
      '{"outcome":"failure"}=0',
      '{"outcome":"success"}=0',
    ]);
    // runwisp writes `cancelled` as `failed`, as it writes `failure`: the recorded point replaces that zero.
    assert.deepEqual(served(zeros(history([['cancelled', 3]]))), [
      '{"outcome":"cancelled"}=3',
      '{"outcome":"success"}=0',
    ]);
    // The sender's series went away (an expired ingested sender): its zero stays retired.
    assert.deepEqual(served(zeros(history([]))), ['{"outcome":"success"}=0']);
  });
});

describe("jobmeter's push", () => {
  let receiver: OtlpReceiver;
  const started: Jobmeter[] = [];
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => {
    await receiver.close();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((jm) => jm.shutdown()));
    assert.deepEqual(receiver.errors, []);
    receiver.requests.length = 0;
  });

  async function pusher(options: JobmeterOptions): Promise<Jobmeter> {
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      global: false,
      hostname: 'h',
      ...options,
      otlp: {
        endpoint: receiver.url,
        protocol: 'http/json',
        intervalMillis: 3_600_000,
        naming: 'canonical',
        ...options.otlp,
      },
    });
    started.push(jm);
    return jm;
  }

  async function push(jm: Jobmeter): Promise<DecodedExport> {
    const before = receiver.requests.length;
    await jm.forceFlush();
    await receiver.waitForRequests(before + 1, 10_000);
    return receiver.requests.at(-1)!;
  }

  /** `instrument`'s points as `attributes → value`. */
  const points = (request: DecodedExport, instrument: string): Map<string, number | undefined> =>
    new Map(
      request.metrics
        .filter((m) => m.name === instrument)
        .flatMap((m) =>
          m.points.map((p) => [JSON.stringify(p.attributes), p.value ?? p.count] as const),
        ),
    );

  it('carries the zero-filled words as canonical points, each replaced by what is recorded for it', async () => {
    const jm = await pusher({ profile: 'wasmrun' });
    const first = await push(jm);
    assert.deepEqual(
      points(first, 'jobmeter.request.rejected'),
      new Map([
        ['{"reason":"concurrency"}', 0],
        ['{"reason":"payload"}', 0],
        ['{"reason":"unauthorized"}', 0],
      ]),
    );
    // wasmrun's `error` is written for `failure` (and `cancelled`): its zero is the first.
    assert.deepEqual(
      points(first, 'jobmeter.run.finished'),
      new Map([
        ['{"outcome":"success"}', 0],
        ['{"outcome":"failure"}', 0],
        ['{"outcome":"timeout"}', 0],
      ]),
    );
    const sum = first.metrics.find((m) => m.name === 'jobmeter.request.rejected')!;
    assert.equal(sum.kind, 'sum');
    assert.equal(sum.monotonic, true);
    assert.equal(sum.temporality, 'cumulative');
    // The duration histogram's zero (wasmrun serves its sum and count), at the catalog's buckets.
    const duration = first.metrics.find((m) => m.name === 'jobmeter.run.duration')!;
    assert.deepEqual(
      duration.points.map((p) => [p.count, p.sum, p.bucketCounts?.every((c) => c === 0)]),
      [[0, 0, true]],
    );

    jm.reject('payload');
    jm.recordRun({ task: 'exec', runner: 'wasm', outcome: 'cancelled', durationSeconds: 1 });
    const second = await push(jm);
    assert.deepEqual(
      points(second, 'jobmeter.request.rejected'),
      new Map([
        ['{"reason":"payload"}', 1],
        ['{"reason":"concurrency"}', 0],
        ['{"reason":"unauthorized"}', 0],
      ]),
    );
    // A cancelled run is written `error`, as `failure` is: no zero for failure beside it.
    const finished = points(second, 'jobmeter.run.finished');
    assert.equal(finished.has('{"outcome":"failure"}'), false, JSON.stringify([...finished]));
    assert.equal(finished.get('{"outcome":"success"}'), 0);
    assert.equal(
      second.metrics.filter((m) => m.name === 'jobmeter.run.duration').flatMap((m) => m.points)
        .length,
      1,
    );
  });

  it("a gauge's words: zeros beside what the host reports, replaced as it reports them", async () => {
    const jm = await pusher({ profile: 'rm' });
    let alerts: Record<string, number> = { critical: 2 };
    jm.setSnapshotSource(() => ({ alerts }));
    assert.deepEqual(
      points(await push(jm), 'jobmeter.alert.open'),
      new Map([
        ['{"severity":"critical"}', 2],
        ['{"severity":"info"}', 0],
        ['{"severity":"warning"}', 0],
      ]),
    );
    alerts = { critical: 2, warning: 1 };
    assert.deepEqual(
      points(await push(jm), 'jobmeter.alert.open'),
      new Map([
        ['{"severity":"critical"}', 2],
        ['{"severity":"warning"}', 1],
        ['{"severity":"info"}', 0],
      ]),
    );
  });

  it('delta: no 0 deltas for counters or histograms; gauges and up-down sums keep their zeros', async () => {
    const jm = await pusher({
      profile: 'wasmrun',
      otlp: { endpoint: receiver.url, temporality: 'delta' },
    });
    for (let i = 0; i < 2; i++) {
      const request = await push(jm);
      assert.equal(points(request, 'jobmeter.request.rejected').size, 0);
      assert.equal(points(request, 'jobmeter.run.duration').size, 0);
      assert.deepEqual(points(request, 'jobmeter.session.active'), new Map([['{}', 0]]));
      const active = request.metrics.find((m) => m.name === 'jobmeter.run.active')!;
      assert.equal(active.temporality, 'cumulative');
      assert.deepEqual(
        active.points.map((p) => p.value),
        [0],
      );
    }
  });

  it("delta: a synchronous gauge's level is no 0 in a window it was not recorded in (the SDK exports none, the level holds)", async () => {
    const jm = await pusher({
      profile: {
        name: 'solti',
        rules: [
          {
            instrument: 'workers',
            name: 'solti_workers',
            type: 'gauge',
            help: 'Workers by state',
            labels: [['state', 'state']],
            zeroFill: { state: ['idle', 'busy'] },
          },
        ],
      },
      otlp: { endpoint: receiver.url, temporality: 'delta' },
    });
    const workers = jm.meter.createGauge('workers');
    workers.record(3, { state: 'busy' });
    assert.deepEqual(
      points(await push(jm), 'workers'),
      new Map([
        ['{"state":"busy"}', 3],
        ['{"state":"idle"}', 0],
      ]),
    );
    // Nothing recorded in this window: busy is still 3, so the push says nothing of it, as the SDK.
    assert.deepEqual(points(await push(jm), 'workers'), new Map([['{"state":"idle"}', 0]]));
  });

  it('only with canonical names under a legacy profile: not under otel, not in the profile-named push', async () => {
    const otel = await pusher({ profile: 'otel' });
    const native = await push(otel);
    assert.equal(
      native.metrics.some((m) =>
        m.points.some(
          (p) =>
            p.value === 0 &&
            (m.name === 'jobmeter.request.rejected' || m.name === 'jobmeter.alert.open'),
        ),
      ),
      false,
    );
    const named = await pusher({
      profile: 'rm',
      otlp: { endpoint: receiver.url, naming: 'profile' },
    });
    const request = await push(named);
    assert.equal(
      request.metrics.some((m) => m.name.startsWith('jobmeter.')),
      false,
    );
    assert.deepEqual(points(request, 'rm_active_alerts').size, 3);
  });

  it('outside every cap: the zero points are not records', async () => {
    const jm = await pusher({ profile: 'wasmrun' });
    // `reason` keeps its first 32 values (the catalog's cap): all 32 recorded ones are kept, the zeros beside them.
    const reasons = Array.from({ length: 32 }, (_, i) => `r${i}`);
    for (const reason of reasons) jm.reject(reason);
    const rejected = points(await push(jm), 'jobmeter.request.rejected');
    assert.deepEqual(
      [...rejected].filter(([, v]) => v === 1).map(([k]) => JSON.parse(k).reason),
      reasons,
    );
    assert.deepEqual(
      [...rejected].filter(([, v]) => v === 0).map(([k]) => JSON.parse(k).reason),
      ['concurrency', 'payload', 'unauthorized'],
    );
    jm.reject('one-too-many');
    assert.equal(points(await push(jm), 'jobmeter.request.rejected').get('{"reason":"other"}'), 1);
  });
});
