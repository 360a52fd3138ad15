/**
 * `POST /-/reload` refuses what a web page in the operator's browser can send: a browser sends any
 * page's "simple" POST cross-site without asking (no preflight), so the endpoint must tell such a
 * request from an operator's tool by what a browser cannot leave out or put in. Refused, 403 with
 * the reason and nothing re-read: a request naming a page (`Origin`, `Sec-Fetch-Site` other than
 * `none`), a body type a form or a no-cors fetch sends (`text/plain`,
 * `application/x-www-form-urlencoded`, `multipart/form-data`), a `Host` that is not the loopback
 * listener's (DNS rebinding: a name of the page's own resolving to 127.0.0.1). Taken: what curl and
 * Prometheus-style tools send, `curl -X POST http://127.0.0.1:PORT/-/reload`, by address or as
 * localhost. A child serve, its token file changed before the refused requests: only the taken one
 * puts the new token in force.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { afterEach, it } from 'node:test';
import { promisify } from 'node:util';

import { EXIT_MS, killChildren, start, START_MS } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-reload-cross-site-');
afterEach(killChildren);
const execFileP = promisify(execFile);

const TELEMETRY = /serving jobmeter's own telemetry on (http:\/\/\S+)\/metrics\n/;

/** One POST with exactly these headers (node:http adds no Origin, Sec-Fetch-* or Content-Type). */
function post(
  origin: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; text: string }> {
  const url = new URL(`${origin}/-/reload`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...(body !== '' && { 'content-length': String(body.length) }), ...headers },
        setHost: !('host' in headers),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

it(
  'POST /-/reload refuses a cross-site browser request (simple body types, Origin, Sec-Fetch-Site, a foreign Host) with 403 and the reason, re-reading nothing; curl -X POST reloads',
  { timeout: 120_000 },
  async () => {
    const tokenFile = await files.file('token', 'FIRSTSECRET\n');
    const path = await files.file(
      'on.toml',
      [
        'profile = "otel"',
        '[listener]',
        'port = 0',
        '[metrics]',
        `token_file = "${tokenFile}"`,
        '[telemetry]',
        'listen = "127.0.0.1:0"',
        'enable_reload = true',
        '',
      ].join('\n'),
    );
    const child = start(['serve', '--config', path]);
    const [, origin] = await child.stderrMatches(TELEMETRY, START_MS);
    const port = new URL(origin!).port;
    const [, metricsUrl] = /serving otel metrics on (http:\/\/\S+)\n/.exec(child.stderr())!;
    const scrape = async (token: string): Promise<number> =>
      (await fetch(metricsUrl!, { headers: { authorization: `Bearer ${token}` } })).status;

    await writeFile(tokenFile, 'SECONDSECRET\n');
    const refused: [string, Record<string, string>, string, RegExp][] = [
      ['text/plain, no header of its own', { 'content-type': 'text/plain' }, 'x', /text\/plain/],
      [
        'text/plain with a charset, uppercase',
        { 'content-type': 'Text/Plain; charset=UTF-8' },
        'x',
        /text\/plain/,
      ],
      [
        'a form',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'a=1',
        /application\/x-www-form-urlencoded/,
      ],
      [
        'a multipart form',
        { 'content-type': 'multipart/form-data; boundary=b' },
        '--b--',
        /multipart\/form-data/,
      ],
      ['a foreign Origin', { origin: 'http://evil.example' }, '', /Origin/],
      ['Origin null (a sandboxed page)', { origin: 'null' }, '', /Origin/],
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }, '', /Sec-Fetch-Site/],
      ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }, '', /Sec-Fetch-Site/],
      ['a foreign Host (DNS rebinding)', { host: `evil.example:${port}` }, '', /Host/],
      ['a name resolving to loopback', { host: `127.0.0.1.nip.io:${port}` }, '', /Host/],
    ];
    for (const [what, headers, body, reason] of refused) {
      const { status, text } = await post(origin!, headers, body);
      assert.equal(status, 403, what);
      assert.match(text, /^configuration not reloaded: /, what);
      assert.match(text, reason, what);
    }
    assert.equal(await scrape('FIRSTSECRET'), 200, 'nothing was re-read: the old token holds');
    assert.equal(await scrape('SECONDSECRET'), 401);
    assert.doesNotMatch(child.stderr(), /^jobmeter: POST \/-\/reload: /m, 'no re-read line');

    // An operator's tool: curl as the docs write it (no body, no Content-Type, no Origin).
    const { stdout } = await execFileP('curl', [
      '-sS',
      '-w',
      '%{http_code}',
      '-X',
      'POST',
      `${origin}/-/reload`,
    ]);
    assert.equal(stdout, 'configuration re-read; applied now: [metrics] token\n200');
    assert.equal(await scrape('SECONDSECRET'), 200, 'the new token is in force');
    // localhost names the loopback listener too, and a tool's own body type is no browser's.
    await writeFile(tokenFile, 'THIRDSECRET\n');
    const local = await post(origin!, {
      host: `localhost:${port}`,
      'content-type': 'application/json',
    });
    assert.deepEqual(local, {
      status: 200,
      text: 'configuration re-read; applied now: [metrics] token\n',
    });
    assert.equal(await scrape('THIRDSECRET'), 200);

    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
