/**
 * The load a fleet sends (collector.ts's load jobs): many senders, each a process's SDK exporting
 * its own series under its own resource, every export straight to the server (no batching
 * between them: no Collector, no request carrying several senders' series), back to back over a
 * keep-alive connection of its own.
 *
 * A sender's export is cumulative counters: `instruments` counters (`fleet.requests.<k>`) of
 * `perInstrument` series each, two attributes (`sender`, its own, and `route`), under a resource
 * naming the sender (`service.instance.id`). Every export is stamped with the clock and every
 * series' value is the whole milliseconds since the fleet started (plus its index mod 7), as a real
 * export of a busy process counts up; the body is encoded once, by hand from the OTLP
 * protos (field numbers below), and each export rewrites its times and values in place — so
 * making an export costs the sender microseconds, not the server's share of the 2 cores. The
 * servers decode it with their own decoders: a mistake here is a 400, not a quiet pass.
 *
 * A `shared` fleet sends one body from every sender: sender 0's resource and series, each sender
 * stamping its own exports (several replicas or Collectors forwarding the same series). The value
 * follows the clock, so of two exports of a series the later never counts less (no sender's
 * export reads as a restart of another's); the series live are one sender's.
 *
 * Each sender exports over a connection of its own, to an `http://…/v1/metrics` URL with `fetch`
 * (OTLP/HTTP protobuf, keep-alive), or to a `grpc://host:port` target with @grpc/grpc-js
 * (`MetricsService/Export`, unary, a channel of its own). An export is accepted when answered 200
 * (gRPC OK); the points a `partial_success` names as rejected are counted beside.
 */
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { SERVE_NODE_FLAGS } from '../src/cli/node-flags.ts';
import { len, lengthDelimited, varint } from '../test/support/otlp-protobuf-writer.ts';

/**
 * The Node flags ingest-server.mjs runs with: `jobmeter serve`'s own (its bin re-runs itself with
 * them), so the bench measures the process an installed serve is.
 */
export const INGEST_SERVER_EXEC_ARGV: readonly string[] = SERVE_NODE_FLAGS;

/** What ingest-server.mjs tells its parent once it serves. */
export interface IngestServerReady {
  readonly otlpPort: number;
  /** With the argument `grpc` only. */
  readonly grpcPort?: number;
  readonly pullPort: number;
}

export interface FleetPlan {
  readonly senders: number;
  /** Counters per sender (the same names on every sender). */
  readonly instruments: number;
  /** Series per counter per sender. */
  readonly perInstrument: number;
  readonly seconds: number;
  /** Every sender sends the one body (sender 0's resource and series). */
  readonly shared?: boolean;
}

export function liveSeries(p: FleetPlan): number {
  return (p.shared === true ? 1 : p.senders) * p.instruments * p.perInstrument;
}

/** The fleet's senders, one start time for all (a shared body's series are one stream each). */
export function fleetSenders(p: FleetPlan): FleetSender[] {
  const start = BigInt(Date.now()) * 1_000_000n;
  return Array.from(
    { length: p.senders },
    (_, k) => new FleetSender(p.shared === true ? 0 : k, p, start),
  );
}

/** Sample lines of the exposition that are the fleet's: their family names start so. */
export const FLEET_PREFIX = 'fleet_requests_';

const WIRE_I64 = 1;

/** `KeyValue { key = 1; AnyValue value = 2 { string_value = 1 } }` as field `field`. */
function keyValue(field: number, key: string, value: string): Buffer {
  return lengthDelimited(field, [len(1, key), lengthDelimited(2, [len(1, value)])]);
}

/** `fixed64`/`double` field header: the 8 bytes follow. */
function i64(field: number): Buffer {
  return Buffer.from(varint((field << 3) | WIRE_I64));
}

/** One sender's export, rewritten in place by {@link FleetSender.next}. */
export class FleetSender {
  readonly body: Buffer;
  readonly points: number;
  /** Offsets of every point's `time_unix_nano` and `as_double` payloads. */
  readonly #times: Uint32Array;
  readonly #values: Uint32Array;
  readonly #start: bigint;
  #time = 0n;
  /** A connection to each target this sender exported to. */
  readonly #exporters = new Map<string, Exporter>();

