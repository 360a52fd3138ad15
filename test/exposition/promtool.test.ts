// Prometheus's own text-format parser and linter (promtool 2.42) accepts what we render.
// `promtool check metrics` reads text 0.0.4 from stdin; exit 0 = clean, 3 = lint findings only,
// 1 = parse error ("error while linting").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { renderPrometheusText } from '../../src/exposition/text.ts';
import type { Family } from '../../src/exposition/types.ts';
import { allTypes, labelPairs, wellNamed } from './fixtures.ts';

const PROMTOOL = '/usr/bin/promtool';

function checkMetrics(text: string): { status: number | null; output: string } {
  assert.ok(
    existsSync(PROMTOOL),
    `${PROMTOOL} is missing; install it with: apt-get update && apt-get install -y --no-install-recommends prometheus`,
  );
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], {
    input: text,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.error, undefined, `running promtool failed: ${String(r.error)}`);
  return { status: r.status, output: r.stdout + r.stderr };
}

test('promtool: a well-named family set is clean (no parse error, no lint finding)', () => {
  // Add awkward but legal label values: escapes, CR, tab, NUL, non-ASCII, a lone surrogate.
  const awkward: Family = {
    name: 'jobmeter_awkward_total',
    type: 'counter',
    help: 'Awkward label values.',
    unit: '',
    series: [
      {
        labels: labelPairs(['task'], ['a\rb\tc\u0000d "\\\n \u00e9\u{1F680} \uD800']),
        value: 2,
      },
    ],
  };
  const families = [...wellNamed(), awkward];
  const { status, output } = checkMetrics(renderPrometheusText(families));
  assert.equal(output, '');
  assert.equal(status, 0);
});

test('promtool: the full fixture set parses (only lint findings about its deliberate names)', () => {
  const { status, output } = checkMetrics(renderPrometheusText(allTypes()));
  assert.doesNotMatch(output, /error while linting|parsing error/);
  assert.equal(status, 3, output);
});

test('promtool: the check can fail (a broken exposition is rejected)', () => {
  const { status, output } = checkMetrics('# TYPE a gauge\na{x="1} 1\n');
  assert.equal(status, 1);
  assert.match(output, /parsing error/);
});
