/**
 * Real Prometheus servers (2.42 and the pinned 3.x, side by side) scraping a route behind a bearer
 * token, mounted by the plugin on a host's own fastify server and by createMetricsHandler on a
 * plain node:http server, while the labels carry fast-check generated hostile values (quotes,
 * backslashes, newlines, control characters, lone surrogates, non-BMP): the target stays `up`,
 * every series arrives, and the HELP the plugin adds is intact.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';

import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';

import { createMetricsHandler } from '../../src/http/node-handler.ts';
import { jobmeterMetrics } from '../../src/http/plugin.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import {
  PROMETHEUS_MAJORS,
  startEachPrometheus,
  type PrometheusHandle,
  type PrometheusMajor,
} from '../support/prometheus.ts';

const TOKEN = 'prom-e2e-3b8f1c6d2a';
/** Fixed seed: the same hostile values every run, so a failure reproduces. */
const SEED = 20260613;

/** Always in: the values that broke exposition writers elsewhere. */
const KNOWN_HOSTILE = [
  'say "hi"',
  'back\\slash',
  'new\nline',
  'tab\there',
  '\u0000nul',
  '\ud800lone',
  'emoji 🧪',
  '} 1\nfake_metric 2',
  '# HELP x y',
];
const generated = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
);
const TASKS = [
  ...new Set([...KNOWN_HOSTILE, ...fc.sample(generated, { seed: SEED, numRuns: 40 })]),
];

let jm: Jobmeter;
let app: FastifyInstance;
let nodeServer: Server | undefined;
let proms = new Map<PrometheusMajor, PrometheusHandle>();

before(async () => {
  jm = await createJobmeter({ listener: false, serviceName: 'plugin-e2e' });
  for (const task of TASKS) jm.recordRun({ task, outcome: 'success', durationSeconds: 0.5 });
  app = Fastify({ logger: false });
  app.get('/', async () => 'host app\n');
  await app.register(jobmeterMetrics, {
    jobmeter: jm,
    posture: 'rm',
    token: TOKEN,
    path: '/internal/metrics',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const metrics = createMetricsHandler({
    jobmeter: jm,
    posture: 'rm',
    token: TOKEN,
    path: '/internal/metrics',
  });
  const server = createServer((req, res) => metrics(req, res) || res.writeHead(404).end());
  nodeServer = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const handlerPort = (server.address() as AddressInfo).port;
  proms = await startEachPrometheus({
    jobs: [
      {
        name: 'plugin',
        target: `127.0.0.1:${port}`,
        metricsPath: '/internal/metrics',
        bearerToken: TOKEN,
      },
      { name: 'no-token', target: `127.0.0.1:${port}`, metricsPath: '/internal/metrics' },
      {
        name: 'handler',
        target: `127.0.0.1:${handlerPort}`,
        metricsPath: '/internal/metrics',
        bearerToken: TOKEN,
      },
    ],
    scrapeInterval: '1s',
  });
});

after(async () => {
  await Promise.allSettled([...proms.values()].map((prom) => prom.stop()));
  await app?.close();
  nodeServer?.closeAllConnections();
  nodeServer?.close();
  await jm?.shutdown();
});

for (const major of PROMETHEUS_MAJORS) {
  test(`Prometheus ${major}: the scrape with the token stays up through hostile label values, plugin and node:http handler alike; without it, 401`, async () => {
    const prom = proms.get(major)!;
    const up = await prom.waitFor('up', (r) => r.length === 3, 60_000);
    const byJob = new Map(up.map((s) => [s.metric.job, s.value[1]]));
    assert.equal(byJob.get('plugin'), '1', prom.logs());
    assert.equal(byJob.get('handler'), '1', prom.logs());
    assert.equal(byJob.get('no-token'), '0');
    const targets = await prom.targets();
    const refused = targets.activeTargets.find(
      (t) => t.labels?.job === 'no-token' || t.discoveredLabels.job === 'no-token',
    );
    assert.match(String((refused as unknown as { lastError?: string })?.lastError), /401/);

    for (const job of ['plugin', 'handler']) {
      const finished = await prom.waitFor(
        `count(jobmeter_run_finished_total{job="${job}"})`,
        (r) => r.length === 1,
        30_000,
      );
      const series = await prom.series(`jobmeter_run_finished_total{job="${job}"}`);
      assert.equal(Number(finished[0]!.value[1]), series.length);
      // Lone surrogates reach Prometheus as U+FFFD (UTF-8 cannot carry them), so count well-formed values.
      assert.equal(
        series.length,
        new Set(TASKS.map((t) => Buffer.from(t, 'utf8').toString('utf8'))).size,
        `series for ${TASKS.length} hostile task names`,
      );
      for (const plain of ['say "hi"', 'back\\slash', 'new\nline', '} 1\nfake_metric 2']) {
        assert.ok(
          series.some((s) => s.task === plain),
          `task ${JSON.stringify(plain)} round-trips`,
        );
      }
      assert.equal(
        (await prom.query('fake_metric')).length,
        0,
        'a label value cannot inject a sample',
      );
    }
    // Prometheus negotiates OpenMetrics, where the counter family is named without `_total`.
    const meta = await prom.metadata('jobmeter_scrape_errors');
    assert.equal(
      meta.jobmeter_scrape_errors?.[0]?.help,
      'Scrapes of this metrics endpoint answered with an error, by cause.',
    );
    for (const job of ['plugin', 'handler']) {
      const errors = await prom.query(`sum(jobmeter_scrape_errors_total{job="${job}"})`);
      assert.equal(errors[0]?.value[1], '0', job);
    }
  });
}
