/**
 * The connection cap of every jobmeter listener, kept so a client holding sockets cannot lock a
 * scraper out: when a connection arrives past the cap, one with no request in progress (an idle
 * keep-alive connection, or one that has not finished sending its headers) is closed to make room,
 * and the newcomer is served. Only when every open connection has a request in progress is the
 * newcomer closed at once, as Node's own `maxConnections` would.
 *
 * The one evicted is the least recently active idle connection of the remote address holding the
 * most connections: a sender that opened many pays before a scraper that holds one, and a scraper's
 * reused keep-alive connection, active every scrape interval, goes last. An HTTP client meets an
 * evicted keep-alive connection as a closed one and retries on a new connection (Prometheus does).
 *
 * What must stay true: the bookkeeping is O(open connections) per connection past the cap and O(1)
 * otherwise; a connection is forgotten as it closes, however it closes.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface Held {
  readonly address: string;
  /** Requests begun and not yet answered on it (pipelined requests queue on one connection). */
  busy: number;
}

/** Keeps at most `maxConnections` of `server`'s connections open, evicting idle ones first. */
export function keepRoom(server: Server, maxConnections: number): void {
  // Insertion order is recency: a connection moves to the end each time it turns idle.
  const held = new Map<Socket, Held>();
  const perAddress = new Map<string, number>();

  const forget = (socket: Socket): void => {
    const entry = held.get(socket);
    if (entry === undefined) return;
    held.delete(socket);
    const left = (perAddress.get(entry.address) ?? 1) - 1;
    if (left === 0) perAddress.delete(entry.address);
    else perAddress.set(entry.address, left);
  };

  const idlest = (): Socket | undefined => {
    let victim: Socket | undefined;
    let most = 0;
    for (const [socket, entry] of held) {
      if (entry.busy > 0) continue;
      const count = perAddress.get(entry.address) ?? 0;
      if (count > most) {
        most = count;
        victim = socket;
      }
    }
    return victim;
  };

  server.on('connection', (socket: Socket) => {
    if (held.size >= maxConnections) {
      const victim = idlest();
      if (victim === undefined) {
        socket.destroy();
        return;
      }
      forget(victim);
      victim.destroy();
    }
    const address = socket.remoteAddress ?? '';
    held.set(socket, { address, busy: 0 });
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    socket.once('close', () => forget(socket));
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    const entry = held.get(socket);
    if (entry === undefined) return;
    entry.busy++;
    response.once('close', () => {
      entry.busy--;
      if (entry.busy === 0 && held.get(socket) === entry) {
        held.delete(socket);
        held.set(socket, entry);
      }
    });
  });
}
