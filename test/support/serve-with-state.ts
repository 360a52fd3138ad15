/**
 * A child `jobmeter serve` under the otel profile with its ingest on a fixed port (the ingest
 * state is kept only for one) and its state in a directory, the telemetry listener on any free
 * port: what the checkpoint, state-file and status page tests start, stop and start again.
 */
import assert from 'node:assert/strict';

import { EXIT_MS, start, START_MS, type Running } from '../cli/harness.ts';
import type { TempFiles } from './temp-files.ts';

export interface StateServe {
  readonly running: Running;
  /** The pull listener's base URL, `http://127.0.0.1:PORT`. */
  readonly base: string;
  /** The telemetry listener's base URL, `http://127.0.0.1:PORT`. */
  readonly telemetry: string;
  /** The ingest's `/v1/metrics` URL. */
  readonly ingest: string;
  /** The config file it reads (a reload reads it again). */
  readonly config: string;
  /** SIGTERM, and the exit status 0. */
  stop(): Promise<void>;
}

export async function serveWithState(
  files: TempFiles,
  stateDir: string,
  port: number,
): Promise<StateServe> {
  const config = await files.file(
    `serve-${port}.toml`,
    [
      'profile = "otel"',
      'process_metrics = false',
      '[listener]',
      'port = 0',
      '[ingest]',
      'enabled = true',
      `port = ${port}`,
      `state_dir = "${stateDir}"`,
      '[telemetry]',
      'listen = "127.0.0.1:0"',
      '',
    ].join('\n'),
  );
  const running = start(['serve', '--config', config]);
  const [, telemetry] = await running.stderrMatches(
    /serving jobmeter's own telemetry on (http:\/\/\S+)\/metrics\n/,
    START_MS,
  );
  const [, base] = /serving otel metrics on (http:\/\/[^/\s]+)\/metrics/.exec(running.stderr())!;
  return {
    running,
    base: base!,
    telemetry: telemetry!,
    ingest: `http://127.0.0.1:${port}/v1/metrics`,
    config,
    async stop() {
      running.child.kill('SIGTERM');
      assert.equal(await running.exited(EXIT_MS), 0, running.stderr());
    },
  };
}
