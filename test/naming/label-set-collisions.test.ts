// Two attribute sets that render one label set ({x: 1} and {x: '1'}; {'a.b': 'v'} and
// {a_b: 'v'}; an empty key dropped; the same labels in another key order) are two series in
// OpenTelemetry (attribute values are typed) but one in a Prometheus exposition, which tells a
// series by its label set: the pull serves it once, merged as its family merges series (counters
// and histograms added, a gauge by its instrument's merge rule), in every format and through the
// render memo. promtool check metrics (Prometheus' own parser) is the oracle for the text body.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { createJobmeter } from '../../src/jobmeter.ts';
import { labelAttributes, labelsText } from '../../src/naming/attribute-labels.ts';
import { SeriesCache } from '../../src/naming/series-cache.ts';
import { render } from '../../src/exposition/render.ts';
import { renderJson } from '../../src/exposition/json.ts';
import { checkMetrics } from '../support/promtool.ts';
import { decodeProtobufExposition } from '../support/protobuf-exposition.ts';
import { parseExposition, seriesKey, type WireFormat } from '../support/exposition-parser.ts';

/** Each sample's value by its series (name and label set, labels sorted); a second sample of one series fails. */
function samplesBySeries(body: string, format: WireFormat): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of parseExposition(body, format)) {
    if (line.kind !== 'sample' || !line.name.startsWith('app_')) continue;
    const key = seriesKey(line.name, line.labels);
    assert.ok(!out.has(key), `${format}: a second sample of ${key}`);
    out.set(key, line.value);
  }
  return out;
}

const series = (name: string, labels: Record<string, string>): string =>
  seriesKey(name, Object.entries(labels));

/** What each colliding label set sums to, by the records below. */
const EXPECTED: ReadonlyArray<readonly [string, Record<string, string>, number]> = [
  ['app_jobs_total', { x: '1' }, 1 + 2],
  ['app_jobs_total', { x: 'true' }, 4 + 8],
  ['app_jobs_total', { y: '1' }, 16 + 32],
  ['app_jobs_total', { a_b: 'v' }, 64 + 128],
  ['app_jobs_total', { k_k: '1', c: '2' }, 256 + 512],
  ['app_obs_total', { x: '1' }, 5 + 6],
  ['app_ud', { x: '1' }, 1 + 2],
  ['app_lat_count', { x: '1' }, 2],
  ['app_lat_sum', { x: '1' }, 1 + 2],
  ['app_lat_bucket', { x: '1', le: '+Inf' }, 2],
];

for (const otelScopeInfo of [false, true])
  test(`attribute sets that render one label set are one series, merged by their family's type, in text, OpenMetrics, protobuf, JSON and through the render memo (otelScopeInfo: ${otelScopeInfo})`, async () => {
    const jm = await createJobmeter({
      listener: { port: 0 },
      processMetrics: false,
      otelScopeInfo,
      global: false,
    });
    try {
      const meter = jm.meterProvider.getMeter('host');
      const c = meter.createCounter('app.jobs', { description: 'd' });
      c.add(1, { x: 1 });
      c.add(2, { x: '1' });
      c.add(4, { x: true });
      c.add(8, { x: 'true' });
      c.add(16, { '': 'a', y: '1' });
      c.add(32, { '': 'b', y: '1' });
      c.add(64, { 'a.b': 'v' });
      c.add(128, { a_b: 'v' });
      c.add(256, { 'k.k': '1', c: '2' });
      c.add(512, { c: '2', k_k: '1' });
      const ud = meter.createUpDownCounter('app.ud', { description: 'd' });
      ud.add(1, { x: 1 });
      ud.add(2, { x: '1' });
      const h = meter.createHistogram('app.lat', { description: 'd' });
      h.record(1, { x: 1 });
      h.record(2, { x: '1' });
      const g = meter.createGauge('app.g', { description: 'd' });
      g.record(3, { x: 1 });
      g.record(7, { x: '1' });
      meter
        .createObservableCounter('app.obs', { description: 'd' })
        .addCallback((r) => (r.observe(5, { x: 1 }), r.observe(6, { x: '1' })));

      const scope: Record<string, string> = otelScopeInfo ? { otel_scope_name: 'host' } : {};
      const check = (got: Map<string, number>, format: string): void => {
        for (const [name, labels, value] of EXPECTED)
          assert.equal(got.get(series(name, { ...labels, ...scope })), value, `${format} ${name}`);
        // A gauge's two series: one, by its instrument's merge rule (one of the two values).
        const gauge = got.get(series('app_g', { x: '1', ...scope }));
        assert.ok(gauge === 3 || gauge === 7 || gauge === 10, `${format} app_g ${gauge}`);
      };

      const families = await jm.scrape();
      const text = render('text', families);
      check(samplesBySeries(text, 'text'), 'text');
      check(samplesBySeries(render('openmetrics', families), 'openmetrics'), 'openmetrics');
      const { code, output } = await checkMetrics(text);
      assert.doesNotMatch(output, /duplicate|error/i, output);
      assert.equal(code, 0, output);

      const decoded = await decodeProtobufExposition<{
        name: string;
        metric: { label?: { name: string; value: string }[] }[];
      }>(families);
      for (const f of decoded.filter((f) => f.name.startsWith('app_'))) {
        const sets = f.metric.map((m) =>
          seriesKey(
            f.name,
            (m.label ?? []).map((l) => [l.name, l.value]),
          ),
        );
        assert.equal(new Set(sets).size, sets.length, `protobuf ${f.name}: ${sets.join(' ')}`);
      }

      const json = JSON.parse(renderJson(families, 'generic')) as {
        families: { name: string; series: { labels: Record<string, string> }[] }[];
      };
      for (const f of json.families.filter((f) => f.name.startsWith('app_'))) {
        const sets = f.series.map((s) => seriesKey(f.name, Object.entries(s.labels)));
        assert.equal(new Set(sets).size, sets.length, `json ${f.name}: ${sets.join(' ')}`);
      }

      // Over HTTP twice: the second body is the render memo's.
      const url = `http://127.0.0.1:${jm.pullAddress!.port}/metrics`;
      for (const round of [1, 2]) {
        const body = await (await fetch(url)).text();
        check(samplesBySeries(body, 'text'), `http text, scrape ${round}`);
      }
      c.add(1, { x: 1 });
      const body = await (await fetch(url)).text();
      assert.equal(
        samplesBySeries(body, 'text').get(series('app_jobs_total', { x: '1', ...scope })),
        4,
        'the merged series moves with a record into either of its attribute sets',
      );
    } finally {
      await jm.shutdown();
    }
  });

