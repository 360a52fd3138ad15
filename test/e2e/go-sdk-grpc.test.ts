/**
 * The Go daemon peer exporting with the Go SDK's OTLP/gRPC exporter (`otlpmetricgrpc`, chosen by
 * OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=grpc) to `jobmeter serve` with `[ingest] grpc_port`: the pull
 * endpoint serves the runs' values, and exactly the series that the same script pushed with the
 * OTLP/HTTP exporter to a second `serve` gives.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { DEFAULT_RUN_DURATION_BUCKETS } from '../../src/index-catalog.ts';
import { killChildren, START_MS } from '../cli/harness.ts';
import { serveWithIngest } from '../support/serve.ts';
import { diffSeries, seriesTable } from '../support/series-diff.ts';
import { tempFiles } from '../support/temp-files.ts';
import { goDaemon, runsOf } from './go-sdk.ts';

const files = tempFiles('jobmeter-go-sdk-grpc-');
afterEach(killChildren);

const SCRIPT = {
  service: 'go-daemon',
  // The catalog's buckets: with others, serve's partial_success warning is the exporter's error.
  buckets: DEFAULT_RUN_DURATION_BUCKETS,
  runs: runsOf(['task', 'service', 'task']),
  errors: [{ runner: 'subprocess', error: 'spawn_failed' }],
  rejects: ['concurrency'],
  lastFailureSeconds: 1_781_349_000,
};

/** A `serve` with gRPC ingest on, and the text its pull endpoint serves once `push` is done. */
async function servedAfter(
  push: (grpcEndpoint: string, httpEndpoint: string) => Promise<void>,
): Promise<string> {
  const { child, ingestPort, pullPort } = await serveWithIngest(files, {
    lines: ['grpc_port = 0'],
  });
  const [, grpcPort] = await child.stderrMatches(
    /receiving OTLP\/gRPC metrics on 127\.0\.0\.1:(\d+)/,
    START_MS,
  );
  await push(`http://127.0.0.1:${grpcPort}`, `http://127.0.0.1:${ingestPort}/v1/metrics`);
  const res = await fetch(`http://127.0.0.1:${pullPort}/metrics`, {
    headers: { accept: 'text/plain;version=0.0.4' },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  return res.text();
}

test("the Go SDK's otlpmetricgrpc exporter to serve's gRPC ingest: the same series as over HTTP", async () => {
  const [overGrpc, overHttp] = await Promise.all([
    servedAfter((grpc) =>
      goDaemon({ ...SCRIPT, endpoint: grpc }, { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' }),
    ),
    servedAfter((_, http) =>
      goDaemon(
        { ...SCRIPT, endpoint: http },
        { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' },
      ),
    ),
  ]);

  /** The value of the daemon's one series of `name` that has every label of `labels`. */
  const value = (name: string, labels: readonly string[] = []): number => {
    const found = overGrpc
      .split('\n')
      .filter(
        (l) =>
          l.startsWith(`${name}{`) &&
          [...labels, 'otel_scope_name="go-daemon"'].every((x) => l.includes(x)),
      );
    assert.equal(found.length, 1, `${name} ${labels.join()}:\n${overGrpc}`);
    return Number(found[0]!.slice(found[0]!.lastIndexOf(' ') + 1));
  };
  const backup = 'task="nightly-backup"';
  assert.equal(value('jobmeter_run_started_total', [backup]), 3);
  assert.equal(value('jobmeter_run_finished_total', [backup, 'outcome="success"']), 2);
  assert.equal(value('jobmeter_run_finished_total', ['task="lint"', 'outcome="timeout"']), 1);
  assert.equal(value('jobmeter_run_duration_seconds_count', [backup, 'outcome="success"']), 2);
  assert.equal(value('jobmeter_run_duration_seconds_sum', [backup, 'outcome="success"']), 42.25);
  assert.equal(
    value('jobmeter_run_duration_seconds_bucket', [backup, 'outcome="success"', 'le="0.25"']),
    1,
  );
  assert.equal(value('jobmeter_run_history_total', ['outcome="success"']), 2);
  assert.equal(value('jobmeter_run_last_failure_time_seconds'), 1_781_349_000);
  assert.equal(value('jobmeter_runner_error_total', ['error="spawn_failed"']), 1);
  assert.equal(value('jobmeter_request_rejected_total', ['reason="concurrency"']), 1);

  const diff = diffSeries(seriesTable(overHttp), seriesTable(overGrpc));
  assert.deepEqual(
    diff,
    { onlyLeft: [], onlyRight: [], values: [], types: [] },
    `over HTTP (left) vs over gRPC (right):\n${JSON.stringify(diff, null, 2)}`,
  );
});
