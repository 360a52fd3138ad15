// Number formatting: sample values, text `le`, OpenMetrics canonical `le` (Go %g + ".0").
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatGoFloat,
  formatLeOpenMetrics,
  formatSampleValue,
  leLayoutOpenMetrics,
  leLayoutText,
} from '../../src/exposition/numbers.ts';
import { isCanonicalOpenMetricsNumber } from '../support/exposition-parser.ts';

describe('formatSampleValue', () => {
  test('special values', () => {
    assert.equal(formatSampleValue(NaN), 'NaN');
    assert.equal(formatSampleValue(Infinity), '+Inf');
    assert.equal(formatSampleValue(-Infinity), '-Inf');
  });

  test('finite values use the shortest round-trip spelling', () => {
    const table: Array<[number, string]> = [
      [0, '0'],
      [-0, '0'],
      [1, '1'],
      [-2.5, '-2.5'],
      [0.1, '0.1'],
      [1e21, '1e+21'],
      [1.5e-7, '1.5e-7'],
      [123456789012, '123456789012'],
      [Number.MAX_VALUE, '1.7976931348623157e+308'],
      [5e-324, '5e-324'],
    ];
    for (const [v, s] of table) assert.equal(formatSampleValue(v), s, String(v));
  });

  test('property: every finite double round-trips through Go-parseable text', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const s = formatSampleValue(v);
        assert.match(s, /^-?\d+(\.\d+)?(e[+-]\d+)?$/);
        assert.ok(Object.is(Number(s), v) || (v === 0 && Number(s) === 0));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('le rendering', () => {
  test('text 0.0.4: plain JS spelling, as prom-client writes it', () => {
    assert.deepEqual([1, 0.025, 10, 1e6, 0.5].map(formatSampleValue), [
      '1',
      '0.025',
      '10',
      '1000000',
      '0.5',
    ]);
    assert.equal(formatSampleValue(Infinity), '+Inf');
  });

  test('OpenMetrics: the canonical examples of the OpenMetrics 1.0 spec', () => {
    // "Canonical Numbers" and the histogram example of the spec.
    const table: Array<[number, string]> = [
      [0, '0.0'],
      [0.001, '0.001'],
      [0.002, '0.002'],
      [0.01, '0.01'],
      [0.1, '0.1'],
      [0.9, '0.9'],
      [0.95, '0.95'],
      [0.99, '0.99'],
      [0.999, '0.999'],
      [1, '1.0'],
      [1.7, '1.7'],
      [10, '10.0'],
      [1e-10, '1e-10'],
      [1e-9, '1e-09'],
      [1e-5, '1e-05'],
      [1e-4, '0.0001'],
      [100000, '100000.0'],
      [1e6, '1e+06'],
      [1e10, '1e+10'],
      [1e23, '1e+23'],
      [1.1e23, '1.1e+23'],
      [Infinity, '+Inf'],
      [0.025, '0.025'],
      [2.5, '2.5'],
      [1048576, '1.048576e+06'],
      [-3, '-3.0'],
      [1e100, '1e+100'],
    ];
    for (const [v, s] of table) assert.equal(formatLeOpenMetrics(v), s, String(v));
  });

  test("Go's %g: exponent below 1e-4 and from 1e6 on, two exponent digits at least", () => {
    const table: Array<[number, string]> = [
      [999999, '999999'],
      [1234567, '1.234567e+06'],
      [0.00012, '0.00012'],
      [0.000012, '1.2e-05'],
      [-2e7, '-2e+07'],
      [5e-324, '5e-324'],
      [Number.MAX_VALUE, '1.7976931348623157e+308'],
      [-0, '0'],
    ];
    for (const [v, s] of table) assert.equal(formatGoFloat(v), s, String(v));
  });

  test('property: OpenMetrics le is canonical and round-trips for every finite double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const s = formatLeOpenMetrics(v);
        assert.ok(isCanonicalOpenMetricsNumber(s), s);
        assert.equal(Number(s), v === 0 ? 0 : v);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('le layout cache', () => {
  test('is computed once per bounds array (identity), separately per format', () => {
    const bounds = [0.1, 1];
    const text = leLayoutText(bounds);
    assert.equal(leLayoutText(bounds), text);
    assert.notEqual(leLayoutText([0.1, 1]), text);
    assert.deepEqual(text.suffixes, ['0.1"} ', '1"} ']);
    assert.deepEqual(leLayoutOpenMetrics(bounds).suffixes, ['0.1"} ', '1.0"} ']);
    assert.equal(text.order, null);
  });

  test('unsorted bounds get an order; duplicates and non-finite bounds write no line', () => {
    const layout = leLayoutText([2, 1, 2, NaN]);
    assert.deepEqual(layout.order, [1, 0, 2, 3]);
    assert.deepEqual(layout.suffixes, ['1"} ', '', '2"} ', '']);
  });
});
