/**
 * A client holding connections cannot starve a fresh scrape or a real sender. Past the cap, a
 * connection holding room without using it (no request in progress, or a body still arriving) is
 * evicted to make room, the one longest without progress first (src/http/connection-room.ts); only
 * when every connection has a whole request in is the newcomer refused. Each one shed is reported
 * with what it held, the first of an episode marked. Before, with 256 sockets held every new
 * connection was reset until the holders' 30 s timeouts closed them, and stalled bodies were never
 * evicted at all.
 */
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { keepRoom, type ShedReason } from '../../src/http/connection-room.ts';
import { OPTION_DEFAULTS } from '../../src/common/option-defaults.ts';
import { createLimitedServer } from '../../src/http/server-limits.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';

/** Far below Node's 30 s request timeout, which is what would otherwise free a slot. */
const ANSWER_WITHIN_MS = 10_000;

interface Held {
  readonly socket: Socket;
  /** Resolves with what the server wrote once the connection closes. */
  readonly closed: Promise<string>;
  readonly isClosed: () => boolean;
}

function hold(port: number, send = '', localAddress = '127.0.0.1'): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    let data = '';
    let done = false;
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    const closed = new Promise<string>((ok) =>
      socket.on('close', () => {
        done = true;
        ok(data);
      }),
    );
    socket.on('error', () => {});
    socket.once('error', reject);
    socket.once('connect', () => {
      if (send !== '') socket.write(send);
      resolve({ socket, closed, isClosed: () => done });
    });
  });
}

/** Waits until `socket` has read a whole response to one GET (the connection stays open). */
async function answered(held: Held): Promise<void> {
  await new Promise<void>((resolve) => {
    let text = '';
    const check = (d: string): void => {
      text += d;
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text);
      if (head !== -1 && length !== null && text.length >= head + 4 + Number(length[1])) {
        held.socket.off('data', check);
        resolve();
      }
    };
    held.socket.on('data', check);
  });
}

/** A scrape on a fresh connection; rejects if nothing is answered within ANSWER_WITHIN_MS. */
function freshScrape(
  port: number,
  path = '/metrics',
): Promise<{ status: number; body: string; millis: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, timeout: ANSWER_WITHIN_MS },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body, millis: performance.now() - start }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const GET = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n';
const HALF_HEADERS = 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ';

