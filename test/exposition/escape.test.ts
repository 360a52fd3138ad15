// Escaping: examples, and fast-check properties that arbitrary label values and HELP texts
// (quotes, backslashes, newlines, lone surrogates, up to 100k characters) survive a render/parse
// round trip as valid UTF-8.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Family } from '../../src/exposition/types.ts';
import { escapeHelpText, escapeLabelValue } from '../../src/exposition/escape.ts';
import { labelsText } from '../../src/naming/attribute-labels.ts';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import { checkExposition, parseExposition } from '../support/exposition-parser.ts';

/** What a string becomes once valid UTF-16: lone surrogates → U+FFFD (independent of the source). */
function wellFormed(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
        continue;
      }
    }
    out += c >= 0xd800 && c <= 0xdfff ? '\uFFFD' : s[i];
  }
  return out;
}

/** One UTF-16 unit or code point, biased towards the characters that need care. */
const unit = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      '"',
      '\\',
      '\n',
      '\\n',
      '\\"',
      '{',
      '}',
      ',',
      '=',
      ' ',
      '#',
      '\r',
      '\t',
      '\0',
    ),
    weight: 4,
  },
  {
    arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
    weight: 2,
  },
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), weight: 3 },
);
const value = fc.string({ unit, maxLength: 60 });
/** Long strings: a random piece repeated up to 100 000 characters. */
const longValue = fc
  .tuple(fc.string({ unit, minLength: 1, maxLength: 12 }), fc.integer({ min: 1000, max: 100_000 }))
  .map(([piece, length]) => piece.repeat(Math.ceil(length / piece.length)).slice(0, length));

function gauge(labels: string, help = ''): Family[] {
  return [{ name: 'g', type: 'gauge', help, unit: '', series: [{ labels, value: 1 }] }];
}

function assertUtf8(out: string): void {
  assert.equal(Buffer.from(out, 'utf8').toString('utf8'), out, 'output is not valid UTF-8');
}

function labelsBack(
  out: string,
  format: 'text' | 'openmetrics',
): ReadonlyArray<readonly [string, string]> {
  const line = parseExposition(out, format).find((l) => l.kind === 'sample');
  assert.ok(line !== undefined && line.kind === 'sample');
  return line.labels;
}

describe('escapeLabelValue', () => {
  test('escapes backslash, quote and newline, in that spelling', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.equal(escapeLabelValue('\\n'), '\\\\n');
  });

  test('returns the very input when nothing needs escaping', () => {
    const s = 'plain value ' + 'x'.repeat(100);
    assert.equal(escapeLabelValue(s), s);
    assert.equal(escapeLabelValue(''), '');
  });

  test('replaces lone surrogates with U+FFFD and keeps pairs', () => {
    assert.equal(escapeLabelValue('a\uD800b\uDC00c\uD83D\uDE80'), 'a\uFFFDb\uFFFDc\u{1F680}');
    assert.equal(escapeLabelValue('"\uDBFF'), '\\"\uFFFD');
  });

  test('property: round-trips through both renderers as valid UTF-8', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const labels = labelsText({ a, b }, false);
        for (const out of [renderPrometheusText(gauge(labels)), renderOpenMetrics(gauge(labels))]) {
          assertUtf8(out);
        }
        for (const [out, format] of [
          [renderPrometheusText(gauge(labels)), 'text'],
          [renderOpenMetrics(gauge(labels)), 'openmetrics'],
        ] as const) {
          assert.deepEqual(checkExposition(out, format), []);
          assert.deepEqual(labelsBack(out, format), [
            ['a', wellFormed(a)],
            ['b', wellFormed(b)],
          ]);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('property: long values (up to 100k characters) round-trip', () => {
    fc.assert(
      fc.property(longValue, (v) => {
        const out = renderOpenMetrics(gauge(labelsText({ v }, false)));
        assertUtf8(out);
        assert.deepEqual(labelsBack(out, 'openmetrics'), [['v', wellFormed(v)]]);
      }),
      { numRuns: 30 },
    );
  });

  test('property: the escaped form never holds a raw newline or an unescaped quote', () => {
    fc.assert(
      fc.property(value, (v) => {
        const e = escapeLabelValue(v);
        assert.ok(!e.includes('\n'));
        assert.ok(!/(^|[^\\])(\\\\)*"/.test(e));
      }),
      { numRuns: 500 },
    );
  });
});

describe('HELP escaping', () => {
  test('text 0.0.4 escapes backslash and newline only', () => {
    assert.equal(escapeHelpText('a\\b"c\nd'), 'a\\\\b"c\\nd');
  });

  test('OpenMetrics also escapes quotes', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  });

  test('property: HELP texts round-trip in both formats as valid UTF-8', () => {
    fc.assert(
      fc.property(
        value.filter((h) => h !== ''),
        (help) => {
          for (const [out, format] of [
            [renderPrometheusText(gauge('', help)), 'text'],
            [renderOpenMetrics(gauge('', help)), 'openmetrics'],
          ] as const) {
            assertUtf8(out);
            const meta = parseExposition(out, format).find((l) => l.kind === 'HELP');
            assert.ok(meta !== undefined && meta.kind === 'HELP');
            assert.equal(meta.text, wellFormed(help));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("a series' label string (naming/attribute-labels.ts labelsText)", () => {
  test('joins escaped pairs in order, without braces', () => {
    assert.equal(labelsText({ a: 'x', b: 'y"' }, false), 'a="x",b="y\\""');
    assert.equal(labelsText({}, false), '');
  });
});
