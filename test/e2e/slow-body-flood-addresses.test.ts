/**
 * A slow-body flood from many source addresses never shuts out senders that make progress, even
 * when those senders share one address and so hold more connections from it than any flood
 * address does. Against a real `jobmeter serve` with `max_connections = 32` on the ingest and the
 * pull listener, four times that many connections each hold a `POST` whose body never arrives
 * (headers announcing 1 MB, one byte, then silence; each one closed is opened again at once), each
 * from its own loopback address (127.0.1.1, 127.0.1.2, …), on both listeners. Meanwhile three
 * senders on 127.0.0.1, each the official OTLP/HTTP protobuf exporter with delta temporality on
 * its keep-alive agent, export a counter every EXPORT_EVERY_MS, and a scraper on 127.0.0.1 scrapes
 * the pull listener (and the telemetry listener) over one keep-alive connection.
 *
 * What must hold, with no bound on how fast anything is:
 * - every export is accepted: the exporter reports success, its own retries within its
 *   `timeoutMillis` (10 s, the SDK's default) included; how many needed a retry is reported;
 * - nothing is lost or doubled: once the flood stops, each sender's counter is served as the sum
 *   of the increments it recorded (a delta export lost loses its increments);
 * - every scrape is answered 200 within 10 s (Prometheus's default scrape timeout) on the
 *   scraper's connection, with no retry.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, it } from 'node:test';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

import { EXIT_MS, killChildren, start, START_MS } from '../cli/harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-flood-addresses-');
afterEach(killChildren);

const MAX_CONNECTIONS = 32;
const FLOOD_CONNECTIONS = 4 * MAX_CONNECTIONS;
const SENDERS = 3;
const FLOOD_MS = 8_000;
const EXPORT_EVERY_MS = 250;
const SCRAPE_EVERY_MS = 250;
/** The SDK's default export timeout: the budget of one export, its retries included. */
const EXPORT_TIMEOUT_MS = 10_000;
/** Prometheus's default scrape timeout. */
const SCRAPE_TIMEOUT_MS = 10_000;

const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
const FLOOD = fileURLToPath(new URL('./slow-body-flood.ts', import.meta.url));

/** A reader collected by hand: one collection per export. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

interface Flood {
  /** Stops it: `{ opened, closedByServer }`. */
  stop(): Promise<{ opened: number; closedByServer: number }>;
}

