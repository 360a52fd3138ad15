/**
 * What a body costs while it arrives: a connection that announces a large Content-Length and then
 * stalls holds memory for the bytes it sent, not for the bytes it announced — so a flood of such
 * connections cannot make the ingest allocate their declared sizes. A body that does arrive whole
 * is still received into one buffer of its own (what the decoding thread is handed without a copy).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, it } from 'node:test';
import { once } from 'node:events';
import {
  readBodyChunks,
  ownsItsMemory,
  RECEIVE_WHOLE_BYTES,
  type BodyChunks,
} from '../../src/ingest/body-chunks.ts';

const MB = 1_000_000;
const STALLED = 64;
const LIMIT = 4 * MB;

let chunksSeen = 0;
let onFirstChunks: (() => void) | undefined;
const bodies: Promise<BodyChunks>[] = [];
const server: Server = createServer((request, response) => {
  const body = readBodyChunks(request, LIMIT, () => {
    chunksSeen++;
    if (chunksSeen >= STALLED) onFirstChunks?.();
  });
  bodies.push(body);
  body.then(
    (chunks) =>
      response.end(
        JSON.stringify({
          chunks: chunks.length,
          owns: chunks.length === 1 && ownsItsMemory(chunks[0]!),
          bytes: chunks.reduce((n, c) => n + c.length, 0),
        }),
      ),
    () => response.destroy(),
  );
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as { port: number };
const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

function head(length: number): string {
  return `POST /v1/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${length}\r\n\r\n`;
}

it('connections that announce 1 MB bodies and send one byte each hold about what they sent, not what they announced', async () => {
  const before = process.memoryUsage().arrayBuffers;
  const arrived = new Promise<void>((resolve) => (onFirstChunks = resolve));
  for (let i = 0; i < STALLED; i++) {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    sockets.push(socket);
    socket.write(head(MB) + 'x');
  }
  // Every connection's byte has reached the body reader.
  await arrived;
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(
    grown < (STALLED * MB) / 16,
    `${STALLED} stalled bodies of one byte each grew ArrayBuffer memory by ${(grown / MB).toFixed(1)} MB`,
  );
});

it('a large body that arrives in pieces is received into one buffer of its own, its bytes in order', async () => {
  const length = 3 * RECEIVE_WHOLE_BYTES + 123;
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = i % 251;
  const socket = connect({ port, host: '127.0.0.1' });
  sockets.push(socket);
  await once(socket, 'connect');
  socket.write(head(length));
  // Pieces small enough that the body crosses the whole-buffer threshold mid-stream.
  for (let at = 0; at < length; at += 10_000) {
    socket.write(body.subarray(at, at + 10_000));
    await new Promise((r) => setTimeout(r, 2));
  }
  const [data] = (await once(socket, 'data')) as [Buffer];
  const answer = JSON.parse(data.toString('utf8').split('\r\n\r\n')[1]!) as Record<string, unknown>;
  assert.deepEqual(answer, { chunks: 1, owns: true, bytes: length });
  const received = (await bodies.at(-1)!)[0]!;
  assert.ok(received.equals(body), 'the body as sent');
});
