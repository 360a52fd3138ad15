/**
 * serve's status page on its telemetry listener, as the Collector has zpages and Prometheus
 * `/status` and `/targets`: `GET /status` is one HTML page, `GET /status.json` its figures
 * (status-data.ts); `HEAD` the headers of either; any other method 405. Read-only: nothing on it
 * changes serve, and it has no form, link or script that could.
 *
 * Served by jobmeter alone, nothing to build or fetch: the style is inline, allowed by its hash in
 * the Content-Security-Policy, which allows nothing else (no script, image, frame or form target).
 * Every text written into the page is HTML-escaped, since a sender chooses its metrics' names and
 * its resource attributes.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { pathOf, PLAIN_TEXT, sendText } from './http-server.ts';
import {
  cut,
  gatherStatus,
  type StatusData,
  type StatusSender,
  type StatusSource,
} from './status-data.ts';

export const STATUS_PATH = '/status';
export const STATUS_JSON_PATH = '/status.json';

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.4em 0}th,td{text-align:left;padding:.2em .8em .2em 0;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.95em;word-break:break-all}
.bad{color:#a00;font-weight:bold}.ok{color:#070}`;

const HEADERS = {
  'content-security-policy': `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * The status page's route for a listener's handler: answers `request` when its path is
 * {@link STATUS_PATH} or {@link STATUS_JSON_PATH} and returns whether it did.
 */
export function statusRoute(
  source: StatusSource,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    const path = pathOf(request.url);
    if (path !== STATUS_PATH && path !== STATUS_JSON_PATH) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendText(response, 405, PLAIN_TEXT, 'method not allowed\n', { allow: 'GET, HEAD' });
      return true;
    }
    gatherStatus(source).then(
      (data) => {
        if (path === STATUS_JSON_PATH)
          sendText(response, 200, 'application/json; charset=utf-8', JSON.stringify(data), HEADERS);
        else sendText(response, 200, 'text/html; charset=utf-8', renderStatusPage(data), HEADERS);
      },
      () => {
        // The cause stays server-side, as every listener's 500.
        if (!response.headersSent) sendText(response, 500, PLAIN_TEXT, 'internal error\n', HEADERS);
      },
    );
    return true;
  };
}

