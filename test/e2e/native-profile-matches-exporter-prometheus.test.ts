/**
 * A host that swaps `@opentelemetry/exporter-prometheus`'s `PrometheusExporter` for
 * `createJobmeter`'s pull endpoint under the native profile keeps its dashboards: random scripts of
 * host meters, instruments and records (fast-check) are given to a plain SDK `MeterProvider` whose
 * one reader is the official exporter and to jobmeter's provider (`unitSuffixes: false`, the
 * drop-in of docs/host-apps.md), and the real Prometheus 2.42 and 3.x scrape both. Each stores the
 * same series from jobmeter as from the exporter (names, label sets, values), under the same type
 * and help (`/api/v1/targets/metadata`), from the text listener and, on Prometheus 3, from the
 * negotiated OpenMetrics too (whose metadata Prometheus keeps under OpenMetrics' family names);
 * the raw text bodies carry the same `# HELP` and `# TYPE`.
 *
 * The scripts hold: names with dots, dashes, slashes, UTF-8, upper case and `_total`; every unit;
 * descriptions with quotes, newlines and backslashes; attribute keys with dots and odd characters;
 * values with quotes, newlines, backslashes, lone surrogates, long strings, numbers, booleans and
 * arrays; negative records the SDK refuses; integer instruments; several meters (versions and
 * schema URLs, given or empty), an instrument made on two of them with its description on one,
 * both or neither (the family's help is the first there is). Left out are the differences
 * docs/host-apps.md gives: the unit word (`unitSuffixes` default), second-scale buckets for a
 * histogram in `s` without advice, the attribute value length limit (set here past the longest
 * value), NaN and infinite records and an observable counter's negative observations dropped by
 * the guard, and OpenMetrics' `le="5.0"` on Prometheus 2. Left out too, because the exporter's own
 * body then fails the whole scrape: attribute keys that collide once sanitized or start with a
 * digit, and two kinds under one family name. Where an instrument has no description the exporter
 * writes `description missing` as its help and jobmeter no `# HELP`; a text body's `# UNIT` is a
 * comment to Prometheus, which the exporter writes and jobmeter leaves out.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ValueType, type Attributes, type Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createJobmeter } from '../../src/jobmeter.ts';
import { parseExposition, type Meta } from '../support/exposition-parser.ts';
import {
  startEachPrometheus,
  type PrometheusHandle,
  type PrometheusMajor,
} from '../support/prometheus.ts';
import { storedByJob } from './exporter-stores.ts';

interface Instrument {
  readonly kind: Kind;
  readonly name: string;
  readonly unit: string | undefined;
  readonly description: string | undefined;
  /** INT: the SDK truncates each value. */
  readonly valueType: ValueType | undefined;
  readonly bounds: readonly number[];
  /** Indexes into the script's meters: the instrument is made, and recorded alike, on each. */
  readonly meters: readonly number[];
  /** Whether the instrument is made with its description on each of its meters, in order. */
  readonly described: readonly boolean[];
  readonly records: ReadonlyArray<{ readonly value: number; readonly attributes: Attributes }>;
}

interface Script {
  readonly meters: ReadonlyArray<{ name: string; version?: string; schemaUrl?: string }>;
  readonly instruments: readonly Instrument[];
}

const KINDS = [
  'counter',
  'upDownCounter',
  'histogram',
  'gauge',
  'observableCounter',
  'observableUpDownCounter',
  'observableGauge',
] as const;
type Kind = (typeof KINDS)[number];
const UNITS = ['s', 'ms', 'By', '1', '{request}', '%', '', undefined];
const NAME_PARTS = [
  'jobs',
  'Dots.Upper',
  'dash-ed',
  'slash/ed',
  'ütf8',
  'ÄÖ.x',
  'a__b',
  'done_total',
];
// Distinct once sanitized (`[^a-zA-Z0-9_]` → `_`, runs of `_` as one), none starting with a digit.
const KEYS = ['queue', 'http.method', 'Upper.Case', 'dash-key', 'slash/key', 'ütf', 'k__k'];
const ODD = fc.constantFrom(
  'a',
  'Z',
  ' ',
  '"',
  '\\',
  '\n',
  '\t',
  'é',
  '✓',
  '\ud800',
  '{',
  '=',
  ',',
);
const SERVICE = 'host-app';
const RESOURCE = { 'deployment.environment': 'test "q"', 'res-key': 'a\\b' };
/** Past every value the scripts draw: the default limit (256) is a documented difference. */
const VALUE_LIMIT = 4096;

