/**
 * The OpenMetrics 2.0 writer, line by line, against the spec (2.0.0-rc.0) and the rules of the
 * parser that reads it, Prometheus 3.16's model/textparse/openmetrics2parse.go (quoted where a
 * test holds one). Prometheus reading what it writes is test/e2e/openmetrics2-*.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { OPENMETRICS2_DIALECT, openMetrics2Pieces } from '../../src/exposition/openmetrics2.ts';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import type { RenderFamily } from '../../src/exposition/render-model.ts';
import type { Family, HistogramSeries } from '../../src/exposition/types.ts';
import { renderWhole } from '../../src/exposition/samples.ts';
import { allTypes } from './fixtures.ts';

/** `families` as one OpenMetrics 2.0.0 exposition, ending with `# EOF\n`: its pieces joined. */
function renderOpenMetrics2(families: readonly RenderFamily[]): string {
  return renderWhole(families, OPENMETRICS2_DIALECT);
}

const START_MS = 1732530000123;
const EXEMPLAR = { labels: 'trace_id="abc"', value: 2, timestamp: 1732530005.5 };

/** The lines of one family's exposition, without `# EOF`. */
function lines(family: RenderFamily): string[] {
  const body = renderOpenMetrics2([family]);
  assert.ok(body.endsWith('# EOF\n'));
  return body.slice(0, -'# EOF\n'.length).split('\n').slice(0, -1);
}

/** A family of `type` named `name`: no help, unit or series unless `more` gives them. */
const family = (name: string, type: Family['type'], more: object): RenderFamily => ({
  name,
  type,
  help: '',
  unit: '',
  series: [],
  ...more,
});

const histogram = (series: Partial<HistogramSeries>): Family => ({
  name: 'job_duration_seconds',
  type: 'histogram',
  help: '',
  unit: 'seconds',
  series: [
    { labels: 'task="a"', bounds: [0.1, 1], counts: [1, 2, 3], sum: 9.5, count: 6, ...series },
  ],
});

describe('counters', () => {
  test('"sample = value [SP timestamp] [SP start-timestamp] *exemplar LF": the start time as st@ seconds after the value, the exemplar after it', () => {
    assert.deepEqual(
      lines(
        family('jobs_total', 'counter', {
          help: 'Jobs.',
          columns: {
            labels: ['q="a"', ''],
            values: [3, 4],
            created: [START_MS, START_MS],
            exemplars: [EXEMPLAR],
          },
        }),
      ),
      [
        '# TYPE jobs_total counter',
        '# HELP jobs_total Jobs.',
        'jobs_total{q="a"} 3 st@1732530000.123 # {trace_id="abc"} 2 1732530005.5',
        'jobs_total 4 st@1732530000.123',
      ],
    );
  });

  test('"MetricFamily name … MUST be the same as every Metric\'s Name": a counter without _total is a counter under its own name, start time and exemplar kept (1.0 writes it as unknown, without either)', () => {
    const legacy = family('legacy_task_count', 'counter', {
      columns: { labels: [''], values: [7], created: [START_MS], exemplars: [EXEMPLAR] },
    });
    assert.deepEqual(lines(legacy), [
      '# TYPE legacy_task_count counter',
      'legacy_task_count 7 st@1732530000.123 # {trace_id="abc"} 2 1732530005.5',
    ]);
    assert.match(
      renderOpenMetrics([legacy]),
      /^# TYPE legacy_task_count unknown\nlegacy_task_count 7\n/,
    );
  });

  test('"counter sample value must not be NaN" (the parser fails the scrape): a counter family with a NaN sample is written as unknown', () => {
    assert.deepEqual(
      lines(
        family('odd_total', 'counter', {
          series: [
            { labels: 'k="1"', value: 1 },
            { labels: 'k="2"', value: NaN },
          ],
        }),
      ),
      ['# TYPE odd_total unknown', 'odd_total{k="1"} 1', 'odd_total{k="2"} NaN'],
    );
  });
});