  constructor(
    k: number,
    plan: Pick<FleetPlan, 'instruments' | 'perInstrument'>,
    start = BigInt(Date.now()) * 1_000_000n,
  ) {
    this.#start = start;
    const resource = lengthDelimited(1, [
      keyValue(1, 'service.name', 'fleet'),
      keyValue(1, 'service.instance.id', `sender-${k}`),
      keyValue(1, 'host.name', `node-${k}`),
    ]);
    const scope = lengthDelimited(1, [len(1, 'fleet-app'), len(2, '1.0.0')]);
    const sender = `sender-${k}`;
    // Where each point's 8-byte time and value sit inside its metric, before the envelope is known.
    const metrics: Buffer[] = [];
    const rel: Array<{ metric: number; time: number; value: number }> = [];
    for (let m = 0; m < plan.instruments; m++) {
      const points: Buffer[] = [];
      const inMetric: Array<{ time: number; value: number }> = [];
      for (let i = 0; i < plan.perInstrument; i++) {
        // NumberDataPoint { attributes = 7; start_time_unix_nano = 2; time_unix_nano = 3; as_double = 4 }
        const attrs = Buffer.concat([
          keyValue(7, 'sender', sender),
          keyValue(7, 'route', `/api/v1/r${i}`),
        ]);
        const start = Buffer.concat([i64(2), u64(this.#start)]);
        const head = Buffer.concat([attrs, start, i64(3)]);
        const point = Buffer.concat([head, u64(this.#start), i64(4), Buffer.alloc(8)]);
        const wrapped = lengthDelimited(1, [point]);
        const pointAt = wrapped.length - point.length;
        inMetric.push({ time: pointAt + head.length, value: pointAt + head.length + 8 + 1 });
        points.push(wrapped);
      }
      // Sum { data_points = 1; aggregation_temporality = 2 (CUMULATIVE = 2); is_monotonic = 3 }
      const pointsBytes = Buffer.concat(points);
      const sum = lengthDelimited(7, [
        pointsBytes,
        Buffer.from([(2 << 3) | 0, 2, (3 << 3) | 0, 1]),
      ]);
      // Metric { name = 1; description = 2; unit = 3; sum = 7 }
      const prefix = Buffer.concat([
        len(1, `fleet.requests.${m}`),
        len(2, 'Requests served.'),
        len(3, '{request}'),
      ]);
      const metric = lengthDelimited(2, [prefix, sum]);
      // The points end 4 bytes (temporality, monotonic) before the metric does.
      const at = metric.length - pointsBytes.length - 4;
      let offset = 0;
      for (let i = 0; i < points.length; i++) {
        rel.push({
          metric: m,
          time: at + offset + inMetric[i]!.time,
          value: at + offset + inMetric[i]!.value,
        });
        offset += points[i]!.length;
      }
      metrics.push(metric);
    }
    const scopeMetrics = lengthDelimited(2, [scope, ...metrics]);
    this.body = lengthDelimited(1, [resource, scopeMetrics]);
    // The metrics sit at the end of the body, one after the other.
    const metricsLength = metrics.reduce((n, b) => n + b.length, 0);
    const metricStarts: number[] = [];
    let from = this.body.length - metricsLength;
    for (const b of metrics) {
      metricStarts.push(from);
      from += b.length;
    }
    this.points = rel.length;
    this.#times = new Uint32Array(rel.map((r) => metricStarts[r.metric]! + r.time));
    this.#values = new Uint32Array(rel.map((r) => metricStarts[r.metric]! + r.value));
    this.next();
  }

  /** The next export: stamped now (never before the last one), every series at the clock's count. */
  next(): Buffer {
    const now = BigInt(Date.now()) * 1_000_000n;
    const time = (this.#time = now > this.#time ? now : this.#time + 1n);
    const count = Number((time - this.#start) / 1_000_000n);
    for (let i = 0; i < this.#times.length; i++) {
      this.body.writeBigUInt64LE(time, this.#times[i]);
      this.body.writeDoubleLE(count + (i % 7), this.#values[i]);
    }
    return this.body;
  }

  /** Sends the next export to `target` over this sender's connection to it. */
  export(target: string): Promise<Answer> {
    let exporter = this.#exporters.get(target);
    if (exporter === undefined) {
      exporter = target.startsWith('grpc://') ? grpcExporter(target) : httpExporter(target);
      this.#exporters.set(target, exporter);
    }
    return exporter.send(this.next());
  }

  /** Closes this sender's connections (a gRPC channel would otherwise keep reconnecting). */
  close(): void {
    for (const e of this.#exporters.values()) e.close();
    this.#exporters.clear();
  }
}

/** How an export was answered. */
interface Answer {
  /** `200`, `grpc OK`; anything else is a refusal (`503`, `grpc UNAVAILABLE`, `error …`). */
  readonly status: string;
  readonly accepted: boolean;
  /** Points the answer's `partial_success` names as rejected. */
  readonly rejectedPoints: number;
}

interface Exporter {
  send(body: Buffer): Promise<Answer>;
  close(): void;
}

function httpExporter(url: string): Exporter {
  return {
    async send(body) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
          body,
          signal: AbortSignal.timeout(60_000),
        });
        const answer = new Uint8Array(await res.arrayBuffer());
        return {
          status: String(res.status),
          accepted: res.status === 200,
          rejectedPoints: res.status === 200 ? rejectedPoints(answer) : 0,
        };
      } catch (err) {
        return { status: `error ${(err as Error).name}`, accepted: false, rejectedPoints: 0 };
      }
    },
    close() {},
  };
}

const EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
/** grpc-js status codes by number, for the statuses cell. */
const GRPC_STATUS: Readonly<Record<number, string>> = {
  0: 'OK',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  8: 'RESOURCE_EXHAUSTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

function grpcExporter(target: string): Exporter {
  // A connection of its own (grpc-js shares one per target otherwise), as each process has.
  const client = new Client(target.slice('grpc://'.length), credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_send_message_length': -1,
  });
  return {
    send: (body) =>
      new Promise((resolve) => {
        client.makeUnaryRequest(
          EXPORT_PATH,
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          { deadline: Date.now() + 60_000 },
          (error: ServiceError | null, response?: Buffer) => {
            if (error === null)
              resolve({
                status: 'grpc OK',
                accepted: true,
                rejectedPoints: rejectedPoints(response!),
              });
            else
              resolve({
                status: `grpc ${GRPC_STATUS[error.code] ?? error.code}`,
                accepted: false,
                rejectedPoints: 0,
              });
          },
        );
      }),
    close: () => client.close(),
  };
}

/**
 * `ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1 { int64
 * rejected_data_points = 1; string error_message = 2 } }`: the rejected points, 0 when absent.
 */
export function rejectedPoints(response: Uint8Array): number {
  const inner = field(response, 1, 2);
  if (inner === undefined) return 0;
  const at = fieldAt(inner, 1, 0);
  return at === undefined ? 0 : Number(readVarint(inner, at).value);
}

/** The bytes of the first length-delimited field `n` of `message`. */
function field(message: Uint8Array, n: number, wire: 2): Uint8Array | undefined {
  const at = fieldAt(message, n, wire);
  if (at === undefined) return undefined;
  const { value: length, next } = readVarint(message, at);
  return message.subarray(next, next + Number(length));
}

/** Where the payload of the first field `n` of wire type `wire` starts; the others skipped. */
function fieldAt(message: Uint8Array, n: number, wire: 0 | 2): number | undefined {
  let at = 0;
  while (at < message.length) {
    const tag = readVarint(message, at);
    const number = Number(tag.value >> 3n);
    const type = Number(tag.value & 7n);
    at = tag.next;
    if (number === n && type === wire) return at;
    if (type === 0) at = readVarint(message, at).next;
    else if (type === 1) at += 8;
    else if (type === 5) at += 4;
    else if (type === 2) {
      const length = readVarint(message, at);
      at = length.next + Number(length.value);
    } else throw new Error(`an export's answer: wire type ${type} of field ${number}`);
  }
  return undefined;
}

function readVarint(bytes: Uint8Array, at: number): { value: bigint; next: number } {
  let value = 0n;
  for (let shift = 0n; ; shift += 7n) {
    const b = bytes[at++];
    if (b === undefined) throw new Error("an export's answer ends inside a varint");
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return { value, next: at };
  }
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

export interface FleetWindow {
  /** Exports accepted (200, gRPC OK). */
  readonly accepted: number;
  /** Exports answered anything else, or whose connection failed. */
  readonly refused: number;
  /** Points of accepted exports that their `partial_success` rejected. */
  readonly rejectedPoints: number;
  readonly statuses: Readonly<Record<string, number>>;
}

/** Every sender exporting to `target` back to back for `seconds` (at least once), each waiting for its answer before the next. */
export async function sendFor(
  target: string,
  senders: readonly FleetSender[],
  seconds: number,
): Promise<FleetWindow> {
  const end = performance.now() + seconds * 1000;
  let accepted = 0;
  let refused = 0;
  let rejected = 0;
  const statuses: Record<string, number> = {};
  await Promise.all(
    senders.map(async (s) => {
      do {
        const answer = await s.export(target);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        rejected += answer.rejectedPoints;
        if (answer.accepted) accepted++;
        else refused++;
      } while (performance.now() < end);
    }),
  );
  return { accepted, refused, rejectedPoints: rejected, statuses };
}

/** One export from every sender at once, each sent again until it is accepted (at most `tries` times); the refusals seen. */
export async function sendOnceEach(
  target: string,
  senders: readonly FleetSender[],
  tries = 100,
): Promise<number> {
  let refused = 0;
  await Promise.all(
    senders.map(async (s, k) => {
      for (let t = 0; ; t++) {
        const answer = await s.export(target);
        if (answer.accepted) return;
        refused++;
        if (t + 1 >= tries)
          throw new Error(
            `sender ${k}: its first export refused ${tries} times (${answer.status})`,
          );
      }
    }),
  );
  return refused;
}
