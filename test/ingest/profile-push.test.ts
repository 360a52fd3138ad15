/**
 * Profile-named OTLP (src/naming/family-builder.ts namedMetrics): for every profile, the metrics pushed
 * with `otlp.naming = 'profile'` are exactly the pull endpoint's series — same names, attributes
 * and values — so a Collector's prometheus exporter that adds no suffixes re-exposes the same
 * series. The request is encoded by the OTLP exporter's own serializer and decoded by jobmeter's
 * codec, as a receiver would.
 *
 * The push reader's `transform` hook, through which createJobmeter applies the conversion, is
 * tested on its own at the end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { runDemo } from '../../src/demo/scenarios.ts';
import type { Family } from '../../src/exposition/types.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import type { ProfileName } from '../../src/options.ts';
import { decodeExportRequest } from '../../src/otlp/codec.ts';
import { parseLabelPairs } from '../../src/exposition/escape.ts';
import { namedMetrics } from '../../src/naming/family-builder.ts';
import { resolveProfile } from '../../src/naming/profiles/index.ts';
import { RUN_ACTIVE } from '../../src/domain/catalog.ts';
import { millisToHrTime } from '../../src/common/otel-sdk.ts';
import type { OtlpExportRequest } from '../../src/otlp/types.ts';
import { createOtlpPushReader } from '../../src/readers/otlp-push.ts';
import { VERSION } from '../../src/version.ts';
import { startFlakyCollector, type FlakyCollector } from './flaky-collector.ts';
import { logTo } from '../../src/common/log.ts';

const PROFILES: readonly ProfileName[] = ['otel', 'runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'];
/** Prometheus' classic metric and label name syntax: names in it pass any translation unchanged. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A profile's demo scenario: the pull families, and the request pushed for them with profile naming. */
async function pushFor(
  profile: ProfileName,
): Promise<{ families: Family[]; request: OtlpExportRequest }> {
  const jm = await createJobmeter({
    profile,
    listener: false,
    processMetrics: false,
    hostname: 'host-1',
  });
  try {
    runDemo(jm, profile);
    const families = await jm.scrape();
    const now = millisToHrTime(Date.now());
    const rm = namedMetrics(
      families,
      resourceFromAttributes({ 'service.name': `${profile}-daemon` }),
      { name: 'jobmeter', version: VERSION },
      now,
      now,
    );
    const request = decodeExportRequest(
      ProtobufMetricsSerializer.serializeRequest(rm)!,
      'protobuf',
    );
    return { families: families.filter((f) => f.name !== 'target_info'), request };
  } finally {
    await jm.shutdown();
  }
}

interface Pushed {
  type: string;
  monotonic?: boolean;
  scope: string;
  points: Array<{
    attributes: Attributes;
    value?: number;
    count?: number;
    sum?: number;
    counts?: readonly number[];
    bounds?: readonly number[];
  }>;
}

function pushedByName(request: OtlpExportRequest): Map<string, Pushed> {
  const out = new Map<string, Pushed>();
  for (const rm of request.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        const d = m.data;
        const entry = out.get(m.name) ?? {
          type: d.type,
          scope: `${sm.scope.name} ${sm.scope.version}`,
          points: [],
        };
        if (d.type === 'sum') entry.monotonic = d.monotonic;
        if (d.type === 'sum' || d.type === 'gauge')
          for (const p of d.points)
            entry.points.push({ attributes: p.attributes, value: p.value! });
        if (d.type === 'histogram') {
          for (const p of d.points)
            entry.points.push({
              attributes: p.attributes,
              count: p.count,
              sum: p.sum!,
              counts: p.bucketCounts,
              bounds: p.explicitBounds,
            });
        }
        out.set(m.name, entry);
      }
    }
  }
  return out;
}

/** The families a profile serves from jobmeter.run.active, the catalog's one up-down counter. */
function upDownFamilies(profile: ProfileName): Set<string> {
  const p = resolveProfile(profile, true);
  return new Set(
    p.kind === 'table'
      ? p.rules.filter((r) => r.instrument === RUN_ACTIVE.name).map((r) => r.name)
      : ['jobmeter_run_active'],
  );
}

const SCOPE_LABELS = new Set(['otel_scope_name', 'otel_scope_version', 'otel_scope_schema_url']);

