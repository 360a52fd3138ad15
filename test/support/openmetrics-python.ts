/**
 * A strict third-party OpenMetrics parser: the official Python client's
 * `prometheus_client.openmetrics.parser.text_string_to_metric_families`, from the Debian package
 * `python3-prometheus-client`, run by Debian's own interpreter (/usr/bin/python3: a python3 found
 * first on PATH, e.g. pyenv's, does not see Debian's dist-packages).
 *
 * It rejects what Prometheus lets through: a second `# TYPE` for one name, a clashing `_count`
 * beside a histogram, buckets out of order or above `+Inf`, a `_count` that is not the `+Inf`
 * bucket, a negative counter, a missing `# EOF`, metadata after samples.
 *
 * One Python process serves every check of a test file, one JSON line in and one out, so a
 * property test pays the interpreter's start once. Nothing here skips: a missing interpreter or
 * package throws, naming the command that installs it (scripts/ensure-test-deps.sh runs it).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { createInterface } from 'node:readline';

export const PYTHON = '/usr/bin/python3';
export const OPENMETRICS_PYTHON_INSTALL_COMMAND =
  'apt-get update && apt-get install -y --no-install-recommends python3-prometheus-client';

/** Reads one JSON string a line; answers `{"families": n}` or `{"error": "..."}` a line. */
const SCRIPT = `
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    try:
        n = len(list(text_string_to_metric_families(json.loads(line))))
        print(json.dumps({"families": n}), flush=True)
    except Exception as e:
        print(json.dumps({"error": type(e).__name__ + ": " + str(e)}), flush=True)
`;

export interface OpenMetricsParser {
  /** The parser's complaint, or undefined when it accepts `body`; then also the family count. */
  check(body: string): Promise<{ error?: string; families?: number }>;
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const CHECK_TIMEOUT_MS = 10_000;

export async function startOpenMetricsParser(): Promise<OpenMetricsParser> {
  try {
    accessSync(PYTHON, fsConstants.X_OK);
  } catch {
    throw new Error(`${PYTHON} not found: run '${OPENMETRICS_PYTHON_INSTALL_COMMAND}' (as root)`);
  }
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, ['-c', SCRIPT], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.unref();
  let stderr = '';
  child.stderr
    .setEncoding('utf8')
    .on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  async function next(timeoutMs: number, what: string): Promise<Record<string, unknown>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(resolve, timeoutMs, 'timeout')),
    );
    const line = await Promise.race([lines.next(), timeout]).finally(() => clearTimeout(timer));
    if (line === 'timeout')
      throw new Error(
        `the Python OpenMetrics parser did not answer ${what} within ${timeoutMs} ms\n${stderr}`,
      );
    if (line.done === true) {
      const missing = /No module named 'prometheus_client'/.test(stderr)
        ? `\nprometheus_client is not installed for ${PYTHON}: run '${OPENMETRICS_PYTHON_INSTALL_COMMAND}' (as root)`
        : '';
      throw new Error(`the Python OpenMetrics parser exited ${what}${missing}\n${stderr}`);
    }
    return JSON.parse(line.value) as Record<string, unknown>;
  }

  await next(START_TIMEOUT_MS, 'at start');
  let queue: Promise<unknown> = Promise.resolve();
  return {
    check(body) {
      const answer = queue.then(async () => {
        child.stdin.write(JSON.stringify(body) + '\n');
        const reply = await next(CHECK_TIMEOUT_MS, 'to a check');
        return typeof reply['error'] === 'string'
          ? { error: reply['error'] }
          : { families: Number(reply['families']) };
      });
      queue = answer.catch(() => undefined);
      return answer;
    },
    async close() {
      child.stdin.end();
      await closed;
    },
  };
}
