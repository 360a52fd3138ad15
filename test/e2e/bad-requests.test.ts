/**
 * docs/collector.md's side-by-side table of bad requests (test/e2e/bad-requests.ts) is what the
 * real Collector's receiver and jobmeter's ingest answer today, and they differ only where the
 * table says why.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  collectAnswers,
  DOC,
  REGENERATE,
  renderTable,
  UNEXPLAINED,
  updateDoc,
} from './bad-requests.ts';

test('the same bad requests to the real Collector and to jobmeter: the documented table, no unexplained difference', async () => {
  const rows = await collectAnswers();
  const table = renderTable(rows);
  const unexplained = table.split('\n').filter((line) => line.endsWith(`| ${UNEXPLAINED} |`));
  assert.deepEqual(unexplained, []);
  // The deliberate differences stay deliberate: an oversized body is 413 here, 400 there.
  const oversized = rows.filter((r) => r.request.why !== undefined && r.request.series !== true);
  assert.ok(oversized.length >= 2);
  for (const r of oversized)
    assert.deepEqual([r.collector.status, r.jobmeter.status], [400, 413], r.request.what);
  // A request with data points: what the Collector accepts is accepted, what it refuses refused,
  // and the series served are the Collector's, or (where the row says why) one fewer: the one
  // point refused in partial_success, never the request; their values, where the row compares
  // them, are the Collector's, or (where the row says why) the two it names, counts and all.
  const withSeries = rows.filter((r) => r.request.series === true);
  assert.ok(withSeries.length >= 12);
  for (const r of withSeries) {
    // A status of its own only where the row says so, and then exactly that one.
    const { statuses, values, why, what } = r.request;
    if (statuses !== undefined) {
      assert.ok(why !== undefined, what);
      assert.deepEqual([r.collector.status, r.jobmeter.status], statuses, what);
      continue;
    }
    assert.equal(r.jobmeter.status, r.collector.status, what);
    if (Array.isArray(values)) {
      assert.ok(why !== undefined, what);
      assert.deepEqual([r.collector.values, r.jobmeter.values], values, what);
      continue;
    }
    assert.equal(
      r.jobmeter.served,
      why === undefined ? r.collector.served : r.collector.served! - 1,
      what,
    );
    if (values === true) assert.equal(r.jobmeter.values, r.collector.values, what);
  }
  assert.ok(withSeries.some((r) => r.request.values === true && r.jobmeter.served! >= 3));
  assert.ok(withSeries.some((r) => r.collector.status === 200 && r.jobmeter.served! >= 100));
  assert.ok(withSeries.some((r) => r.collector.status === 400));
  const doc = readFileSync(DOC, 'utf8');
  assert.equal(
    doc,
    updateDoc(doc, table),
    `docs/collector.md's bad-requests table is out of date; run: ${REGENERATE}`,
  );
});
