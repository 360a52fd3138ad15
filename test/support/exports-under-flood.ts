/**
 * A real OTLP sender exporting while a flood script (test/e2e/slow-body-flood.ts,
 * grpc-stall-flood.ts) holds connections to the same port: how many of its exports get in. The
 * flood tests of both transports hold jobmeter and the real Collector to it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ExportResultCode } from '@opentelemetry/core';
import { MeterProvider, MetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { START_MS } from '../cli/harness.ts';

export const FLOOD_CONNECTIONS = 300;
const FLOOD_MS = 10_000;
const EXPORT_EVERY_MS = 500;
/** An exporter's own bound per export (its retries included); the SDK's default is 10 s. */
export const EXPORT_TIMEOUT_MS = 5_000;
/** Accepted share asked of jobmeter: a few exports may meet a connection closed under them. */
export const ACCEPTED_AT_LEAST = 0.9;

const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));

export interface Figures {
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
 * The flood script `flood` against `port` (held before the first export), and `exporter` exporting
 * counter `counterName` every EXPORT_EVERY_MS for FLOOD_MS: how many of its exports were accepted.
 */
export async function exportsUnderFlood(
  flood: string,
  port: number,
  exporter: PushMetricExporter,
  counterName: string,
): Promise<Figures> {
  const child = spawn(NODE, [flood, String(port), String(FLOOD_CONNECTIONS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
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
    const counter = provider.getMeter('sender').createCounter(counterName);
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
    child.kill('SIGTERM');
    await exited;
    return {
      exports: outcomes.length,
      accepted,
      flood: JSON.parse(out.slice(out.indexOf('\n') + 1)) as Figures['flood'],
    };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

export const describeFigures = (f: Figures): string =>
  `${f.accepted} of ${f.exports} exports accepted (the flood opened ${f.flood.opened} connections, ${f.flood.closedByServer} closed by the server)`;
