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
 * before one that holds a few; a connection with no whole request yet (its headers, or a body
 * short of 64 KiB since them) before an idle keep-alive one, and that before a body that has
 * brought more (see Line); a scraper's reused keep-alive connection, active every scrape interval,
 * goes last. An HTTP client meets an evicted keep-alive connection as a
 * closed one and retries on a new connection (Prometheus does, and the OTLP exporters retry a
 * reset).
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
 * connection whose count moved since it was last looked at is taken as active then. Each address's
 * connections are kept least recently active first, so a pick looks at the front of each address's
 * line, not at every connection: under a flood that reopens each connection closed, a pick runs on
 * every accept, and a walk over all of them would hold the event loop from the pull listener's scrapes.
 *
 * What must stay true: a pick looks at O(addresses) connections plus one per progress it finds
 * (test/http/connection-room.test.ts counts them), and anything else is O(1) per connection; a
 * connection is forgotten as it closes, however it closes; a request whose body is whole is never
 * evicted; times are monotonic.
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
  readonly socket: Socket;
  readonly group: Group;
  /** Requests begun and not yet answered on it (pipelined requests queue on one connection). */
  busy: number;
  /** Requests begun on it so far. */
  requests: number;
  /** The latest request begun: while it is the only one in progress, its body may still be arriving. */
  request: IncomingMessage | undefined;
  /** `socket.bytesRead` when last looked at, and when (performance.now()) it last progressed. */
  bytesSeen: number;
  activeAt: number;
  /** `socket.bytesRead` when its latest request began. */
  bodyFrom: number;
  /** Its line in its group: {@link STALLED}, {@link IDLE} or {@link ARRIVING}. */
  line: Line;
}

/**
 * A connection's line. STALLED: no whole request yet (its headers, or a body short of
 * {@link ARRIVING_BYTES} since them); IDLE: a keep-alive connection between requests, after one
 * answered; ARRIVING: a body that has brought ARRIVING_BYTES since its headers, until answered.
 * Every STALLED connection goes before any IDLE one, and every IDLE one before any ARRIVING one,
 * because a flood turns the room over fast (thousands a second): the longest without progress is
 * then only a fraction of a second behind, so by that alone a real sender's kept connection would
 * be closed between two exports, or as it sends the next (a request lost to a reset: a POST is
 * not retried), and a real body paused that long would go.
 */
type Line = 0 | 1 | 2;
const STALLED: Line = 0;
const IDLE: Line = 1;
const ARRIVING: Line = 2;
/** Body bytes that make a body arriving: many times what a stalled one sends, a fraction of a real large export. */
const ARRIVING_BYTES = 64 * 1024;

/**
 * One remote address's connections, in two lines, each least recently active first: a connection
 * moves to the end of its line when it is seen to progress, so a line's front is the one longest
 * without progress and a pick looks at fronts only (a Map keeps insertion order; delete and set
 * moves an entry to the end).
 */
interface Group {
  readonly address: string;
  readonly lines: readonly [Map<Socket, Held>, Map<Socket, Held>, Map<Socket, Held>];
  /** Connections open from the address. */
  size: number;
}

/** What a room tells of its own work, for tests and benches. */
export interface RoomWork {
  /** Connections looked at while choosing whom to close, over the room's life. */
  readonly examined: number;
  /** Picks made (a connection past the cap), over the room's life. */
  readonly picks: number;
}

