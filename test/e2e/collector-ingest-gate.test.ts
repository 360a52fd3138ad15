/**
 * The ingest gate with the real Collector as the sender (the release pinned in
 * test/peers/versions.env): its `otlp_http` exporter forwards to an ingest that asks for a token.
 * With the right token in the exporter's `headers` the points arrive; with none or a wrong one
 * they do not, the Collector reports the failure (its log, and the error it hands its own sender),
 * and jobmeter counts the refusal as its own (jobmeter_ingest_requests_total), never in the profile's
 * rejection series, which is the host's own API's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Jobmeter } from '../../src/jobmeter.ts';
import { selfTelemetryOf, servedJobmeter } from '../support/served-jobmeter.ts';
import { throughCollector } from '../support/collector.ts';

const TOKEN = 'collector-ingest-TOKEN-3b9d';

let jm: Jobmeter;
before(async () => {
  jm = await servedJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    ingest: { port: 0, token: TOKEN },
  });
});
after(async () => {
  await jm?.shutdown();
});

/** `name`'s point through a Collector forwarding to jobmeter with `headers`. */
function forwarded(
  headers: Record<string, string> | undefined,
  name: string,
): Promise<{ status: number; logs: string }> {
  return throughCollector(
    {
      otlp_http: {
        metrics_endpoint: `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`,
        ...(headers !== undefined && { headers }),
      },
    },
    name,
  );
}

async function served(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const f of await jm.scrape())
    for (const s of f.series)
      if ('value' in s && typeof s.value === 'number') out.set(`${f.name}{${s.labels}}`, s.value);
  return out;
}

function rejected(series: Map<string, number>): number {
  return [...series]
    .filter(
      ([k]) => k.startsWith('jobmeter_request_rejected') && k.includes('reason="unauthorized"'),
    )
    .reduce((a, [, v]) => a + v, 0);
}

/** The ingest's 401s in jobmeter's own telemetry. */
async function unauthorized(): Promise<number> {
  const requests = (await selfTelemetryOf(jm)!.families()).find(
    (f) => f.name === 'jobmeter_ingest_requests_total',
  )!.series;
  return (
    (
      requests.find((s) => s.labels === 'code="401",protocol="http",reason="unauthorized"') as
        { value: number } | undefined
    )?.value ?? Number.NaN
  );
}

describe('the real Collector sending to a gated ingest (otlp_http headers)', () => {
  it('with the right token: the points arrive', async () => {
    const { status, logs } = await forwarded({ authorization: `Bearer ${TOKEN}` }, 'gate.right');
    assert.equal(status, 200, logs);
    assert.doesNotMatch(logs, /Exporting failed|error/i, logs);
    const series = await served();
    assert.ok(
      [...series].some(([k, v]) => k.startsWith('gate_right') && v === 7),
      [...series.keys()].join('\n'),
    );
  });

  for (const [what, headers] of [
    ['no token', undefined],
    ['a wrong token', { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }],
  ] as const) {
    it(`with ${what}: nothing arrives, the Collector reports the 401, jobmeter counts it`, async () => {
      const before = rejected(await served());
      const before401 = await unauthorized();
      const name = `gate.${what.replace(/\W+/g, '_')}`;
      const { status, logs } = await forwarded(headers, name);
      // The Collector reads jobmeter's google.rpc.Status: a permanent UNAUTHENTICATED, not retried,
      // logged with jobmeter's message, and handed on to its own sender as a 401.
      assert.equal(status, 401, 'the Collector hands the failure to its sender');
      assert.match(logs, /Exporting failed/, logs);
      assert.match(
        logs,
        /Permanent error: rpc error: code = Unauthenticated desc = .*HTTP Status Code 401, Message=unauthenticated: a valid bearer token is required/,
        logs,
      );
      assert.ok(!logs.includes(TOKEN), 'the token is not in the Collector log either');
      const series = await served();
      assert.ok(
        ![...series.keys()].some((k) => k.startsWith(name.replace('.', '_'))),
        [...series.keys()].join('\n'),
      );
      assert.equal(await unauthorized(), before401 + 1);
      assert.equal(
        rejected(series),
        before,
        "the profile's rejection series is the host API's alone",
      );
    });
  }
});