const attributeValue: fc.Arbitrary<Attributes[string]> = fc.oneof(
  fc.string({ unit: ODD, maxLength: 6 }),
  fc.constant('x'.repeat(300)),
  fc.integer({ min: -5, max: 5 }),
  fc.boolean(),
  fc.array(fc.string({ unit: ODD, maxLength: 3 }), { maxLength: 2 }),
);
const attributes: fc.Arbitrary<Attributes> = fc.dictionary(
  fc.constantFrom(...KEYS),
  attributeValue,
  {
    maxKeys: 3,
  },
);

function instrumentOf(index: number, meterCount: number): fc.Arbitrary<Instrument> {
  return fc.constantFrom(...KINDS).chain((kind) => {
    // A counter's or histogram's negative record is dropped by both; an observable counter's
    // negative observation is jobmeter's documented difference (it serves nothing, the SDK a 0).
    const values =
      kind === 'observableCounter'
        ? [0, 1, 2.5, 0.1, 1e9]
        : kind === 'counter' || kind === 'histogram'
          ? [0, 1, 2.5, 0.1, 1e9, -1]
          : [-3, 0, 1, 0.1, 7.25];
    const value = fc.constantFrom(...values);
    return fc.record({
      kind: fc.constant(kind),
      // The index keeps every family name apart, whatever the parts sanitize to.
      name: fc
        .array(fc.constantFrom(...NAME_PARTS), { minLength: 1, maxLength: 2 })
        .map((parts) => [`i${index}`, ...parts].join('.')),
      unit: fc.constantFrom(...UNITS),
      valueType: fc.option(fc.constant(ValueType.INT), { nil: undefined }),
      description: fc.option(fc.string({ unit: ODD, minLength: 1, maxLength: 8 }), {
        nil: undefined,
      }),
      bounds: fc
        .uniqueArray(fc.constantFrom(0, 0.001, 0.5, 1, 2.5, 10, 100), { maxLength: 4 })
        .map((b) => [...b].sort((x, y) => x - y)),
      meters: fc.uniqueArray(fc.nat({ max: meterCount - 1 }), { minLength: 1, maxLength: 2 }),
      described: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      records: fc.array(fc.record({ value, attributes }), { minLength: 1, maxLength: 4 }),
    });
  });
}

const script: fc.Arbitrary<Script> = fc.integer({ min: 1, max: 3 }).chain((meterCount) =>
  fc.record({
    meters: fc.tuple(
      ...Array.from({ length: meterCount }, (_, i) =>
        fc.record(
          {
            name: fc.constant(`host.meter-${i}`),
            version: fc.constantFrom('1.0.0', '2.3.4-beta', ''),
            schemaUrl: fc.constantFrom('https://opentelemetry.io/schemas/1.30.0', ''),
          },
          { requiredKeys: ['name'] },
        ),
      ),
    ),
    instruments: fc
      .integer({ min: 1, max: 8 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => instrumentOf(i, meterCount)))),
  }),
);