test('a rule keeps nothing per series to tell collisions while every key has one kind of value and a label name of its own', () => {
  const named = (a: Attributes) => labelAttributes(a, new Set(), false);
  const collides = (sets: Attributes[]): boolean =>
    new SeriesCache((a) => labelsText(named(a), false), undefined, named).labels.column({
      attributes: sets,
      n: sets.length,
      compactedFrom: undefined,
    }).collides === true;
  // Dotted keys and numbers alone render every set apart: the keyed path stays.
  const apart = [
    { 'http.route': '/a', code: 200 },
    { 'http.route': '/b', code: 404, ok: true },
  ];
  assert.equal(collides(apart), false);
  // A key of string values beside its numbers, a second key of one label name, a key of no name.
  for (const collider of [{ code: '200' }, { http_route: '/a' }, { '': 'x' }])
    assert.equal(collides([...apart, collider]), true, JSON.stringify(collider));
});

test("an observable instrument's points that come to render one label set after an earlier collection are one series from then on", async () => {
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    otelScopeInfo: false,
    global: false,
  });
  try {
    let both = false;
    jm.meterProvider
      .getMeter('host')
      .createObservableCounter('app.late', { description: 'd' })
      .addCallback((r) => {
        r.observe(both ? 5 : 2, { x: both ? 1 : '1' });
        if (both) r.observe(6, { x: '1' });
      });
    const lines = async () =>
      render('text', await jm.scrape())
        .split('\n')
        .filter((l) => l.startsWith('app_late_total'));
    assert.deepEqual(await lines(), ['app_late_total{x="1"} 2']);
    both = true;
    assert.deepEqual(await lines(), ['app_late_total{x="1"} 11']);
  } finally {
    await jm.shutdown();
  }
});

for (const otelScopeInfo of [false, true])
  test(`an instrument of two meters with one label set in another key order is ${otelScopeInfo ? 'two series, one per scope label' : 'one series without scope labels'}, as promtool check metrics reads it`, async () => {
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      otelScopeInfo,
      global: false,
    });
    try {
      const counter = (meter: string) =>
        jm.meterProvider.getMeter(meter).createCounter('app.jobs', { description: 'd' });
      counter('a').add(1, { a: '1', b: '2' });
      counter('b').add(2, { b: '2', a: '1' });
      const text = render('text', await jm.scrape());
      const got = samplesBySeries(text, 'text');
      if (otelScopeInfo) {
        assert.equal(
          got.get(series('app_jobs_total', { a: '1', b: '2', otel_scope_name: 'a' })),
          1,
        );
        assert.equal(
          got.get(series('app_jobs_total', { a: '1', b: '2', otel_scope_name: 'b' })),
          2,
        );
      } else assert.equal(got.get(series('app_jobs_total', { a: '1', b: '2' })), 3);
      const { code, output } = await checkMetrics(text);
      assert.equal(code, 0, output);
    } finally {
      await jm.shutdown();
    }
  });
