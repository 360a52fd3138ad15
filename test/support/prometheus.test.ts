/**
 * Proves the harness against the real thing: a fixed exposition served by a tiny node:http server
 * on 127.0.0.1, once as OpenMetrics 1.0.0 and once as text 0.0.4, scraped by a real Prometheus
 * that this file starts and stops. One Prometheus, two jobs: the first scrape lands ~5 s after
 * start whatever the interval, so a second server would double the wall time.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { freePort } from './free-port.ts';
import { startPrometheus } from './prometheus.ts';
import type { PrometheusHandle, Sample } from './prometheus.ts';
import { checkMetrics } from './promtool.ts';

/** A label value with every character that needs escaping: `"`, `\` and a newline. */
const AWKWARD = 'we"ird\\path\nline2';
const AWKWARD_ESCAPED = 'we\\"ird\\\\path\\nline2';

const OPENMETRICS_BODY = [
  '# TYPE om_jobs counter',
  '# HELP om_jobs Jobs run.',
  'om_jobs_total{queue="a"} 3',
  '# TYPE om_depth gauge',
  '# HELP om_depth Queue depth.',
  `om_depth{queue="${AWKWARD_ESCAPED}"} 7.5`,
  '# TYPE om_latency_seconds histogram',
  '# UNIT om_latency_seconds seconds',
  '# HELP om_latency_seconds Job latency.',
  'om_latency_seconds_bucket{le="0.1"} 1',
  'om_latency_seconds_bucket{le="+Inf"} 2',
  'om_latency_seconds_sum 0.35',
  'om_latency_seconds_count 2',
  '# TYPE om_build info',
  '# HELP om_build Build.',
  'om_build_info{version="1.2.3"} 1',
  '# EOF',
  '',
].join('\n');

const TEXT_BODY = [
  '# HELP text_jobs_total Jobs run.',
  '# TYPE text_jobs_total counter',
  'text_jobs_total{queue="a"} 3',
  '# HELP text_depth Queue depth.',
  '# TYPE text_depth gauge',
  `text_depth{queue="${AWKWARD_ESCAPED}"} 7.5`,
  '# HELP text_latency_seconds Job latency.',
  '# TYPE text_latency_seconds histogram',
  'text_latency_seconds_bucket{le="0.1"} 1',
  'text_latency_seconds_bucket{le="+Inf"} 2',
  'text_latency_seconds_sum 0.35',
  'text_latency_seconds_count 2',
  '',
].join('\n');

interface Scrape {
  at: number;
  url: string;
  headers: IncomingHttpHeaders;
}

function valueOf(result: Sample[], labels: Record<string, string> = {}): string | undefined {
  const match = result.filter((s) => Object.entries(labels).every(([k, v]) => s.metric[k] === v));
  assert.ok(
    match.length <= 1,
    `more than one sample for ${JSON.stringify(labels)}: ${JSON.stringify(result)}`,
  );
  return match[0]?.value[1];
}

