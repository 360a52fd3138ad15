// renderPieces' pieces, written as the body store writes them (test/support/render-bytes.ts): the
// bytes of render() (the body store, test/http/body-store.test.ts, gives the event loop back while
// it writes them), each piece's ASCII mark true to its text. Also the shortcuts the renderers take (a histogram series'
// prefix, the value-line table) must not change a byte.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { render, renderPieces } from '../../src/exposition/render.ts';
import { renderBuffers } from '../support/render-bytes.ts';
import {
  bucketLinePrefix,
  type RenderFamily as Family,
  type RenderHistogramSeries as HistogramSeries,
} from '../../src/exposition/render-model.ts';
import { valueLine } from '../../src/exposition/samples.ts';
import { allTypes } from './fixtures.ts';

function big(counters: number, histograms: number): Family[] {
  const bounds = [0.01, 0.1, 1, 10];
  return [
    {
      name: 'c_total',
      type: 'counter',
      help: 'c',
      unit: '',
      series: Array.from({ length: counters }, (_, i) => ({
        labels: `task="t${i}"`,
        value: i * 3,
      })),
    },
    {
      name: 'h_seconds',
      type: 'histogram',
      help: 'h',
      unit: 'seconds',
      series: Array.from({ length: histograms }, (_, i) => ({
        labels: `task="t${i}"`,
        bounds,
        counts: [1, 0, 2, 0, i],
        sum: i / 2,
        count: 3 + i,
      })),
    },
  ];
}

describe('renderBuffers', () => {
  for (const format of ['text', 'openmetrics'] as const) {
    test(`${format}: the pieces are the bytes of render(), whole lines each`, () => {
      for (const families of [allTypes(), big(5000, 500)]) {
        const pieces = [...renderBuffers(format, families, 4096)];
        assert.ok(Buffer.concat(pieces).equals(Buffer.from(render(format, families), 'utf8')));
        for (const p of pieces) assert.equal(p.at(-1), 0x0a, 'a piece ends mid-line');
      }
    });
  }

  test('families marked ascii (written as Latin-1) give the same bytes; a non-ASCII help still goes out as UTF-8', () => {
    for (const format of ['text', 'openmetrics'] as const) {
      const marked = big(3000, 300).map((f) => ({ ...f, ascii: true }));
      marked[0] = { ...marked[0]!, help: 'caf\u00e9 \u{1F680}' };
      assert.ok(
        Buffer.concat([...renderBuffers(format, marked, 4096)]).equals(
          Buffer.from(render(format, marked), 'utf8'),
        ),
      );
    }
  });

  test('a bad chunk size throws at the call', () => {
    assert.throws(() => renderPieces('text', allTypes(), 0), {
      name: 'RangeError',
      message: /chunkBytes/,
    });
  });
});

describe('renderer shortcuts', () => {
  test('valueLine is the sample value and a newline, small integers or not', () => {
    for (const v of [0, -0, 1, 7, 1023, 1024, -1, 0.5, 1e21, NaN, Infinity, -Infinity, 2 ** 31]) {
      assert.equal(
        valueLine(v),
        (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v)) +
          '\n',
        String(v),
      );
    }
  });

  test("a histogram series' prefix gives the same lines as its labels", () => {
    const families = big(0, 50);
    const withPrefix = families.map((f) =>
      f.type === 'histogram'
        ? {
            ...f,
            series: f.series.map((s: HistogramSeries) => ({
              ...s,
              prefix: bucketLinePrefix(f.name, s.labels),
            })),
          }
        : f,
    );
    const plain: HistogramSeries = { labels: '', bounds: [1], counts: [1, 1], sum: 3, count: 2 };
    const unlabelled = (s: HistogramSeries): Family[] => [
      { name: 'u', type: 'histogram', help: '', unit: '', series: [s] },
    ];
    for (const format of ['text', 'openmetrics'] as const) {
      assert.equal(render(format, withPrefix), render(format, families));
      assert.equal(
        render(format, unlabelled({ ...plain, prefix: bucketLinePrefix('u', '') })),
        render(format, unlabelled(plain)),
      );
    }
  });
});
