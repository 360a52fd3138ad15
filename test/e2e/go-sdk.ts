/**
 * The Go daemon peer (test/peers/go-daemon, on the OpenTelemetry Go SDK) as the go-sdk tests run
 * it: a script of runs on stdin, pushed once with the exporter its environment chooses.
 */
import { spawn } from 'node:child_process';
import { goDaemonBinary } from '../support/peers.ts';
import type { Run } from './collector-runs.ts';

/** Five runs of three tasks; `kinds` are the job kinds, one per task, the profile's original knows. */
export function runsOf(kinds: readonly [string, string, string]): Run[] {
  const [backup, lint, deploy] = kinds;
  return [
    { task: 'nightly-backup', kind: backup, runner: 'subprocess', outcome: 'success', seconds: 42 },
    {
      task: 'nightly-backup',
      kind: backup,
      runner: 'subprocess',
      outcome: 'success',
      seconds: 0.25,
    },
    {
      task: 'nightly-backup',
      kind: backup,
      runner: 'subprocess',
      outcome: 'failure',
      seconds: 3.5,
    },
    { task: 'lint', kind: lint, runner: 'wasm', outcome: 'timeout', seconds: 30 },
    { task: 'deploy', kind: deploy, runner: 'container', outcome: 'cancelled', seconds: 1 },
  ];
}

/**
 * Runs the Go daemon with `script` on stdin and `env` beside the test's environment (its
 * OTEL_EXPORTER_OTLP_METRICS_PROTOCOL chooses the exporter); resolves once it has pushed and exited 0.
 */
export function goDaemon(script: object, env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(goDaemonBinary(), [], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`go-daemon exited ${code}: ${stderr}`));
    });
    child.stdin.end(JSON.stringify(script));
  });
}