/** A text of the page, in an element or a quoted attribute: cut to its length, then escaped. */
const e = (text: string): string => cut(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (n: number): string => `<td class="n">${e(String(n))}</td>`;
const row = (...cells: string[]): string => `<tr>${cells.join('')}</tr>`;
const th = (...names: string[]): string => row(...names.map((n) => `<th>${e(n)}</th>`));
const td = (text: string): string => `<td>${e(text)}</td>`;
const table = (head: string, rows: readonly string[]): string =>
  `<table>${head}${rows.join('')}</table>`;

function seconds(s: number | undefined): string {
  if (s === undefined) return 'never';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${d > 0 ? `${d}d ` : ''}${d > 0 || h > 0 ? `${h}h ` : ''}${m}m ${Math.floor(s % 60)}s`;
}

/** Lines of text in one cell, each escaped. */
const lines = (texts: readonly string[]): string => `<td>${texts.map(e).join('<br>')}</td>`;

/** A sender's row: its identity, address, pushes, series, points by outcome, temporality. */
function senderRow(s: StatusSender): string {
  const identity = Object.entries(s.identity).map(([k, v]) => `${k}=${v}`);
  const refused = Object.entries(s.refusedPoints).map(([reason, n]) => `${reason}: ${n}`);
  return row(
    lines(identity.length > 0 ? identity : ['(no identifying attributes)']),
    td(s.address),
    td(s.firstPush),
    td(s.lastPush),
    num(s.series),
    num(s.acceptedPoints),
    refused.length > 0 ? `<td class="bad">${refused.map(e).join('<br>')}</td>` : num(0),
    td(s.temporality.join(', ')),
  );
}

/** A budget's row: what is held, its limit and the share of it held. */
const budget = (what: string, held: number, limit: number): string =>
  row(
    td(what),
    num(held),
    num(limit),
    td(limit > 0 ? `${((held / limit) * 100).toFixed(1)}%` : ''),
  );

/** The page: one HTML document, every text from `data` escaped. */
export function renderStatusPage(data: StatusData): string {
  const parts: string[] = [
    `<h1>jobmeter serve</h1>`,
    table('', [
      row(td('profile'), td(data.profile)),
      ...Object.entries(data.build).map(([k, v]) => row(td(k), td(v))),
      row(td('uptime'), td(seconds(data.uptimeSeconds))),
      row(
        td('ready'),
        data.ready.ready
          ? '<td class="ok">ready</td>'
          : `<td class="bad">not ready: ${data.ready.reasons.map(e).join('<br>')}</td>`,
      ),
      row(td('as of'), td(data.generated)),
    ]),
  ];
  const { ingest, checkpoint, reload } = data;
  if (ingest !== undefined) {
    parts.push(
      '<h2>Budgets</h2>',
      table(th('', 'held', 'limit', 'share'), [
        budget('series', ingest.series, ingest.seriesLimit),
        budget('memory (bytes)', ingest.memoryBytes, ingest.memoryLimitBytes),
      ]),
      '<h2>Points</h2>',
      table(th('', 'points'), [
        row(td('accepted'), num(ingest.acceptedPoints)),
        ...Object.entries(ingest.refusedPoints)
          .filter(([, n]) => n > 0)
          .map(([reason, n]) => row(td(`refused: ${reason}`), num(n))),
      ]),
      `<h2>Senders (${e(String(ingest.senders.held))} of at most ${e(String(ingest.senders.limit))}; ${e(String(ingest.senders.evicted))} dropped for room)</h2>`,
      table(
        th(
          'sender',
          'address',
          'first push',
          'last push',
          'series',
          'accepted',
          'refused',
          'temporality',
        ),
        data.senders.map(senderRow),
      ),
    );
  }
  if (checkpoint !== undefined)
    parts.push(
      '<h2>Checkpoint</h2>',
      table('', [
        row(td('last success'), td(checkpoint.lastSuccess ?? 'none yet')),
        row(td('age'), td(seconds(checkpoint.ageSeconds))),
        row(
          td('failures'),
          checkpoint.failures > 0
            ? `<td class="bad">${e(String(checkpoint.failures))}</td>`
            : num(0),
        ),
        row(
          td('size (bytes)'),
          checkpoint.bytes === undefined ? td('none yet') : num(checkpoint.bytes),
        ),
        row(
          td('last write took'),
          td(
            checkpoint.lastWriteSeconds === undefined
              ? 'none yet'
              : `${(checkpoint.lastWriteSeconds * 1000).toFixed(1)} ms`,
          ),
        ),
      ]),
    );
  if (reload !== undefined)
    parts.push(
      '<h2>Configuration</h2>',
      table('', [
        row(
          td('last load'),
          reload.successful
            ? '<td class="ok">successful</td>'
            : '<td class="bad">failed: the running configuration is kept</td>',
        ),
        row(td('last success'), td(reload.lastSuccess)),
        row(td('age'), td(seconds(reload.ageSeconds))),
        row(
          td('changed'),
          reload.changed.length === 0
            ? td('nothing')
            : `<td>${reload.changed.map((key) => `<code>${e(key)}</code>`).join(', ')}</td>`,
        ),
      ]),
    );
  parts.push(
    `<h2>Largest families (${e(String(data.totals.families))} families, ${e(String(data.totals.series))} series)</h2>`,
    table(
      th('family', 'type', 'series'),
      data.families.map((f) =>
        row(`<td><code>${e(f.name)}</code></td>`, td(f.type), num(f.series)),
      ),
    ),
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>jobmeter status</title><style>${STYLE}</style></head>
<body>${parts.join('\n')}
<p><a href="${STATUS_JSON_PATH.slice(1)}">as JSON</a></p></body></html>
`;
}
