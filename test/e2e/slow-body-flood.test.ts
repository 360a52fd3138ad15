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
import { fileURLToPath } from 'node:url';
import { afterEach, it } from 'node:test';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';

import { EXIT_MS, killChildren, start, START_MS } from '../cli/harness.ts';
import { startCollector } from '../support/collector.ts';
import {
  ACCEPTED_AT_LEAST,
  describeFigures,
  EXPORT_TIMEOUT_MS,
  exportsUnderFlood,
  type Figures,
} from '../support/exports-under-flood.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-slow-body-');
afterEach(killChildren);

const FLOOD = fileURLToPath(new URL('./slow-body-flood.ts', import.meta.url));

/** A real OTLP/HTTP sender (the OTel JS protobuf exporter) to `url` under the flood on `port`. */
const underFlood = (port: number, url: string): Promise<Figures> =>
  exportsUnderFlood(
    FLOOD,
    port,
    new OTLPMetricExporter({ url, timeoutMillis: EXPORT_TIMEOUT_MS }),
    'exports.sent',
  );

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
    const jobmeter = await underFlood(Number(new URL(ingestUrl!).port), ingestUrl!);
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
      collector = await underFlood(
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
