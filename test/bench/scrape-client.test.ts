/**
 * bench/scrape-client.ts, the event-loop scenario's socket client: it frames HTTP/1.1 answers by
 * their Content-Length over one keep-alive connection, reading into one reused buffer, so a body
 * split across many reads, or answered compressed, is counted and checked whole; an answer it
 * cannot frame fails the scrape instead of being miscounted.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { closeClient, scrape } from '../../bench/scrape-client.ts';

const LINES = 20_000;
const text = Array.from({ length: LINES }, (_, i) => `bench_counter_total{i="${i}"} ${i}\n`).join(
  '',
);

async function serve(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; server: Server; connections: () => number }> {
  let connections = 0;
  const server = createServer(handler);
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    server,
    connections: () => connections,
  };
}

describe('bench scrape client', () => {
  const servers: Server[] = [];
  after(() => {
    closeClient();
    for (const s of servers) s.close();
  });

  it('counts a body sent in many small writes, checked and timed, on one keep-alive connection', async () => {
    const body = Buffer.from(text);
    const s = await serve((req, res) => {
      res.setHeader('content-length', body.length);
      // Pieces with pauses between them: the client gets them over many reads.
      void (async () => {
        for (let at = 0; at < body.length; at += 50_000) {
          res.write(body.subarray(at, at + 50_000));
          await sleep(1);
        }
        res.end();
      })();
    });
    servers.push(s.server);
    const checked = await scrape({ url: s.url, gzip: false, check: true });
    assert.equal(checked.status, 200);
    assert.equal(checked.wireBytes, body.length);
    assert.equal(checked.bodyBytes, body.length);
    assert.equal(checked.samples, LINES);
    const timed = await scrape({ url: s.url, gzip: false, check: false });
    assert.equal(timed.wireBytes, body.length);
    assert.equal(timed.samples, undefined, 'a timed scrape keeps nothing');
    assert.equal(s.connections(), 1);
    closeClient();
  });

  it('asks for gzip when told, and checks the decoded body', async () => {
    const zipped = gzipSync(text);
    let asked: string | undefined;
    const s = await serve((req, res) => {
      asked = req.headers['accept-encoding'];
      res.setHeader('content-encoding', 'gzip');
      res.end(zipped);
    });
    servers.push(s.server);
    const a = await scrape({ url: s.url, gzip: true, check: true });
    assert.equal(asked, 'gzip');
    assert.equal(a.contentEncoding, 'gzip');
    assert.equal(a.wireBytes, zipped.length);
    assert.equal(a.bodyBytes, Buffer.byteLength(text));
    assert.equal(a.samples, LINES);
    closeClient();
  });

  it('fails an answer without a Content-Length rather than guess where it ends', async () => {
    const s = await serve((req, res) => {
      res.write('bench_a 1\n');
      res.end('bench_b 2\n');
    });
    servers.push(s.server);
    await assert.rejects(
      scrape({ url: s.url, gzip: false, check: false }),
      /no Content-Length \(transfer-encoding chunked\)/,
    );
    closeClient();
  });

  it('fails when the connection closes mid-body', async () => {
    const s = await serve((req, res) => {
      res.setHeader('content-length', 1_000);
      res.write('bench_a 1\n');
      setTimeout(() => res.destroy(), 5);
    });
    servers.push(s.server);
    await assert.rejects(
      scrape({ url: s.url, gzip: false, check: false }),
      /closed the connection mid-response/,
    );
    closeClient();
  });
});
