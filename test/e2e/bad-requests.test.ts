/**
 * docs/collector.md's side-by-side table of bad requests (test/e2e/bad-requests.ts) is what the
 * real Collector's receiver and jobmeter's ingest answer today, over OTLP/HTTP and OTLP/gRPC, and
 * they differ only where the table says why.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  type BadRequest,
  collectAnswers,
  DOC,
  grpcCallOf,
  REGENERATE,
  renderTable,
  UNEXPLAINED,
  updateDoc,
} from './bad-requests.ts';

interface Served {
  served?: number;
  values?: string;
}

/**
 * The series served after a request with data points: the Collector's, or (where the row says
 * why) one fewer, the one point refused in partial_success, never the request; their values, where
 * the row compares them, the Collector's, or (where the row says why) the two it names.
 */
function sameSeries(
  request: Pick<BadRequest, 'what' | 'values'>,
  why: string | undefined,
  collector: Served,
  jobmeter: Served,
): void {
  const { values, what } = request;
  if (Array.isArray(values)) {
    assert.ok(why !== undefined, what);
    assert.deepEqual([collector.values, jobmeter.values], values, what);
    return;
  }
  assert.equal(jobmeter.served, why === undefined ? collector.served : collector.served! - 1, what);
  if (values === true) assert.equal(jobmeter.values, collector.values, what);
}

test('the same bad requests to the real Collector and to jobmeter: the documented table, no unexplained difference', async () => {
  const rows = await collectAnswers();
  const table = renderTable(rows);
  const unexplained = table.split('\n').filter((line) => line.includes(`| ${UNEXPLAINED} |`));
  assert.deepEqual(unexplained, []);
  // The deliberate differences stay deliberate: an oversized body is 413 here, 400 there.
  const oversized = rows.filter(
    (r) => r.http !== undefined && r.request.why !== undefined && r.request.series !== true,
  );
  assert.ok(oversized.length >= 2);
  for (const r of oversized)
    assert.deepEqual(
      [r.http!.collector.status, r.http!.jobmeter.status],
      [400, 413],
      r.request.what,
    );
  // A request with data points: what the Collector accepts is accepted, what it refuses refused,
  // and the series served as sameSeries says.
  const withSeries = rows.filter((r) => r.request.series === true && r.http !== undefined);
  assert.ok(withSeries.length >= 12);
  for (const r of withSeries) {
    const { collector, jobmeter } = r.http!;
    // A status of its own only where the row says so, and then exactly that one.
    const { statuses, why, what } = r.request;
    if (statuses !== undefined) {
      assert.ok(why !== undefined, what);
      assert.deepEqual([collector.status, jobmeter.status], statuses, what);
      continue;
    }
    assert.equal(jobmeter.status, collector.status, what);
    sameSeries(r.request, why, collector, jobmeter);
  }
  assert.ok(withSeries.some((r) => r.request.values === true && r.http!.jobmeter.served! >= 3));
  assert.ok(
    withSeries.some((r) => r.http!.collector.status === 200 && r.http!.jobmeter.served! >= 100),
  );
  assert.ok(withSeries.some((r) => r.http!.collector.status === 400));
  // Over gRPC, the same rule by gRPC code: the Collector's code unless the call names both.
  const overGrpc = rows.filter((r) => r.grpc !== undefined);
  assert.ok(overGrpc.length >= 20);
  for (const r of overGrpc) {
    const { collector, jobmeter } = r.grpc!;
    const { codes, why } = grpcCallOf(r.request)!;
    const { what } = r.request;
    if (codes !== undefined) {
      assert.ok(why !== undefined, what);
      assert.deepEqual([collector.code, jobmeter.code], codes, what);
      continue;
    }
    assert.equal(jobmeter.code, collector.code, what);
    if (r.request.series !== true) continue;
    sameSeries(r.request, why, collector, jobmeter);
  }
  assert.ok(overGrpc.some((r) => r.grpc!.collector.code === 0 && r.grpc!.jobmeter.served! >= 100));
  assert.ok(overGrpc.some((r) => r.request.http === false && r.grpc!.jobmeter.code === 12));
  const doc = readFileSync(DOC, 'utf8');
  assert.equal(
    doc,
    updateDoc(doc, table),
    `docs/collector.md's bad-requests table is out of date; run: ${REGENERATE}`,
  );
});
