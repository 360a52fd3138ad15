/**
 * A slow-body flood, run as a process of its own (`node test/e2e/slow-body-flood.ts PORT COUNT`)
 * so its connection churn never delays the test's real sender: COUNT connections to 127.0.0.1:PORT
 * that each send `POST /v1/metrics` headers announcing a 1 MB body, one body byte, then nothing;
 * each one the server closes is opened again at once. It prints `holding` once COUNT connections
 * have sent their byte, and on SIGTERM one JSON line, `{ "opened", "closedByServer" }`, and exits.
 */
import { connect } from 'node:net';

const [port, count] = process.argv.slice(2).map(Number) as [number, number];
const HEAD = `POST /v1/metrics HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000000\r\n\r\n`;

let opened = 0;
let closedByServer = 0;
let stopping = false;
let announced = false;

function open(): void {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  socket.once('connect', () => {
    socket.write(HEAD);
    socket.write('\n', (err) => {
      if (err !== undefined && err !== null) return;
      opened++;
      if (!announced && opened >= count) {
        announced = true;
        process.stdout.write('holding\n');
      }
    });
  });
  socket.once('close', () => {
    if (stopping) return;
    closedByServer++;
    setImmediate(open);
  });
}

for (let i = 0; i < count; i++) open();

process.once('SIGTERM', () => {
  stopping = true;
  process.stdout.write(`${JSON.stringify({ opened, closedByServer })}\n`);
  process.exit(0);
});
