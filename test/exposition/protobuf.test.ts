/**
 * The protobuf exposition (src/exposition/protobuf.ts), decoded with client_model's official
 * io/prometheus/client/metrics.proto (fetched by the test preflight, test/peers/versions.env):
 * for every profile's demo, every family equals the text 0.0.4 rendering of the same families,
 * name for name, type for type, help for help, series for series and value for value.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { runDemo } from '../../src/demo/scenarios.ts';
import { escapeLabelValue } from '../../src/exposition/escape.ts';
import { protobufBuffers, SERIES_PER_PIECE } from '../../src/exposition/protobuf.ts';
import { protobufBytes } from '../support/protobuf-exposition.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import type { RenderFamily as Family } from '../../src/exposition/render-model.ts';
import type { Jobmeter } from '../../src/jobmeter.ts';
import type { ProfileName } from '../../src/options.ts';
import { groupFamilies, parseExposition } from '../support/exposition-parser.ts';
import { clientModelProto } from '../support/peers.ts';
import { diffSeries, seriesTable } from '../support/series-diff.ts';
import { testJobmeter } from '../profiles/helpers.ts';

const PROFILES: readonly ProfileName[] = ['otel', 'runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'];
const TYPE_WORD: Record<string, string> = {
  COUNTER: 'counter',
  GAUGE: 'gauge',
  UNTYPED: 'untyped',
  HISTOGRAM: 'histogram',
};

interface Decoded {
  name: string;
  help: string;
  type: string;
  unit?: string;
  metric: Array<{
    label?: Array<{ name: string; value: string }>;
    counter?: { value: number };
    gauge?: { value: number };
    untyped?: { value: number };
    histogram?: {
      sampleCount: number;
      sampleSum: number;
      bucket?: Array<{ cumulativeCount: number; upperBound: number }>;
    };
  }>;
}

/** Every length-delimited MetricFamily in `body`, decoded with the official schema. */
async function decodeAll(body: Buffer): Promise<Decoded[]> {
  const root = await protobuf.load(clientModelProto());
  const type = root.lookupType('io.prometheus.client.MetricFamily');
  const reader = protobuf.Reader.create(body);
  const out: Decoded[] = [];
  while (reader.pos < reader.len) {
    out.push(
      type.toObject(type.decodeDelimited(reader), {
        enums: String,
        longs: Number,
        defaults: false,
      }) as Decoded,
    );
  }
  return out;
}

/** The decoded families as text 0.0.4, written independently of the renderers, for seriesTable. */
function asText(families: readonly Decoded[]): string {
  const lines: string[] = [];
  const labelText = (pairs: Array<{ name: string; value: string }> = [], extra = ''): string => {
    const all = pairs
      .map((p) => `${p.name}="${escapeLabelValue(p.value)}"`)
      .concat(extra === '' ? [] : [extra]);
    return all.length === 0 ? '' : `{${all.join(',')}}`;
  };
  for (const f of families) {
    lines.push(`# TYPE ${f.name} ${TYPE_WORD[f.type]}`);
    for (const m of f.metric) {
      if (m.histogram) {
        const h = m.histogram;
        for (const b of h.bucket ?? [])
          lines.push(
            `${f.name}_bucket${labelText(m.label, `le="${b.upperBound}"`)} ${b.cumulativeCount}`,
          );
        lines.push(`${f.name}_bucket${labelText(m.label, 'le="+Inf"')} ${h.sampleCount}`);
        lines.push(
          `${f.name}_sum${labelText(m.label)} ${h.sampleSum}`,
          `${f.name}_count${labelText(m.label)} ${h.sampleCount}`,
        );
      } else {
        const v = (m.counter ?? m.gauge ?? m.untyped)!.value ?? 0;
        lines.push(
          `${f.name}${labelText(m.label)} ${Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : v}`,
        );
      }
    }
  }
  return lines.join('\n') + '\n';
}

const started: Jobmeter[] = [];
after(async () => {
  await Promise.allSettled(started.map((jm) => jm.shutdown()));
});

describe('protobuf exposition, decoded with the official metrics.proto', () => {
  for (const profile of PROFILES) {
    it(`${profile}: equal to the text 0.0.4 rendering, family for family`, async () => {
      const jm = await testJobmeter(profile, { processMetrics: false });
      started.push(jm);
      runDemo(jm, profile);
      const families: readonly Family[] = await jm.scrape();
      const text = renderPrometheusText(families);
      const decoded = await decodeAll(protobufBytes(families));

      // Metadata: the text families' names, types and help, in order.
      const problems: string[] = [];
      const textFamilies = groupFamilies(parseExposition(text, 'text'), 'text', problems);
      assert.deepEqual(problems, []);
      assert.deepEqual(
        decoded.map((f) => [f.name, TYPE_WORD[f.type], f.help]),
        textFamilies.map((f) => [f.name, f.type === 'untyped' ? 'untyped' : f.type, f.help]),
      );
      // Units where the model has them (text 0.0.4 cannot carry them).
      assert.deepEqual(
        decoded.map((f) => f.unit ?? ''),
        families
          .filter(
            (f) =>
              (f.type === 'histogram'
                ? f.series.length
                : (f.columns?.labels.length ?? f.series.length)) > 0,
          )
          .map((f) => f.unit),
      );

      const diff = diffSeries(seriesTable(text), seriesTable(asText(decoded)));
      assert.deepEqual(
        diff,
        { onlyLeft: [], onlyRight: [], values: [], types: [] },
        JSON.stringify(diff, null, 2),
      );
      assert.ok(decoded.length > 0);
    });
  }
});

describe('protobuf exposition of a large family', () => {
  it('is encoded in batches of series, each followed by a point to yield at, and decodes whole', async () => {
    const n = SERIES_PER_PIECE * 2 + 500;
    const family: Family = {
      name: 'big_total',
      type: 'counter',
      help: 'Many series.',
      unit: '',
      series: Array.from({ length: n }, (_, i) => ({ labels: `host="h${i}"`, value: i })),
    };
    const pieces = Array.from(protobufBuffers([family]), (piece) => Buffer.from(piece));
    assert.equal(pieces.filter((p) => p.length === 0).length, 3, 'one yield point per batch');
    const [decoded] = await decodeAll(Buffer.concat(pieces));
    assert.equal(decoded!.metric.length, n);
    assert.deepEqual(decoded!.metric[n - 1], {
      label: [{ name: 'host', value: `h${n - 1}` }],
      counter: { value: n - 1 },
    });
    assert.equal(decoded!.name, 'big_total');
  });
});
