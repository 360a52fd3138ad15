/**
 * `jobmeter` as a child process: `node src/cli/bin.ts …` with the repository's Node 24.
 * Every wait is bounded; a child still running at the end of a test is killed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { EXIT_MS, killChildren, run, start, START_MS } from './harness.ts';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobmeter-cli-'));
});
afterEach(killChildren);
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const SERVING = /^jobmeter: serving (\S+) metrics on (http:\/\/\S+\/metrics)$/m;

describe('jobmeter --help / --version / usage', () => {
  it('--help prints usage to stdout and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: jobmeter serve \[--config FILE\]/);
  });

  it('--version prints the version and exits 0', async () => {
    const { code, stdout } = await run(['--version']);
    assert.equal(code, 0);
    assert.match(
      stdout,
      /^jobmeter \d+\.\d+\.\d+ \(commit ([0-9a-f]{40}|unknown), Node\.js v[\d.]+\)\n$/,
    );
  });

  it('an unknown command or flag exits 2', async () => {
    const cmd = await run(['sever']);
    assert.equal(cmd.code, 2);
    assert.equal(
      cmd.stderr,
      "jobmeter: unknown command 'sever' (expected serve, validate, collector-config or views; see jobmeter --help)\n",
    );
    const flag = await run(['serve', '--port', '9464']);
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, "jobmeter: Unknown option '--port' (see jobmeter --help)\n");
  });
});

describe('jobmeter serve: configuration errors exit 2', () => {
  it('a bad value in a TOML file names key, value and expectation', async () => {
    const path = await file('bad.toml', '[listener]\nport = 70000\n');
    const { code, stderr } = await run(['serve', '--config', path]);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      `jobmeter: ${path}: invalid listener.port=70000: expected an integer from 0 to 65535\n`,
    );
  });

  it('a token with auth = false names both keys (before, it served open)', async () => {
    const path = await file(
      'contradiction.toml',
      '[metrics]\nauth = false\ntoken = "t0k3n-not-printed"\n',
    );
    const { code, stderr } = await run(['serve', '--config', path]);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /^jobmeter: .*invalid metrics\.auth=false: expected true, or no credentials: metrics\.token is set too/,
    );
    assert.doesNotMatch(stderr, /t0k3n-not-printed/);
  });

  it('an unknown key in a YAML file suggests the right one', async () => {
    const path = await file('typo.yaml', 'otlp:\n  intervl_ms: 1000\n');
    const { code, stderr } = await run(['serve', '--config', path]);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      `jobmeter: ${path}: invalid otlp.intervl_ms=<redacted>: expected a key of [otlp]: endpoint, protocol, interval_ms, timeout_ms, temporality, headers, naming (did you mean otlp.interval_ms?)\n`,
    );
  });

  it('a syntax error names the file and line', async () => {
    const path = await file('syntax.toml', 'profile = "rm"\nservice_name = \n');
    const { code, stderr } = await run(['serve', '--config', path]);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      `jobmeter: invalid --config=${path}: expected valid TOML (line 2, column 16: invalid value)\n`,
    );
  });

  it('a bad OTEL_* variable names the variable', async () => {
    const { code, stderr } = await run(['serve'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' });
    assert.equal(code, 2);
    assert.match(stderr, /^jobmeter: invalid OTEL_EXPORTER_OTLP_ENDPOINT=not a url: expected /);
  });

  it('a non-loopback address exits 2 naming what set it: --listen, or the file key', async () => {
    const expected =
      'expected a loopback address (127.0.0.0/8, ::1 or localhost), or --allow-non-loopback (listener.allow_non_loopback = true) to expose it';
    const flag = await run(['serve', '--listen', '0.0.0.0:0']);
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, `jobmeter: invalid --listen=0.0.0.0:0: ${expected}\n`);
    const path = await file('wide.toml', '[listener]\nhost = "0.0.0.0"\nport = 0\n');
    const fromFile = await run(['serve', '--config', path]);
    assert.equal(fromFile.code, 2);
    assert.equal(
      fromFile.stderr,
      `jobmeter: ${path}: invalid listener.host=0.0.0.0: ${expected}\n`,
    );
    const ingest = await file(
      'ingest.toml',
      '[listener]\nport = 0\n[ingest]\nenabled = true\nhost = "0.0.0.0"\nport = 0\n',
    );
    const fromIngest = await run(['serve', '--config', ingest]);
    assert.equal(fromIngest.code, 2);
    assert.equal(
      fromIngest.stderr,
      `jobmeter: ${ingest}: invalid ingest.host=0.0.0.0: expected a loopback address (127.0.0.0/8, ::1 or localhost), or ingest.allow_non_loopback = true to expose the OTLP ingest listener\n`,
    );
  });

  it('[metrics] path = "/health" exits 2 naming the key (the main server answers /health)', async () => {
    const path = await file('health.toml', '[listener]\nport = 0\n[metrics]\npath = "/health"\n');
    const { code, stderr } = await run(['serve', '--config', path]);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      `jobmeter: ${path}: invalid metrics.path=/health: expected a path other than /health, which the main server answers itself\n`,
    );
  });

  it('[listener] enabled = false with nothing else to serve exits 2 naming the key', async () => {
    const path = await file('idle.toml', '[listener]\nenabled = false\n');
    const { code, stderr } = await run(['serve', '--config', path]);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      `jobmeter: ${path}: invalid listener.enabled=false: expected true, or with the main server off an [otlp] endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT), [ingest] enabled = true or [metrics] listen: otherwise nothing is served\n`,
    );
  });

  it('never prints a header value', async () => {
    const path = await file('secret.toml', '[otlp.headers]\nauthorization = ["Bearer s3cret"]\n');
    const { code, stderr } = await run(['serve', '--config', path]);
    assert.equal(code, 2);
    assert.doesNotMatch(stderr, /s3cret/);
    assert.match(stderr, /invalid otlp\.headers\.authorization=<redacted>/);
  });
});

describe('jobmeter serve: running', () => {
  it('serves /metrics on the address from --listen, then exits 0 on SIGTERM', async () => {
    const path = await file(
      'serve.toml',
      'profile = "otel"\n[otlp.headers]\nauthorization = "Bearer s3cret"\n',
    );
    const r = start(['serve', '--config', path, '--listen', '127.0.0.1:0']);
    const [, profile, url] = await r.stderrMatches(SERVING, START_MS);
    assert.equal(profile, 'otel');
    assert.match(url!, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.doesNotMatch(url!, /:0\//);

    const res = await fetch(url!, { signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /# TYPE /);

    r.child.kill('SIGTERM');
    assert.equal(await r.exited(EXIT_MS), 0);
    assert.doesNotMatch(r.stderr(), /s3cret/);
  });

  it("runs, as the same process, with serve's Node flags (node-flags.ts), keeping one the operator gave", async () => {
    const { readFile } = await import('node:fs/promises');
    const { SERVE_NODE_FLAGS } = await import('../../src/cli/node-flags.ts');
    const argvOf = async (pid: number): Promise<string[]> =>
      (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const r = start(['serve', '--listen', '127.0.0.1:0']);
    await r.stderrMatches(SERVING, START_MS);
    const argv = await argvOf(r.child.pid!);
    for (const flag of SERVE_NODE_FLAGS)
      assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
    assert.equal(argv.filter((a) => a === 'serve').length, 1);
    r.child.kill('SIGTERM');
    assert.equal(await r.exited(EXIT_MS), 0);

    const own = start(['serve', '--listen', '127.0.0.1:0'], {
      NODE_OPTIONS: '--max-semi-space-size=2',
    });
    await own.stderrMatches(SERVING, START_MS);
    assert.ok(!(await argvOf(own.child.pid!)).some((a) => a.startsWith('--max-semi-space-size')));
    own.child.kill('SIGTERM');
    assert.equal(await own.exited(EXIT_MS), 0);
  });

  it('serves on [::1] and exits 0 on SIGINT', async () => {
    const r = start(['serve', '--profile', 'otel', '--listen', '[::1]:0']);
    let match: RegExpExecArray;
    try {
      match = await r.stderrMatches(SERVING, START_MS);
    } catch (err) {
      // Nothing may skip silently: a machine without IPv6 loopback fails here, saying so.
      if (/EADDRNOTAVAIL|EAFNOSUPPORT/.test(r.stderr()))
        throw new Error('no IPv6 loopback on this machine (::1): enable IPv6 on lo', {
          cause: err,
        });
      throw err;
    }
    assert.equal(match[1], 'otel');
    assert.match(match[2]!, /^http:\/\/\[::1\]:\d+\/metrics$/);
    const res = await fetch(match[2]!, { signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 200);
    r.child.kill('SIGINT');
    assert.equal(await r.exited(EXIT_MS), 0);
  });

  it('serves on a non-loopback address with --allow-non-loopback', async () => {
    const r = start(['serve', '--listen', '0.0.0.0:0', '--allow-non-loopback']);
    const [, , url] = await r.stderrMatches(SERVING, START_MS);
    assert.match(url!, /^http:\/\/0\.0\.0\.0:\d+\/metrics$/);
    r.child.kill('SIGTERM');
    assert.equal(await r.exited(EXIT_MS), 0);
  });

  it('exits 1 with a message when the port is taken', async () => {
    const first = start(['serve', '--listen', '127.0.0.1:0']);
    const [, , url] = await first.stderrMatches(SERVING, START_MS);
    const port = new URL(url!).port;
    const second = await run(['serve', '--listen', `127.0.0.1:${port}`]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /^jobmeter: .*EADDRINUSE/m);
    first.child.kill('SIGTERM');
    assert.equal(await first.exited(EXIT_MS), 0);
  });
});
