/**
 * serve's status data at `/status.json` and its page at `/status` on the telemetry listener
 * (src/http/status-page.ts), read while senders push to a child `jobmeter serve`: build,
 * profile, uptime, readiness, the ingest's points by outcome and its budgets, the checkpoint, the
 * last configuration load, the largest families; what a sender chose (a metric's name) and every
 * other text come out HTML-escaped; only `GET` and `HEAD` are answered (405 otherwise), under a
 * CSP that allows no script.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, it } from 'node:test';

import { killChildren } from '../cli/harness.ts';
import { tempFiles } from '../support/temp-files.ts';
import { pushAs, serveForStatus } from './serve-status.ts';
import { MAX_TEXT, type StatusData } from '../../src/http/status-data.ts';
import { renderStatusPage } from '../../src/http/status-page.ts';

const files = tempFiles('jobmeter-status-json-');
afterEach(killChildren);

const HOSTILE = `<script>alert("x")</script>'"&`;
const ESCAPED = '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39;&#34;&#38;';

const statusOf = async (base: string): Promise<StatusData> =>
  (await (await fetch(`${base}/status.json`)).json()) as StatusData;

it(
  '/status.json tells the build, the ingest, the checkpoint, the reload and the largest families',
  { timeout: 180_000 },
  async () => {
    const s = await serveForStatus(files);
    const a = await pushAs(s.ingest, { 'service.name': 'billing', 'service.instance.id': 'a' }, 3);
    assert.equal(a.status, 200, a.body);
    const b = await pushAs(s.ingest, { 'service.name': 'billing', 'service.instance.id': 'b' }, 5);
    assert.equal(b.status, 200, b.body);

    const response = await fetch(`${s.telemetry}/status.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^application\/json/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const data = (await response.json()) as StatusData;
    assert.equal(data.profile, 'otel');
    assert.match(data.build['version'] ?? '', /^\d+\.\d+\.\d+/);
    assert.equal(data.build['runtime_version'], process.version);
    assert.ok(data.uptimeSeconds >= 0 && data.uptimeSeconds < 600, String(data.uptimeSeconds));
    assert.deepEqual(data.ready, { ready: true, reasons: [] });
    assert.equal(data.ingest?.acceptedPoints, 8);
    assert.equal(data.ingest.refusedPoints['series_cap'], 0);
    assert.equal(data.ingest.series, 8);
    assert.equal(data.ingest.seriesLimit, 50_000);
    assert.ok(
      data.ingest.memoryBytes > 0 && data.ingest.memoryBytes < data.ingest.memoryLimitBytes,
    );
    assert.equal(data.checkpoint?.failures, 0);
    assert.equal(data.reload?.successful, true);
    assert.ok(data.reload.ageSeconds < 600);
    const family = data.families.find((f) => f.name === 'work_done_0_total');
    // Both senders' series are merged into one under the otel profile's pull endpoint.
    assert.equal(family?.type, 'counter', JSON.stringify(data.families));
    assert.ok(data.totals.series >= 5, JSON.stringify(data.totals));

    // A refused point shows under its reason; the checkpoint is written within its interval.
    const refused = await fetch(s.ingest, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceMetrics: [
          { scopeMetrics: [{ metrics: [{ name: '', gauge: { dataPoints: [{ asDouble: 1 }] } }] }] },
        ],
      }),
    });
    assert.equal(refused.status, 200);
    const after = await statusOf(s.telemetry);
    assert.equal(after.ingest?.refusedPoints['no_name'], 1);
    // The checkpoint the collections wrote: the state file's size, and how long its write took.
    const settled = await statusOf(s.telemetry);
    const stateDir = join(files.dir, 'state');
    const [stateFile] = readdirSync(stateDir).filter((f) => !f.includes('.tmp'));
    assert.equal(settled.checkpoint?.bytes, statSync(join(stateDir, stateFile!)).size);
    const took = settled.checkpoint.lastWriteSeconds!;
    assert.ok(took > 0 && took < 2, String(took));
    assert.deepEqual(settled.reload?.changed, [], 'nothing reloaded yet');
    await s.stop();
  },
);

it(
  "a sender's metric names come out escaped; only GET and HEAD are answered",
  { timeout: 180_000 },
  async () => {
    const s = await serveForStatus(files);
    const pushed = await pushAs(s.ingest, { 'service.name': 'x' }, 1, HOSTILE);
    assert.equal(pushed.status, 200, pushed.body);
    const data = await statusOf(s.telemetry);
    const hostile = data.families.find((f) => f.name.includes('script'));
    // The name as the profile serves it (its namer writes markup as underscores); the page escapes
    // whatever reaches it (the test below).
    assert.ok(hostile !== undefined, JSON.stringify(data.families));

    const page = await fetch(`${s.telemetry}/status?x=1`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html; charset=utf-8/);
    const csp = page.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /script-src|unsafe-inline/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    assert.ok(!html.includes('<script'), 'markup of a sender is written as text');
    assert.ok(
      html.includes(
        renderStatusPage({ ...data, families: [hostile] })
          .split('<code>')[1]!
          .split('</code>')[0]!,
      ),
    );

    const head = await fetch(`${s.telemetry}/status`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      for (const path of ['/status', '/status.json']) {
        const r = await fetch(`${s.telemetry}${path}`, { method, body: 'x' });
        assert.equal(r.status, 405, `${method} ${path}`);
        assert.equal(r.headers.get('allow'), 'GET, HEAD');
      }
    }
    await s.stop();
  },
);

it('every text on the page is escaped: markup, quotes, lone surrogates, huge values', () => {
  const huge = 'y'.repeat(1_000_000);
  const html = renderStatusPage({
    generated: HOSTILE,
    build: { [HOSTILE]: HOSTILE, broken: 'bad-\ud800-utf8', huge },
    profile: HOSTILE,
    uptimeSeconds: 90061,
    ready: { ready: false, reasons: [HOSTILE] },
    ingest: {
      acceptedPoints: 1,
      refusedPoints: { [HOSTILE]: 2 },
      series: 1,
      seriesLimit: 2,
      memoryBytes: 1,
      memoryLimitBytes: 4,
    },
    checkpoint: {
      failures: 3,
      lastSuccess: HOSTILE,
      ageSeconds: 5,
      bytes: 100,
      lastWriteSeconds: 0.01,
    },
    reload: { successful: false, lastSuccess: HOSTILE, ageSeconds: 5, changed: [HOSTILE] },
    families: [{ name: HOSTILE, type: HOSTILE, series: 7 }],
    totals: { families: 1, series: 7 },
  });
  assert.ok(!html.includes('<script'), html);
  assert.ok(!html.includes(`"x"`), html);
  // profile, build key and value, reason, refusal, last success x2, generated, a changed key,
  // family name and type
  assert.equal(html.split(ESCAPED).length - 1, 11, html);
  assert.ok(html.includes('1d 1h 1m 1s'));
  // Written out as UTF-8, a lone surrogate becomes U+FFFD: the page is valid UTF-8.
  const bytes = Buffer.from(html);
  assert.equal(
    new TextDecoder('utf-8', { fatal: true }).decode(bytes).includes('bad-\ufffd-utf8'),
    true,
  );
  assert.ok(html.length < 10 * MAX_TEXT + 20_000, 'a huge value is cut');
  assert.ok(html.includes(`${'y'.repeat(MAX_TEXT - 1)}…`));
});
