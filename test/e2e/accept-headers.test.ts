/**
 * What jobmeter's pull endpoint answers the Accept headers real scrapers send, captured live from
 * each (test/e2e/accept-headers.ts), and docs/pull-endpoint.md's table of them is current.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { chooseEncoding, negotiate } from '../../src/exposition/negotiate.ts';
import { captureScrapers, PAGE, REGENERATE, renderTable, updatePage } from './accept-headers.ts';

test("real scrapers' Accept headers: each gets the format, version and escaping it prefers, and docs/pull-endpoint.md lists them", async () => {
  const scrapers = await captureScrapers();
  const got = Object.fromEntries(
    scrapers.map((s) => [
      s.who.split(' (')[0]!.replace(/, protobuf first.*/, ', protobuf first'),
      { ...negotiate(s.accept), encoding: chooseEncoding(s.acceptEncoding) },
    ]),
  );
  const om = (escaping: string) => ({
    format: 'openmetrics',
    version: '1.0.0',
    escaping,
    encoding: 'gzip',
  });
  const prometheus3 = Object.keys(got).find((k) => /^Prometheus 3\.\d+\.\d+$/.test(k))!;
  assert.deepEqual(got['Prometheus 2.42'], om('underscores'), '2.42 names no escaping');
  assert.deepEqual(got[prometheus3], om('allow-utf-8'));
  assert.deepEqual(got[`${prometheus3}, protobuf first`], { format: 'protobuf', encoding: 'gzip' });
  assert.deepEqual(got[`${prometheus3}, \`--enable-feature=zstd-scrape\``], {
    ...om('allow-utf-8'),
    encoding: 'zstd',
  });
  assert.deepEqual(got[`${prometheus3}, OpenMetrics 2.0`], {
    format: 'openmetrics2',
    version: '2.0.0',
    escaping: 'allow-utf-8',
    encoding: 'gzip',
  });
  assert.deepEqual(got["the Collector's prometheus receiver"], om('allow-utf-8'));
  assert.deepEqual(got['curl'], { format: 'text', version: '0.0.4', encoding: undefined });
  const doc = readFileSync(PAGE, 'utf8');
  assert.equal(
    doc,
    updatePage(doc, renderTable(scrapers)),
    `docs/pull-endpoint.md's Accept table is out of date; run: ${REGENERATE}`,
  );
});
