/**
 * A stalled gRPC client costs itself, not everyone: while 300 connections (past `max_connections`,
 * 256 by default) hold serve's OTLP/gRPC port without making a call — silent, or the HTTP/2 preface
 * alone, or an `Export` stream whose message never arrives (test/e2e/grpc-stall-flood.ts; each one
 * closed is opened again at once) — a real OTLP/gRPC sender (the OTel JS gRPC exporter) exporting
 * every 0.5 s still gets nearly every export in, as the HTTP ingest holds under a slow-body flood
 * (test/e2e/slow-body-flood.test.ts). serve counts the connections it shed. The real Collector's
 * gRPC receiver under the same flood is reported beside it.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { afterEach, it } from 'node:test';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';

import { EXIT_MS, killChildren, START_MS } from '../cli/harness.ts';
import { startCollector } from '../support/collector.ts';
import {
  ACCEPTED_AT_LEAST,
  describeFigures,
  EXPORT_TIMEOUT_MS,
  exportsUnderFlood,
  FLOOD_CONNECTIONS,
  type Figures,
} from '../support/exports-under-flood.ts';
import { serveWithIngest } from '../support/serve.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-grpc-stall-');
afterEach(killChildren);

const FLOOD = fileURLToPath(new URL('./grpc-stall-flood.ts', import.meta.url));

/** A real OTLP/gRPC sender (the OTel JS gRPC exporter) to `port` under the flood. */
const underFlood = (port: number): Promise<Figures> =>
  exportsUnderFlood(
    FLOOD,
    port,
    new OTLPMetricExporter({ url: `http://127.0.0.1:${port}`, timeoutMillis: EXPORT_TIMEOUT_MS }),
    'grpc.exports.sent',
  );

it(
  'a real gRPC sender gets nearly every export in while 300 stalled gRPC connections hold the port',
  { timeout: 150_000 },
  async (t) => {
    const { child, pullPort } = await serveWithIngest(files, { lines: ['grpc_port = 0'] });
    const [, grpcPort] = await child.stderrMatches(
      /receiving OTLP\/gRPC metrics on 127\.0\.0\.1:(\d+)/,
      START_MS,
    );
    const jobmeter = await underFlood(Number(grpcPort));
    const telemetryUrl = /serving jobmeter's own telemetry on (http:\/\/\S+\/metrics)\n/.exec(
      child.stderr(),
    )![1]!;
    const telemetry = await (await fetch(telemetryUrl)).text();
    // What the sender counted is served: its last total.
    const body = await (await fetch(`http://127.0.0.1:${pullPort}/metrics`)).text();
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());

    const collectorHandle = await startCollector({
      ports: ['otlp'],
      config: (p) => ({
        receivers: { otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${p.otlp}` } } } },
        exporters: { debug: { verbosity: 'basic' } },
        service: { pipelines: { metrics: { receivers: ['otlp'], exporters: ['debug'] } } },
      }),
    });
    let collector: Figures;
    try {
      collector = await underFlood(collectorHandle.ports.otlp);
    } finally {
      await collectorHandle.stop();
    }

    const said = `jobmeter: ${describeFigures(jobmeter)}; Collector: ${describeFigures(collector)}`;
    t.diagnostic(said);
    assert.ok(jobmeter.flood.opened >= FLOOD_CONNECTIONS, said);
    assert.ok(jobmeter.accepted >= ACCEPTED_AT_LEAST * jobmeter.exports, said);
    const shed = /^jobmeter_ingest_connections_shed_total\{reason="headers"\} (\d+)$/m.exec(
      telemetry,
    );
    assert.ok(
      shed !== null && Number(shed[1]) > 0,
      `no stalled connection counted as shed:\n${telemetry}`,
    );
    assert.match(body, /^grpc_exports_sent_total(\{[^}]*\})? [1-9]\d*$/m, body);
  },
);
