/**
 * `POST /-/reload` (Prometheus' own path for it, `--web.enable-lifecycle`) on serve's telemetry
 * listener, and which of those requests a web page could have made. A browser sends a page's "simple"
 * POST to any address without a preflight (no CORS answer is needed to send it, only to read the
 * answer), so a page the operator opens could reload serve unless the endpoint refuses what a
 * browser cannot help sending. An operator's tool (`curl -X POST http://127.0.0.1:9465/-/reload`,
 * a script, a config manager) sends none of it.
 *
 * Refused:
 * - `Origin` (any value, `null` included): browsers send it with every POST a page makes, and
 *   jobmeter serves no page that reloads;
 * - `Sec-Fetch-Site` other than `none`: a browser's word that a page asked for it;
 * - a body type a form or a no-cors `fetch` can send (`text/plain`,
 *   `application/x-www-form-urlencoded`, `multipart/form-data`): what an old browser sends
 *   without the two above; the reload reads no body, so a tool needs none;
 * - a `Host` that is not a loopback address or `localhost`: a page on a name of its own that
 *   resolves to 127.0.0.1 (DNS rebinding) is "same-origin" to the browser. This holds because the
 *   listener answering `/-/reload` is loopback-only (`[telemetry] listen`); a listener elsewhere
 *   would need its own names here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { isLoopbackHost } from '../common/loopback.ts';
import { PLAIN_TEXT, sendText } from './http-server.ts';

export const RELOAD_PATH = '/-/reload';

/** Re-reads the configuration (serve's reload.ts): its line, and whether the new one runs. */
export type Reload = () => Promise<{ readonly ok: boolean; readonly said: string }>;

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * Answers a request of {@link RELOAD_PATH}: 405 but for `POST`, 403 for one a web page may have
 * sent ({@link browserReloadRefusal}), else 200 with `reload`'s line, or 500 with why the running
 * configuration is kept.
 */
export function answerReload(
  request: IncomingMessage,
  response: ServerResponse,
  reload: Reload,
): void {
  if (request.method !== 'POST') {
    sendText(response, 405, PLAIN_TEXT, 'method not allowed: POST reloads the configuration\n', {
      allow: 'POST',
    });
    return;
  }
  // The body means nothing: read and dropped, so the connection stays usable.
  request.resume();
  const refusal = browserReloadRefusal(request);
  if (refusal !== undefined) {
    sendText(response, 403, PLAIN_TEXT, `configuration not reloaded: ${refusal}\n`, NO_STORE);
    return;
  }
  void reload().then(
    ({ ok, said }) => sendText(response, ok ? 200 : 500, PLAIN_TEXT, `${said}\n`, NO_STORE),
    () => sendText(response, 500, PLAIN_TEXT, 'configuration not reloaded\n'),
  );
}

/** The Content-Types a browser sends cross-site without a preflight (the Fetch standard's). */
const SIMPLE_TYPE = /^(?:text\/plain|application\/x-www-form-urlencoded|multipart\/form-data)$/;

/** Why a web page may have sent `request`, in words for its 403 answer; undefined when a tool did. */
export function browserReloadRefusal(request: IncomingMessage): string | undefined {
  const { headers } = request;
  if (headers.origin !== undefined)
    return `a request with Origin (${headers.origin}) comes from a web page; send none (curl -X POST URL)`;
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'none')
    return `Sec-Fetch-Site: ${site} says a web page sent it`;
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (SIMPLE_TYPE.test(type))
    return `Content-Type ${type} is what a web page can send cross-site; send no body (curl -X POST URL)`;
  const host = hostnameOf(headers.host);
  if (host === undefined || !isLoopbackHost(host.toLowerCase()))
    return `Host ${headers.host ?? '(none)'} is not this loopback listener's (an address of 127.0.0.0/8 or ::1, or localhost)`;
  return undefined;
}

/** `name:port`, `[v6]:port`, or either without the port → the name; undefined for no Host. */
function hostnameOf(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
