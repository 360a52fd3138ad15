/**
 * The connection cap of every jobmeter listener, kept so that a client holding sockets costs
 * itself, not everyone: when a connection arrives past the cap, one that holds room without using
 * it is closed to make room, and the newcomer is served. Holding room without using it means no
 * request in progress (an idle keep-alive connection, or one that has not finished sending its
 * headers) or a request whose body is still arriving (answered or not). Only when every open
 * connection has a whole request in (being processed or answered) is the newcomer closed at once,
 * as Node's own `maxConnections` would.
 *
 * The one closed is ranked by progress alone, never by where it comes from: first a connection
 * that has shown none (no whole request yet: its headers, or a body short of 64 KiB since them,
 * whether or not it was answered early), then an idle keep-alive one (its requests answered, none
 * in progress), then a body that has brought more; within each, the one longest without progress
 * (no byte received, no request begun or answered). So a connection making progress is never
 * closed for one that is not, whatever addresses they come from: real senders sharing one address
 * (every sender on a host, or behind one proxy or NAT) keep their kept connections under a flood
 * of stalled bodies from one address or from thousands. A scraper's reused keep-alive connection,
 * active every scrape interval, goes last among idle ones. An HTTP client meets an evicted
 * keep-alive connection as a closed one and retries on a new connection (Prometheus does, and the
 * OTLP exporters retry a reset).
 *
 * Why choosing whom to close rather than Node's `requestTimeout` / `headersTimeout` alone: those
 * (server-limits.ts) bound how long one holder keeps a connection, not who gets the room while it
 * is full. Senders that open a new connection as each one is closed refill the room faster than any
 * timeout frees it, so with only the timeouts a flood of stalled bodies keeps every real sender
 * out for as long as it goes on. Eviction makes each new connection cost one of theirs instead.
 *
 * Progress is read from `socket.bytesRead` when room is needed (no listener on the data path): a
 * connection whose count moved since it was last looked at is taken as active then. Connections
 * are kept in lines, each least recently active first, so a pick looks at the front of the lines,
 * not at every connection: under a flood that reopens each connection closed, a pick runs on
 * every accept, and a walk over all of them would hold the event loop from the pull listener's
 * scrapes.
 *
 * What must stay true: a pick looks at one connection plus one per progress or whole request it
 * finds (test/http/connection-room.test.ts counts them), and anything else is O(1) per connection
 * and per request; a connection is forgotten as it closes, however it closes; a request whose body
 * is whole is never evicted; no address enters the ranking.
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
  /** Requests begun and not yet answered on it (pipelined requests queue on one connection). */
  busy: number;
  /** Requests begun on it so far. */
  requests: number;
  /**
   * The latest request begun: while it is the only one in progress, or answered before its body
   * arrived (Node then reads the rest to keep the connection), its body may still be arriving.
   */
  request: IncomingMessage | undefined;
  /** `socket.bytesRead` when last looked at. */
  bytesSeen: number;
  /** `socket.bytesRead` when its latest request began. */
  bodyFrom: number;
  /** Its line: {@link STALLED}, {@link IDLE}, {@link ARRIVING} or {@link IN}. */
  line: Line;
}

/**
 * A connection's line. STALLED: no whole request yet (its headers, or a body short of
 * {@link ARRIVING_BYTES} since them, answered early or not); IDLE: a keep-alive connection between
 * requests, after one answered; ARRIVING: a body that has brought ARRIVING_BYTES since its
 * headers; IN: a whole request in, never picked (it leaves as the request is answered, or another
 * begins). Every STALLED connection goes before any IDLE one, and every IDLE one before any
 * ARRIVING one, whatever their addresses, because a flood turns the room over fast (thousands a
 * second): the longest without progress is then only a fraction of a second behind, so by that
 * alone a real sender's kept connection would be closed between two exports, or as it sends the
 * next (a request lost to a reset), and a real body paused that long would go. A connection is
 * filed by what it holds only when it is seen to progress, so one that has shown nothing since it
 * was filed is ranked as it was.
 */
type Line = 0 | 1 | 2 | 3;
const STALLED: Line = 0;
const IDLE: Line = 1;
const ARRIVING: Line = 2;
const IN: Line = 3;
/** The lines a pick looks at, in order. */
const PICKED: readonly Line[] = [STALLED, IDLE, ARRIVING];
/** Body bytes that make a body arriving: many times what a stalled one sends, a fraction of a real large export. */
const ARRIVING_BYTES = 64 * 1024;

