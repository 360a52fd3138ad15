/**
 * The soak's hostile sender: hostile requests case by case, one after another, for as long as
 * the soak runs. Each request's answer is counted by case; a 5xx other than a 503 shed, or a
 * connection error where an answer was due, is a failure. Connections it holds open on purpose
 * (stalled bodies, idle sockets) are timed by how long the server took to close them.
 *
 *   huge-attribute     a new 10 MiB attribute value per request, gzipped to ~10 KiB
 *   huge-resource      the same on a resource attribute
 *   huge-name          a 1 MiB metric name and description
 *   colliding-keys     `a.b` beside `a_b`, the empty key, `le` on a histogram, `__name__`,
 *                      `quantile`, `otel_scope_name`
 *   invalid-histogram  bucket counts above `count`, a negative sum
 *   name-clash         `target.info`, `jobmeter.ingest.refused`, `bar.count` beside a histogram `bar`
 *   stalled-body       headers and 10 bytes of a 100 kB body, then nothing
 *   max-size           a 20 MiB protobuf request of ~1M points, every `maxSizeEveryMillis`
 *   idle-connections   TCP connections to the pull and ingest ports that send nothing
 *   scope-churn        50 new scope and instrument names per request
 *   gzip-bomb          64 MiB of zeros gzipped to ~64 KiB (a 413 is due)
 *   garbage            random bytes as protobuf (a 400 is due)
 *   empty-points       one Gauge of 9.5 M empty data points, ~19 MB of protobuf, zstd to ~2 KB
 *                      (a 4xx is due; decoded whole it aborts the process)
 *   poison-time        a counter point stamped in year 2200, then the real one
 *   infinite-counter   +Inf on a monotonic sum
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { maxSizeRequest } from '../../bench/max-size-request.ts';
import { emptyPointsRequest } from '../ingest/hostile-bodies.ts';

export interface HostileOptions {
  readonly ingestPort: number;
  readonly pullPort: number;
  /** While true (jobmeter is being restarted on purpose), a refused connection is no failure. */
  readonly restarting?: () => boolean;
  /** One case every this many ms. @default 1000 */
  readonly intervalMillis?: number;
  /** @default 60000 */
  readonly maxSizeEveryMillis?: number;
  /** Connections held open on purpose at most, of each kind. @default 40 */
  readonly maxHeld?: number;
}

export interface CaseCounts {
  /** Answer status (or `error:<code>`) → count. */
  statuses: Record<string, number>;
  maxMillis: number;
}

export interface HostileStats {
  cases: Record<string, CaseCounts>;
  /** 5xx other than 503, or an error where an answer was due. */
  failures: string[];
  /** Held connections the server closed, and the longest it let one live (ms). */
  heldClosed: number;
  heldMaxMillis: number;
  heldOpen: number;
  /** When each max-size request was sent and answered (`Date.now()`), to read RSS around it. */
  maxSizeRequests: Array<{ sent: number; answered: number }>;
}

const MiB = 1024 * 1024;
const JSON_TYPE = { 'content-type': 'application/json' };
const PROTO_TYPE = { 'content-type': 'application/x-protobuf' };

const nowNanos = (): string => String(BigInt(Date.now()) * 1_000_000n);

function envelope(metrics: unknown[], scope = 'hostile', resource: unknown[] = []): string {
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: 'hostile' } }, ...resource],
        },
        scopeMetrics: [{ scope: { name: scope }, metrics }],
      },
    ],
  });
}

const gauge = (name: string, attributes: unknown[] = [], value = 1): unknown => ({
  name,
  gauge: { dataPoints: [{ asDouble: value, timeUnixNano: nowNanos(), attributes }] },
});

const str = (key: string, value: string): unknown => ({ key, value: { stringValue: value } });

/** A cumulative monotonic sum of one point (JSON; `value` may be "Infinity", as protojson spells it). */
const counter = (name: string, value: number | string, timeUnixNano: string): unknown => ({
  name,
  sum: {
    aggregationTemporality: 2,
    isMonotonic: true,
    dataPoints: [{ asDouble: value, startTimeUnixNano: START, timeUnixNano }],
  },
});
const START = nowNanos();

