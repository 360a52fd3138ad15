/**
 * Every listener (pull, ingest, serve's main server) closes silent, stalled and idle connections,
 * and caps how many are open, over real sockets (past the cap an idle connection makes room:
 * test/http/connection-room.test.ts).
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { startMainServer, type MainServer } from '../../src/http/main-server.ts';

const LIMITS = { requestTimeoutMillis: 1_000, idleTimeoutMillis: 1_000, maxConnections: 3 };
/** Far longer than any limit above (and Node's check interval); only reached when nothing closes. */
const NEVER_MS = 8_000;

let jm: Jobmeter;
let main: MainServer;
const ports: Record<string, number> = {};

before(async () => {
  jm = await createJobmeter({
    processMetrics: false,
    listener: { port: 0, ...LIMITS },
    ingest: { port: 0, ...LIMITS },
  });
  main = await startMainServer({ host: '127.0.0.1', port: 0, ...LIMITS });
  ports['pull'] = jm.pullAddress!.port;
  ports['ingest'] = jm.ingestAddress!.port;
  ports['main'] = main.address.port;
});
after(async () => {
  await main.close();
  await jm.shutdown();
});

interface Probe {
  socket: Socket;
  /** What the server wrote, once it closed the connection (rejects after NEVER_MS). */
  closed: Promise<string>;
}

function open(port: number, send = ''): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    const closed = new Promise<string>((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`port ${port}: connection still open after ${NEVER_MS} ms`)),
        NEVER_MS,
      );
      socket.on('close', () => {
        clearTimeout(timer);
        done(data);
      });
    });
    closed.catch(() => {});
    socket.on('error', () => {});
    socket.once('connect', () => {
      if (send !== '') socket.write(send);
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

const REQUEST: Record<string, string> = {
  pull: 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n',
  ingest:
    'POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
  main: 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n',
};

for (const name of ['pull', 'ingest', 'main'] as const) {
  describe(`${name} listener`, () => {
    it('closes a connection that never sends a request (408)', async () => {
      const probe = await open(ports[name]!);
      assert.match(await probe.closed, /^HTTP\/1\.1 408 /);
    });

    it('closes a request whose headers stall (408)', async () => {
      const probe = await open(ports[name]!, 'GET /metrics HTTP/1.1\r\nHost: x\r\n');
      assert.match(await probe.closed, /^HTTP\/1\.1 408 /);
    });

    it('closes an idle keep-alive connection after its request', async () => {
      const probe = await open(ports[name]!, REQUEST[name]);
      assert.match(await probe.closed, /^HTTP\/1\.1 200 /);
    });

    it('caps open connections: one past the cap evicts the oldest idle one and is served', async () => {
      const held = await Promise.all([0, 1, 2].map(() => open(ports[name]!)));
      // Room is made for a newcomer (connection-room.ts; refusal when all are busy is tested there).
      const extra = await open(ports[name]!, REQUEST[name]);
      assert.equal(await held[0]!.closed, '', 'the oldest idle connection was evicted, unanswered');
      const head = await new Promise<string>((resolve) => extra.socket.once('data', resolve));
      assert.match(head, /^HTTP\/1\.1 200 /);
      extra.socket.destroy();
      for (const h of held) h.socket.destroy();
      await Promise.all(held.map((h) => h.closed));
    });
  });
}

it('ingest: a stalled body is answered 408 and closed', async () => {
  const probe = await open(
    ports['ingest']!,
    'POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"resou',
  );
  assert.match(await probe.closed, /^HTTP\/1\.1 408 /);
});
