/**
 * A slow body costs its holder, not everyone: while 300 connections hold `POST /v1/metrics`
 * bodies that never arrive (headers announcing 1 MB, one byte, then silence; each one closed is
 * opened again at once), a real OTLP/HTTP sender (the OTel JS protobuf exporter, as an SDK
 * configures it) exporting every 0.5 s still gets nearly every export in: against a real
 * `jobmeter serve` ingest with the default limits (256 connections) and, side by side, against the
 * real Collector's OTLP receiver under the same flood. jobmeter says it shed connections: one log
 * line for the episode and `jobmeter_ingest_connections_shed_total{reason="slow_body"}` on its
 * telemetry listener.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, it } from 'node:test';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

import { EXIT_MS, killChildren, start, START_MS } from '../cli/harness.ts';
import { startCollector } from '../support/collector.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-slow-body-');
afterEach(killChildren);

const FLOOD_CONNECTIONS = 300;
const FLOOD_MS = 10_000;
const EXPORT_EVERY_MS = 500;
/** An exporter's own bound per export (its retries included); the SDK's default is 10 s. */
const EXPORT_TIMEOUT_MS = 5_000;
/** Accepted share asked of jobmeter: a few exports may meet a connection closed under them. */
const ACCEPTED_AT_LEAST = 0.9;

const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
const FLOOD = fileURLToPath(new URL('./slow-body-flood.ts', import.meta.url));

interface Figures {
  readonly exports: number;
  readonly accepted: number;
  /** Connections the flood opened, and how many of them the server closed. */
  readonly flood: { readonly opened: number; readonly closedByServer: number };
}

/** A reader collected by hand: one collection per export. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/**
 * The flood against `port` (held before the first export), and a real sender exporting to `url`
 * every EXPORT_EVERY_MS for FLOOD_MS: how many of its exports were accepted.
 */
async function exportsUnderFlood(port: number, url: string): Promise<Figures> {
  const flood = spawn(NODE, [FLOOD, String(port), String(FLOOD_CONNECTIONS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  flood.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => flood.once('close', () => resolve()));
  try {
    for (const deadline = performance.now() + START_MS; !out.includes('holding\n');) {
      assert.ok(
        performance.now() < deadline,
        `the flood never held ${FLOOD_CONNECTIONS} connections; it printed: ${out}`,
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    const reader = new CollectingReader();
    const provider = new MeterProvider({ readers: [reader] });
    const counter = provider.getMeter('sender').createCounter('exports.sent');
    const exporter = new OTLPMetricExporter({ url, timeoutMillis: EXPORT_TIMEOUT_MS });
    const outcomes: Array<Promise<boolean>> = [];
    for (const end = performance.now() + FLOOD_MS; performance.now() < end;) {
      counter.add(1);
      const { resourceMetrics } = await reader.collect();
      outcomes.push(
        new Promise((resolve) =>
          exporter.export(resourceMetrics, (result) =>
            resolve(result.code === ExportResultCode.SUCCESS),
          ),
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
  'a real sender gets nearly every export in while 300 connections hold stalled bodies, as with the Collector',
  { timeout: 150_000 },
  async (t) => {
    const config = await files.file(
      'jobmeter.toml',
      [
        'profile = "otel"',
        '[listener]',
        'port = 0',
        '[ingest]',
        'enabled = true',
        'port = 0',
        '[telemetry]',
        'listen = "127.0.0.1:0"',
        '',
      ].join('\n'),
    );
    const serve = start(['serve', '--config', config]);
    const [, telemetryUrl] = await serve.stderrMatches(
      /serving jobmeter's own telemetry on (http:\/\/\S+\/metrics)\n/,
      START_MS,
    );
    const [, ingestUrl] = /receiving OTLP\/HTTP metrics on (http:\/\/\S+)\n/.exec(serve.stderr())!;
    const jobmeter = await exportsUnderFlood(Number(new URL(ingestUrl!).port), ingestUrl!);
    const telemetry = await (
      await fetch(telemetryUrl!, { headers: { accept: 'text/plain;version=0.0.4' } })
    ).text();
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited(EXIT_MS), 0, serve.stderr());

    const collectorHandle = await startCollector({
      ports: ['otlp'],
      config: (p) => ({
        receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
        exporters: { debug: { verbosity: 'basic' } },
        service: { pipelines: { metrics: { receivers: ['otlp'], exporters: ['debug'] } } },
      }),
    });
    let collector: Figures;
    try {
      collector = await exportsUnderFlood(
        collectorHandle.ports.otlp,
        `http://127.0.0.1:${collectorHandle.ports.otlp}/v1/metrics`,
      );
    } finally {
      await collectorHandle.stop();
    }

    const figures = `jobmeter: ${describeFigures(jobmeter)}; Collector ${describeFigures(collector)}`;
    t.diagnostic(figures);
    assert.ok(jobmeter.accepted >= ACCEPTED_AT_LEAST * jobmeter.exports, figures);
    const shed = /^jobmeter_ingest_connections_shed_total\{reason="slow_body"\} (\d+)$/m.exec(
      telemetry,
    );
    assert.ok(shed !== null && Number(shed[1]) > 0, `no slow body counted as shed:\n${telemetry}`);
    t.diagnostic(`jobmeter shed ${shed[1]} connections holding a slow body`);
    const lines = serve
      .stderr()
      .split('\n')
      .filter((l) => /shedding/.test(l));
    assert.equal(
      lines.length,
      1,
      `one line for the shedding episode, not one per connection:\n${serve.stderr()}`,
    );
  },
);
