/**
 * serve's status page (`/status` on the telemetry listener) read in a real browser: Debian's
 * `chromium`, headless, driven by puppeteer-core (no browser of its own downloaded; the test
 * preflight, scripts/ensure-test-deps.sh, installs chromium). Senders push OTLP to a child
 * `jobmeter serve`, two of them through the official OTLP exporters (JSON and protobuf, cumulative
 * and delta); the rendered page shows what they made (points accepted and refused, series against
 * their cap, every sender with its address, series, points and temporality, the largest
 * families), writes a sender's markup as text, loads nothing from elsewhere, runs no script, and
 * the browser reports no violation of its Content-Security-Policy (its inline style is allowed).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, it } from 'node:test';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as JsonExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import puppeteer, { type Browser } from 'puppeteer-core';

import { killChildren } from '../cli/harness.ts';
import { tempFiles } from '../support/temp-files.ts';
import { pushAs, pushNameless, serveForStatus } from './serve-status.ts';

const files = tempFiles('jobmeter-status-browser-');
afterEach(killChildren);

/** Debian's chromium; the preflight installs it, so its absence is a failure, not a skip. */
function chromiumPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'chromium not found: run scripts/ensure-test-deps.sh (as root it runs: apt-get install chromium)',
    );
  }
}

/** A service exporting through `exporter` as an SDK does, under `service.name=jobs` and its instance id. */
function sender(instance: string, exporter: PushMetricExporter): MeterProvider {
  return new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'jobs', 'service.instance.id': instance }),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 600_000 })],
  });
}

let browser: Browser;
before(async () => {
  browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
});
after(async () => {
  await browser?.close();
});

