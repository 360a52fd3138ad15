/**
 * wasmrun's access log: one key=value line per request, always, and the same request id in the
 * `X-Request-Id` response header.
 *
 *   ts=2026-06-13T11:18:55.354+00:00 id=d5aafbe6c56c32ec method=POST path=/api/v1/sessions status=200 dur_ms=1 tenant=-
 *
 * With `verbose` (wasmrun's `-v`), a request-received line comes first: `→ GET /api/v1/metrics (id=…)`.
 *
 * Given a level logger (common/log.ts, pino's shape) in place of a stream, each request is one
 * `request completed` record whose details are fields: `request_id`, `method`, `path`, `status`,
 * `duration_ms`, `bytes` (sent, headers included, as nginx's `$bytes_sent`), `remote` (the peer's
 * address) and `tenant`; the verbose line is a `request received` record at level debug.
 *
 * What is never written: the query string (it may carry a token; wasmrun's `url` in the verbose
 * line is the path here too, a deliberate departure), headers, bodies; and, as in wasmrun's, no
 * client address in the line. Request ids are 16 hex digits (64 bits) cut from a pooled buffer
 * of random bytes, refilled 512 ids at a time, so an id costs a slice and a hex conversion.
 * Incoming `X-Request-Id` headers are not trusted: a client-chosen id could forge or split log
 * lines.
 */
/** node:crypto, loaded when an access log first draws request ids (a pull-only host that asks for none never loads it: test/package/pull-host-modules.test.ts). */
const crypto = () => process.getBuiltinModule('node:crypto');
import type { IncomingMessage, ServerResponse } from 'node:http';

import { pathOf } from './http-server.ts';
import { isLevelLogger } from '../common/log.ts';
import type { AccessLogOptions } from '../options.ts';

export type { AccessLogOptions } from '../options.ts';

/** Where lines go; anything with `write(string)` (a Writable, or a test collector). */
export interface LineSink {
  write(chunk: string): unknown;
}

/** One request being logged. */
export interface AccessEntry {
  readonly id: string;
  readonly method: string;
  readonly path: string;
  /** The peer's address, for a level logger's `remote`. */
  readonly remote?: string | undefined;
  /** Set once auth resolves; `-` until then. */
  tenant: string | undefined;
}

export function createAccessLog(options: AccessLogOptions = {}) {
  const stream = options.stream ?? process.stderr;
  const verbose = options.verbose ?? false;
  const now = options.now ?? Date.now;
  // Given a level logger, the same entry is a record whose details are fields (the logger quotes them).
  const logger = isLevelLogger(stream) ? stream : undefined;
  const write = isLevelLogger(stream) ? undefined : (line: string) => stream.write(line);
  const field = logger === undefined ? safe : (text: string) => text;
  return {
    /** Starts an entry (and writes the verbose line). */
    begin(method: string, url: string, remote?: string): AccessEntry {
      const entry: AccessEntry = {
        id: requestId(),
        method: field(method),
        path: field(pathOf(url)),
        remote,
        tenant: undefined,
      };
      if (!verbose) return entry;
      const { id: request_id, method: m, path } = entry;
      if (write !== undefined) write(`\u2192 ${m} ${path} (id=${request_id})\n`);
      else logger?.debug({ request_id, method: m, path }, 'request received');
      return entry;
    },
    /**
     * Writes the access line. `durationMs` is truncated to whole milliseconds, as Go's
     * `Milliseconds()`; `bytes`, what was sent, goes to a level logger only.
     */
    end(entry: AccessEntry, status: number, durationMs: number, bytes?: number): void {
      const { id: request_id, method, path, remote, tenant } = entry;
      const ms = Math.max(0, Math.trunc(durationMs));
      if (write === undefined) {
        const fields = { request_id, method, path, status, duration_ms: ms, bytes, remote, tenant };
        logger?.info(fields, 'request completed');
      } else
        write(
          `ts=${rfc3339(now())} id=${request_id} method=${method} path=${path} status=${status} ` +
            `dur_ms=${ms} tenant=${tenant === undefined ? '-' : safe(tenant)}\n`,
        );
    },
  };
}

/** The entry of each request being logged, for {@link setAccessLogTenant}. */
const entries = new WeakMap<IncomingMessage, AccessEntry>();

/**
 * Logs one exchange of a Node request and response, whichever server routes it: the entry begins
 * now, `X-Request-Id` is set on the response, and the line is written once the response is done
 * (finished, or its connection gone). A request already being logged (two routes mounted with the
 * access log on) is logged once.
 * @param url the path to log (Express's `originalUrl` under a mount point); @default request.url
 */
export function logExchange(
  log: ReturnType<typeof createAccessLog>,
  request: IncomingMessage,
  response: ServerResponse,
  url = request.url ?? '/',
): void {
  if (entries.has(request)) return;
  const started = performance.now();
  // What the socket has sent before this response: a kept-alive connection's earlier ones.
  const { socket } = request;
  const before = socket.bytesWritten;
  const entry = log.begin(request.method ?? '-', url, socket.remoteAddress);
  entries.set(request, entry);
  response.setHeader('x-request-id', entry.id);
  let done = false;
  const end = (): void => {
    if (done) return;
    done = true;
    log.end(entry, response.statusCode, performance.now() - started, socket.bytesWritten - before);
  };
  // 'finish' when the response was written, 'close' alone when the connection went first.
  response.once('finish', end).once('close', end);
}

/**
 * Names the tenant a request authenticated as, for the access line's `tenant=` (`-` until set).
 * The metrics route sets it from the API key; a host whose own auth resolves tenants calls this
 * from its hook or handler, with the fastify request or the Node one. No effect when the access
 * log is off.
 * @example
 *   fastify.addHook('preHandler', async (request) => setAccessLogTenant(request, tenantOf(request)));
 */
export function setAccessLogTenant(
  request: IncomingMessage | { readonly raw: IncomingMessage },
  tenant: string,
): void {
  const entry = entries.get('raw' in request ? request.raw : request);
  if (entry !== undefined) entry.tenant = tenant;
}

/** `2026-06-13T11:18:55.354+00:00`: RFC 3339, milliseconds, UTC written as an offset (as wasmrun does). */
export function rfc3339(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}+00:00`;
}

const ID_BYTES = 8;
const POOL_IDS = 512;
const pool = Buffer.allocUnsafe(ID_BYTES * POOL_IDS);
let offset = pool.length;

/** 16 lowercase hex digits from a pooled CSPRNG buffer. */
export function requestId(): string {
  if (offset === pool.length) {
    crypto().randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}

/**
 * Keeps a field one whitespace-free token so a line always splits into its keys: anything outside
 * printable ASCII is percent-encoded as UTF-8 (a raw request path is percent-encoded already; a
 * lone surrogate is U+FFFD's bytes). Node's parser already refuses most of it; this is the belt to
 * its braces.
 */
function safe(text: string): string {
  return /^[\x21-\x7e]*$/.test(text)
    ? text
    : text.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c.toWellFormed()));
}
