/**
 * OTLP push of 110,000 series (the reference mix at n = 100,000): the time of one export, from
 * `forceFlush()` to the collector's answer, and the bytes sent, next to what the official
 * exporter costs on a plain OpenTelemetry SDK holding the same series.
 *
 * - jobmeter: `createJobmeter({ otlp: { endpoint, protocol: 'http/protobuf' } })`, the series
 *   recorded through `jm.counter` / `jm.histogram` (jobmeter's storages, read by the push reader
 *   through the storages' producer); one export is `jm.forceFlush()`.
 * - otel SDK + official exporter: a `MeterProvider` with a `PeriodicExportingMetricReader` around
 *   `@opentelemetry/exporter-metrics-otlp-proto`'s `OTLPMetricExporter`, the same series recorded
 *   through SDK counters and histograms (sharded the same way); one export is
 *   `provider.forceFlush()`.
 *
 * Both push protobuf, uncompressed, cumulative, to a loopback HTTP server that reads the body and
 * answers 200 with an empty `ExportMetricsServiceResponse`. Before each timed export 1% of the
 * series get a record and a full gc runs, as in scrape.ts. The body size is checked to be the same
 * from one export to the next.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import {
  createJobmeter,
  type DeclaredCounter,
  type DeclaredHistogram,
  type InstrumentSpec,
} from '../src/index.ts';
import { BUCKETS } from './contenders.ts';
import {
  bytes,
  cli,
  gc,
  isMain,
  log,
  markdownTable,
  num,
  spread,
  stats,
  type Job,
  type Scenario,
} from './harness.ts';
import { VALUES } from './hot-path.ts';
import { hostNames, referenceLayout, SHARD } from './series.ts';

type Contender = 'jobmeter' | 'otel';
const CONTENDERS: readonly Contender[] = ['jobmeter', 'otel'];
const LABEL: Readonly<Record<Contender, string>> = {
  jobmeter: 'jobmeter (storages → push reader → official OTLP/proto exporter)',
  otel: 'otel SDK + official OTLP/proto exporter',
};

interface Params {
  readonly n: number;
  readonly warmup: number;
  readonly runs: number;
  readonly processes: number;
}

interface Arg extends Params {
  readonly contender: Contender;
}

interface Result {
  readonly ms: number[];
  readonly bodyBytes: number;
}

interface Sink {
  readonly url: string;
  /** Body size of each request received. */
  readonly sizes: number[];
  close(): Promise<void>;
}

async function sink(): Promise<Sink> {
  const sizes: number[] = [];
  const server: Server = createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      sizes.push(n);
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    sizes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface Pusher {
  push(): Promise<void>;
  touch(i: number): void;
  close(): Promise<void>;
}

async function pusher(contender: Contender, n: number, url: string): Promise<Pusher> {
  const layout = referenceLayout(n);
  const hosts = hostNames(n);
  const nc = Math.ceil(layout.counters / SHARD);
  const nh = Math.ceil(layout.histograms / SHARD);
  let add: (k: number, host: string, v: number) => void;
  let observe: (k: number, host: string, v: number) => void;
  let push: () => Promise<void>;
  let close: () => Promise<void>;
  // Long interval: the only exports are the ones asked for.
  const interval = 3_600_000;
  if (contender === 'jobmeter') {
    const hostAttr = [{ key: 'host', cap: SHARD }];
    const specs: InstrumentSpec[] = [];
    for (let k = 0; k < nc; k++)
      specs.push({
        name: `bench.requests.${k}`,
        kind: 'counter',
        unit: '{request}',
        description: 'Bench requests.',
        attributes: hostAttr,
      });
    for (let k = 0; k < nh; k++)
      specs.push({
        name: `bench.latency.${k}`,
        kind: 'histogram',
        unit: 's',
        description: 'Bench latency.',
        buckets: BUCKETS,
        attributes: hostAttr,
      });
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      instruments: specs,
      otlp: {
        endpoint: url,
        protocol: 'http/protobuf',
        intervalMillis: interval,
        timeoutMillis: 60_000,
      },
    });
    const counters: DeclaredCounter[] = Array.from({ length: nc }, (_, k) =>
      jm.counter(`bench.requests.${k}`),
    );
    const histos: DeclaredHistogram[] = Array.from({ length: nh }, (_, k) =>
      jm.histogram(`bench.latency.${k}`),
    );
    add = (k, host, v) => counters[k]!.add(v, { host });
    observe = (k, host, v) => histos[k]!.record(v, { host });
    push = () => jm.forceFlush();
    close = () => jm.shutdown();
  } else {
    const exporter = new OTLPMetricExporter({ url, timeoutMillis: 60_000 });
    const reader = new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: interval,
      exportTimeoutMillis: 60_000,
    });
    const provider = new MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('bench');
    const counters = Array.from({ length: nc }, (_, k) =>
      meter.createCounter(`bench.requests.${k}`, {
        unit: '{request}',
        description: 'Bench requests.',
      }),
    );
    const histos = Array.from({ length: nh }, (_, k) =>
      meter.createHistogram(`bench.latency.${k}`, {
        unit: 's',
        description: 'Bench latency.',
        advice: { explicitBucketBoundaries: [...BUCKETS] },
      }),
    );
    add = (k, host, v) => counters[k]!.add(v, { host });
    observe = (k, host, v) => histos[k]!.record(v, { host });
    push = () => provider.forceFlush();
    close = () => provider.shutdown();
  }
  for (let i = 0; i < layout.counters; i++) add((i / SHARD) | 0, hosts[i]!, 1 + (i % 7));
  for (let i = 0; i < layout.histograms; i++)
    for (let r = 0; r < 3; r++) observe((i / SHARD) | 0, hosts[i]!, VALUES[(i * 3 + r) & 1023]!);
  return {
    push,
    close,
    touch(i) {
      const j = i % layout.counters;
      add((j / SHARD) | 0, hosts[j]!, 1);
      if (j < layout.histograms) observe((j / SHARD) | 0, hosts[j]!, VALUES[i & 1023]!);
    },
  };
}

