/**
 * `POST /-/reload` on `jobmeter serve`'s telemetry listener (as Prometheus' `/-/reload` under
 * `--web.enable-lifecycle`): off unless `[telemetry] enable_reload` / `--enable-reload` asks for
 * it, and then the one same re-read as SIGHUP's — the same line (its trigger named first), the
 * same `jobmeter_config_last_reload_successful`, the metrics token rotated live — answered 200
 * with the line's text, or 500 with why the running configuration is kept; 405 for any other
 * method. A child serve, read over HTTP; no secret in any answer or line.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFile } from 'node:fs/promises';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, run, start, START_MS } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-reload-endpoint-');
afterEach(killChildren);

const TELEMETRY = /serving jobmeter's own telemetry on (http:\/\/\S+)\/metrics\n/;

function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

it(
  'with enable_reload false (its default) the telemetry listener has no /-/reload (404) and says nothing of one',
  { timeout: 60_000 },
  async () => {
    const path = await files.file(
      'off.toml',
      [
        'profile = "otel"',
        '[listener]',
        'port = 0',
        '[telemetry]',
        'listen = "127.0.0.1:0"',
        'enable_reload = false',
        '',
      ].join('\n'),
    );
    const child = start(['serve', '--config', path]);
    const [, origin] = await child.stderrMatches(TELEMETRY, START_MS);
    const res = await fetch(`${origin}/-/reload`, { method: 'POST' });
    assert.equal(res.status, 404);
    assert.doesNotMatch(child.stderr(), /\/-\/reload|re-read/);
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);

it(
  'POST /-/reload re-reads as SIGHUP does: the same line and self-metric, the token rotated live, 200 with the line, 500 with why for a broken file, 405 for GET',
  { timeout: 120_000 },
  async () => {
    const tokenFile = await files.file('token', 'FIRSTSECRET\n');
    const config = (port: number | string): string =>
      [
        'profile = "otel"',
        '[listener]',
        `port = ${port}`,
        '[metrics]',
        `token_file = "${tokenFile}"`,
        '[telemetry]',
        'listen = "127.0.0.1:0"',
        'enable_reload = true',
        '',
      ].join('\n');
    const path = await files.file('on.toml', config(0));
    const child = start(['serve', '--config', path]);
    const [, origin] = await child.stderrMatches(TELEMETRY, START_MS);
    // Stderr and the HTTP answers are two channels: a line is awaited, never assumed there yet.
    await child.stderrMatches(
      new RegExp(
        `^jobmeter: POST ${origin}/-/reload re-reads the configuration as SIGHUP does$`,
        'm',
      ),
      START_MS,
    );
    const [, metricsUrl] = /serving otel metrics on (http:\/\/\S+)\n/.exec(child.stderr())!;
    const scrape = async (token: string): Promise<number> =>
      (await fetch(metricsUrl!, { headers: { authorization: `Bearer ${token}` } })).status;
    const telemetry = async (): Promise<string> =>
      (
        await fetch(`${origin}/metrics`, { headers: { accept: 'text/plain;version=0.0.4' } })
      ).text();
    const reload = async (): Promise<[number, string]> => {
      const res = await fetch(`${origin}/-/reload`, { method: 'POST' });
      return [res.status, await res.text()];
    };
    const lines = (prefix: string): string[] =>
      child
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith(prefix));
    /** The lines with `prefix` once there are `n` of them (stderr may trail the HTTP answer). */
    const linesWhen = async (prefix: string, n: number): Promise<string[]> => {
      const deadline = Date.now() + START_MS;
      while (lines(prefix).length < n && Date.now() < deadline) await sleep(20);
      return lines(prefix);
    };

    const get = await fetch(`${origin}/-/reload`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.deepEqual(lines('jobmeter: POST /-/reload: '), [], 'a GET reloads nothing');

    assert.deepEqual(await reload(), [200, 'configuration re-read: unchanged\n']);
    assert.deepEqual(await linesWhen('jobmeter: POST /-/reload: ', 1), [
      'jobmeter: POST /-/reload: configuration re-read: unchanged',
    ]);

    await writeFile(tokenFile, 'SECONDSECRET\n');
    assert.deepEqual(await reload(), [
      200,
      'configuration re-read; applied now: [metrics] token\n',
    ]);
    assert.equal(await scrape('SECONDSECRET'), 200, 'the new token is in force');
    assert.equal(await scrape('FIRSTSECRET'), 401, 'the old one no longer is');

    const loaded = sample(
      await telemetry(),
      'jobmeter_config_last_reload_success_timestamp_seconds',
    )!;
    await writeFile(path, config('"nine"'));
    const why = `configuration not reloaded, the running one is kept: ${path}: invalid listener.port=nine: expected an integer from 0 to 65535 (got a string)`;
    assert.deepEqual(await reload(), [500, `${why}\n`]);
    let body = await telemetry();
    assert.equal(sample(body, 'jobmeter_config_last_reload_successful'), 0, body);
    assert.equal(
      sample(body, 'jobmeter_config_last_reload_success_timestamp_seconds'),
      loaded,
      body,
    );
    assert.equal(await scrape('SECONDSECRET'), 200, 'the running configuration is kept');

    // SIGHUP writes the very same line, but for what asked for it.
    child.child.kill('SIGHUP');
    await child.stderrMatches(/^jobmeter: SIGHUP: .*\n/m, START_MS);
    assert.deepEqual(lines('jobmeter: SIGHUP: '), [`jobmeter: SIGHUP: ${why}`]);
    assert.equal(
      (await linesWhen('jobmeter: POST /-/reload: ', 3)).at(-1),
      `jobmeter: POST /-/reload: ${why}`,
    );

    await writeFile(path, config(0));
    assert.equal((await reload())[0], 200);
    body = await telemetry();
    assert.equal(sample(body, 'jobmeter_config_last_reload_successful'), 1, body);

    assert.doesNotMatch(child.stderr(), /FIRSTSECRET|SECONDSECRET/);
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);

it(
  '--enable-reload with the telemetry listener off is a configuration error naming the flag',
  { timeout: 60_000 },
  async () => {
    const off = await files.file('off.toml', '[telemetry]\nenabled = false\n');
    const { code, stderr } = await run([
      'serve',
      '--config',
      off,
      '--profile',
      'otel',
      '--listen',
      '127.0.0.1:0',
      '--enable-reload',
    ]);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      /^jobmeter: invalid --enable-reload=true: expected false while \[telemetry\] enabled = false/m,
    );
  },
);