describe('pull listener with the default cap (256)', () => {
  let jm: Jobmeter;
  const held: Held[] = [];
  after(async () => {
    for (const h of held) h.socket.destroy();
    await jm.shutdown();
  });

  it('with 300 sockets held (idle keep-alive, silent, half-sent headers) a fresh scrape is answered', async (t) => {
    jm = await createJobmeter({ processMetrics: false, listener: { port: 0 } });
    const port = jm.pullAddress!.port;
    for (let i = 0; i < 100; i++) {
      const h = await hold(port, GET);
      await answered(h);
      held.push(h);
    }
    for (let i = 0; i < 100; i++) held.push(await hold(port));
    for (let i = 0; i < 100; i++) held.push(await hold(port, HALF_HEADERS));
    const scrape = await freshScrape(port);
    t.diagnostic(`fresh scrape answered in ${scrape.millis.toFixed(0)} ms`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.body, /^jobmeter_build_info\{/m);
    // The room came from the oldest idle connections: the cap still holds.
    const open = held.filter((h) => !h.isClosed()).length;
    assert.ok(open <= 255, `${open} held connections still open past the cap`);
    assert.ok(open >= 200, `only ${open} held connections open: eviction took more than it needed`);
  });
});

describe('a real Prometheus (2.42) started while 300 sockets are held', () => {
  let jm: Jobmeter;
  let prometheus: PrometheusHandle | undefined;
  const held: Held[] = [];
  after(async () => {
    await prometheus?.stop();
    for (const h of held) h.socket.destroy();
    await jm.shutdown();
  });

  it('scrapes the target up while they are still held', { timeout: 180_000 }, async (t) => {
    // Timeouts far past this test's waits: the held sockets stay held unless room is made.
    jm = await createJobmeter({
      processMetrics: false,
      listener: { port: 0, requestTimeoutMillis: 170_000, idleTimeoutMillis: 170_000 },
    });
    const port = jm.pullAddress!.port;
    for (let i = 0; i < 150; i++) held.push(await hold(port));
    for (let i = 0; i < 150; i++) held.push(await hold(port, HALF_HEADERS));
    const heldAt = performance.now();
    prometheus = await startPrometheus({
      jobs: [{ name: 'jobmeter', target: `127.0.0.1:${port}` }],
    });
    // Before, every new connection was reset while the sockets were held: up stayed 0.
    const [target] = await prometheus.waitForTargetsUp(60_000);
    t.diagnostic(
      `up ${((performance.now() - heldAt) / 1000).toFixed(1)} s after the sockets were held; last scrape took ${(target!.lastScrapeDuration * 1000).toFixed(0)} ms`,
    );
    assert.ok(
      held.filter((h) => !h.isClosed()).length >= 200,
      'most held sockets still open: room was made, not waited for',
    );
  });
});

describe('who is evicted (cap 4)', () => {
  let jm: Jobmeter;
  let port: number;
  const held: Held[] = [];
  after(async () => {
    for (const h of held) h.socket.destroy();
    await jm.shutdown();
  });

  it('connections that never sent a request go first, the longest silent first; a scraper holding one keeps it', async () => {
    jm = await createJobmeter({ processMetrics: false, listener: { port: 0, maxConnections: 4 } });
    port = jm.pullAddress!.port;
    // The scraper's keep-alive connection is the oldest idle one of all.
    const scraper = await hold(port, GET, '127.0.0.3');
    await answered(scraper);
    held.push(scraper);
    const hoarded: Held[] = [];
    for (let i = 0; i < 10; i++) hoarded.push(await hold(port, '', '127.0.0.2'));
    held.push(...hoarded);
    // Every newcomer past the cap evicted one of the hoarder's: 3 of its 10 are left.
    await waitFor(() => hoarded.filter((h) => h.isClosed()).length === 7);
    assert.deepEqual(
      hoarded.map((h) => h.isClosed()),
      [true, true, true, true, true, true, true, false, false, false],
    );
    assert.equal(scraper.isClosed(), false);
    // The scraper's connection is still usable.
    const next = answered(scraper);
    scraper.socket.write(GET);
    await next;
  });
});

/** A request whose body never arrives: `Expect: 100-continue`, so the server's 100 says it is in progress. */
const STALLED =
  'POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n{"resou';

/** `hold` with STALLED (from `localAddress`), once the server has begun the request. */
async function stall(port: number, localAddress?: string): Promise<Held> {
  const h = await hold(port, STALLED, localAddress);
  await new Promise<void>((resolve) => h.socket.once('data', () => resolve()));
  return h;
}

describe('stalled bodies at the cap (ingest; cap 3)', () => {
  let jm: Jobmeter;
  const held: Held[] = [];
  after(async () => {
    for (const h of held) h.socket.destroy();
    await jm.shutdown();
  });

  it('a newcomer is served: the body stalled longest is closed to make room', async () => {
    jm = await createJobmeter({
      processMetrics: false,
      listener: false,
      ingest: { port: 0, maxConnections: 3 },
    });
    const port = jm.ingestAddress!.port;
    for (let i = 0; i < 3; i++) held.push(await stall(port));
    const extra = await hold(
      port,
      'GET /no-such-path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    // A path the ingest does not serve: its 404 is an answer, where no room would close it unanswered.
    assert.match(await extra.closed, /^HTTP\/1\.1 404 /);
    assert.deepEqual(
      held.map((h) => h.isClosed()),
      [true, false, false],
    );
  });
});

describe('a flood of stalled bodies past the cap (cap 64)', () => {
  const held: Held[] = [];
  const server = createServer((request, response) =>
    request.resume().on('end', () => response.end('done')),
  );
  after(async () => {
    for (const h of held) h.socket.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('each newcomer costs a look at a few connections, not at every one held; a scraper keeps its connection', async () => {
    const work = keepRoom(server, 64);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // A scraper's kept connection, answered once before the flood: it has shown progress, which
    // none of the flood's has.
    const scraper = await hold(port, '', '127.0.0.2');
    const first = answered(scraper);
    scraper.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    await first;
    for (let i = 0; i < 63; i++) held.push(await stall(port));
    const before = { ...work };
    // Each one evicts the body stalled longest; the scraper's request every few keeps it active.
    for (let i = 0; i < 200; i++) {
      held.push(await stall(port));
      if (i % 20 === 0) {
        const next = answered(scraper);
        scraper.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
        await next;
      }
    }
    const picks = work.picks - before.picks;
    const examined = work.examined - before.examined;
    assert.equal(picks, 200);
    assert.ok(examined <= 2 * picks, `${examined} connections looked at for ${picks} newcomers`);
    assert.equal(scraper.isClosed(), false, "the scraper's connection was evicted");
    await waitFor(() => held.filter((h) => !h.isClosed()).length === 63);
    assert.equal(held.filter((h) => !h.isClosed()).length, 63);
    held.push(scraper);
  });
});

describe('a large body arriving under a flood of stalled bodies (cap 8)', () => {
  const held: Held[] = [];
  const server = createServer((request, response) =>
    request.resume().on('end', () => response.end('done')),
  );
  after(async () => {
    for (const h of held) h.socket.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('stays through a pause, however fast the flood turns the room over, and is answered', async () => {
    keepRoom(server, 8);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const length = 1024 * 1024;
    const arriving = await hold(
      port,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    held.push(arriving);
    await new Promise<void>((resolve) => arriving.socket.once('data', () => resolve()));
    arriving.socket.write(Buffer.alloc(128 * 1024, 1));
    await new Promise((r) => setTimeout(r, 100));
    // The flood: each newcomer evicts one; the large body is paused all the while.
    for (let i = 0; i < 40; i++) held.push(await stall(port));
    assert.equal(
      arriving.isClosed(),
      false,
      'a body that brought 128 KiB was evicted for bodies stalled since their headers',
    );
    const done = new Promise<void>((resolve) =>
      arriving.socket.on('data', (d: string) => d.includes('done') && resolve()),
    );
    arriving.socket.write(Buffer.alloc(length - 128 * 1024, 1));
    await done;
  });
});

describe("a sender's kept connection under a flood of stalled bodies (cap 8)", () => {
  const held: Held[] = [];
  const server = createServer((request, response) =>
    request.resume().on('end', () => response.end('done')),
  );
  after(async () => {
    for (const h of held) h.socket.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('stays open between exports, however long the flood, and takes the next one', async () => {
    keepRoom(server, 8);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const POST = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}';
    const sender = await hold(port);
    held.push(sender);
    const first = answered(sender);
    sender.socket.write(POST);
    await first;
    for (let i = 0; i < 40; i++) held.push(await stall(port));
    assert.equal(
      sender.isClosed(),
      false,
      "a sender's kept connection was evicted for bodies stalled since their headers",
    );
    const next = answered(sender);
    sender.socket.write(POST);
    await next;
  });
});

describe('senders sharing one address under stalled bodies from many addresses (cap 8)', () => {
  const held: Held[] = [];
  const server = createServer((request, response) =>
    request.resume().on('end', () => response.end('done')),
  );
  after(async () => {
    for (const h of held) h.socket.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('their kept connections stay, though their address holds the most, and take the next export', async () => {
    keepRoom(server, 8);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const POST = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}';
    const senders: Held[] = [];
    for (let i = 0; i < 3; i++) {
      const sender = await hold(port);
      const first = answered(sender);
      sender.socket.write(POST);
      await first;
      senders.push(sender);
    }
    held.push(...senders);
    // Each stalled body from an address of its own: every address holds one, the senders' three.
    for (let i = 0; i < 40; i++) held.push(await stall(port, `127.0.1.${1 + i}`));
    assert.deepEqual(
      senders.map((h) => h.isClosed()),
      [false, false, false],
      "a sender's kept connection was evicted for bodies stalled since their headers",
    );
    for (const sender of senders) {
      const next = answered(sender);
      sender.socket.write(POST);
      await next;
    }
  });
});

describe('a scraper under bodies answered before they arrive, from many addresses (cap 8)', () => {
  const held: Held[] = [];
  // As the pull listener answers a POST: at once, the body unread (Node reads what follows).
  const server = createServer((_request, response) => {
    response.statusCode = 405;
    response.setHeader('content-length', 2);
    response.end('no');
  });
  after(async () => {
    for (const h of held) h.socket.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('its kept connection stays: an answer is not progress while the body is still owed', async () => {
    keepRoom(server, 8);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const scraper = await hold(port, GET);
    await answered(scraper);
    held.push(scraper);
    for (let i = 0; i < 40; i++) {
      const h = await hold(
        port,
        'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nx',
        `127.0.1.${1 + i}`,
      );
      await answered(h);
      held.push(h);
    }
    assert.equal(
      scraper.isClosed(),
      false,
      "the scraper's kept connection was evicted for bodies that never arrived",
    );
    const next = answered(scraper);
    scraper.socket.write(GET);
    await next;
  });
});

/** A limited server whose handler reads each POST's body whole, then answers only when `release` is called; a GET at once. */
async function holdingServer(maxConnections: number): Promise<{
  port: number;
  shed: Array<[ShedReason, boolean]>;
  release: () => void;
  close: () => Promise<void>;
}> {
  const waiting: Array<() => void> = [];
  const shed: Array<[ShedReason, boolean]> = [];
  const server = createLimitedServer(
    { ...OPTION_DEFAULTS.serverLimits, maxConnections },
    (request, response) => {
      if (request.method === 'GET') response.end('done');
      else request.resume().on('end', () => waiting.push(() => response.end('done')));
    },
    (reason, opensEpisode) => shed.push([reason, opensEpisode]),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    shed,
    release: () => waiting.splice(0).forEach((answer) => answer()),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('who pays when the room is full (cap 2)', () => {
  const held: Held[] = [];
  let server: Awaited<ReturnType<typeof holdingServer>>;
  after(async () => {
    for (const h of held) h.socket.destroy();
    await server.close();
  });

  it('a body still arriving stays; a body stalled since its headers goes, though newer', async () => {
    server = await holdingServer(2);
    const arriving = await stall(server.port);
    const stalled = await stall(server.port);
    held.push(arriving, stalled);
    arriving.socket.write('x');
    await new Promise((r) => setTimeout(r, 50));
    held.push(await hold(server.port));
    await waitFor(() => stalled.isClosed());
    assert.deepEqual([arriving.isClosed(), stalled.isClosed()], [false, true]);
    assert.deepEqual(server.shed, [['slow_body', true]]);
  });

  it('a connection that has sent no whole request yet goes before a request whose body is in', async () => {
    const last = held.at(-1)!;
    // The arriving body completes: its request is in, answered only on release.
    held[0]!.socket.write('y'.repeat(100 - '{"resou'.length - 1));
    await new Promise((r) => setTimeout(r, 50));
    held.push(await hold(server.port));
    await waitFor(() => last.isClosed());
    assert.equal(held[0]!.isClosed(), false);
    // One episode: the second shed is not reported as a new one.
    assert.deepEqual(server.shed, [
      ['slow_body', true],
      ['headers', false],
    ]);
  });

  it('every connection with a whole request in: a newcomer is closed at once, counted full; room comes back once answered', async () => {
    const newest = held.at(-1)!;
    newest.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
    await new Promise((r) => setTimeout(r, 50));
    const extra = await hold(server.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(
      await extra.closed,
      '',
      'a connection past the cap was let in while every connection had a whole request in',
    );
    assert.equal(
      held[0]!.isClosed() || newest.isClosed(),
      false,
      'a request whose body is in was evicted',
    );
    assert.deepEqual(server.shed.at(-1), ['full', false]);
    const done = Promise.all([answered(held[0]!), answered(newest)]);
    server.release();
    await done;
    // The answered connections are idle keep-alive ones now: a newcomer takes one's place.
    const next = await hold(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(await next.closed, /^HTTP\/1\.1 200 /);
    assert.deepEqual(server.shed.at(-1), ['idle', false]);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
}
