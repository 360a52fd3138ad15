/**
 * serve's status data at `/status.json` and its page at `/status` on the telemetry listener
 * (src/http/status-page.ts), read while senders push to a child `jobmeter serve`: build,
 * profile, uptime, readiness, the ingest's points by outcome and its budgets, the checkpoint, the
 * last configuration load, every sender (its resource identity, address, pushes, series, points
 * by outcome, temporality, counted alike whichever thread decoded its request), the largest
 * families; what a sender chose (a metric's name) and every
 * other text come out HTML-escaped; only `GET` and `HEAD` are answered (405 otherwise), under a
 * CSP that allows no script.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, it } from 'node:test';

import { killChildren } from '../cli/harness.ts';
import { tempFiles } from '../support/temp-files.ts';
import { pushAs, pushNameless, pushMetrics, serveForStatus } from './serve-status.ts';
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
    const a1 = { 'service.instance.id': 'a', 'service.name': 'billing' };
    const a = await pushAs(s.ingest, a1, 3);
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
    const refused = await pushNameless(s.ingest);
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

    // Every sender, the latest push first; the request without a resource is a sender of its own.
    assert.deepEqual(
      after.senders.map((x) => x.identity),
      [{}, { 'service.instance.id': 'b', 'service.name': 'billing' }, a1],
    );
    assert.deepEqual(after.ingest.senders, { held: 3, limit: 1000, evicted: 0 });
    const [anonymous, second, first] = after.senders;
    assert.deepEqual(anonymous?.refusedPoints, { no_name: 1 });
    assert.equal(anonymous.acceptedPoints, 0);
    assert.equal(anonymous.series, 0);
    for (const [sender, points] of [
      [first, 3],
      [second, 5],
    ] as const) {
      assert.equal(sender?.address, '127.0.0.1');
      assert.equal(sender.acceptedPoints, points);
      assert.equal(sender.series, points);
      assert.deepEqual(sender.refusedPoints, {});
      assert.deepEqual(sender.temporality, ['cumulative']);
      assert.ok(sender.firstPush <= sender.lastPush, JSON.stringify(sender));
      assert.ok(Date.now() - Date.parse(sender.lastPush) < 600_000, sender.lastPush);
    }
    assert.ok(first!.lastPush <= second!.lastPush);
    const gauge = await (await fetch(`${s.telemetry}/metrics`)).text();
    assert.match(gauge, /^jobmeter_ingest_senders 3$/m);

    // The page reads its figures where /metrics reads them: after the traffic above, the two agree.
    const own = await statusOf(s.telemetry);
    const sample = (series: string): number | undefined => {
      const line = gauge.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    assert.equal(own.ingest?.acceptedPoints, 8);
    assert.equal(own.ingest.acceptedPoints, sample('jobmeter_ingest_accepted_points_total'));
    for (const [reason, n] of Object.entries(own.ingest.refusedPoints))
      assert.equal(n, sample(`jobmeter_ingest_refused_points_total{reason="${reason}"}`), reason);
    assert.equal(own.ingest.series, sample('jobmeter_ingest_series'));
    assert.equal(own.ingest.seriesLimit, sample('jobmeter_ingest_series_limit'));
    assert.equal(own.ingest.memoryLimitBytes, sample('jobmeter_ingest_memory_limit_bytes'));
    assert.equal(own.checkpoint?.failures, sample('jobmeter_ingest_checkpoint_failures_total'));
    const build = Object.entries(own.build).map(([k, v]) => `${k}="${v}"`);
    assert.equal(sample(`jobmeter_build_info{${build.join(',')}}`), 1, gauge);
    await s.stop();
  },
);

it(
  "a sender's counts are the same whichever thread decoded its request",
  { timeout: 180_000 },
  async () => {
    const s = await serveForStatus(files);
    // Past 256 KiB a body is decoded on the decoding thread (ingest-listener.ts OFF_THREAD_BYTES):
    // a thousand points with long attributes make one.
    const points = 1_000;
    const pushes = { small: 1, big: points };
    const now = String(BigInt(Date.now()) * 1_000_000n);
    const sum = (name: string, temporality: number, values: readonly number[]) => ({
      name,
      unit: '{task}',
      sum: {
        aggregationTemporality: temporality,
        isMonotonic: true,
        dataPoints: values.map((asDouble, i) => ({
          asDouble,
          timeUnixNano: now,
          attributes: [
            { key: 'i', value: { intValue: String(i) } },
            { key: 'pad', value: { stringValue: 'x'.repeat(300) } },
          ],
        })),
      },
    });
    for (const [name, counters] of Object.entries(pushes)) {
      const r = await pushMetrics(s.ingest, { 'service.name': name }, [
        sum(
          `${name}.work`,
          2,
          Array.from({ length: counters }, () => 1),
        ),
      ]);
      assert.equal(r.status, 200, r.body);
    }
    // Then one point refused each (a counter's cumulative value below 0: invalid_point), and a
    // delta sum.
    for (const name of Object.keys(pushes)) {
      const r = await pushMetrics(s.ingest, { 'service.name': name }, [
        sum(`${name}.work`, 2, [-1]),
        sum(`${name}.delta`, 1, [1]),
      ]);
      assert.equal(r.status, 200, r.body);
      assert.match(r.body, /"rejectedDataPoints":"1"/);
    }
    const data = await statusOf(s.telemetry);
    for (const [name, counters] of Object.entries(pushes)) {
      const sender = data.senders.find((x) => x.identity['service.name'] === name);
      assert.equal(sender?.acceptedPoints, counters + 1, name);
      assert.equal(sender.series, counters + 1, name);
      assert.deepEqual(sender.refusedPoints, { invalid_point: 1 }, name);
      assert.deepEqual(sender.temporality, ['cumulative', 'delta'], name);
    }
    assert.equal(data.ingest?.series, points + 1 + 2);
    await s.stop();
  },
);

it(
  "a sender's metric names and resource attributes come out escaped and cut; only GET and HEAD are answered",
  { timeout: 180_000 },
  async () => {
    const s = await serveForStatus(files);
    const pushed = await pushAs(s.ingest, { 'service.name': 'x' }, 1, HOSTILE);
    assert.equal(pushed.status, 200, pushed.body);
    // A resource of markup, quotes, a newline, bytes that are no UTF-8 and a 100 kB value, as
    // raw OTLP/JSON bytes.
    const huge = 'h'.repeat(100_000);
    const [before, after] = JSON.stringify({
      resourceMetrics: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: `${HOSTILE}\nline2 INVALID` } },
              { key: 'host.name', value: { stringValue: huge } },
            ],
          },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'hostile.level',
                  gauge: {
                    dataPoints: [
                      { asDouble: 1, timeUnixNano: String(BigInt(Date.now()) * 1_000_000n) },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    }).split('INVALID');
    const raw = await fetch(s.ingest, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from(before!), Buffer.from([0xff, 0xc3]), Buffer.from(after!)]),
    });
    assert.equal(raw.status, 200, await raw.text());
    const data = await statusOf(s.telemetry);
    const sender = data.senders.find((x) => x.identity['host.name'] !== undefined);
    assert.equal(
      sender?.identity['service.name'],
      `${HOSTILE}\nline2 \ufffd\ufffd`,
      'invalid UTF-8 read as U+FFFD',
    );
    assert.equal(sender.identity['host.name'], `${'h'.repeat(200)}… (cut: 100000 characters)`);
    assert.equal(sender.acceptedPoints, 1, JSON.stringify(sender));
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
    assert.ok(html.includes(`service.name=${ESCAPED}\nline2 \ufffd\ufffd<br>`), html);
    assert.ok(html.includes(`host.name=${'h'.repeat(200)}… (cut: 100000 characters)`));
    assert.ok(!html.includes('h'.repeat(201)));
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
      senders: { held: 1, limit: 2, evicted: 3 },
    },
    checkpoint: {
      failures: 3,
      lastSuccess: HOSTILE,
      ageSeconds: 5,
      bytes: 100,
      lastWriteSeconds: 0.01,
    },
    reload: { successful: false, lastSuccess: HOSTILE, ageSeconds: 5, changed: [HOSTILE] },
    senders: [
      {
        identity: { 'service.name': HOSTILE, [HOSTILE]: HOSTILE },
        address: HOSTILE,
        firstPush: HOSTILE,
        lastPush: HOSTILE,
        series: 1,
        acceptedPoints: 2,
        refusedPoints: { [HOSTILE]: 1 },
        temporality: [HOSTILE],
      },
    ],
    families: [{ name: HOSTILE, type: HOSTILE, series: 7 }],
    totals: { families: 1, series: 7 },
  });
  assert.ok(!html.includes('<script'), html);
  assert.ok(!html.includes(`"x"`), html);
  // profile, build key and value, reason, refusal, last success x2, generated, a changed key,
  // family name and type; a sender's identity (three), address, pushes (two), refusal and
  // temporality
  assert.equal(html.split(ESCAPED).length - 1, 19, html);
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
