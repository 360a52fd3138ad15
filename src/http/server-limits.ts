/**
 * Timeouts and a connection cap for every listener jobmeter opens (the pull listener, the ingest
 * listener, `serve`'s main server), and the bounded close they share. Without them a silent or
 * stalled connection could stay open forever, so a few stalled bodies could hold the ingest's
 * slots and enough idle sockets could exhaust the fds.
 *
 * - `requestTimeoutMillis`: a request's headers and body must have arrived within it, counted from
 *   the connection's first byte wait (a connection that sends nothing is closed after it too);
 *   past it Node answers 408 and closes the connection.
 * - `idleTimeoutMillis`: a keep-alive connection with no request in progress is closed after it.
 *   Longer than Prometheus's default scrape interval (15 s), so a scraper's connection is reused.
 * - `maxConnections`: connections open at once. One more evicts the connection longest without
 *   progress among those holding room unused (idle keep-alive, headers or a body still arriving),
 *   so a client holding sockets cannot starve a fresh scrape or a real sender (connection-room.ts:
 *   the timeouts above bound each holder, eviction decides who gets the room while it is full);
 *   only when every connection has a whole request in is the new one closed as it is accepted.
 *
 * What must stay true: a response being written to a client that reads slowly is not cut by these
 * (only by the socket inactivity timeout, twice the longer of the two above, when nothing moves).
 */
import type { RequestListener, Server } from 'node:http';
import { MAX_MILLIS } from '../common/option-rules.ts';
import type { ServerLimits } from '../common/option-table.ts';
import { keepRoom, type OnShed } from './connection-room.ts';

// Taken from the module object, not by `import`: an ESM import of node:http reads every export,
// and its WebSocket getters load undici, ~40 ms of a host's start (the bench's startup row; a
// test in pull-host-modules.test.ts fails if a pull host loads undici).
const { createServer } = process.getBuiltinModule('node:http');

export type { ServerLimits } from '../common/option-table.ts';

/** How long `closeServer` lets requests in flight finish before closing their connections. */
export const CLOSE_GRACE_MILLIS = 1_500;

/** How often Node checks request and header timeouts: their precision. */
const CHECK_INTERVAL_MILLIS = 500;

/** A node:http server answering with `listener`, under `limits`; not listening yet. `onShed` hears of each connection closed to keep room. */
export function createLimitedServer(
  limits: ServerLimits,
  listener: RequestListener,
  onShed?: OnShed,
): Server {
  const server = createServer(
    {
      headersTimeout: limits.requestTimeoutMillis,
      requestTimeout: limits.requestTimeoutMillis,
      keepAliveTimeout: limits.idleTimeoutMillis,
      connectionsCheckingInterval: CHECK_INTERVAL_MILLIS,
    },
    listener,
  );
  // Socket inactivity (nothing read or written): twice the longer of the two, so both fire first
  // (a 408 says why) and only a client that stops reading a response meets it. With no 'timeout'
  // listener Node destroys the socket.
  server.setTimeout(
    Math.min(2 * Math.max(limits.requestTimeoutMillis, limits.idleTimeoutMillis), MAX_MILLIS),
  );
  // Not `server.maxConnections`: Node would drop the newcomer, however many sockets sit idle.
  keepRoom(server, limits.maxConnections, onShed);
  return server;
}

/**
 * Closes `server` boundedly: stops accepting, closes idle connections (keep-alive, or a client
 * that never sent a whole request) at once, and after CLOSE_GRACE_MILLIS every connection still
 * open, so a held-open or stalled client cannot keep shutdown waiting.
 */
export async function closeServer(server: Server): Promise<void> {
  const closing = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MILLIS);
  timer.unref();
  try {
    await closing;
  } finally {
    clearTimeout(timer);
  }
}
