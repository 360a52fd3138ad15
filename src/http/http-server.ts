/**
 * One listening node:http server of jobmeter's own (the pull listener, `serve`'s main server, the
 * ingest listener): bound under its limits (server-limits.ts), answering 503 while it closes, and
 * closed boundedly. Needs no fastify.
 *
 * Once `close()` starts, a request still arriving on an open connection (pipelined, or racing the
 * idle close) gets 503 with `Connection: close` and fastify's `return503OnClosing` body, rather
 * than starting work on something shutting down. A handler that throws or rejects answers 500 when
 * nothing was written yet; the cause stays server-side.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { OnShed } from './connection-room.ts';
import { closeServer, createLimitedServer, type ServerLimits } from './server-limits.ts';

/** Answers one request; a returned promise is awaited only for its failure. */
export type RequestHandler = (
  request: IncomingMessage,
  response: ServerResponse,
) => void | Promise<void>;

export interface HttpServerOptions {
  readonly host: string;
  /** 0 picks a free port (read it back from `port`). */
  readonly port: number;
  readonly limits: ServerLimits;
  readonly handler: RequestHandler;
  /** Called as closing starts, before connections are closed (a route stops starting scrapes). */
  readonly onClosing?: () => void;
  /** Called once the server has closed and no request is left (release what requests used). */
  readonly onClosed?: () => void | Promise<void>;
  /** Told of each connection closed to keep room under the cap (connection-room.ts). */
  readonly onShed?: OnShed;
}

/** The Content-Type of every short text answer of jobmeter's own listeners. */
export const PLAIN_TEXT = 'text/plain; charset=utf-8';

const CLOSING_BODY =
  '{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}';

/** @throws the listen error (address in use, permission) after releasing what was made. */
export async function startHttpServer(options: HttpServerOptions) {
  let closing: Promise<void> | undefined;
  const server = createLimitedServer(
    options.limits,
    (request, response) => {
      if (closing !== undefined) {
        sendText(response, 503, 'application/json', CLOSING_BODY, { connection: 'close' });
        return;
      }
      let pending: void | Promise<void>;
      try {
        pending = options.handler(request, response);
      } catch {
        failed(response);
        return;
      }
      if (pending !== undefined) pending.catch(() => failed(response));
    },
    options.onShed,
  );
  try {
    // Rejects with the server's 'error' (address in use, permission) if it comes first.
    await once(server.listen({ host: options.host, port: options.port }), 'listening');
  } catch (err) {
    await options.onClosed?.();
    throw err;
  }
  const bound = server.address();
  return {
    /** The bound port (the real one when 0 was asked). */
    port: typeof bound === 'object' && bound !== null ? bound.port : options.port,
    /** Stops accepting and closes every connection within the grace (server-limits.ts). Idempotent. */
    close(): Promise<void> {
      closing ??= (async () => {
        options.onClosing?.();
        await closeServer(server);
        await options.onClosed?.();
      })();
      return closing;
    },
  };
}

/** The cause stays server-side: a fixed 500, or the connection cut when the answer had begun. */
function failed(response: ServerResponse): void {
  if (response.headersSent || response.destroyed) {
    response.destroy();
    return;
  }
  sendText(response, 500, PLAIN_TEXT, 'internal error\n', { connection: 'close' });
}

/** Answers with a short fixed body, its length up front; `HEAD` gets the headers only. */
export function sendText(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string | Uint8Array,
  headers: Readonly<Record<string, string>> = {},
): void {
  response.statusCode = status;
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.setHeader('content-type', contentType);
  response.setHeader(
    'content-length',
    typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
  );
  if (response.req.method === 'HEAD') response.end();
  else response.end(body);
}

/** A request URL's path: what routes match, without the query string. */
export const pathOf = (url: string | undefined): string =>
  url === undefined ? '/' : url.split('?', 1)[0]!;
