// Format rules, asserted by parsing the renderers' output back (test/support/exposition-parser.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Family } from '../../src/exposition/types.ts';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import { checkExposition, parseExposition, type Sample } from '../support/exposition-parser.ts';
import { allTypes } from './fixtures.ts';

/** OpenMetrics family name → input unit, for the `# UNIT` rule. */
function omUnits(families: readonly Family[]): Map<string, string> {
  const units = new Map<string, string>();
  for (const f of families) {
    const name =
      f.type === 'counter' && f.name.endsWith('_total')
        ? f.name.slice(0, -6)
        : f.type === 'info' && f.name.endsWith('_info')
          ? f.name.slice(0, -5)
          : f.name;
    units.set(name, f.type === 'info' ? '' : f.unit);
  }
  return units;
}

function samples(text: string, format: 'text' | 'openmetrics'): Sample[] {
  return parseExposition(text, format).filter((l): l is Sample => l.kind === 'sample');
}

describe('rendered output obeys the format rules', () => {
  test('OpenMetrics: all rules hold for the full fixture set', () => {
    const families = allTypes();
    assert.deepEqual(
      checkExposition(renderOpenMetrics(families), 'openmetrics', { units: omUnits(families) }),
      [],
    );
  });

  test('text 0.0.4: all rules hold for the full fixture set', () => {
    assert.deepEqual(checkExposition(renderPrometheusText(allTypes()), 'text'), []);
  });

  test('OpenMetrics ends with # EOF, text has none', () => {
    const om = renderOpenMetrics(allTypes());
    assert.ok(om.endsWith('\n# EOF\n'));
    assert.equal(om.indexOf('# EOF'), om.length - '# EOF\n'.length);
    assert.ok(!renderPrometheusText(allTypes()).includes('# EOF'));
  });

  test('OpenMetrics counters: family without _total, samples with it; legacy names stay exact', () => {
    const om = renderOpenMetrics(allTypes());
    assert.match(om, /^# TYPE jobmeter_jobs counter$/m);
    assert.match(om, /^# TYPE legacy_task_count unknown$/m);
    const names = new Set(samples(om, 'openmetrics').map((s) => s.name));
    assert.ok(names.has('jobmeter_jobs_total'));
    assert.ok(names.has('legacy_task_count'));
    assert.ok(!names.has('legacy_task_count_total'));
  });

  test('both formats expose the same stored sample names and values', () => {
    const key = (s: Sample) => JSON.stringify([s.name, s.labels, s.rawValue]);
    const om = samples(renderOpenMetrics(allTypes()), 'openmetrics');
    const text = samples(renderPrometheusText(allTypes()), 'text');
    // Only the le spelling differs between the two.
    const strip = (s: Sample): Sample => ({ ...s, labels: s.labels.filter(([k]) => k !== 'le') });
    assert.deepEqual(om.map(strip).map(key), text.map(strip).map(key));
  });

  test('text types: info → gauge, unknown → untyped, counters keep their name', () => {
    const text = renderPrometheusText(allTypes());
    assert.match(text, /^# TYPE jobmeter_build_info gauge$/m);
    assert.match(text, /^# TYPE jobmeter_misc untyped$/m);
    assert.match(text, /^# TYPE jobmeter_jobs_total counter$/m);
    assert.match(text, /^# TYPE legacy_task_count counter$/m);
  });

  test('empty families are omitted in both formats', () => {
    assert.ok(!renderOpenMetrics(allTypes()).includes('jobmeter_never_observed'));
    assert.ok(!renderPrometheusText(allTypes()).includes('jobmeter_never_observed'));
  });

  test('info samples are written as 1 whatever the series value', () => {
    const f: Family[] = [
      { name: 'x_info', type: 'info', help: '', unit: '', series: [{ labels: 'a="b"', value: 0 }] },
    ];
    assert.equal(renderOpenMetrics(f), '# TYPE x info\nx_info{a="b"} 1\n# EOF\n');
    assert.equal(renderPrometheusText(f), '# TYPE x_info gauge\nx_info{a="b"} 1\n');
  });

  test('# UNIT: only when the unit is the suffix of the OpenMetrics family name', () => {
    const f = (name: string, type: 'counter' | 'gauge', unit: string): Family => ({
      name,
      type,
      unit,
      help: '',
      series: [{ labels: '', value: 1 }],
    });
    const om = renderOpenMetrics([
      f('a_seconds_total', 'counter', 'seconds'),
      f('b_seconds', 'gauge', 'seconds'),
      f('c_total', 'counter', 'seconds'),
      f('dseconds', 'gauge', 'seconds'),
      f('e_bytes', 'gauge', ''),
      f('f_seconds_count', 'counter', 'seconds'),
    ]);
    const units = om.split('\n').filter((l) => l.startsWith('# UNIT'));
    assert.deepEqual(units, ['# UNIT a_seconds seconds', '# UNIT b_seconds seconds']);
  });
});

describe('histograms', () => {
  const histogram = (
    bounds: readonly number[],
    counts: readonly number[],
    count: number,
  ): Family[] => [
    {
      name: 'h',
      type: 'histogram',
      help: '',
      unit: '',
      series: [{ labels: 'a="x"', bounds, counts, sum: 1, count }],
    },
  ];

  test('buckets are cumulative, +Inf equals _count, then _sum and _count', () => {
    assert.equal(
      renderPrometheusText(histogram([1, 2], [3, 0, 4], 7)),
      '# TYPE h histogram\n' +
        'h_bucket{a="x",le="1"} 3\nh_bucket{a="x",le="2"} 3\nh_bucket{a="x",le="+Inf"} 7\n' +
        'h_sum{a="x"} 1\nh_count{a="x"} 7\n',
    );
  });

  test('no finite bounds: only the +Inf bucket', () => {
    assert.equal(
      renderOpenMetrics(histogram([], [5], 5)),
      '# TYPE h histogram\nh_bucket{a="x",le="+Inf"} 5\nh_sum{a="x"} 1\nh_count{a="x"} 5\n# EOF\n',
    );
  });

  test('unsorted, duplicate and non-finite bounds still give sorted, unique, cumulative buckets', () => {
    const bounds = [5, 1, NaN, 2, 1, Infinity, -Infinity];
    const counts = [1, 2, 4, 8, 16, 32, 64, 128];
    const family = histogram(bounds, counts, 255);
    for (const [text, format] of [
      [renderPrometheusText(family), 'text'],
      [renderOpenMetrics(family), 'openmetrics'],
    ] as const) {
      assert.deepEqual(checkExposition(text, format), []);
      const buckets = samples(text, format).filter((s) => s.name === 'h_bucket');
      // 1 (both 1s: 2 + 16), 2 (+8), 5 (+1), +Inf = count. NaN/±Infinity bounds write no line.
      assert.deepEqual(
        buckets.map((s) => s.value),
        [18, 26, 27, 255],
      );
    }
  });

  test('property: any bounds (unsorted, duplicated, non-finite) give a valid histogram', () => {
    const bound = fc.oneof(
      { arbitrary: fc.double(), weight: 4 },
      { arbitrary: fc.constantFrom(0, 1, 1, 0.1, -1, 1e6), weight: 2 },
    );
    const series = fc.array(bound, { maxLength: 12 }).chain((bounds) =>
      fc.record({
        bounds: fc.constant(bounds),
        counts: fc.array(fc.nat(1000), {
          minLength: bounds.length + 1,
          maxLength: bounds.length + 1,
        }),
        labels: fc.constantFrom('', 'a="x"', 'a="y",b="z"'),
      }),
    );
    fc.assert(
      fc.property(fc.uniqueArray(series, { selector: (s) => s.labels, maxLength: 3 }), (list) => {
        const family: Family[] = [
          {
            name: 'h',
            type: 'histogram',
            help: 'h',
            unit: '',
            series: list.map((s) => ({ ...s, sum: 1, count: s.counts.reduce((a, b) => a + b, 0) })),
          },
        ];
        assert.deepEqual(checkExposition(renderPrometheusText(family), 'text'), []);
        assert.deepEqual(checkExposition(renderOpenMetrics(family), 'openmetrics'), []);
      }),
      { numRuns: 500 },
    );
  });

  test('series share one cached le rendering but keep their own counts', () => {
    const bounds = [0.1, 1];
    const f: Family[] = [
      {
        name: 'h',
        type: 'histogram',
        help: '',
        unit: '',
        series: [
          { labels: 'a="1"', bounds, counts: [1, 1, 1], sum: 1, count: 3 },
          { labels: 'a="2"', bounds, counts: [0, 2, 0], sum: 1, count: 2 },
          { labels: 'a="3"', bounds: [0.5], counts: [1, 0], sum: 0.2, count: 1 },
        ],
      },
    ];
    const lines = renderOpenMetrics(f)
      .split('\n')
      .filter((l) => l.startsWith('h_bucket'));
    assert.deepEqual(lines, [
      'h_bucket{a="1",le="0.1"} 1',
      'h_bucket{a="1",le="1.0"} 2',
      'h_bucket{a="1",le="+Inf"} 3',
      'h_bucket{a="2",le="0.1"} 0',
      'h_bucket{a="2",le="1.0"} 2',
      'h_bucket{a="2",le="+Inf"} 2',
      'h_bucket{a="3",le="0.5"} 1',
      'h_bucket{a="3",le="+Inf"} 1',
    ]);
  });
});

// The checker itself must be able to fail, or the suite above proves nothing.
describe('the checker rejects broken expositions', () => {
  const cases: Array<[string, 'text' | 'openmetrics', string, RegExp]> = [
    ['missing # EOF', 'openmetrics', '# TYPE a gauge\na 1\n', /# EOF/],
    ['# EOF not last', 'openmetrics', '# EOF\n# TYPE a gauge\na 1\n', /# EOF/],
    ['# EOF in text', 'text', '# TYPE a gauge\na 1\n# EOF\n', /unexpected # line/],
    ['two TYPE lines', 'text', '# TYPE a gauge\n# TYPE a gauge\na 1\n', /second # TYPE/],
    [
      'interleaved families',
      'text',
      '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na{x="1"} 1\n',
      /appears again/,
    ],
    ['duplicate series', 'text', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n', /duplicate series/],
    [
      'OM counter sample without _total',
      'openmetrics',
      '# TYPE a counter\na 1\n# EOF\n',
      /no # TYPE of its own family/,
    ],
    [
      'non-cumulative buckets',
      'text',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n',
      /not cumulative/,
    ],
    [
      'unsorted buckets',
      'text',
      '# TYPE h histogram\nh_bucket{le="2"} 1\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /ascending/,
    ],
    [
      '+Inf != _count',
      'text',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
      /\+Inf bucket != _count/,
    ],
    [
      'no +Inf bucket',
      'text',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
      /no \+Inf/,
    ],
    [
      'non-canonical OM le',
      'openmetrics',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n# EOF\n',
      /not canonical/,
    ],
    [
      'le not last',
      'text',
      '# TYPE h histogram\nh_bucket{le="+Inf",a="b"} 1\nh_sum{a="b"} 1\nh_count{a="b"} 1\n',
      /le is not the last/,
    ],
    [
      'UNIT not a suffix',
      'openmetrics',
      '# TYPE a gauge\n# UNIT a seconds\na 1\n# EOF\n',
      /not its suffix/,
    ],
    ['metadata order', 'openmetrics', '# HELP a h\n# TYPE a gauge\na 1\n# EOF\n', /metadata order/],
    ['bad escape', 'text', '# TYPE a gauge\na{x="\\t"} 1\n', /undefined escape/],
    ['raw quote in label', 'text', '# TYPE a gauge\na{x="a"b"} 1\n', /expected , or \}/],
    ['empty family', 'text', '# TYPE a gauge\n', /no samples/],
    ['no trailing newline', 'text', '# TYPE a gauge\na 1', /newline/],
    ['blank line', 'text', '# TYPE a gauge\n\na 1\n', /empty line/],
  ];
  for (const [what, format, text, pattern] of cases) {
    test(what, () => {
      const problems = checkExposition(text, format);
      assert.ok(problems.length > 0, `expected a violation for: ${what}`);
      assert.match(problems.join('\n'), pattern);
    });
  }
});
