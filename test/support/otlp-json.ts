import assert from 'node:assert/strict';

/**
 * One OTLP/JSON metric (`{ name, unit, sum | histogram | exponentialHistogram }`) POSTed to the
 * ingest listening on `port`, as a request of one resource with no attributes and one scope,
 * `scope` (`daemon`: what a daemon's SDK sends). Asserts a 200; returns its body.
 */
export async function postMetric(port: number, metric: object, scope = 'daemon'): Promise<string> {
  const body = {
    resourceMetrics: [
      {
        resource: { attributes: [] },
        scopeMetrics: [{ scope: { name: scope }, metrics: [metric] }],
      },
    ],
  };
  const r = await fetch(`http://127.0.0.1:${port}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await r.text();
  assert.equal(r.status, 200, answer);
  return answer;
}