describe('histograms', () => {
  test('"{count:12,sum:5.5,bucket:[1.0:3,2.0:7,+Inf:12]}": one composite line per series, cumulative counts in ascending le, the start time and every bucket\'s exemplar after it', () => {
    assert.deepEqual(
      lines(
        histogram({
          created: START_MS,
          exemplars: [EXEMPLAR, undefined, { ...EXEMPLAR, value: 5 }],
        }),
      ),
      [
        '# TYPE job_duration_seconds histogram',
        '# UNIT job_duration_seconds seconds',
        'job_duration_seconds{task="a"} {count:6,sum:9.5,bucket:[0.1:1,1.0:3,+Inf:6]} st@1732530000.123 # {trace_id="abc"} 2 1732530005.5 # {trace_id="abc"} 5 1732530005.5',
      ],
    );
  });

  test('native buckets come first, as "count, sum, schema, zero_threshold, zero_count" then the spans and absolute counts of each side that has buckets, then the classic list', () => {
    const [, , line] = lines(
      histogram({
        native: {
          schema: 3,
          zeroThreshold: 1e-4,
          zeroCount: 1,
          // A run of three zeros splits a span (client_golang's rule, as the protobuf writer has it).
          positiveOffset: 3,
          positiveCounts: [1, 0, 0, 0, 2, 0, 1],
          negativeOffset: -2,
          negativeCounts: [],
        },
      }),
    );
    assert.equal(
      line,
      'job_duration_seconds{task="a"} {count:6,sum:9.5,schema:3,zero_threshold:0.0001,zero_count:1,positive_spans:[3:1,3:3],positive_buckets:[1,2,0,1],bucket:[0.1:1,1.0:3,+Inf:6]}',
    );
  });

  test('a native histogram with no bucket yet writes no span field ("[]" is optional)', () => {
    const [, , line] = lines(
      histogram({
        bounds: [],
        counts: [0],
        sum: 0,
        count: 0,
        native: {
          schema: 0,
          zeroThreshold: 0,
          zeroCount: 0,
          positiveOffset: 0,
          positiveCounts: [],
          negativeOffset: 0,
          negativeCounts: [0, 0],
        },
      }),
    );
    assert.equal(
      line,
      'job_duration_seconds{task="a"} {count:0,sum:0,schema:0,zero_threshold:0,zero_count:0,bucket:[+Inf:0]}',
    );
  });

  test('"A Histogram Sample MUST contain Count and Sum": a histogram with a negative bucket keeps both (1.0 writes neither then)', () => {
    const family = histogram({ bounds: [-1, 1], sum: -2 });
    assert.equal(
      lines(family)[2],
      'job_duration_seconds{task="a"} {count:6,sum:-2,bucket:[-1.0:1,1.0:3,+Inf:6]}',
    );
    assert.doesNotMatch(renderOpenMetrics([family]), /_sum|_count/);
  });
});

describe('metadata and names', () => {
  const cases: Array<[string, RenderFamily, string[]]> = [
    [
      'info: "info metric family name must end with _info" and "must have an empty unit": X_info is info, without a # UNIT',
      family('build_info', 'info', { unit: 'seconds', series: [{ labels: 'v="1"', value: 1 }] }),
      ['# TYPE build_info info', 'build_info{v="1"} 1'],
    ],
    [
      'an info family not named X_info is a gauge of 1',
      family('target', 'info', { series: [{ labels: 'h="x"', value: 3 }] }),
      ['# TYPE target gauge', 'target{h="x"} 1'],
    ],
    [
      'a unit is written whenever the family has one ("OM2 only RECOMMENDS the unit be an underscore-separated suffix")',
      family('memory_used', 'gauge', {
        help: 'h',
        unit: 'bytes',
        series: [{ labels: '', value: 1 }],
      }),
      [
        '# TYPE memory_used gauge',
        '# UNIT memory_used bytes',
        '# HELP memory_used h',
        'memory_used 1',
      ],
    ],
    [
      'UTF-8 names: quoted in TYPE/UNIT/HELP, and "the quoted metric name MUST be moved inside the brackets as the first item"',
      family('http.server.duration_seconds', 'histogram', {
        unit: 'seconds',
        utf8Names: true,
        series: [
          { labels: '"http.method"="GET"', bounds: [1], counts: [1, 0], sum: 0.5, count: 1 },
          { labels: '', bounds: [1], counts: [0, 0], sum: 0, count: 0 },
        ],
      }),
      [
        '# TYPE "http.server.duration_seconds" histogram',
        '# UNIT "http.server.duration_seconds" seconds',
        '{"http.server.duration_seconds","http.method"="GET"} {count:1,sum:0.5,bucket:[1.0:1,+Inf:1]}',
        '{"http.server.duration_seconds"} {count:0,sum:0,bucket:[1.0:0,+Inf:0]}',
      ],
    ],
  ];
  for (const [title, f, expected] of cases) test(title, () => assert.deepEqual(lines(f), expected));
});

describe('the exposition', () => {
  test('families with no series are left out, and it ends with # EOF', () => {
    assert.equal(renderOpenMetrics2([]), '# EOF\n');
    const body = renderOpenMetrics2(allTypes());
    assert.doesNotMatch(body, /jobmeter_never_observed/);
    assert.ok(body.endsWith('\n# EOF\n'));
  });

  test('pieces are whole lines that join into the whole exposition, ASCII only when every family is', () => {
    const families: RenderFamily[] = [
      family('many_total', 'counter', {
        ascii: true,
        columns: {
          labels: Array.from({ length: 200 }, (_, i) => `i="${i}"`),
          values: Array.from({ length: 200 }, (_, i) => i),
          created: Array.from({ length: 200 }, () => START_MS),
        },
      }),
      { ...(histogram({}) as RenderFamily), ascii: true },
      family('caf\u00e9', 'gauge', { utf8Names: true, series: [{ labels: '', value: 1 }] }),
    ];
    const pieces = [...openMetrics2Pieces(families, 512)];
    assert.ok(pieces.length > 5, `${pieces.length} pieces`);
    assert.equal(pieces.map((p) => p.text).join(''), renderOpenMetrics2(families));
    for (const p of pieces) assert.ok(p.text.endsWith('\n'));
    assert.deepEqual(
      pieces.map((p) => p.ascii),
      pieces.map((_, i) => i < pieces.length - 1),
    );
  });
});
