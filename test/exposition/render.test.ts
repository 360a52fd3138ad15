// render / renderPieces: dispatch, and pieces that join back to the whole exposition.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Family } from '../../src/exposition/types.ts';
import { render, renderPieces } from '../../src/exposition/render.ts';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import { checkExposition } from '../support/exposition-parser.ts';
import { allTypes } from './fixtures.ts';

/** The texts of renderPieces' pieces. */
const texts = (...args: Parameters<typeof renderPieces>): string[] =>
  Array.from(renderPieces(...args), (piece) => piece.text);

function big(counterSeries: number, histogramSeries: number): Family[] {
  const bounds = [0.01, 0.1, 1, 10];
  return [
    {
      name: 'c_total',
      type: 'counter',
      help: 'c',
      unit: '',
      series: Array.from({ length: counterSeries }, (_, i) => ({
        labels: `task="t${i}"`,
        value: i,
      })),
    },
    {
      name: 'h_seconds',
      type: 'histogram',
      help: 'h',
      unit: 'seconds',
      series: Array.from({ length: histogramSeries }, (_, i) => ({
        labels: `task="t${i}"`,
        bounds,
        counts: [1, 0, 2, 0, i],
        sum: i / 2,
        count: 3 + i,
      })),
    },
    { name: 'g', type: 'gauge', help: '', unit: '', series: [{ labels: '', value: 1 }] },
  ];
}

describe('render', () => {
  test('dispatches on the format', () => {
    assert.equal(render('openmetrics', allTypes()), renderOpenMetrics(allTypes()));
    assert.equal(render('text', allTypes()), renderPrometheusText(allTypes()));
    assert.notEqual(render('openmetrics', allTypes()), render('text', allTypes()));
  });
});

describe('renderPieces', () => {
  for (const format of ['text', 'openmetrics'] as const) {
    test(`${format}: chunks join to render(), are whole lines, and respect the size`, () => {
      const families = big(3000, 300);
      const whole = render(format, families);
      for (const size of [1, 100, 4096, 65536]) {
        const chunks = texts(format, families, size);
        assert.equal(chunks.join(''), whole, `chunk size ${size}`);
        for (const c of chunks) assert.ok(c.endsWith('\n'), 'a chunk ends mid-line');
        // Every chunk but the last reached the size; none overshoots by more than one series
        // (a histogram series here is under 400 characters).
        for (const c of chunks.slice(0, -1))
          assert.ok(c.length >= size && c.length < size + 400, `${c.length} vs ${size}`);
        if (size === 65536) assert.ok(chunks.length >= 3, `only ${chunks.length} chunks`);
      }
      assert.deepEqual(checkExposition(whole, format), []);
    });
  }

  test('the default size is 64 KiB', () => {
    const chunks = texts('text', big(3000, 300));
    assert.ok(chunks.length > 1);
    assert.ok(chunks[0]!.length >= 65536 && chunks[0]!.length < 65536 + 400);
  });

  test('Infinity gives a single chunk', () => {
    assert.deepEqual(texts('openmetrics', allTypes(), Infinity), [renderOpenMetrics(allTypes())]);
  });

  test('no families: OpenMetrics still yields # EOF, text yields nothing', () => {
    assert.deepEqual(texts('openmetrics', []), ['# EOF\n']);
    assert.deepEqual(texts('text', []), []);
  });

  test('a bad chunk size throws at the call, naming the option', () => {
    for (const bad of [0, -1, NaN]) {
      assert.throws(() => renderPieces('text', allTypes(), bad), {
        name: 'RangeError',
        message: /chunkBytes/,
      });
    }
  });
});
