/**
 * serve's own telemetry is on by default, on its own loopback listener at 127.0.0.1:9465, as the
 * Collector's is (localhost:8888): held to the real default address in a network namespace of
 * each test's own (own-network.ts), so no other serve or program meets it there. A taken default
 * port stops serve with a line naming the key, the address and the ways out (docs/serve.md
 * quotes it); `[telemetry] enabled = false` turns it off; JOBMETER_TELEMETRY_LISTEN moves it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { afterEach, describe, it } from 'node:test';

import { TELEMETRY_OPTIONS } from '../../src/common/option-table.ts';
import { inOwnNetwork } from '../support/own-network.ts';
import { tempFiles } from '../support/temp-files.ts';
import { killChildren, run, start, START_MS, EXIT_MS } from './harness.ts';

afterEach(killChildren);
const temp = tempFiles('jobmeter-telemetry-default-');

const DEFAULT = '127.0.0.1:9465';
const TELEMETRY_LINE = /^jobmeter: serving jobmeter's own telemetry on (\S+)\/metrics$/m;
const MAIN_LINE = /^jobmeter: serving otel metrics on \S+$/m;
// The harness moves the listener to a free port; these tests hold it to its default.
const UNSET = { JOBMETER_TELEMETRY_LISTEN: '' };

/** The one quote (`…`) of docs/serve.md that starts with `start`, its line breaks made spaces. */
function quoted(start: string): string {
  const page = readFileSync(new URL('../../docs/serve.md', import.meta.url), 'utf8');
  const parts = page.replace(/\s*\n\s*/g, ' ').split(`\`${start}`);
  assert.equal(parts.length, 2, `docs/serve.md: one quote starting ${start}`);
  return start + parts[1]!.slice(0, parts[1]!.indexOf('`'));
}