/** Makes and records `s` on `provider`'s meters; observables observe the same at every collection. */
function play(provider: { getMeter: MeterProvider['getMeter'] }, s: Script): void {
  const meters: Meter[] = s.meters.map((m) =>
    provider.getMeter(
      m.name,
      m.version,
      m.schemaUrl === undefined ? {} : { schemaUrl: m.schemaUrl },
    ),
  );
  for (const i of s.instruments) {
    for (const [j, meter] of i.meters.map((m) => meters[m]!).entries()) {
      const options = {
        ...(i.unit !== undefined && { unit: i.unit }),
        ...(i.valueType !== undefined && { valueType: i.valueType }),
        ...(i.description !== undefined &&
          i.described[j] === true && { description: i.description }),
      };
      const sync = {
        counter: () => meter.createCounter(i.name, options),
        upDownCounter: () => meter.createUpDownCounter(i.name, options),
        gauge: () => meter.createGauge(i.name, options),
        histogram: () =>
          meter.createHistogram(i.name, {
            ...options,
            advice: { explicitBucketBoundaries: [...i.bounds] },
          }),
      };
      const observable = {
        observableCounter: () => meter.createObservableCounter(i.name, options),
        observableUpDownCounter: () => meter.createObservableUpDownCounter(i.name, options),
        observableGauge: () => meter.createObservableGauge(i.name, options),
      };
      if (i.kind in sync) {
        const made = sync[i.kind as keyof typeof sync]();
        for (const { value, attributes } of i.records)
          if ('add' in made) made.add(value, attributes);
          else made.record(value, attributes);
      } else
        observable[i.kind as keyof typeof observable]().addCallback((r) => {
          for (const { value, attributes } of i.records) r.observe(value, attributes);
        });
    }
  }
}

/** jobmeter's own families, which the exporter's provider has not. */
const OWN = '|jobmeter_.*';
const SEED = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
const SCRIPTS = fc.sample(script, { seed: SEED, numRuns: 4 });
/** Each script's family names are its own: a prefix of the script's index. */
const scripts: Script[] = SCRIPTS.map((s, k) => ({
  ...s,
  instruments: s.instruments.map((i) => ({ ...i, name: `s${k}${i.name}` })),
}));

const closers: Array<() => Promise<unknown>> = [];
const bodies: Array<{ exporter: string; jobmeter: string }> = [];
let proms: Map<PrometheusMajor, PrometheusHandle>;

before(async () => {
  const jobs: Array<{ name: string; target: string }> = [];
  for (const [k, s] of scripts.entries()) {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({
      readers: [exporter],
      resource: resourceFromAttributes({ 'service.name': SERVICE, ...RESOURCE }),
    });
    closers.push(() => provider.shutdown());
    play(provider, s);
    const server = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const urls = [`127.0.0.1:${(server.address() as AddressInfo).port}`];
    for (const format of ['text', undefined] as const) {
      const jm = await createJobmeter({
        listener: { port: 0, ...(format !== undefined && { format }) },
        processMetrics: false,
        unitSuffixes: false,
        global: false,
        cluster: false,
        serviceName: SERVICE,
        resourceAttributes: RESOURCE,
        attributeValueLengthLimit: VALUE_LIMIT,
      });
      closers.push(() => jm.shutdown());
      play(jm.meterProvider, s);
      urls.push(`127.0.0.1:${jm.pullAddress!.port}`);
    }
    const [exporterUrl, textUrl, negotiatedUrl] = urls as [string, string, string];
    jobs.push(
      { name: `exporter-${k}`, target: exporterUrl },
      { name: `text-${k}`, target: textUrl },
      { name: `negotiated-${k}`, target: negotiatedUrl },
    );
    const body = async (url: string): Promise<string> =>
      (await fetch(`http://${url}/metrics`, { headers: { accept: 'text/plain' } })).text();
    bodies.push({ exporter: await body(exporterUrl), jobmeter: await body(textUrl) });
  }
  proms = await startEachPrometheus({ jobs });
  for (const p of proms.values()) await p.waitForTargetsUp();
});

after(async () => {
  await Promise.all([...(proms?.values() ?? [])].map((p) => p.stop()));
  await Promise.all(closers.splice(0).map((c) => c()));
});

interface TargetMetadata {
  metric: string;
  type: string;
  help: string;
  unit: string;
}

/**
 * `/api/v1/targets/metadata` of one job: family → type and help, jobmeter's own left out. A help of
 * blanks alone Prometheus' text parser keeps as empty, its OpenMetrics parser as written: `text`
 * empties it in an OpenMetrics job's too, so both say the help as text does.
 */
async function metadataOf(
  prom: PrometheusHandle,
  job: string,
  text = false,
): Promise<Map<string, string>> {
  const match = encodeURIComponent(`{job="${job}"}`);
  const res = await fetch(`${prom.url}/api/v1/targets/metadata?match_target=${match}`);
  const { data } = (await res.json()) as { data: TargetMetadata[] };
  return new Map(
    data
      .filter((m) => !m.metric.startsWith('jobmeter_'))
      .map((m) => {
        const help = text && /^[ \t]*$/.test(m.help) ? '' : m.help;
        return [m.metric, `${m.type} ${JSON.stringify(help)}`];
      }),
  );
}

