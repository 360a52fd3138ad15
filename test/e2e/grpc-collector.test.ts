/**
 * The real Collector (the release pinned in test/peers/versions.env) forwarding to jobmeter's
 * OTLP/gRPC ingest with its own `otlp_grpc` exporter (gzip, its default): what its sender posts
 * arrives, served as the same point forwarded over `otlp_http`; with a wrong token the Collector
 * reads jobmeter's UNAUTHENTICATED as a permanent error, nothing arrives, and jobmeter counts the
 * refusal under the gRPC code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Jobmeter } from '../../src/jobmeter.ts';
import { selfTelemetryOf, servedJobmeter } from '../support/served-jobmeter.ts';
import { throughCollector } from '../support/collector.ts';

const TOKEN = 'collector-grpc-TOKEN-8e0a';

let jm: Jobmeter;
before(async () => {
  jm = await servedJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    ingest: { port: 0, grpcPort: 0, token: TOKEN },
  });
});
after(async () => {
  await jm?.shutdown();
});

/** `name`'s point through a Collector forwarding by `exporter` with `token`. */
function forwarded(
  exporter: 'otlp_grpc' | 'otlp_http',
  token: string,
  name: string,
): Promise<{ status: number; logs: string }> {
  const target =
    exporter === 'otlp_grpc'
      ? { endpoint: `127.0.0.1:${jm.ingestGrpcAddress!.port}`, tls: { insecure: true } }
      : { metrics_endpoint: `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics` };
  return throughCollector(
    { [exporter]: { ...target, headers: { authorization: `Bearer ${token}` } } },
    name,
  );
}

/** The served series of `prefix`, by their labels (the metric name cut off). */
async function served(prefix: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const f of await jm.scrape())
    if (f.name.startsWith(prefix))
      for (const s of f.series) out.set(`${f.name.slice(prefix.length)}{${s.labels}}`, s);
  return out;
}

/** jobmeter_ingest_requests_total's series `labels`. */
async function requests(labels: string): Promise<number> {
  const family = (await selfTelemetryOf(jm)!.families()).find(
    (f) => f.name === 'jobmeter_ingest_requests_total',
  )!;
  return (family.series.find((s) => s.labels === labels) as { value: number } | undefined)!.value;
}

describe("the real Collector's otlp_grpc exporter sending to jobmeter's gRPC ingest", () => {
  it('the point arrives, served as the same point forwarded over otlp_http', async () => {
    const overGrpc = await forwarded('otlp_grpc', TOKEN, 'via.grpc');
    assert.equal(overGrpc.status, 200, overGrpc.logs);
    assert.doesNotMatch(overGrpc.logs, /Exporting failed|error/i, overGrpc.logs);
    const overHttp = await forwarded('otlp_http', TOKEN, 'via.http');
    assert.equal(overHttp.status, 200, overHttp.logs);
    const grpc = await served('via_grpc');
    assert.ok(
      [...grpc.values()].some((s) => (s as { value?: number }).value === 7),
      JSON.stringify([...grpc]),
    );
    assert.deepEqual(grpc, await served('via_http'));
    assert.equal(await requests('code="0",protocol="grpc",reason="accepted"'), 1);
  });

  it('with a wrong token: UNAUTHENTICATED, permanent to the Collector, nothing arrives, counted', async () => {
    const { status, logs } = await forwarded('otlp_grpc', `${TOKEN}x`, 'wrong.token');
    assert.equal(status, 401, 'the Collector hands the failure to its sender');
    assert.match(logs, /Permanent error: rpc error: code = Unauthenticated/, logs);
    assert.ok(!logs.includes(TOKEN), 'the token is not in the Collector log');
    assert.equal((await served('wrong_token')).size, 0);
    assert.equal(await requests('code="16",protocol="grpc",reason="unauthorized"'), 1);
  });
});