describe("serve's own telemetry, on by default", () => {
  it('is the option table default, on loopback', () => {
    assert.equal(TELEMETRY_OPTIONS.listen.default, DEFAULT);
    assert.equal(TELEMETRY_OPTIONS.enabled.default, true);
  });

  it('serve with no [telemetry] answers GET /metrics on 127.0.0.1:9465 with jobmeter_build_info', async () => {
    const r = await inOwnNetwork({
      args: ['serve'],
      waitFor: TELEMETRY_LINE.source,
      fetch: `http://${DEFAULT}/metrics`,
    });
    assert.ok(r.matched, r.stderr);
    assert.match(r.stderr, new RegExp(`on http://${DEFAULT.replaceAll('.', '\\.')}/metrics$`, 'm'));
    assert.equal(r.fetched?.status, 200, r.stderr);
    assert.match(r.fetched.body, /^jobmeter_build_info\{version="[^"]+",.*\} 1$/m);
    assert.match(r.fetched.body, /^jobmeter_ready 1$/m);
    assert.equal(r.code, 0, r.stderr);
  });

  it('a taken default port: serve exits 1 naming [telemetry] listen, the address and the ways out (the line docs/serve.md quotes)', async () => {
    const r = await inOwnNetwork({
      args: ['serve'],
      hold: 9465,
      waitFor: '^jobmeter: \\[telemetry\\]',
    });
    assert.equal(r.code, 1, r.stderr);
    const line = quoted('jobmeter: [telemetry] listen 127.0.0.1:9465 (the default): ');
    assert.ok(r.stderr.split('\n').includes(line), `${line}\nnot in:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.doesNotMatch(r.stderr, TELEMETRY_LINE);
  });

  it('[telemetry] enabled = false: no telemetry listener, so a taken 9465 does not stop serve', async () => {
    const config = await temp.file('off.toml', '[telemetry]\nenabled = false\n');
    const r = await inOwnNetwork({
      args: ['serve', '--config', config],
      hold: 9465,
      waitFor: MAIN_LINE.source,
    });
    assert.ok(r.matched, r.stderr);
    assert.doesNotMatch(r.stderr, TELEMETRY_LINE);
    assert.doesNotMatch(r.stderr, /\[telemetry\]/);
    assert.equal(r.code, 0, r.stderr);
  });

  it('a taken port set by JOBMETER_TELEMETRY_LISTEN is named without "(the default)"', async () => {
    const r = await inOwnNetwork({
      args: ['serve'],
      env: { JOBMETER_TELEMETRY_LISTEN: '127.0.0.1:9999' },
      hold: 9999,
      waitFor: '^jobmeter: \\[telemetry\\]',
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^jobmeter: \[telemetry\] listen 127\.0\.0\.1:9999: address already in use; set \[telemetry\] listen \(or JOBMETER_TELEMETRY_LISTEN\) to a free loopback HOST:PORT, or \[telemetry\] enabled = false/m,
    );
  });
});

describe('[telemetry] settings outside the default', () => {
  it('JOBMETER_TELEMETRY_LISTEN moves the listener; a config file listen wins over it', async () => {
    const moved = start(['serve', '--listen', '127.0.0.1:0'], {
      JOBMETER_TELEMETRY_LISTEN: '127.0.0.1:0',
    });
    const [, url] = await moved.stderrMatches(TELEMETRY_LINE, START_MS);
    assert.notEqual(new URL(url!).port, '9465');
    const res = await fetch(`${url!}/metrics`);
    assert.match(await res.text(), /^jobmeter_build_info\{/m);
    moved.child.kill('SIGTERM');
    assert.equal(await moved.exited(EXIT_MS), 0);

    const config = await temp.file('listen.toml', '[telemetry]\nlisten = "127.0.0.1:0"\n');
    const printed = await run(['validate', '--print', '--config', config], {
      JOBMETER_TELEMETRY_LISTEN: '127.0.0.1:9999',
    });
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^\[telemetry\]\nenabled = true\nlisten = "127\.0\.0\.1:0"$/m);
  });

  it('a bad enabled value exits 2 naming the key, the value and what was expected', async () => {
    const config = await temp.file('bad.toml', '[telemetry]\nenabled = "off"\n');
    const r = await run(['serve', '--config', config], UNSET);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^jobmeter: \S+bad\.toml: invalid telemetry\.enabled=off: expected true or false/m,
    );
  });

  it('a bad JOBMETER_TELEMETRY_LISTEN exits 2 naming the variable', async () => {
    const r = await run(['serve'], { JOBMETER_TELEMETRY_LISTEN: '0.0.0.0:9465' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^jobmeter: invalid JOBMETER_TELEMETRY_LISTEN=0\.0\.0\.0:9465: expected a loopback HOST:PORT/m,
    );
  });

  it('enable_reload needs the listener on: with enabled = false it exits 2 naming who set it', async () => {
    const config = await temp.file('off-reload.toml', '[telemetry]\nenabled = false\n');
    const flag = await run(['serve', '--config', config, '--enable-reload'], UNSET);
    assert.equal(flag.code, 2, flag.stderr);
    assert.match(
      flag.stderr,
      /^jobmeter: invalid --enable-reload=true: expected false while \[telemetry\] enabled = false/m,
    );
    const inFile = await temp.file(
      'off-reload-file.toml',
      '[telemetry]\nenabled = false\nenable_reload = true\n',
    );
    const file = await run(['serve', '--config', inFile], UNSET);
    assert.equal(file.code, 2, file.stderr);
    assert.match(file.stderr, /off-reload-file\.toml: invalid telemetry\.enable_reload=true/);
  });

  it('enable_reload needs no listen: POST /-/reload is answered on the listener on by default', async () => {
    const config = await temp.file(
      'reload.toml',
      '[listener]\nport = 0\n[telemetry]\nenable_reload = true\n',
    );
    const printed = await run(['validate', '--print', '--config', config], UNSET);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(
      printed.stdout,
      /^\[telemetry\]\nenabled = true\nlisten = "127\.0\.0\.1:9465"\nenable_reload = true$/m,
    );
    // The harness's free port stands in for 9465 (held to it above).
    const serve = start(['serve', '--config', config]);
    const [, url] = await serve.stderrMatches(TELEMETRY_LINE, START_MS);
    await serve.stderrMatches(
      /^jobmeter: POST \S+\/-\/reload re-reads the configuration/m,
      START_MS,
    );
    const res = await fetch(`${url!}/-/reload`, { method: 'POST' });
    assert.equal(res.status, 200, await res.clone().text());
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited(EXIT_MS), 0);
  });

  it('SIGHUP names turning the listener off as [telemetry] enabled alone, at restart; the listener stays', async () => {
    const path = await temp.file('toggle.toml', '[listener]\nport = 0\n');
    const serve = start(['serve', '--config', path]);
    const [, url] = await serve.stderrMatches(TELEMETRY_LINE, START_MS);
    await writeFile(path, '[listener]\nport = 0\n[telemetry]\nenabled = false\n');
    serve.child.kill('SIGHUP');
    const [line] = await serve.stderrMatches(
      /^jobmeter: SIGHUP: configuration re-read.*$/m,
      START_MS,
    );
    assert.equal(
      line,
      'jobmeter: SIGHUP: configuration re-read; take effect at restart: [telemetry] enabled',
    );
    const res = await fetch(`${url!}/metrics`);
    assert.equal(res.status, 200, 'the running listener serves on until the restart');
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited(EXIT_MS), 0);
  });
});
