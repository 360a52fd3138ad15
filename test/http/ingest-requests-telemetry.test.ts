/**
 * The ingest's answers are one table (ingest/ingest-errors.ts): the status a request is answered
 * with is the `code` jobmeter_ingest_requests_total counts it under, for every reason a request
 * here can be given (the gate's 401 and 403: ingest-gate.test.ts), and every row of the table is
 * served from the start, at 0.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { INGEST_ANSWERS } from '../../src/ingest/ingest-errors.ts';
import { selfTelemetryOf, servedJobmeter } from '../support/served-jobmeter.ts';

const JSON_TYPE = { 'content-type': 'application/json' };

test('each request is counted under the status it was answered with, every row served from the start', async () => {
  const jm = await servedJobmeter({
    listener: false,
    global: false,
    ingest: { port: 0, maxBodyBytes: 1024 },
  });
  try {
    const requests = async (): Promise<Map<string, number>> =>
      new Map(
        (await selfTelemetryOf(jm)!.families())
          .find((f) => f.name === 'jobmeter_ingest_requests_total')!
          .series.map((s) => [s.labels, (s as { value: number }).value]),
      );
    assert.deepEqual(
      [...(await requests())],
      Object.entries(INGEST_ANSWERS).map(([reason, { status }]) => [
        `code="${status}",protocol="http",reason="${reason}"`,
        0,
      ]),
    );
    const { host, port } = jm.ingestAddress!;
    const base = `http://${host}:${port}`;
    const sent: Array<[string, RequestInit]> = [
      ['/v1/metrics', { method: 'POST', headers: JSON_TYPE, body: '{}' }],
      ['/v1/metrics', { method: 'POST', headers: JSON_TYPE, body: '{"resourceMetrics":' }],
      ['/v1/metrics', { method: 'POST', headers: JSON_TYPE, body: 'x'.repeat(4096) }],
      ['/v1/metrics', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '' }],
      ['/v1/metrics', { method: 'GET' }],
      ['/v1/traces', { method: 'POST', headers: JSON_TYPE, body: '{}' }],
    ];
    const answered = new Map<string, number>();
    for (const [path, init] of sent) {
      const response = await fetch(base + path, init);
      await response.arrayBuffer();
      answered.set(String(response.status), (answered.get(String(response.status)) ?? 0) + 1);
    }
    assert.deepEqual([...answered.keys()].sort(), ['200', '400', '404', '405', '413', '415']);
    const counted = new Map<string, number>();
    for (const [labels, value] of await requests()) {
      const code = /code="(\d+)"/.exec(labels)![1]!;
      counted.set(code, (counted.get(code) ?? 0) + value);
    }
    for (const [status, n] of answered) assert.equal(counted.get(status), n, status);
  } finally {
    await jm.shutdown();
  }
});
