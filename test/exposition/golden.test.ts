// Golden renders of a fixed family set, compared byte for byte.
// UPDATE_GOLDEN=1 node --test test/exposition/golden.test.ts rewrites the files (then review them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import { allTypes } from './fixtures.ts';

const GOLDEN_DIR = new URL('./golden/', import.meta.url);

function golden(file: string, actual: string): void {
  const url = new URL(file, GOLDEN_DIR);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(url, actual, 'utf8');
  assert.equal(
    actual,
    readFileSync(url, 'utf8'),
    `${file} differs; rerun with UPDATE_GOLDEN=1 and review the diff`,
  );
}

test('OpenMetrics golden: every family type', () => {
  golden('all-types.om.txt', renderOpenMetrics(allTypes()));
});

test('text 0.0.4 golden: every family type', () => {
  golden('all-types.prom.txt', renderPrometheusText(allTypes()));
});

test('no families: OpenMetrics is just # EOF, text is empty', () => {
  assert.equal(renderOpenMetrics([]), '# EOF\n');
  assert.equal(renderPrometheusText([]), '');
});