/** The exporter's help where the instrument has no description: a placeholder jobmeter does not write. */
const PLACEHOLDER = '"description missing"';
const show = (k: number): string =>
  `FC_SEED=${SEED}, script ${k}: ${JSON.stringify(scripts[k], null, 1)}`;

describe('the native profile against @opentelemetry/exporter-prometheus, as Prometheus stores them', () => {
  for (const major of [2, 3] as const)
    it(`Prometheus ${major} stores from createJobmeter's text listener every series of the exporter, alike, and nothing else`, async () => {
      const prom = proms.get(major)!;
      for (const k of scripts.keys()) {
        const exporter = await storedByJob(prom, `exporter-${k}`, OWN);
        const jobmeter = await storedByJob(prom, `text-${k}`, OWN);
        assert.ok(exporter.size > 1, `the exporter's series stored: ${show(k)}`);
        assert.deepEqual([...jobmeter.keys()].sort(), [...exporter.keys()].sort(), show(k));
        for (const [key, value] of exporter)
          assert.equal(jobmeter.get(key), value, `${key} ${show(k)}`);
      }
    });

  it('Prometheus 3 stores the same from the negotiated OpenMetrics', async () => {
    const prom = proms.get(3)!;
    for (const k of scripts.keys()) {
      const exporter = await storedByJob(prom, `exporter-${k}`, OWN);
      const jobmeter = await storedByJob(prom, `negotiated-${k}`, OWN);
      assert.deepEqual([...jobmeter.entries()].sort(), [...exporter.entries()].sort(), show(k));
    }
  });

  /**
   * The exporter's metadata as Prometheus keeps it from jobmeter: the placeholder help empty, and
   * from OpenMetrics a counter's under its family's name (no `_total`) and `target_info`'s as the
   * info family `target`, where a dashboard that looks a counter's help up by its series name finds
   * none: the reason the drop-in is the text listener.
   */
  const asKept = (exporter: Map<string, string>, openMetrics: boolean): Map<string, string> =>
    new Map(
      [...exporter].map(([family, meta]) => {
        const kept = meta.endsWith(PLACEHOLDER) ? meta.replace(PLACEHOLDER, '""') : meta;
        if (!openMetrics) return [family, kept];
        if (family === 'target_info') return ['target', kept.replace(/^gauge/, 'info')];
        return [kept.startsWith('counter') ? family.replace(/_total$/, '') : family, kept];
      }),
    );

  for (const major of [2, 3] as const)
    for (const job of ['text', 'negotiated'] as const)
      it(`Prometheus ${major} keeps each family's type and help from the ${job} listener as from the exporter`, async () => {
        const prom = proms.get(major)!;
        for (const k of scripts.keys()) {
          const exporter = await metadataOf(prom, `exporter-${k}`);
          assert.ok(exporter.size > 1, `the exporter's metadata: ${show(k)}`);
          assert.deepEqual(
            [...(await metadataOf(prom, `${job}-${k}`, true))].sort(),
            [...asKept(exporter, job === 'negotiated')].sort(),
            show(k),
          );
        }
      });

  it("the text bodies carry the exporter's # HELP and # TYPE lines, the placeholder help aside", () => {
    const metas = (body: string, kind: Meta['kind']): Map<string, string> =>
      new Map(
        parseExposition(body.replace(/^# UNIT .*\n/gm, ''), 'text')
          .filter((l): l is Meta => l.kind === kind && !l.name.startsWith('jobmeter_'))
          .map((l) => [l.name, l.text]),
      );
    for (const [k, { exporter, jobmeter }] of bodies.entries()) {
      assert.deepEqual(metas(jobmeter, 'TYPE'), metas(exporter, 'TYPE'), show(k));
      const help = metas(exporter, 'HELP');
      for (const [family, text] of help) if (text === 'description missing') help.delete(family);
      assert.deepEqual(metas(jobmeter, 'HELP'), help, show(k));
    }
  });
});