/** Keeps at most `maxConnections` of `server`'s connections open, closing those holding room unused. */
export function keepRoom(server: Server, maxConnections: number, onShed?: OnShed): RoomWork {
  const held = new Map<Socket, Held>();
  const groups = new Map<string, Group>();
  const work = { examined: 0, picks: 0 };
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

  /** Moves `entry` to the end of `line`: it progressed at `now`. */
  const touch = (entry: Held, now: number, line: Line): void => {
    const { lines } = entry.group;
    lines[entry.line].delete(entry.socket);
    lines[line].set(entry.socket, entry);
    entry.line = line;
    entry.bytesSeen = entry.socket.bytesRead;
    entry.activeAt = now;
  };

  const forget = (socket: Socket): void => {
    const entry = held.get(socket);
    if (entry === undefined) return;
    held.delete(socket);
    entry.group.lines[entry.line].delete(socket);
    if (--entry.group.size === 0) groups.delete(entry.group.address);
  };

  /** Why `entry` could be closed to make room; undefined while it has a whole request in. */
  const unused = (entry: Held): ShedReason | undefined => {
    if (entry.busy === 0) return entry.requests === 0 ? 'headers' : 'idle';
    if (entry.busy === 1 && entry.request?.complete === false) return 'slow_body';
    return undefined;
  };

  /**
   * The connection of `line` longest without progress that holds room unused, or undefined.
   * Entries at the front found to have progressed, or to have a whole request in, are moved to the
   * end as active now (a body that has brought ARRIVING_BYTES to the ARRIVING line): each look past
   * the front is paid for by a progress seen once, so a pick under a flood of stalled connections
   * looks at one or two.
   */
  const front = (
    group: Group,
    line: Line,
    now: number,
  ): { entry: Held; reason: ShedReason } | undefined => {
    const entries = group.lines[line];
    for (let left = entries.size; left > 0; left--) {
      const entry = entries.values().next().value!;
      work.examined++;
      const read = entry.socket.bytesRead;
      const reason = unused(entry);
      if (read === entry.bytesSeen) {
        if (reason !== undefined) return { entry, reason };
        touch(entry, now, line);
      } else
        touch(
          entry,
          now,
          reason === 'slow_body' && read - entry.bodyFrom >= ARRIVING_BYTES ? ARRIVING : line,
        );
    }
    return undefined;
  };

  /**
   * Closes an evicted connection. One cut mid-request is reset (RST: no FIN exchange, no
   * TIME_WAIT left behind, the kernel's close being most of what each eviction costs), and its
   * request destroyed first without an error, so Node does not build one, with its stack, for
   * the request it aborts. An idle keep-alive connection is closed as usual.
   */
  const close = (entry: Held, reason: ShedReason): void => {
    if (reason === 'idle') {
      entry.socket.destroy();
      return;
    }
    try {
      entry.socket.resetAndDestroy();
    } catch {
      // Not a TCP socket (a pipe has no reset): closed as usual.
      entry.socket.destroy();
    }
    entry.request?.destroy();
  };

  /** Of the address holding the most connections, by line (stalled, idle, arriving), the one longest without progress (ties between addresses alike). */
  const victim = (): { entry: Held; reason: ShedReason } | undefined => {
    work.picks++;
    const now = performance.now();
    const bySize = [...groups.values()].sort((a, b) => b.size - a.size);
    let found: { entry: Held; reason: ShedReason } | undefined;
    for (const group of bySize) {
      if (found !== undefined && group.size < found.entry.group.size) break;
      const candidate =
        front(group, STALLED, now) ?? front(group, IDLE, now) ?? front(group, ARRIVING, now);
      if (candidate === undefined) continue;
      const { line, activeAt } = candidate.entry;
      if (
        found === undefined ||
        line < found.entry.line ||
        (line === found.entry.line && activeAt < found.entry.activeAt)
      )
        found = candidate;
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
      forget(out.entry.socket);
      close(out.entry, out.reason);
      shed(out.reason);
    }
    const address = socket.remoteAddress ?? '';
    let group = groups.get(address);
    if (group === undefined)
      groups.set(address, (group = { address, lines: [new Map(), new Map(), new Map()], size: 0 }));
    group.size++;
    const entry: Held = {
      socket,
      group,
      busy: 0,
      requests: 0,
      request: undefined,
      bytesSeen: 0,
      activeAt: 0,
      bodyFrom: 0,
      line: STALLED,
    };
    held.set(socket, entry);
    touch(entry, performance.now(), STALLED);
    socket.once('close', () => forget(socket));
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const entry = held.get(request.socket);
    if (entry === undefined) return;
    entry.busy++;
    entry.requests++;
    entry.request = request;
    entry.bodyFrom = request.socket.bytesRead;
    touch(entry, performance.now(), STALLED);
    response.once('close', () => {
      entry.busy--;
      if (entry.busy > 0) return;
      entry.request = undefined;
      // A socket evicted meanwhile is forgotten: not put back.
      if (held.has(entry.socket)) touch(entry, performance.now(), IDLE);
    });
  });
  return work;
}
