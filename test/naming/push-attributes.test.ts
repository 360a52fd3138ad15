/**
 * The profile-named push sends each series with the labels the naming pass made for it, as
 * attributes (label name → value, unescaped), taken from the attributes the pass rendered them
 * from: whatever the label string says, the pushed point says too (its labels parsed here, as the
 * oracle), and the native profile's scope labels are the point's scope again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationType,
  DataPointType,
  MeterProvider,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { parseLabelPairs } from '../../src/exposition/escape.ts';
import type { Family } from '../../src/exposition/types.ts';
import { namedMetrics } from '../../src/naming/family-builder.ts';
import { otelProfile } from '../../src/naming/profiles/otel.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import type { NativeProfile, Profile } from '../../src/naming/types.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';

const SCOPE = { name: 'jobmeter', version: '1' };
const SCOPE_LABELS = new Set(['otel_scope_name', 'otel_scope_version', 'otel_scope_schema_url']);

/** A provider whose collections `push` names under `profile` and converts as the push does. */
function setup(profile: Profile, hostname?: string) {
  const reader = newPullReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'svc' }),
    readers: [reader],
  });
  const namer = createNamer(profile, hostname === undefined ? {} : { hostname });
  const push = async (): Promise<{ families: Family[]; pushed: ResourceMetrics }> => {
    const { resourceMetrics } = await reader.collect();
    const families = namer.toFamilies(resourceMetrics);
    return {
      families,
      pushed: namedMetrics(families, resourceMetrics.resource, SCOPE, [0, 0], [0, 0]),
    };
  };
  return { meter: (name: string, version?: string) => provider.getMeter(name, version), push };
}

/** Pushed points by metric name, each with its scope and attributes, in order. */
function points(
  rm: ResourceMetrics,
): Map<string, Array<{ scope: string; attributes: Attributes }>> {
  const out = new Map<string, Array<{ scope: string; attributes: Attributes }>>();
  for (const sm of rm.scopeMetrics)
    for (const m of sm.metrics) {
      const list = out.get(m.descriptor.name) ?? [];
      for (const p of m.dataPoints)
        list.push({
          scope: `${sm.scope.name} ${sm.scope.version ?? ''}`.trim(),
          attributes: p.attributes,
        });
      out.set(m.descriptor.name, list);
    }
  return out;
}

/** Every pushed point's attributes are its series' labels, the scope labels left out. */
function assertLabelsPushed(families: readonly Family[], pushed: ResourceMetrics): void {
  const byName = points(pushed);
  for (const family of families) {
    if (family.name === 'target_info') continue;
    const sent = byName.get(family.name) ?? [];
    assert.deepEqual(
      sent.map((p) => p.attributes),
      family.series.map((s) =>
        Object.fromEntries(parseLabelPairs(s.labels).filter(([name]) => !SCOPE_LABELS.has(name))),
      ),
      family.name,
    );
  }
}

test('a table: value words, escaping, the hostname label and zero-filled words, as attributes', async () => {
  const { meter, push } = setup(
    {
      kind: 'table',
      name: 't',
      prefix: 't_',
      format: 'negotiate',
      hostnameLabel: 'hostname',
      rules: [
        {
          instrument: 'jobs',
          name: 't_jobs_total',
          type: 'counter',
          help: 'Jobs.',
          labels: [['job.state', 'state']],
          values: { 'job.state': { ok: 'success' } },
          zeroFill: { state: ['success', 'failed'] },
        },
        {
          instrument: 'jobs',
          name: 't_jobs_by_task_total',
          type: 'counter',
          help: 'Jobs by task.',
          labels: [['task', 'task']],
        },
        { instrument: 'up', name: 't_up', type: 'gauge', help: 'Up.', emitZero: true },
      ],
    },
    'host "1"',
  );
  const jobs = meter('app').createCounter('jobs');
  jobs.add(2, { 'job.state': 'ok', task: 'say "hi" \\ bye\nnext' });
  jobs.add(1, { 'job.state': 'odd', task: 'b' });
  const { families, pushed } = await push();
  assertLabelsPushed(families, pushed);
  const byName = points(pushed);
  assert.deepEqual(
    byName.get('t_jobs_total')!.map((p) => p.attributes),
    [
      { state: 'success', hostname: 'host "1"' },
      { state: 'failed', hostname: 'host "1"' },
      { state: 'odd', hostname: 'host "1"' },
    ],
  );
  assert.deepEqual(
    byName.get('t_jobs_by_task_total')!.map((p) => p.attributes),
    [
      { task: 'say "hi" \\ bye\nnext', hostname: 'host "1"' },
      { task: 'b', hostname: 'host "1"' },
    ],
  );
  assert.deepEqual(byName.get('t_up'), [
    { scope: 'jobmeter 1', attributes: { hostname: 'host "1"' } },
  ]);
});

test('native: sanitised names, keys that meet on one name, a reserved name, the scope', async () => {
  const { meter, push } = setup(otelProfile(true));
  meter('lib', '2.0')
    .createCounter('reqs')
    .add(1, { 'http.method': 'GET', http_method: 'get', n: 3 });
  meter('other').createHistogram('lat').record(1, { le: 'x' });
  const { families, pushed } = await push();
  assertLabelsPushed(families, pushed);
  const byName = points(pushed);
  assert.deepEqual(byName.get('reqs_total'), [
    { scope: 'lib 2.0', attributes: { http_method: 'GET;get', n: '3' } },
  ]);
  assert.deepEqual(byName.get('lat'), [{ scope: 'other', attributes: { exported_le: 'x' } }]);
});

test('native, UTF-8 names: the attribute keys as they are, a leading __ taken as exported_', async () => {
  const profile: NativeProfile = {
    ...otelProfile(false),
    translationStrategy: 'NoTranslation',
  };
  const { meter, push } = setup(profile);
  meter('lib').createCounter('reqs', {}).add(1, { 'http.method': 'GET', __x: 'y' });
  const { families, pushed } = await push();
  assertLabelsPushed(families, pushed);
  assert.deepEqual(points(pushed).get('reqs')![0], {
    scope: 'jobmeter 1',
    attributes: { 'http.method': 'GET', exported___x: 'y' },
  });
});

test('an exponential histogram is pushed as one, its buckets in OTel terms as recorded', async () => {
  const reader = newPullReader();
  const provider = new MeterProvider({
    readers: [reader],
    views: [
      {
        instrumentName: 'lat',
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } },
      },
    ],
  });
  const lat = provider.getMeter('app').createHistogram('lat');
  for (const v of [0, 1, 3, 3, 100]) lat.record(v, { k: 'a' });
  const { resourceMetrics } = await reader.collect();
  const families = createNamer(otelProfile(false)).toFamilies(resourceMetrics);
  const pushed = namedMetrics(families, resourceMetrics.resource, SCOPE, [0, 0], [0, 0]);
  const recorded = resourceMetrics.scopeMetrics[0]!.metrics[0]!;
  const sent = pushed.scopeMetrics[0]!.metrics[0]!;
  assert.equal(sent.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
  const {
    min: _min,
    max: _max,
    ...value
  } = recorded.dataPoints[0]!.value as object as Record<string, unknown>;
  assert.deepEqual(sent.dataPoints[0]!.value, value);
  assert.deepEqual(sent.dataPoints[0]!.attributes, { k: 'a' });
});
