/**
 * `jobmeter serve` with its ingest on, as a child process ({@link start}): a config file of both
 * listeners on port 0 (plus the caller's lines), started, and waited on until both listeners
 * have said where they listen. The child is killed by `killChildren` from the caller's
 * `afterEach`, like any other {@link start}ed one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { start, START_MS, type Running } from '../cli/harness.ts';
import type { TempFiles } from './temp-files.ts';

export interface Serving {
  readonly child: Running;
  readonly pid: number;
  /** The ports as serve printed them. */
  readonly ingestPort: string;
  readonly pullPort: string;
}

export interface ServeOptions {
  /** The ingest's port (a fixed one survives a restart); 0, any free one, by default. */
  readonly ingestPort?: number;
  /** Lines after `[ingest]`'s `enabled` and `port` (keys of `[ingest]`, then other tables). */
  readonly lines?: readonly string[];
  /** More command-line arguments after `serve --config <file>`. */
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
}

export async function serveWithIngest(
  files: TempFiles,
  options: ServeOptions = {},
): Promise<Serving> {
  const config = await files.file(
    'jobmeter.toml',
    [
      'process_metrics = false',
      '[listener]',
      'port = 0',
      '[ingest]',
      'enabled = true',
      `port = ${String(options.ingestPort ?? 0)}`,
      ...(options.lines ?? []),
      '',
    ].join('\n'),
  );
  const child = start(['serve', '--config', config, ...(options.args ?? [])], options.env);
  const port = async (pattern: RegExp): Promise<string> => {
    const [, found] = await child.stderrMatches(pattern, START_MS);
    assert.ok(found !== undefined, `${pattern} has no port group`);
    return found;
  };
  const ingestPort = await port(
    /receiving OTLP\/HTTP metrics on http:\/\/127\.0\.0\.1:(\d+)\/v1\/metrics/,
  );
  const pullPort = await port(/metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/);
  const pid = child.child.pid;
  assert.ok(pid !== undefined, 'serve has no pid: it did not start');
  return { child, pid, ingestPort, pullPort };
}

/** A process's resident set size, in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m !== null);
  return Number(m[1]) * 1024;
}
