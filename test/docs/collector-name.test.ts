/**
 * Where docs/fleet.md and docs/collector.md say what the tests ran, they name the Collector the tests
 * build (test/peers/otelcol-builder.yaml's `dist.name`), not the distribution a reader installs:
 * the user's commands stay `otelcol …` (core or contrib), and each page says the tests' build is
 * another binary of the same components.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { parse as parseYaml } from 'yaml';

const read = (path: string): string =>
  readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const BUILT = (parseYaml(read('test/peers/otelcol-builder.yaml')) as { dist: { name: string } })
  .dist.name;

test("docs/fleet.md's claim of what was checked names the tests' Collector", () => {
  assert.equal(BUILT, 'otelcol-jobmeter');
  const page = read('docs/fleet.md').replace(/\s+/g, ' ');
  const claim =
    /All of this is checked against a real Collector [^:]*: `([^`]+)` accepts the file/.exec(page);
  assert.equal(claim?.[1], `${BUILT} validate`);
  const section = page.slice(
    page.indexOf('## Verify with the Collector'),
    page.indexOf('## Push to Prometheus 3'),
  );
  assert.ok(
    section.includes('otelcol validate --config otel-collector.yaml'),
    "the reader's own command",
  );
  assert.ok(section.includes(`the tests run \`${BUILT}\``), 'and which binary the tests run');
});

test("docs/collector.md's table of what the tests ran names the tests' Collector", () => {
  const doc = read('docs/collector.md');
  const row = doc.split('\n').find((l) => l.includes('| test/e2e/collector-config.test.ts |'));
  assert.ok(row?.startsWith(`| \`${BUILT} validate --config otel-collector.yaml\` |`), row);
  assert.ok(
    doc.replace(/\s+/g, ' ').includes(`the tests run \`${BUILT}\``),
    'the Verify section says which binary the tests run',
  );
});
