/**
 * A slow-body flood, run as a process of its own
 * (`node test/e2e/slow-body-flood.ts PORT COUNT [ADDRESSES [PATH [TOKEN]]]`) so its connection churn never
 * delays the test's real sender: COUNT connections to 127.0.0.1:PORT that each send `POST PATH`
 * (`/v1/metrics` unless given; with TOKEN, as `Authorization: Bearer TOKEN`, a sender the gate
 * admits) headers announcing a 1 MB body, one body byte, then nothing; each
 * one the server closes is opened again at once, from the same source address. With ADDRESSES
 * (at most 60000), connection i is bound to the (i mod ADDRESSES)th loopback address from
 * 127.0.1.1 on (Linux routes all of 127/8 to lo), so the flood comes from that many clients, none
 * of them 127.0.0.1; without it, every connection comes from 127.0.0.1. It prints `holding` once
 * COUNT connections have sent their byte, and on SIGTERM one JSON line,
 * `{ "opened", "closedByServer" }`, and exits.
 */
import { connect } from 'node:net';

const [port, count, addresses] = process.argv.slice(2, 5).map(Number) as [number, number, number?];
const path = process.argv[5] ?? '/v1/metrics';
const token = process.argv[6];
const AUTH = token === undefined ? '' : `Authorization: Bearer ${token}\r\n`;
const HEAD = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-protobuf\r\n${AUTH}Content-Length: 1000000\r\n\r\n`;

/** The source address of connection `i`: 127.0.1.1, 127.0.1.2, … 127.0.1.250, 127.0.2.1, … */
const sourceOf = (i: number): string | undefined => {
  if (addresses === undefined || Number.isNaN(addresses) || addresses === 0) return undefined;
  const k = i % addresses;
  return `127.0.${1 + Math.floor(k / 250)}.${1 + (k % 250)}`;
};

let opened = 0;
let closedByServer = 0;
let stopping = false;
let announced = false;

function open(i: number): void {
  const localAddress = sourceOf(i);
  const socket = connect({ port, host: '127.0.0.1', ...(localAddress && { localAddress }) });
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
    setImmediate(() => open(i));
  });
}

for (let i = 0; i < count; i++) open(i);

process.once('SIGTERM', () => {
  stopping = true;
  process.stdout.write(`${JSON.stringify({ opened, closedByServer })}\n`);
  process.exit(0);
});