describe('prometheus harness against a real Prometheus', { timeout: 40_000 }, () => {
  const scrapes: Scrape[] = [];
  let server: Server | undefined;
  let prometheus: PrometheusHandle | undefined;
  let t0 = 0;
  let readyMs = 0;

  before(async () => {
    server = createServer((req, res) => {
      scrapes.push({ at: Date.now(), url: req.url ?? '', headers: req.headers });
      const path = (req.url ?? '').split('?')[0];
      if (path === '/metrics') {
        res.writeHead(200, {
          'Content-Type': 'application/openmetrics-text; version=1.0.0; charset=utf-8',
        });
        res.end(OPENMETRICS_BODY);
      } else if (path === '/text') {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(TEXT_BODY);
      } else {
        res.writeHead(404).end();
      }
    });
    const port = await freePort();
    await new Promise<void>((resolve, reject) => {
      server?.once('error', reject);
      server?.listen(port, '127.0.0.1', resolve);
    });
    const target = `127.0.0.1:${port}`;
    t0 = Date.now();
    prometheus = await startPrometheus({
      scrapeInterval: '1s',
      jobs: [
        { name: 'om', target },
        {
          name: 'text',
          target,
          metricsPath: '/text',
          params: { format: ['text'] },
          bearerToken: 's3cret',
        },
      ],
    });
    readyMs = Date.now() - t0;
    await prometheus.waitForTargetsUp(20_000);
  });

  after(async () => {
    await prometheus?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  test('reports timings', (t) => {
    const first = scrapes[0];
    assert.ok(first, 'no scrape reached the fixture');
    t.diagnostic(`ready after ${readyMs} ms; first scrape after ${first.at - t0} ms (from spawn)`);
  });

  test('listens on loopback and sends the configured path, params and token', () => {
    assert.match(prometheus!.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const text = scrapes.find((s) => s.url.startsWith('/text'));
    assert.ok(text, 'the text job never scraped');
    assert.equal(text.url, '/text?format=text');
    assert.equal(text.headers.authorization, 'Bearer s3cret');
    const om = scrapes.find((s) => s.url === '/metrics');
    assert.ok(om, 'the om job never scraped');
    assert.equal(om.headers.authorization, undefined);
  });

  test('Prometheus 2.42 asks for OpenMetrics 1.0.0 first, text 0.0.4 only as a fallback', () => {
    const accept = scrapes[0]?.headers.accept ?? '';
    assert.equal(
      accept,
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    );
  });

  for (const prefix of ['om', 'text'] as const) {
    test(`${prefix}: values stored as served`, async () => {
      const p = prometheus!;
      assert.equal(
        valueOf(await p.query(`${prefix}_jobs_total`), { queue: 'a', job: prefix }),
        '3',
      );
      assert.equal(valueOf(await p.query(`${prefix}_depth`)), '7.5');
      const buckets = await p.query(`${prefix}_latency_seconds_bucket`);
      assert.equal(valueOf(buckets, { le: '0.1' }), '1');
      assert.equal(valueOf(buckets, { le: '+Inf' }), '2');
      assert.equal(valueOf(await p.query(`${prefix}_latency_seconds_sum`)), '0.35');
      assert.equal(valueOf(await p.query(`${prefix}_latency_seconds_count`)), '2');
      assert.equal(valueOf(await p.query(`up{job="${prefix}"}`)), '1');
    });

    test(`${prefix}: a label value with ", \\ and a newline round-trips exactly`, async () => {
      const p = prometheus!;
      const [sample] = await p.query(`${prefix}_depth`);
      assert.equal(sample?.metric['queue'], AWKWARD);
      // The same value as a PromQL matcher (PromQL strings escape like the exposition).
      assert.equal((await p.query(`${prefix}_depth{queue="${AWKWARD_ESCAPED}"}`)).length, 1);
      const series = await p.series(`${prefix}_depth`);
      assert.deepEqual(
        series.map((s) => s['queue']),
        [AWKWARD],
      );
    });
  }

  test('om: metadata keeps OpenMetrics types and units, keyed by family name', async () => {
    const md = await prometheus!.metadata();
    assert.deepEqual(md['om_jobs'], [{ type: 'counter', help: 'Jobs run.', unit: '' }]);
    assert.deepEqual(md['om_depth'], [{ type: 'gauge', help: 'Queue depth.', unit: '' }]);
    assert.deepEqual(md['om_latency_seconds'], [
      { type: 'histogram', help: 'Job latency.', unit: 'seconds' },
    ]);
    assert.deepEqual(md['om_build'], [{ type: 'info', help: 'Build.', unit: '' }]);
    assert.equal(md['om_jobs_total'], undefined);
  });

  test('text: metadata keeps text 0.0.4 types', async () => {
    const p = prometheus!;
    assert.deepEqual(await p.metadata('text_jobs_total'), {
      text_jobs_total: [{ type: 'counter', help: 'Jobs run.', unit: '' }],
    });
    const md = await p.metadata();
    assert.deepEqual(md['text_depth'], [{ type: 'gauge', help: 'Queue depth.', unit: '' }]);
    assert.deepEqual(md['text_latency_seconds'], [
      { type: 'histogram', help: 'Job latency.', unit: '' },
    ]);
  });

  test('targets() and waitFor() see the live server', async () => {
    const p = prometheus!;
    const { activeTargets } = await p.targets();
    assert.deepEqual(activeTargets.map((t) => [t.labels['job'], t.health]).sort(), [
      ['om', 'up'],
      ['text', 'up'],
    ]);
    const result = await p.waitFor('count(up == 1)', (r) => valueOf(r) === '2', 5_000);
    assert.equal(valueOf(result), '2');
    await assert.rejects(
      p.waitFor('absent_metric_xyz', (r) => r.length > 0, 500),
      /timed out after 500 ms; last result: \[\]/,
    );
  });

  test("query errors carry Prometheus' message", async () => {
    await assert.rejects(prometheus!.query('sum('), /bad_data/);
  });
});

describe('promtool check metrics', () => {
  test('accepts the text fixture', async () => {
    const result = await checkMetrics(TEXT_BODY);
    assert.deepEqual(result, { code: 0, output: '' });
  });

  test('reports lint problems with exit code 3', async () => {
    const result = await checkMetrics('# HELP jobs x\n# TYPE jobs counter\njobs 1\n');
    assert.equal(result.code, 3);
    assert.match(result.output, /counter metrics should have "_total" suffix/);
  });

  test('reports a parse error with exit code 1', async () => {
    const result = await checkMetrics('jobs{ 1\n');
    assert.equal(result.code, 1);
    assert.match(result.output, /text format parsing error/);
  });

  test('refuses OpenMetrics, which promtool would not check', async () => {
    await assert.rejects(checkMetrics(OPENMETRICS_BODY), /reads text 0\.0\.4 only/);
  });
});

test('freePort gives a bindable loopback port', async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