/** Keeps at most `maxConnections` of `server`'s connections open, closing those holding room unused. */
export function keepRoom(server: Server, maxConnections: number, onShed?: OnShed) {
  const held = new Map<Socket, Held>();
  /**
   * Each line least recently active first: a connection moves to the end of a line when it is seen
   * to progress, so a line's front is the one longest without progress (a Map keeps insertion
   * order; delete and set moves an entry to the end).
   */
  const lines: readonly [
    Map<Socket, Held>,
    Map<Socket, Held>,
    Map<Socket, Held>,
    Map<Socket, Held>,
  ] = [new Map(), new Map(), new Map(), new Map()];
  // What the room tells of its own work, for tests and benches: connections looked at while
  // choosing whom to close, and picks made (a connection past the cap), over its life.
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

  /** Moves `entry` to the end of `line`: it progressed now. */
  const touch = (entry: Held, line: Line): void => {
    lines[entry.line].delete(entry.socket);
    lines[line].set(entry.socket, entry);
    entry.line = line;
    entry.bytesSeen = entry.socket.bytesRead;
  };

  const forget = (socket: Socket): void => {
    const entry = held.get(socket);
    if (entry === undefined) return;
    held.delete(socket);
    lines[entry.line].delete(socket);
  };

  /** Why `entry` could be closed to make room; undefined while it has a whole request in. */
  const unused = (entry: Held): ShedReason | undefined => {
    const arriving = entry.request?.complete === false;
    if (entry.busy === 0) return arriving ? 'slow_body' : entry.requests === 0 ? 'headers' : 'idle';
    if (entry.busy === 1 && arriving) return 'slow_body';
    return undefined;
  };

  /** The line for what `entry` holds (`reason`, from {@link unused}), `read` bytes in. */
  const lineFor = (entry: Held, reason: ShedReason | undefined, read: number): Line =>
    reason === undefined
      ? IN
      : reason === 'idle'
        ? IDLE
        : reason === 'slow_body' && read - entry.bodyFrom >= ARRIVING_BYTES
          ? ARRIVING
          : STALLED;

  /**
   * The connection of `line` longest without progress that holds room unused, or undefined.
   * Entries at the front found to have progressed are filed again, at the end of the line for what
   * they now hold; those with a whole request in go to IN. Each look past the front is paid for
   * by a progress seen once or by a request begun, so a pick under a flood of stalled connections
   * looks at one or two.
   */
  const front = (line: Line): { entry: Held; reason: ShedReason } | undefined => {
    const entries = lines[line];
    for (let left = entries.size; left > 0; left--) {
      const entry = entries.values().next().value!;
      work.examined++;
      const read = entry.socket.bytesRead;
      const reason = unused(entry);
      if (reason !== undefined && read === entry.bytesSeen) return { entry, reason };
      touch(entry, lineFor(entry, reason, read));
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

  /** The first of the lines, in order (stalled, idle, arriving), to hold one without progress: its front. */
  const victim = (): { entry: Held; reason: ShedReason } | undefined => {
    work.picks++;
    for (const line of PICKED) {
      const found = front(line);
      if (found !== undefined) return found;
    }
    return undefined;
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
    const entry: Held = {
      socket,
      busy: 0,
      requests: 0,
      request: undefined,
      bytesSeen: 0,
      bodyFrom: 0,
      line: STALLED,
    };
    held.set(socket, entry);
    touch(entry, STALLED);
    socket.once('close', () => forget(socket));
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const entry = held.get(request.socket);
    if (entry === undefined) return;
    entry.busy++;
    entry.requests++;
    entry.request = request;
    entry.bodyFrom = request.socket.bytesRead;
    touch(entry, STALLED);
    response.once('close', () => {
      entry.busy--;
      if (entry.busy > 0) return;
      // A socket evicted meanwhile is forgotten: not put back.
      if (!held.has(entry.socket)) return;
      // Answered before its body arrived (Node reads the rest): still owing it, it has shown no
      // more than a stalled body has.
      if (entry.request?.complete === false) touch(entry, STALLED);
      else {
        entry.request = undefined;
        touch(entry, IDLE);
      }
    });
  });
  return work;
}
