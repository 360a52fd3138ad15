/**
 * Stalled gRPC clients, run as a process of its own
 * (`node test/e2e/grpc-stall-flood.ts PORT COUNT [TOKEN]`) so its connection churn never delays the
 * test's real sender: COUNT connections to 127.0.0.1:PORT, in turn of three kinds: one that sends
 * nothing at all; one that sends the HTTP/2 preface and settings, then nothing; and one that opens
 * a `MetricsService/Export` stream (with TOKEN as `authorization`, a sender the gate admits) and
 * sends a gRPC message prefix announcing 1 MB and one byte of it, then nothing. Each one the server
 * closes is opened again at once. It prints `holding` once COUNT connections are open (and the
 * stream-opening ones have sent their byte), and on SIGTERM one JSON line,
 * `{ "opened", "closedByServer" }`, and exits.
 */
import { connect as http2Connect } from 'node:http2';
import { connect } from 'node:net';

const [port, count] = process.argv.slice(2, 4).map(Number) as [number, number];
const token = process.argv[4];
const EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

let opened = 0;
let closedByServer = 0;
let stopping = false;
let announced = false;

function held(): void {
  opened++;
  if (!announced && opened >= count) {
    announced = true;
    process.stdout.write('holding\n');
  }
}

function closed(i: number): void {
  if (stopping) return;
  closedByServer++;
  setImmediate(() => open(i));
}

function open(i: number): void {
  if (i % 3 === 0) {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.once('connect', held);
    socket.once('close', () => closed(i));
    return;
  }
  const session = http2Connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  session.once('close', () => closed(i));
  if (i % 3 === 1) {
    session.once('connect', held);
    return;
  }
  const stream = session.request({
    ':method': 'POST',
    ':path': EXPORT_PATH,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...(token !== undefined && { authorization: `Bearer ${token}` }),
  });
  stream.on('error', () => {});
  // Uncompressed, 1 MB announced; one byte of it sent.
  const prefix = Buffer.alloc(6);
  prefix.writeUInt32BE(1_000_000, 1);
  stream.write(prefix, (err) => {
    if (err === undefined || err === null) held();
  });
}

for (let i = 0; i < count; i++) open(i);

process.once('SIGTERM', () => {
  stopping = true;
  process.stdout.write(`${JSON.stringify({ opened, closedByServer })}\n`);
  process.exit(0);
});