async function measure(arg: Arg): Promise<Result> {
  const s = await sink();
  const p = await pusher(arg.contender, arg.n, s.url);
  const perTouch = Math.max(1, Math.ceil(arg.n / 100));
  let touched = 0;
  const touch = () => {
    for (let i = 0; i < perTouch; i++) p.touch(touched++);
  };
  try {
    for (let w = 0; w < arg.warmup; w++) {
      touch();
      await p.push();
    }
    const ms: number[] = [];
    for (let r = 0; r < arg.runs; r++) {
      touch();
      gc();
      const t = performance.now();
      await p.push();
      ms.push(performance.now() - t);
    }
    const sizes = s.sizes.slice(-arg.runs);
    if (sizes.length !== arg.runs || new Set(sizes).size !== 1)
      throw new Error(`${arg.contender}: request sizes ${s.sizes.join(', ')}`);
    log(`    ${arg.contender}: ${ms.map((x) => x.toFixed(0)).join(' ')} ms, ${sizes[0]} bytes`);
    return { ms, bodyBytes: sizes[0]! };
  } finally {
    await p.close();
    await s.close();
  }
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'otlp',
  title: 'OTLP push of 110k series',
  params: (quick) =>
    quick
      ? { n: 10_000, warmup: 1, runs: 3, processes: 1 }
      : { n: 100_000, warmup: 2, runs: 5, processes: 2 },
  processes: (p) => p.processes,
  jobs: (p): Job<Arg>[] =>
    CONTENDERS.map((contender) => ({ id: contender, arg: { ...p, contender } })),
  measure,
  table(p, results) {
    const layout = referenceLayout(p.n);
    const base = stats(results.get('otel')!.flatMap((r) => r.ms)).median;
    const rows = CONTENDERS.map((c) => {
      const rs = results.get(c)!;
      const s = stats(rs.flatMap((r) => r.ms));
      return [LABEL[c], spread(s, 0), bytes(rs[0]!.bodyBytes), (s.median / base).toFixed(2) + '×'];
    });
    return [
      markdownTable(['contender', 'ms per export', 'request body', '÷ otel SDK + exporter'], rows, [
        'l',
        'r',
        'r',
        'r',
      ]),
      '',
      `${num(layout.counters + layout.histograms, 0)} series (${num(SHARD, 0)} per instrument), protobuf, uncompressed, cumulative, to a loopback sink. Time from \`forceFlush()\` to the sink's 200; median (min–max) over ${p.processes} processes × ${p.runs} exports after ${p.warmup} warm-up exports.`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
