/**
 * The load a fleet sends (collector.ts's load jobs): many senders, each a process's SDK exporting
 * its own series under its own resource, every export straight to the server (no batching
 * between them: no Collector, no request carrying several senders' series), back to back over a
 * keep-alive connection of its own.
 *
 * A sender's export is cumulative counters: `instruments` counters (`fleet.requests.<k>`) of
 * `perInstrument` series each, two attributes (`sender`, its own, and `route`), under a resource
 * naming the sender (`service.instance.id`). Every export is stamped with the clock and adds 1 to
 * every series, as a real export of a busy process does; the body is encoded once, by hand from the OTLP
 * protos (field numbers below), and each export rewrites its times and values in place — so
 * making an export costs the sender microseconds, not the server's share of the 2 cores. The
 * servers decode it with their own decoders: a mistake here is a 400, not a quiet pass.
 */
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
  readonly pullPort: number;
}

export interface FleetPlan {
  readonly senders: number;
  /** Counters per sender (the same names on every sender). */
  readonly instruments: number;
  /** Series per counter per sender. */
  readonly perInstrument: number;
  readonly seconds: number;
}

export function liveSeries(p: FleetPlan): number {
  return p.senders * p.instruments * p.perInstrument;
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
  #exports = 0;
  readonly #start: bigint;
  #time = 0n;

  constructor(k: number, plan: Pick<FleetPlan, 'instruments' | 'perInstrument'>) {
    this.#start = BigInt(Date.now()) * 1_000_000n;
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

  /** The next export: stamped now (never before the last one), every series one more. */
  next(): Buffer {
    this.#exports++;
    const now = BigInt(Date.now()) * 1_000_000n;
    const time = (this.#time = now > this.#time ? now : this.#time + 1n);
    for (let i = 0; i < this.#times.length; i++) {
      this.body.writeBigUInt64LE(time, this.#times[i]);
      this.body.writeDoubleLE(this.#exports + (i % 7), this.#values[i]);
    }
    return this.body;
  }
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

export interface FleetWindow {
  /** Exports answered 200. */
  readonly accepted: number;
  /** Exports answered anything else, or whose connection failed. */
  readonly refused: number;
  readonly statuses: Readonly<Record<string, number>>;
}

/** Every sender exporting back to back for `seconds` (at least once), each waiting for its answer before the next. */
export async function sendFor(
  url: string,
  senders: readonly FleetSender[],
  seconds: number,
): Promise<FleetWindow> {
  const end = performance.now() + seconds * 1000;
  let accepted = 0;
  let refused = 0;
  const statuses: Record<string, number> = {};
  await Promise.all(
    senders.map(async (s) => {
      do {
        let status: string;
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/x-protobuf' },
            body: s.next(),
            signal: AbortSignal.timeout(60_000),
          });
          await res.arrayBuffer();
          status = String(res.status);
        } catch (err) {
          status = `error ${(err as Error).name}`;
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === '200') accepted++;
        else refused++;
      } while (performance.now() < end);
    }),
  );
  return { accepted, refused, statuses };
}

/** One export from every sender at once, each sent again until it is accepted (at most `tries` times); the refusals seen. */
export async function sendOnceEach(
  url: string,
  senders: readonly FleetSender[],
  tries = 100,
): Promise<number> {
  let refused = 0;
  await Promise.all(
    senders.map(async (s, k) => {
      for (let t = 0; ; t++) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
          body: s.next(),
          signal: AbortSignal.timeout(60_000),
        });
        await res.arrayBuffer();
        if (res.status === 200) return;
        refused++;
        if (t + 1 >= tries)
          throw new Error(`sender ${k}: its first export refused ${tries} times (${res.status})`);
      }
    }),
  );
  return refused;
}
