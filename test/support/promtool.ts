/**
 * `promtool check metrics`: Prometheus' own parser and linter for the text format, run on an
 * exposition string.
 *
 * promtool (2.42) reads text 0.0.4 only. OpenMetrics input is not rejected by it: `# EOF` and
 * `# UNIT` parse as comments, so an OpenMetrics body would "pass" unchecked. checkMetrics
 * therefore refuses a body that ends in `# EOF` rather than report a check that did not happen.
 *
 * Exit codes seen from promtool 2.42: 0 clean, 1 parse error, 3 lint problems (e.g. a counter
 * without `_total`, a family without HELP). The output says which.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { findPrometheusBinary } from './prometheus.ts';

export interface CheckMetricsResult {
  /** promtool's exit code: 0 clean, 1 parse error, 3 lint problems. */
  code: number;
  /** stdout and stderr, interleaved in arrival order. */
  output: string;
}

const TIMEOUT_MS = 10_000;

/**
 * @param asRecipe pipe the body as it is, OpenMetrics too, as a `curl … | promtool check metrics`
 *   recipe does (promtool then reads it as text 0.0.4).
 */
export async function checkMetrics(text: string, asRecipe = false): Promise<CheckMetricsResult> {
  if (!asRecipe && /(^|\n)# EOF\n?$/.test(text)) {
    throw new Error(
      'checkMetrics: this is OpenMetrics (ends in "# EOF"); promtool check metrics reads text 0.0.4 only',
    );
  }
  const binary = findPrometheusBinary('promtool');
  const child = spawn(binary, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const done = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    // 'close' (not 'exit') so both pipes are drained first.
    // Killed by a signal: the shell's 128 + signal number.
    child.once('close', (code, signal) =>
      resolve(code ?? 128 + (signal ? osConstants.signals[signal] : 0)),
    );
  });
  // promtool may exit before reading all of a bad body; EPIPE then is not our error.
  child.stdin.on('error', () => {});
  child.stdin.end(text);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, TIMEOUT_MS, 'timeout');
  });
  const result = await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
  if (result === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(
      `promtool check metrics did not finish within ${TIMEOUT_MS} ms; output so far:\n${output}`,
    );
  }
  return { code: result, output };
}
