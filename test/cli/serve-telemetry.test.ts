/**
 * jobmeter's own telemetry, like the Collector's (points accepted and refused by
 * reason, push points and exports sent and failed, scrape durations), served by `jobmeter serve`
 * on a listener of its own (`[telemetry] listen`), never in the profile's body. A child serve with
 * the ingest on, a push to a local receiver and the telemetry listener: the counts are the ones
 * this test caused, promtool (Prometheus 2.42's own linter) passes the body, and the metrics route
 * serves none of it.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, start, START_MS } from './harness.ts';
import { checkMetrics } from '../support/promtool.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-telemetry-');
afterEach(killChildren);

/** Far more than the 200 ms pushes this waits for take; only reached when nothing is counted. */
const WAIT_MS = 60_000;

function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

it(
  '[telemetry] listen serves accepted/refused points, push counts and scrape durations, apart from the profile body',
  { timeout: 120_000 },
  async () => {
    const receiver: Server = createServer((req, res) => {
      req
        .resume()
        .on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverPort = (receiver.address() as { port: number }).port;
    try {
      const config = await files.file(
        'jobmeter.toml',
        [
          'profile = "otel"',
          '[listener]',
          'port = 0',
          '[ingest]',
          'enabled = true',
          'port = 0',
          '[otlp]',
          `endpoint = "http://127.0.0.1:${receiverPort}/v1/metrics"`,
          'interval_ms = 200',
          'timeout_ms = 100',
          '[telemetry]',
          'listen = "127.0.0.1:0"',
          '',
        ].join('\n'),
      );
      const child = start(['serve', '--config', config]);
      const [, telemetryUrl] = await child.stderrMatches(
        /serving jobmeter's own telemetry on (http:\/\/\S+\/metrics)\n/,
        START_MS,
      );
      const [, metricsUrl] = /serving otel metrics on (http:\/\/\S+)\n/.exec(child.stderr())!;
      const [, ingestUrl] = /receiving OTLP\/HTTP metrics on (http:\/\/\S+)\n/.exec(
        child.stderr(),
      )!;

      // 3 points kept, 2 refused (a Summary: unsupported_type).
      const now = `${Date.now()}000000`;
      const request = {
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'daemon' } }] },
            scopeMetrics: [
              {
                scope: { name: 'daemon' },
                metrics: [
                  {
                    name: 'queue.depth',
                    gauge: {
                      dataPoints: ['a', 'b', 'c'].map((q) => ({
                        asDouble: 1,
                        timeUnixNano: now,
                        attributes: [{ key: 'queue', value: { stringValue: q } }],
                      })),
                    },
                  },
                  {
                    name: 'latency',
                    summary: {
                      dataPoints: [1, 2].map((i) => ({
                        count: String(i),
                        sum: i,
                        timeUnixNano: now,
                      })),
                    },
                  },
                ],
              },
            ],
          },
        ],
      };
      const ingested = await fetch(ingestUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      assert.equal(ingested.status, 200);
      assert.match(await ingested.text(), /"rejectedDataPoints":"2"/);

      const profileBody = await (await fetch(metricsUrl!)).text();
      await (await fetch(metricsUrl!)).text();

      let body = '';
      const deadline = Date.now() + WAIT_MS;
      while (!(
        (sample(body, 'jobmeter_push_exports_total{outcome="sent"}') ?? 0) >= 1 &&
        sample(body, 'jobmeter_scrape_duration_seconds_count') === 2
      )) {
        assert.ok(
          Date.now() < deadline,
          `telemetry never showed a sent export and two scrapes:\n${body}`,
        );
        await new Promise((r) => setTimeout(r, 100));
        body = await (
          await fetch(telemetryUrl!, { headers: { accept: 'text/plain;version=0.0.4' } })
        ).text();
      }
      assert.equal(sample(body, 'jobmeter_ingest_accepted_points_total'), 3);
      assert.equal(
        sample(body, 'jobmeter_ingest_refused_points_total{reason="unsupported_type"}'),
        2,
      );
      assert.ok(sample(body, 'jobmeter_push_sent_points_total')! > 0);
      assert.equal(sample(body, 'jobmeter_push_failed_points_total'), 0);
      assert.equal(sample(body, 'jobmeter_push_exports_total{outcome="failed"}'), 0);
      assert.equal(sample(body, 'jobmeter_scrape_duration_seconds_bucket{le="+Inf"}'), 2);
      const lint = await checkMetrics(body);
      assert.equal(lint.code, 0, lint.output);

      // The profile's body carries none of it.
      assert.doesNotMatch(
        profileBody,
        /jobmeter_push_|jobmeter_scrape_duration|jobmeter_ingest_accepted/,
      );
      child.child.kill('SIGTERM');
      assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  },
);