/** A pull series' labels as attributes, the scope's left out (the push names the scope instead). */
function withoutScopeLabels(labels: string): Attributes {
  return Object.fromEntries(parseLabelPairs(labels).filter(([name]) => !SCOPE_LABELS.has(name)));
}

describe('profile-named push', () => {
  for (const name of PROFILES) {
    it(`${name}: every pushed metric is a pull series, same name, labels and value`, async () => {
      const { families, request } = await pushFor(name);
      const pushed = pushedByName(request);
      assert.deepEqual([...pushed.keys()].sort(), families.map((f) => f.name).sort());
      for (const family of families) {
        const p = pushed.get(family.name)!;
        assert.match(family.name, METRIC_NAME);
        // An up-down counter's family is a gauge on the pull and a non-monotonic sum pushed.
        const upDown = upDownFamilies(name).has(family.name);
        assert.equal(
          p.type,
          family.type === 'histogram'
            ? 'histogram'
            : family.type === 'counter' || upDown
              ? 'sum'
              : 'gauge',
          family.name,
        );
        if (p.type === 'sum') assert.equal(p.monotonic, !upDown, family.name);
        assert.equal(p.points.length, family.series.length, family.name);
        family.series.forEach((s, i) => {
          const point = p.points[i]!;
          assert.deepEqual(point.attributes, withoutScopeLabels(s.labels), family.name);
          for (const label of Object.keys(point.attributes)) assert.match(label, LABEL_NAME);
          if ('value' in s) assert.equal(point.value, s.value, `${family.name}{${s.labels}}`);
          else
            assert.deepEqual(
              { count: point.count, sum: point.sum, counts: point.counts, bounds: point.bounds },
              { count: s.count, sum: s.sum, counts: s.counts, bounds: s.bounds },
            );
        });
      }
    });
  }

  it('an up-down counter (jobmeter.run.active) goes as a non-monotonic sum', async () => {
    for (const [profile, family] of [
      ['otel', 'jobmeter_run_active'],
      ['runwisp', 'runwisp_task_active_runs'],
    ] as const) {
      const active = pushedByName((await pushFor(profile)).request).get(family);
      assert.deepEqual([active?.type, active?.monotonic], ['sum', false], family);
    }
  });

  it('otel: the scope labels go back into the instrumentation scope', async () => {
    const { request } = await pushFor('otel');
    const finished = pushedByName(request).get('jobmeter_run_finished_total')!;
    assert.equal(finished.scope, `jobmeter ${VERSION}`);
    for (const p of finished.points) assert.ok(!('otel_scope_name' in p.attributes));
  });
});

describe('the push reader transform hook', () => {
  let collector: FlakyCollector;
  before(async () => {
    collector = await startFlakyCollector();
  });
  after(async () => {
    await collector.close();
  });

  it('rewrites each collection before it is encoded; a throw fails that export only', async () => {
    let fail = false;
    const lines: string[] = [];
    const reader = createOtlpPushReader(
      {
        endpoint: collector.url,
        headers: {},
        protocol: 'http/json',
        intervalMillis: 60_000,
        timeoutMillis: 5_000,
        temporality: 'cumulative',
      },
      {
        log: logTo((l) => lines.push(l)),
        transform: (rm) => {
          if (fail) throw new Error('boom');
          const [metric] = rm.scopeMetrics[0]!.metrics;
          return {
            resource: rm.resource,
            scopeMetrics: [
              {
                scope: { name: 'renamed' },
                metrics: [
                  { ...metric!, descriptor: { ...metric!.descriptor, name: 'renamed_total' } },
                ],
              },
            ],
          };
        },
      },
    );
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('m').createCounter('original').add(1);
    await provider.forceFlush();
    const [sent] = collector.requests;
    assert.deepEqual(
      sent!.resourceMetrics[0]!.scopeMetrics.map((sm) => [
        sm.scope.name,
        sm.metrics.map((m) => m.name),
      ]),
      [['renamed', ['renamed_total']]],
    );
    fail = true;
    await provider.forceFlush();
    assert.equal(collector.requests.length, 1);
    assert.match(lines[0]!, /failing \(Error\)/);
    fail = false;
    await provider.forceFlush();
    assert.equal(collector.requests.length, 2);
    await provider.shutdown();
  });
});