it(
  'the status page, rendered in chromium while senders push, shows their points, budgets and families',
  { timeout: 240_000 },
  async () => {
    const s = await serveForStatus(files);
    for (const [instance, counters] of [
      ['a', 3],
      ['b', 4],
    ] as const) {
      const r = await pushAs(
        s.ingest,
        { 'service.name': 'jobs', 'service.instance.id': instance },
        counters,
      );
      assert.equal(r.status, 200, r.body);
    }
    // Two services through the official exporters: `a` in OTLP/JSON, cumulative, two series;
    // `b` in protobuf, delta, one series, and a histogram under a's counter's name: its point is
    // refused (type_conflict).
    const a = sender('sdk-a', new JsonExporter({ url: s.ingest }));
    const b = sender(
      'sdk-b',
      new ProtobufExporter({
        url: s.ingest,
        temporalityPreference: AggregationTemporalityPreference.DELTA,
      }),
    );
    const done = a.getMeter('a').createCounter('work.finished', { unit: '{task}' });
    done.add(2, { queue: 'x' });
    done.add(1, { queue: 'y' });
    await a.forceFlush();
    b.getMeter('b').createCounter('work.sent', { unit: '{task}' }).add(5);
    b.getMeter('b').createHistogram('work.finished', { unit: '{task}' }).record(1);
    await b.forceFlush();
    // A sender whose name is markup.
    const hostile = await pushAs(s.ingest, { 'service.name': '<script>alert("x")</script>' }, 1);
    assert.equal(hostile.status, 200, hostile.body);
    // One point refused for its name.
    const refused = await pushNameless(s.ingest);
    assert.equal(refused.status, 200);
    // A reload that changes a secret and a setting: the page names both keys, no value.
    const { config } = s;
    const secret = 'browser-SECRET-token';
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('process_metrics = false', 'process_metrics = true') +
        `[metrics]\ntoken = "${secret}"\n`,
    );
    s.running.child.kill('SIGHUP');
    await s.running.stderrMatches(/SIGHUP: configuration re-read; /, 10_000);
    // A collection writes the checkpoint before it is served: the page shows that write.
    await (await fetch(`${s.telemetry}/status.json`)).arrayBuffer();

    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    page.on('console', (m) => problems.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (err) => problems.push(`pageerror: ${String(err)}`));
    const response = await page.goto(`${s.telemetry}/status`, { waitUntil: 'load' });
    assert.equal(response?.status(), 200);

    // What the browser rendered, row by row: each table row's cells as text.
    // (Read by expressions in the page: this project's TypeScript has no DOM types.)
    const rows = (await page.evaluate(
      '[...document.querySelectorAll("tr")].map((tr) => [...tr.children].map((c) => c.innerText.trim()))',
    )) as string[][];
    const rowOf = (first: string) => rows.find((r) => r[0] === first);
    assert.deepEqual(rowOf('profile'), ['profile', 'otel']);
    assert.deepEqual(rowOf('ready'), ['ready', 'ready']);
    assert.deepEqual(rowOf('accepted'), ['accepted', '11']);
    assert.deepEqual(rowOf('refused: no_name'), ['refused: no_name', '1']);
    assert.deepEqual(rowOf('refused: type_conflict'), ['refused: type_conflict', '1']);
    assert.deepEqual(rowOf('series')?.slice(0, 3), ['series', '11', '50000']);
    // Every sender, the latest push first: address, then first and last push, series, points
    // accepted and refused, temporality.
    const senders = rows.filter((r) => r.length === 8 && r[0] !== 'sender');
    const pushes = senders.map((r) => [r[0], r[1], r.slice(4)]);
    assert.deepEqual(pushes, [
      ['(no identifying attributes)', '127.0.0.1', ['0', '0', 'no_name: 1', '']],
      ['service.name=<script>alert("x")</script>', '127.0.0.1', ['1', '1', '0', 'cumulative']],
      [
        'service.name=jobs\nservice.instance.id=sdk-b',
        '127.0.0.1',
        ['1', '1', 'type_conflict: 1', 'delta'],
      ],
      ['service.name=jobs\nservice.instance.id=sdk-a', '127.0.0.1', ['2', '2', '0', 'cumulative']],
      ['service.name=jobs\nservice.instance.id=b', '127.0.0.1', ['4', '4', '0', 'cumulative']],
      ['service.name=jobs\nservice.instance.id=a', '127.0.0.1', ['3', '3', '0', 'cumulative']],
    ]);
    for (const r of senders) {
      assert.match(r[2]!, /^\d{4}-\d\d-\d\dT/, r.join(' | '));
      assert.ok(r[2]! <= r[3]!, r.join(' | '));
    }
    const sendersHeading = (await page.evaluate(
      '[...document.querySelectorAll("h2")].find((h) => h.textContent.startsWith("Senders")).textContent',
    )) as string;
    assert.equal(sendersHeading, 'Senders (6 of at most 1000; 0 dropped for room)');
    assert.deepEqual(rowOf('failures'), ['failures', '0']);
    assert.deepEqual(rowOf('last load'), ['last load', 'successful']);
    assert.deepEqual(rowOf('changed'), ['changed', '[metrics] token, process_metrics']);
    const html = (await page.content()) + JSON.stringify(rows);
    assert.ok(!html.includes(secret), 'no secret value on the page');
    const stateDir = join(files.dir, 'state');
    const [stateFile] = readdirSync(stateDir).filter((f) => !f.includes('.tmp'));
    assert.deepEqual(rowOf('size (bytes)'), [
      'size (bytes)',
      String(statSync(join(stateDir, stateFile!)).size),
    ]);
    assert.match(rowOf('last write took')?.[1] ?? '', /^\d+\.\d ms$/);
    assert.ok(
      rows.some((r) => r[0] === 'work_done_0_total' && r[1] === 'counter'),
      JSON.stringify(rows),
    );
    const headings = (await page.evaluate(
      '[...document.querySelectorAll("h2")].map((h) => h.textContent)',
    )) as string[];
    assert.deepEqual(
      headings.map((h) => h.replace(/ \(.*/, '')),
      ['Budgets', 'Points', 'Senders', 'Checkpoint', 'Configuration', 'Largest families'],
    );

    // The style applied (allowed by its hash), no script anywhere, nothing fetched from elsewhere.
    const tableBorder = await page.evaluate(
      'getComputedStyle(document.querySelector("table")).borderCollapse',
    );
    assert.equal(tableBorder, 'collapse');
    assert.equal(await page.evaluate('document.scripts.length'), 0);
    const origin = new URL(s.telemetry).origin;
    assert.deepEqual(
      requested.filter((u) => !u.startsWith(origin)),
      [],
    );
    assert.deepEqual(problems, []);

    // The link to the JSON leads to the same figures.
    await Promise.all([page.waitForNavigation(), page.click('a[href="status.json"]')]);
    const json = JSON.parse((await page.evaluate('document.body.innerText')) as string) as {
      ingest: { acceptedPoints: number };
    };
    assert.equal(json.ingest.acceptedPoints, 11);
    await page.close();
    await Promise.all([a.shutdown(), b.shutdown()]);
    await s.stop();
  },
);
