/**
 * The client of the event-loop scenario's socket rows, run as a child process (`fork`) so that
 * reading 15 MB bodies never runs on the event loop being measured. HTTP/1.1 GETs over one
 * keep-alive connection, one per message from the parent; the answer goes back over IPC.
 *
 * A checked scrape keeps the body, gunzips it when compressed and counts the bench's sample lines,
 * so a server that drops series or breaks the framing fails the run. A timed scrape only counts
 * bytes and drops them: what a scraper does with the body is not the server's business, and
 * decoding 15 MB here would take CPU from the server on a 2-core machine.
 *
 * Why a plain socket and not `node:http`: its client reads into a new Buffer each time (~230 for
 * one 15 MB body), and collecting them kept this process's V8 helper threads on a core for much
 * of each window, a core taken from the server being measured. Here every read lands in one
 * buffer, reused; a body is framed by its Content-Length, which every contender sends (a body
 * without one fails the scrape).
 */
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { countBenchSamples } from './series.ts';

export interface ScrapeAsk {
  readonly url: string;
  readonly gzip: boolean;
  readonly check: boolean;
}

export interface ScrapeAnswer {
  readonly status: number;
  readonly contentEncoding: string | undefined;
  readonly transferEncoding: string | undefined;
  /** Bytes on the wire (after Content-Encoding). */
  readonly wireBytes: number;
  /** Decoded body bytes and bench sample lines, for a checked scrape. */
  readonly bodyBytes?: number;
  readonly samples?: number;
  /** From the request to the body's last byte, in this process. */
  readonly ms: number;
  readonly error?: string;
}

/** The one read buffer: large enough that a read takes what the kernel holds. */
const READ_BYTES = 1024 * 1024;
/** A response head longer than this is not one of the bench's servers. */
const MAX_HEAD = 16 * 1024;

interface Pending {
  readonly ask: ScrapeAsk;
  readonly t0: number;
  readonly resolve: (a: ScrapeAnswer) => void;
  readonly reject: (e: Error) => void;
  /** The head's bytes until its blank line; undefined once parsed. */
  head: Buffer | undefined;
  status: number;
  contentLength: number;
  contentEncoding: string | undefined;
  transferEncoding: string | undefined;
  received: number;
  readonly kept: Buffer[];
}

let socket: Socket | undefined;
let pending: Pending | undefined;

function fail(e: Error): void {
  const p = pending;
  pending = undefined;
  socket?.destroy();
  socket = undefined;
  p?.reject(e);
}

/** Takes the head's fields; returns where the body starts in `head`, or -1 while incomplete. */
function parseHead(p: Pending): number {
  const end = p.head!.indexOf('\r\n\r\n');
  if (end < 0) {
    if (p.head!.length > MAX_HEAD) throw new Error(`a response head over ${MAX_HEAD} bytes`);
    return -1;
  }
  const [statusLine, ...lines] = p.head!.toString('latin1', 0, end).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine!);
  if (status === null)
    throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(statusLine)}`);
  p.status = Number(status[1]);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  p.contentEncoding = headers.get('content-encoding');
  p.transferEncoding = headers.get('transfer-encoding');
  const length = headers.get('content-length');
  if (length === undefined || !/^\d+$/.test(length))
    throw new Error(
      `no Content-Length (transfer-encoding ${p.transferEncoding ?? '-'}): this client frames bodies by it`,
    );
  p.contentLength = Number(length);
  return end + 4;
}

function body(p: Pending, bytes: Buffer): void {
  p.received += bytes.length;
  if (p.received > p.contentLength)
    throw new Error(`${p.received} body bytes, Content-Length ${p.contentLength}`);
  if (p.ask.check) p.kept.push(Buffer.from(bytes));
  if (p.received === p.contentLength) finish(p);
}

function finish(p: Pending): void {
  pending = undefined;
  const base = {
    status: p.status,
    contentEncoding: p.contentEncoding,
    transferEncoding: p.transferEncoding,
    wireBytes: p.received,
    ms: performance.now() - p.t0,
  };
  if (!p.ask.check) return p.resolve(base);
  const raw = Buffer.concat(p.kept);
  const decoded = p.contentEncoding === 'gzip' ? gunzipSync(raw) : raw;
  p.resolve({
    ...base,
    bodyBytes: decoded.length,
    samples: countBenchSamples(decoded.toString('utf8')),
  });
}

function onRead(n: number, buffer: Uint8Array): void {
  const p = pending;
  if (p === undefined) return fail(new Error(`${n} bytes with no request waiting`));
  try {
    const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, n);
    if (p.head === undefined) return body(p, bytes);
    p.head = Buffer.concat([p.head, bytes]);
    const from = parseHead(p);
    if (from < 0) return;
    const rest = p.head.subarray(from);
    p.head = undefined;
    if (p.contentLength === 0) return finish(p);
    body(p, rest);
  } catch (e) {
    fail(e as Error);
  }
}

function open(url: URL): Socket {
  const s = new Socket({
    onread: { buffer: Buffer.allocUnsafe(READ_BYTES), callback: (n, b) => (onRead(n, b), true) },
  }).connect(Number(url.port), url.hostname);
  s.setNoDelay(true);
  // A connection already given up (closeClient, fail) says nothing about the next one's request.
  s.on('error', (e) => {
    if (socket === s) fail(e);
  });
  s.on('close', () => {
    if (socket !== s) return;
    socket = undefined;
    if (pending !== undefined) fail(new Error('the server closed the connection mid-response'));
  });
  return s;
}

/** One GET on the connection (opened by the first); one at a time. */
export function scrape(ask: ScrapeAsk): Promise<ScrapeAnswer> {
  const url = new URL(ask.url);
  socket ??= open(url);
  return new Promise((resolve, reject) => {
    pending = {
      ask,
      t0: performance.now(),
      resolve,
      reject,
      head: Buffer.alloc(0),
      status: 0,
      contentLength: 0,
      contentEncoding: undefined,
      transferEncoding: undefined,
      received: 0,
      kept: [],
    };
    const encoding = ask.gzip ? 'Accept-Encoding: gzip\r\n' : '';
    socket!.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n${encoding}\r\n`,
    );
  });
}

/** Closes the connection, if open (tests; the forked client closes it on `disconnect`). */
export function closeClient(): void {
  socket?.destroy();
  socket = undefined;
}

// Forked by event-loop.ts; imported by its test, which drives `scrape` itself.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.on('message', (ask: ScrapeAsk) => {
    scrape(ask).then(
      (answer) => process.send!(answer),
      (err: unknown) =>
        process.send!({
          status: 0,
          contentEncoding: undefined,
          transferEncoding: undefined,
          wireBytes: 0,
          ms: 0,
          error: String(err),
        } satisfies ScrapeAnswer),
    );
  });
  // The parent closing the IPC channel is the end of the run.
  process.on('disconnect', closeClient);
}