/** A body with a new `size`-character value each call: the shared prefix gzipped once, then a tail (gzip members inflate as one). */
function hugeValueBodies(size: number, onResource: boolean): (i: number) => Buffer {
  const long = 'x'.repeat(size);
  const head = onResource
    ? '{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"hostile"}},{"key":"payload","value":{"stringValue":"'
    : '{"resourceMetrics":[{"resource":{"attributes":[]},"scopeMetrics":[{"scope":{"name":"hostile"},"metrics":[{"name":"hostile.load","gauge":{"dataPoints":[{"attributes":[{"key":"payload","value":{"stringValue":"';
  const prefix = gzipSync(head + long);
  return (i) => {
    const point = `"asDouble":${i},"timeUnixNano":"${nowNanos()}"}]}}]}]}]}`;
    const tail = onResource
      ? `${i}"}}]},"scopeMetrics":[{"scope":{"name":"hostile"},"metrics":[{"name":"hostile.resource.load","gauge":{"dataPoints":[{${point}`
      : `${i}"}}],${point}`;
    return Buffer.concat([prefix, gzipSync(tail)]);
  };
}

export function startHostileSender(options: HostileOptions): {
  stats: HostileStats;
  stop(): Promise<void>;
} {
  const ingestUrl = `http://127.0.0.1:${options.ingestPort}/v1/metrics`;
  const intervalMillis = options.intervalMillis ?? 1_000;
  const maxSizeEveryMillis = options.maxSizeEveryMillis ?? 60_000;
  const maxHeld = options.maxHeld ?? 40;
  const stats: HostileStats = {
    cases: {},
    failures: [],
    heldClosed: 0,
    heldMaxMillis: 0,
    heldOpen: 0,
    maxSizeRequests: [],
  };
  const held = { stalled: new Set<Socket>(), idle: new Set<Socket>() };
  let n = 0;

  const hugeAttribute = hugeValueBodies(10 * MiB, false);
  const hugeResource = hugeValueBodies(10 * MiB, true);
  const bomb = gzipSync(Buffer.alloc(64 * MiB));
  const emptyPoints = zstdCompressSync(emptyPointsRequest(9_500_000));
  const maxSize = maxSizeRequest().body;

  const count = (name: string, status: string, ms: number): void => {
    const c = (stats.cases[name] ??= { statuses: {}, maxMillis: 0 });
    c.statuses[status] = (c.statuses[status] ?? 0) + 1;
    c.maxMillis = Math.max(c.maxMillis, ms);
    const code = Number(status);
    const excused = status.startsWith('error') && options.restarting?.() === true;
    if (!excused && (status.startsWith('error') || (code >= 500 && code !== 503)))
      stats.failures.push(`${new Date().toISOString()} ${name}: ${status}`);
  };

  const post = async (
    name: string,
    body: Buffer | string,
    headers: Record<string, string>,
  ): Promise<void> => {
    const t0 = performance.now();
    try {
      const res = await fetch(ingestUrl, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(60_000),
      });
      await res.arrayBuffer();
      count(name, String(res.status), performance.now() - t0);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      count(name, `error:${cause}`, performance.now() - t0);
    }
  };

  /** A socket held open on purpose; the server is expected to close it. */
  const hold = (kind: 'stalled' | 'idle', port: number, send?: string): void => {
    if (held[kind].size >= maxHeld) return;
    const t0 = performance.now();
    const socket = connect(port, '127.0.0.1');
    held[kind].add(socket);
    stats.heldOpen++;
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.on('close', () => {
      stats.heldOpen--;
      if (!held[kind].delete(socket)) return;
      stats.heldClosed++;
      stats.heldMaxMillis = Math.max(stats.heldMaxMillis, performance.now() - t0);
    });
    if (send !== undefined) socket.write(send);
  };

  const CASES: ReadonlyArray<readonly [string, () => Promise<void> | void]> = [
    [
      'huge-attribute',
      () => post('huge-attribute', hugeAttribute(n), { ...JSON_TYPE, 'content-encoding': 'gzip' }),
    ],
    [
      'colliding-keys',
      () =>
        post(
          'colliding-keys',
          envelope([
            gauge('hostile.collide', [
              str('a.b', `x${n}`),
              str('a_b', 'y'),
              str('', 'empty'),
              str('__name__', 'evil'),
              str('quantile', '0.5'),
              str('otel_scope_name', 'fake'),
            ]),
            {
              name: 'hostile.collide.histogram',
              histogram: {
                aggregationTemporality: 2,
                dataPoints: [
                  {
                    attributes: [str('le', '1')],
                    explicitBounds: [1],
                    bucketCounts: ['1', '1'],
                    count: '2',
                    sum: 1,
                    timeUnixNano: nowNanos(),
                  },
                ],
              },
            },
          ]),
          JSON_TYPE,
        ),
    ],
    [
      'invalid-histogram',
      () =>
        post(
          'invalid-histogram',
          envelope([
            {
              name: 'hostile.bad.histogram',
              histogram: {
                aggregationTemporality: 2,
                dataPoints: [
                  {
                    explicitBounds: [1, 3600],
                    bucketCounts: ['1', '134', '0'],
                    count: '3',
                    sum: 5,
                    timeUnixNano: nowNanos(),
                  },
                ],
              },
            },
            {
              name: 'hostile.negative.histogram',
              histogram: {
                aggregationTemporality: 2,
                dataPoints: [
                  {
                    explicitBounds: [1],
                    bucketCounts: ['1', '0'],
                    count: '1',
                    sum: -5,
                    timeUnixNano: nowNanos(),
                  },
                ],
              },
            },
          ]),
          JSON_TYPE,
        ),
    ],
    [
      'name-clash',
      () =>
        post(
          'name-clash',
          envelope([
            gauge('target.info'),
            gauge('jobmeter.ingest.refused'),
            {
              name: 'bar',
              histogram: {
                aggregationTemporality: 2,
                dataPoints: [
                  {
                    explicitBounds: [1],
                    bucketCounts: ['1', '0'],
                    count: '1',
                    sum: 0.5,
                    timeUnixNano: nowNanos(),
                  },
                ],
              },
            },
            gauge('bar.count'),
          ]),
          JSON_TYPE,
        ),
    ],
    [
      'huge-resource',
      () => post('huge-resource', hugeResource(n), { ...JSON_TYPE, 'content-encoding': 'gzip' }),
    ],
    [
      'huge-name',
      () =>
        post(
          'huge-name',
          envelope([{ ...(gauge('n'.repeat(MiB)) as object), description: 'd'.repeat(MiB) }]),
          JSON_TYPE,
        ),
    ],
    [
      'stalled-body',
      () =>
        hold(
          'stalled',
          options.ingestPort,
          'POST /v1/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100000\r\n\r\n0123456789',
        ),
    ],
    [
      'scope-churn',
      () =>
        post(
          'scope-churn',
          JSON.stringify({
            resourceMetrics: [
              {
                resource: { attributes: [] },
                scopeMetrics: Array.from({ length: 50 }, (_, k) => ({
                  scope: { name: `scope-${n}-${k}` },
                  metrics: [gauge(`churn.instrument.${n}.${k}`)],
                })),
              },
            ],
          }),
          JSON_TYPE,
        ),
    ],
    [
      'idle-connections',
      () => {
        for (let k = 0; k < 5; k++)
          hold('idle', k % 2 === 0 ? options.pullPort : options.ingestPort);
      },
    ],
    ['gzip-bomb', () => post('gzip-bomb', bomb, { ...PROTO_TYPE, 'content-encoding': 'gzip' })],
    ['garbage', () => post('garbage', randomBytes(4096), PROTO_TYPE)],
    [
      'empty-points',
      () => post('empty-points', emptyPoints, { ...PROTO_TYPE, 'content-encoding': 'zstd' }),
    ],
    [
      'poison-time',
      async () => {
        await post(
          'poison-time',
          envelope([counter('hostile.poisoned', n, String(7_258_118_400_000_000_000n))]),
          JSON_TYPE,
        );
        await post(
          'poison-time',
          envelope([counter('hostile.poisoned', n, nowNanos())]),
          JSON_TYPE,
        );
      },
    ],
    [
      'infinite-counter',
      () =>
        post(
          'infinite-counter',
          envelope([counter('hostile.infinite', 'Infinity', nowNanos())]),
          JSON_TYPE,
        ),
    ],
  ];

  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const run = (fn: () => Promise<void> | void): void => {
    const p = Promise.resolve(fn()).catch(
      (err: unknown) =>
        void stats.failures.push(`${new Date().toISOString()} sender: ${String(err)}`),
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const timer = setInterval(() => {
    if (stopped) return;
    const [, fn] = CASES[n % CASES.length]!;
    n++;
    run(fn);
  }, intervalMillis);
  const bigTimer = setInterval(
    () =>
      run(async () => {
        const sent = Date.now();
        await post('max-size', maxSize, PROTO_TYPE);
        stats.maxSizeRequests.push({ sent, answered: Date.now() });
      }),
    maxSizeEveryMillis,
  );

  return {
    stats,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearInterval(bigTimer);
      await Promise.all(inFlight);
      for (const set of Object.values(held)) {
        for (const s of set) {
          set.delete(s);
          s.destroy();
        }
      }
    },
  };
}
