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
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, it } from 'node:test';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

import { EXIT_MS, killChildren, START_MS } from '../cli/harness.ts';
import { startCollector } from '../support/collector.ts';
import { serveWithIngest } from '../support/serve.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-grpc-stall-');
afterEach(killChildren);

const FLOOD_CONNECTIONS = 300;
const FLOOD_MS = 10_000;
const EXPORT_EVERY_MS = 500;
/** An exporter's own bound per export; the SDK's default is 10 s. */
const EXPORT_TIMEOUT_MS = 5_000;
/** Accepted share asked: a few exports may meet a connection closed under them. */
const ACCEPTED_AT_LEAST = 0.9;

const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
const FLOOD = fileURLToPath(new URL('./grpc-stall-flood.ts', import.meta.url));

/** A reader collected by hand: one collection per export. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

interface Figures {
  readonly exports: number;
  readonly accepted: number;
  /** Connections the flood opened, and how many of them the server closed. */
  readonly flood: { readonly opened: number; readonly closedByServer: number };
}

/**
 * The flood against the gRPC receiver on `port` (held before the first export), and a real sender
 * exporting to it every EXPORT_EVERY_MS for FLOOD_MS: how many of its exports were accepted.
 */
async function exportsUnderFlood(port: number): Promise<Figures> {
  const flood = spawn(NODE, [FLOOD, String(port), String(FLOOD_CONNECTIONS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  flood.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => flood.once('close', () => resolve()));
  try {
    for (const deadline = performance.now() + START_MS; !out.includes('holding\n');) {
      assert.ok(performance.now() < deadline, `the flood never held: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const reader = new CollectingReader();
    const provider = new MeterProvider({ readers: [reader] });
    const counter = provider.getMeter('sender').createCounter('grpc.exports.sent');
    const exporter = new OTLPMetricExporter({
      url: `http://127.0.0.1:${port}`,
      timeoutMillis: EXPORT_TIMEOUT_MS,
    });
    const outcomes: Promise<boolean>[] = [];
    for (const end = performance.now() + FLOOD_MS; performance.now() < end;) {
      counter.add(1);
      const { resourceMetrics } = await reader.collect();
      outcomes.push(
        new Promise((resolve) =>
          exporter.export(resourceMetrics, (r) => resolve(r.code === ExportResultCode.SUCCESS)),
        ),
      );
      await new Promise((r) => setTimeout(r, EXPORT_EVERY_MS));
    }
    const accepted = (await Promise.all(outcomes)).filter(Boolean).length;
    await exporter.shutdown();
    await provider.shutdown();
    flood.kill('SIGTERM');
    await exited;
    return {
      exports: outcomes.length,
      accepted,
      flood: JSON.parse(out.slice(out.indexOf('\n') + 1)) as Figures['flood'],
    };
  } finally {
    if (flood.exitCode === null) flood.kill('SIGKILL');
  }
}

const describeFigures = (f: Figures): string =>
  `${f.accepted} of ${f.exports} exports accepted (the flood opened ${f.flood.opened} connections, ${f.flood.closedByServer} closed by the server)`;

it(
  'a real gRPC sender gets nearly every export in while 300 stalled gRPC connections hold the port',
  { timeout: 150_000 },
  async (t) => {
    const { child, pullPort } = await serveWithIngest(files, { lines: ['grpc_port = 0'] });
    const [, grpcPort] = await child.stderrMatches(
      /receiving OTLP\/gRPC metrics on 127\.0\.0\.1:(\d+)/,
      START_MS,
    );
    const jobmeter = await exportsUnderFlood(Number(grpcPort));
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
      collector = await exportsUnderFlood(collectorHandle.ports.otlp);
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
