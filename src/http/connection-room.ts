/**
 * The connection cap of every jobmeter listener, kept so that a client holding sockets costs
 * itself, not everyone: when a connection arrives past the cap, one that holds room without using
 * it is closed to make room, and the newcomer is served. Holding room without using it means no
 * request in progress (an idle keep-alive connection, or one that has not finished sending its
 * headers) or a request whose body is still arriving. Only when every open connection has a whole
 * request in (being processed or answered) is the newcomer closed at once, as Node's own
 * `maxConnections` would.
 *
 * The one closed is, of the remote address holding the most connections, the one longest without
 * progress: no byte received and no request begun or answered. A sender that opened many pays
 * before one that holds a few, a body stalled since its headers goes before a body arriving, and a
 * scraper's reused keep-alive connection, active every scrape interval, goes last. An HTTP client
 * meets an evicted keep-alive connection as a closed one and retries on a new connection
 * (Prometheus does, and the OTLP exporters retry a reset).
 *
 * Why choosing whom to close rather than Node's `requestTimeout` / `headersTimeout` alone: those
 * (server-limits.ts) bound how long one holder keeps a connection, not who gets the room while it
 * is full. Senders that open a new connection as each one is closed refill the room faster than any
 * timeout frees it, so with only the timeouts a flood of stalled bodies keeps every real sender
 * out for as long as it goes on. Eviction makes each new connection cost one of theirs instead.
 * Not a per-address share: every sender on a host (or behind one proxy or NAT) shares its address,
 * so a share would lock them out with the flood; the address only orders who goes first.
 *
 * Progress is read from `socket.bytesRead` when room is needed (no listener on the data path): a
 * connection whose count moved since it was last looked at is taken as active then.
 *
 * What must stay true: the bookkeeping is O(open connections) per connection past the cap and O(1)
 * otherwise; a connection is forgotten as it closes, however it closes; a request whose body is
 * whole is never evicted; times are monotonic.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What a connection closed to keep room was holding: `idle` a keep-alive connection between
 * requests, `headers` no whole request yet, `slow_body` a request whose body was still arriving;
 * `full` a newcomer closed because every connection had a whole request in.
 */
export type ShedReason = 'idle' | 'headers' | 'slow_body' | 'full';
export const SHED_REASONS: readonly ShedReason[] = ['idle', 'headers', 'slow_body', 'full'];

/**
 * Told of each connection shed; `opensEpisode` for the first after {@link EPISODE_QUIET_MILLIS}
 * without one (a caller logs that one, counts all).
 */
export type OnShed = (reason: ShedReason, opensEpisode: boolean) => void;

/** Shedding that pauses this long ends an episode: the next one is reported as new. */
export const EPISODE_QUIET_MILLIS = 60_000;

interface Held {
  readonly address: string;
  /** Requests begun and not yet answered on it (pipelined requests queue on one connection). */
  busy: number;
  /** Requests begun on it so far. */
  requests: number;
  /** The latest request begun: while it is the only one in progress, its body may still be arriving. */
  request: IncomingMessage | undefined;
  /** `socket.bytesRead` when last looked at, and when (performance.now()) it last progressed. */
  bytesSeen: number;
  activeAt: number;
}

/** Keeps at most `maxConnections` of `server`'s connections open, closing those holding room unused. */
export function keepRoom(server: Server, maxConnections: number, onShed?: OnShed): void {
  const held = new Map<Socket, Held>();
  const perAddress = new Map<string, number>();
  let lastShedAt = -Infinity;

  const shed = (reason: ShedReason): void => {
    const now = performance.now();
    const opensEpisode = now - lastShedAt >= EPISODE_QUIET_MILLIS;
    lastShedAt = now;
    try {
      onShed?.(reason, opensEpisode);
    } catch {
      // Reporting never changes who is served.
    }
  };

  const forget = (socket: Socket): void => {
    const entry = held.get(socket);
    if (entry === undefined) return;
    held.delete(socket);
    const left = (perAddress.get(entry.address) ?? 1) - 1;
    if (left === 0) perAddress.delete(entry.address);
    else perAddress.set(entry.address, left);
  };

  /** Why `entry` could be closed to make room; undefined while it has a whole request in. */
  const unused = (entry: Held): ShedReason | undefined => {
    if (entry.busy === 0) return entry.requests === 0 ? 'headers' : 'idle';
    if (entry.busy === 1 && entry.request?.complete === false) return 'slow_body';
    return undefined;
  };

  const victim = (): { socket: Socket; reason: ShedReason } | undefined => {
    const now = performance.now();
    let found: { socket: Socket; reason: ShedReason } | undefined;
    let most = 0;
    let oldest = Infinity;
    for (const [socket, entry] of held) {
      const read = socket.bytesRead;
      if (read !== entry.bytesSeen) {
        entry.bytesSeen = read;
        entry.activeAt = now;
      }
      const reason = unused(entry);
      if (reason === undefined) continue;
      const count = perAddress.get(entry.address) ?? 0;
      if (count > most || (count === most && entry.activeAt < oldest)) {
        most = count;
        oldest = entry.activeAt;
        found = { socket, reason };
      }
    }
    return found;
  };

  server.on('connection', (socket: Socket) => {
    if (held.size >= maxConnections) {
      const out = victim();
      if (out === undefined) {
        socket.destroy();
        shed('full');
        return;
      }
      forget(out.socket);
      out.socket.destroy();
      shed(out.reason);
    }
    const address = socket.remoteAddress ?? '';
    held.set(socket, {
      address,
      busy: 0,
      requests: 0,
      request: undefined,
      bytesSeen: socket.bytesRead,
      activeAt: performance.now(),
    });
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    socket.once('close', () => forget(socket));
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    const entry = held.get(socket);
    if (entry === undefined) return;
    entry.busy++;
    entry.requests++;
    entry.request = request;
    entry.bytesSeen = socket.bytesRead;
    entry.activeAt = performance.now();
    response.once('close', () => {
      entry.busy--;
      if (entry.busy > 0) return;
      entry.request = undefined;
      entry.bytesSeen = socket.bytesRead;
      entry.activeAt = performance.now();
    });
  });
}