/** FLOOD_CONNECTIONS slow bodies against `port` on `path`, one source address each, held before it resolves. */
async function flood(port: number, path: string): Promise<Flood> {
  const child = spawn(
    NODE,
    [FLOOD, String(port), String(FLOOD_CONNECTIONS), String(FLOOD_CONNECTIONS), path],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  for (const deadline = performance.now() + START_MS; !out.includes('holding\n');) {
    if (performance.now() >= deadline) {
      child.kill('SIGKILL');
      assert.fail(`the flood on ${path} never held ${FLOOD_CONNECTIONS} connections: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(out.slice(out.indexOf('\n') + 1)) as {
        opened: number;
        closedByServer: number;
      };
    },
  };
}

/** A GET on `agent`'s kept connection: its status, or what went wrong. */
function scrape(agent: Agent, url: string): Promise<{ status: number; body: string } | string> {
  return new Promise((resolve) => {
    const req = request(url, { agent, timeout: SCRAPE_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', (e) => resolve(`response: ${e.message}`));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${SCRAPE_TIMEOUT_MS} ms`)));
    req.on('error', (e) => resolve(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`));
    req.end();
  });
}

/** Scrapes `url` every SCRAPE_EVERY_MS until `until` resolves: each failure, described. */
async function scrapeUntil(
  url: string,
  until: Promise<void>,
): Promise<{ scrapes: number; failures: string[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let done = false;
  void until.then(() => (done = true));
  let scrapes = 0;
  const failures: string[] = [];
  while (!done) {
    const result = await scrape(agent, url);
    scrapes++;
    if (typeof result === 'string') failures.push(result);
    else if (result.status !== 200) failures.push(`status ${result.status}`);
    await new Promise((r) => setTimeout(r, SCRAPE_EVERY_MS));
  }
  agent.destroy();
  return { scrapes, failures };
}

interface Sent {
  readonly exports: number;
  readonly accepted: number;
  /** The sum of the increments recorded. */
  readonly total: number;
  /** Why each export not accepted failed, as the exporter said. */
  readonly errors: readonly string[];
}

/** A sender on 127.0.0.1: the official exporter, delta, exporting every EXPORT_EVERY_MS for FLOOD_MS. */
async function send(index: number, url: string): Promise<Sent> {
  const exporter = new OTLPMetricExporter({
    url,
    timeoutMillis: EXPORT_TIMEOUT_MS,
    temporalityPreference: AggregationTemporalityPreference.DELTA,
  });
  // The exporter's temporality, as a PeriodicExportingMetricReader takes it.
  const reader = new CollectingReader({
    aggregationTemporalitySelector: (kind) => exporter.selectAggregationTemporality(kind),
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': 'flood-sender',
      'service.instance.id': `sender-${index}`,
    }),
    readers: [reader],
  });
  const counter = provider.getMeter('sender').createCounter('flood.increments');
  const outcomes: Array<Promise<boolean>> = [];
  const errors: string[] = [];
  let total = 0;
  for (let i = 0, end = performance.now() + FLOOD_MS; performance.now() < end; i++) {
    const by = 1 + ((i + index) % 5);
    counter.add(by, { sender: String(index) });
    total += by;
    const { resourceMetrics } = await reader.collect();
    outcomes.push(
      new Promise((resolve) =>
        exporter.export(resourceMetrics, (result) => {
          const ok = result.code === ExportResultCode.SUCCESS;
          if (!ok) errors.push(String(result.error?.message ?? result.error));
          resolve(ok);
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, EXPORT_EVERY_MS));
  }
  const accepted = (await Promise.all(outcomes)).filter(Boolean).length;
  await exporter.shutdown();
  await provider.shutdown();
  return { exports: outcomes.length, accepted, total, errors };
}

/** The value served for sender `index`'s counter, or undefined. */
function servedTotal(body: string, index: number): number | undefined {
  const line = body
    .split('\n')
    .find((l) => l.startsWith('flood_increments_total{') && l.includes(`sender="${index}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

it(
  'a slow-body flood from 128 addresses: every export of three keep-alive senders on one address is accepted and every scrape answered (cap 32)',
  { timeout: 170_000 },
  async (t) => {
    // What the exporters say of their retries, each kind of line counted (numbers as N).
    const said = new Map<string, number>();
    const note = (m: string): void => {
      const kind = m.replace(/-?\d+/g, 'N');
      said.set(kind, (said.get(kind) ?? 0) + 1);
    };
    diag.setLogger(
      {
        verbose: (m: string) => {
          if (/succeeded after [1-9]/.test(m)) note(m);
        },
        debug: () => {},
        info: note,
        warn: note,
        error: note,
      },
      { logLevel: DiagLogLevel.VERBOSE, suppressOverrideMessage: true },
    );
    t.after(() => diag.disable());
    const config = await files.file(
      'jobmeter.toml',
      [
        'process_metrics = false',
        'profile = "otel"',
        '[listener]',
        'port = 0',
        `max_connections = ${MAX_CONNECTIONS}`,
        '[ingest]',
        'enabled = true',
        'port = 0',
        `max_connections = ${MAX_CONNECTIONS}`,
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
    const [, pullUrl] = /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(serve.stderr())!;

    const floods = [
      await flood(Number(new URL(ingestUrl!).port), '/v1/metrics'),
      await flood(Number(new URL(pullUrl!).port), '/metrics'),
    ];
    let floodsStopped!: () => void;
    const stopped = new Promise<void>((resolve) => (floodsStopped = resolve));
    const scrapers = Promise.all([pullUrl!, telemetryUrl!].map((u) => scrapeUntil(u, stopped)));
    let sent: Sent[];
    let flooded: Array<{ opened: number; closedByServer: number }>;
    try {
      sent = await Promise.all(Array.from({ length: SENDERS }, (_, i) => send(i, ingestUrl!)));
    } finally {
      flooded = await Promise.all(floods.map((f) => f.stop()));
      floodsStopped();
    }
    const [pull, telemetry] = await scrapers;

    const after = await scrape(new Agent(), pullUrl!);
    assert.ok(
      typeof after !== 'string' && after.status === 200,
      `the scrape after the flood: ${JSON.stringify(after)}`,
    );
    const selfTelemetry = await scrape(new Agent(), telemetryUrl!);
    assert.ok(typeof selfTelemetry !== 'string');
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited(EXIT_MS), 0, serve.stderr());

    const shed = /^jobmeter_ingest_connections_shed_total\{reason="slow_body"\} (\d+)$/m.exec(
      selfTelemetry.body,
    );
    const figures = [
      ...sent.map(
        (s, i) =>
          `sender ${i}: ${s.accepted} of ${s.exports} exports accepted, ${s.total} sent, ${servedTotal(after.body, i)} served${s.errors.length === 0 ? '' : `; failed: ${[...new Set(s.errors)].join('; ')}`}`,
      ),
      `the exporters said: ${said.size === 0 ? 'nothing of retries' : [...said].map(([m, n]) => `${n}× ${m}`).join(' | ')}`,
      `pull listener: ${pull!.failures.length} of ${pull!.scrapes} scrapes failed ${pull!.failures.slice(0, 5).join('; ')}`,
      `telemetry listener: ${telemetry!.failures.length} of ${telemetry!.scrapes} scrapes failed ${telemetry!.failures.slice(0, 5).join('; ')}`,
      `floods (ingest, pull): ${flooded.map((f) => `${f.opened} opened, ${f.closedByServer} closed by the server`).join('; ')}`,
      `ingest shed ${shed?.[1]} slow bodies`,
    ].join('\n');
    t.diagnostic(figures);

    // The flood was one: the server shed its connections to make room.
    assert.ok(
      flooded.every((f) => f.closedByServer > 0),
      figures,
    );
    assert.ok(shed !== null && Number(shed[1]) > 0, figures);
    for (const [i, s] of sent.entries()) {
      assert.ok(s.exports > 0, figures);
      assert.equal(s.accepted, s.exports, `sender ${i}: an export was not accepted\n${figures}`);
      assert.equal(
        servedTotal(after.body, i),
        s.total,
        `sender ${i}: increments lost or doubled\n${figures}`,
      );
    }
    assert.deepEqual(pull!.failures, [], figures);
    assert.deepEqual(telemetry!.failures, [], figures);
  },
);
