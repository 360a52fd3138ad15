/**
 * The soak's bookkeeping sender: counters whose every acknowledged point is written down, so the
 * soak can check at the end that what `serve` serves is what it acknowledged ("nothing lost").
 * Every second it adds to 4 cumulative streams (`soak.ledger.cumulative`, `stream="c0"…"c3"`) and
 * 4 delta streams (`soak.ledger.delta`, `stream="d0"…"d3"`) and exports them as OTLP/JSON.
 *
 * A delta window is closed each second and queued; the queue is sent oldest first, one window a
 * request, each until it is acknowledged: a failed request (connection error, 5xx, timeout) is
 * sent again unchanged, as the Collector's exporter queue retries a batch, so a window the server
 * did take before the failure reaches it twice and must be recognised as a retry. Acknowledged
 * means a 200 whose `partial_success` rejects nothing; a point refused is written down as a
 * failure (this sender sends nothing a server may refuse).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export const CUMULATIVE = 'soak.ledger.cumulative';
export const DELTA = 'soak.ledger.delta';
const STREAMS = 4;
const REQUEST_TIMEOUT_MS = 10_000;

/** One acknowledgement: when its answer came (`Date.now()`), and the value the server took. */
export type Ack = readonly [at: number, value: number];

export interface LedgerStats {
  /** Requests sent, by answer (`200`, `503`, `error:<code>`, …). */
  requests: Record<string, number>;
  /** The same, for the requests sent during each fault phase. */
  byPhase: Record<string, Record<string, number>>;
  /** Per stream: every acknowledged cumulative total, in order. */
  cumulative: Map<string, Ack[]>;
  /** Per stream: every acknowledged delta increment, in order. */
  delta: Map<string, Ack[]>;
  /** Delta windows still waiting for an acknowledgement. */
  queued: number;
  /** A point refused, or an answer no retry can change (a 4xx). */
  failures: string[];
}

interface Window {
  readonly start: bigint;
  readonly end: bigint;
  readonly values: readonly number[];
}

const nanos = (ms: number): bigint => BigInt(ms) * 1_000_000n;

export interface LedgerOptions {
  /** `http://127.0.0.1:<port>/v1/metrics` */
  readonly url: string;
  /** @default 1000 */
  readonly exportMillis?: number;
  /** The fault phase under way at this time (Date.now()), if any: requests sent during one are also counted by it. */
  readonly phase?: (at: number) => string | undefined;
}

export function startLedgerSender(options: LedgerOptions): {
  stats: LedgerStats;
  stop(): Promise<void>;
} {
  const every = options.exportMillis ?? 1000;
  const stats: LedgerStats = {
    requests: {},
    byPhase: {},
    cumulative: new Map(Array.from({ length: STREAMS }, (_, i) => [`c${i}`, []])),
    delta: new Map(Array.from({ length: STREAMS }, (_, i) => [`d${i}`, []])),
    queued: 0,
    failures: [],
  };
  const started = nanos(Date.now() - 1000);
  const totals = new Array<number>(STREAMS).fill(0);
  const queue: Window[] = [];
  let windowStart = started;
  let tick = 0;
  let stopping = false;

  /** One second's increments: small, different per stream and tick, never 0. */
  const advance = (): void => {
    tick++;
    const now = nanos(Date.now());
    const increments = totals.map((_, i) => 1 + ((tick * (i + 3)) % 7));
    increments.forEach((d, i) => (totals[i]! += d));
    queue.push({
      start: windowStart,
      end: now,
      values: increments.map((_, i) => 2 + ((tick * (i + 5)) % 11)),
    });
    windowStart = now;
  };

  const body = (w: Window | undefined, cumulative: readonly number[], at: bigint): string => {
    const point = (stream: string, value: number, from: bigint, to: bigint) => ({
      asInt: String(value),
      startTimeUnixNano: String(from),
      timeUnixNano: String(to),
      attributes: [{ key: 'stream', value: { stringValue: stream } }],
    });
    const metrics: unknown[] = [
      {
        name: CUMULATIVE,
        unit: '{item}',
        sum: {
          aggregationTemporality: 2,
          isMonotonic: true,
          dataPoints: cumulative.map((v, i) => point(`c${i}`, v, started, at)),
        },
      },
    ];
    if (w !== undefined)
      metrics.push({
        name: DELTA,
        unit: '{item}',
        sum: {
          aggregationTemporality: 1,
          isMonotonic: true,
          dataPoints: w.values.map((v, i) => point(`d${i}`, v, w.start, w.end)),
        },
      });
    return JSON.stringify({
      resourceMetrics: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'soak-ledger' } },
              { key: 'service.instance.id', value: { stringValue: 'ledger-1' } },
            ],
          },
          scopeMetrics: [{ scope: { name: 'soak.ledger' }, metrics }],
        },
      ],
    });
  };

  /** Sends the oldest queued window with the current totals; true when acknowledged. */
  const send = async (): Promise<boolean> => {
    const w = queue[0];
    const cumulative = [...totals];
    const phase = options.phase?.(Date.now());
    const count = (status: string): void => {
      stats.requests[status] = (stats.requests[status] ?? 0) + 1;
      if (phase !== undefined) {
        const p = (stats.byPhase[phase] ??= {});
        p[status] = (p[status] ?? 0) + 1;
      }
    };
    try {
      const res = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body(w, cumulative, nanos(Date.now())),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      count(String(res.status));
      if (res.status === 200) {
        const rejected = Number(
          (
            JSON.parse(text || '{}') as {
              partialSuccess?: { rejectedDataPoints?: string | number };
            }
          ).partialSuccess?.rejectedDataPoints ?? 0,
        );
        if (rejected > 0) {
          stats.failures.push(
            `${new Date().toISOString()} ledger: ${rejected} points refused: ${text.slice(0, 300)}`,
          );
          if (w !== undefined) queue.shift();
          return false;
        }
        const at = Date.now();
        cumulative.forEach((v, i) => stats.cumulative.get(`c${i}`)!.push([at, v]));
        if (w !== undefined) {
          w.values.forEach((v, i) => stats.delta.get(`d${i}`)!.push([at, v]));
          queue.shift();
        }
        return true;
      }
      if (res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408) {
        stats.failures.push(
          `${new Date().toISOString()} ledger: ${res.status} ${text.slice(0, 300)}`,
        );
        if (w !== undefined) queue.shift();
      }
      return false;
    } catch (err) {
      const e = err as { cause?: { code?: string }; name?: string };
      count(`error:${e.cause?.code ?? e.name ?? 'unknown'}`);
      return false;
    }
  };

  const loop = (async () => {
    for (let next = performance.now(); !stopping;) {
      advance();
      // Drain the queue (a backlog after an outage goes out back to back), then wait for the next second.
      while (queue.length > 0 && !stopping && (await send()));
      stats.queued = queue.length;
      next += every;
      await sleep(Math.max(0, next - performance.now()));
    }
  })();

  return {
    stats,
    async stop() {
      stopping = true;
      await loop;
      // A last export of what was added and everything queued, given a few tries.
      advance();
      for (let i = 0; i < 10 && queue.length > 0; i++) if (!(await send())) await sleep(1000);
      stats.queued = queue.length;
    },
  };
}
