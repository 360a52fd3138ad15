/**
 * The wide memory shape, shared by heap.ts and heap-churn.ts: 11 counters × 10,000 series, two
 * attributes (`host`, 1,000 values × `queue`, 10 values), 110,000 series in all, each contender
 * set up as its users would:
 *
 * - `jobmeter-host`: a host counter through the OpenTelemetry API on jobmeter's provider, as the
 *   global API gives it after `createJobmeter()` registered it (`metrics.getMeter('host')`), no
 *   declaration, no View; `cardinalityLimit: 10_001` so each counter's 10,000 sets fit (the
 *   overflow series is the 10,001st).
 * - `jobmeter-declared`: the same counters declared in `options.instruments` (`host` capped at
 *   1,000, `queue` at 10) and recorded through `jm.counter(name)`.
 * - @prometheus-io/client and prom-client: `Counter` with `labelNames: ['host', 'queue']`.
 * - `otel`: sdk-metrics with @opentelemetry/exporter-prometheus as its reader, its cardinality
 *   limit raised so nothing folds.
 *
 * A scrape is one GET over loopback to the contender's own server in this process (jobmeter's pull
 * listener; the Prometheus clients behind `http.createServer` answering `registry.metrics()`; the
 * exporter's `getMetricsRequestHandler`), no compression, the body read and dropped: what a host
 * serving Prometheus holds afterwards (jobmeter's endpoint keeps its render memo and body storage).
 */
import { metrics, type Counter as OtelCounter } from '@opentelemetry/api';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJobmeter, type InstrumentSpec, type Jobmeter } from '../src/index.ts';
import {
  plainOtel,
  promClientServer,
  promLib,
  promRegistry,
  type PlainOtel,
  type PromCounter,
  type PromRegistry,
} from './contenders.ts';
import { gc, jsMemory } from './harness.ts';

export const WIDE_CONTENDERS = [
  'jobmeter-host',
  'jobmeter-declared',
  'prometheus-io',
  'prom-client',
  'otel',
] as const;
export type WideContender = (typeof WIDE_CONTENDERS)[number];

export const WIDE_LABEL: Readonly<Record<WideContender, string>> = {
  'jobmeter-host': 'jobmeter, a host counter through the OTel API (`metrics.getMeter()`)',
  'jobmeter-declared': 'jobmeter, the counters declared in `options.instruments`',
  'prometheus-io': '@prometheus-io/client',
  'prom-client': 'prom-client',
  otel: 'sdk-metrics + exporter-prometheus',
};

export interface WideLayout {
  readonly instruments: number;
  readonly hosts: number;
  readonly queues: number;
}

/** The shape, or a tenth of it for a quick run. */
export function wideLayout(quick: boolean): WideLayout {
  return { instruments: 11, hosts: quick ? 100 : 1000, queues: 10 };
}

export const wideSeries = (l: WideLayout): number => l.instruments * l.hosts * l.queues;

/** Label values for one round of label sets; built before any reading, so nobody is charged for them. */
export interface LabelValues {
  readonly hosts: readonly string[];
  readonly queues: readonly string[];
}

export function labelValues(l: WideLayout, round = 0): LabelValues {
  const prefix = round === 0 ? 'host-' : `r${round}-host-`;
  return {
    hosts: Array.from({ length: l.hosts }, (_, i) => prefix + i),
    queues: Array.from({ length: l.queues }, (_, i) => 'queue-' + i),
  };
}

/**
 * harness.ts `jsMemory` read in a turn of its own, after one more full gc: what the turn that
 * ended a scrape still references, and array buffers one gc found dead but had not swept yet
 * (under load that was up to 25 MiB), are not held.
 */
export async function heldMemory(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return jsMemory();
}

/** A contender set up with its 11 (empty) counters. */
export interface WideBuilt {
  /** Records one value into every series of `v` (`instruments × hosts × queues` records). */
  record(v: LabelValues): void;
  /** Drops the series of `v`, where the library lets a user do that (the Prometheus clients' `remove`); false when it does not. */
  remove(v: LabelValues): boolean;
  /** One text scrape over HTTP from the contender's own server: the body. */
  scrape(): Promise<string>;
  /** Its server's metrics URL (scraped from another process by scrape-http.ts). */
  readonly url: string;
  /** Stops the server (and jobmeter), so the job's process can exit. */
  close(): Promise<void>;
}

/** GET `url` on a connection of its own, text format, no compression; the body as a string. */
export function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent: false,
        headers: { accept: 'text/plain;version=0.0.4', 'accept-encoding': 'identity' },
      },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: ${res.statusCode}`));
        res.setEncoding('utf8');
        let body = '';
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const counterName = (k: number) => `bench.jobs.${k}`;
const options = { unit: '{job}', description: 'Bench jobs.' };

/** Calls `add(k, host, queue, value)` for every series of `v` (the layout's, or some of them). */
function each(
  l: WideLayout,
  v: LabelValues,
  add: (k: number, host: string, queue: string, value: number) => void,
): void {
  for (let k = 0; k < l.instruments; k++) {
    for (let h = 0; h < v.hosts.length; h++) {
      for (let q = 0; q < v.queues.length; q++)
        add(k, v.hosts[h]!, v.queues[q]!, 1 + ((h + q) % 7));
    }
  }
}

async function jobmeterBuilt(l: WideLayout, declared: boolean): Promise<WideBuilt> {
  const specs: InstrumentSpec[] = [];
  if (declared) {
    const attributes = [
      { key: 'host', cap: l.hosts },
      { key: 'queue', cap: l.queues },
    ];
    for (let k = 0; k < l.instruments; k++)
      specs.push({ name: counterName(k), kind: 'counter', ...options, attributes });
  }
  const jm: Jobmeter = await createJobmeter({
    listener: { port: 0 },
    // A host's defaults but the process metrics (a fixed handful of series): the scope labels
    // stay on every line, as a host serves them, though the Prometheus clients write none.
    processMetrics: false,
    cardinalityLimit: l.hosts * l.queues + 1,
    instruments: specs,
  });
  // The host's path: the global API, registered by createJobmeter (`global` defaults to true).
  const add: ((v: number, a: { host: string; queue: string }) => void)[] = [];
  for (let k = 0; k < l.instruments; k++) {
    if (declared) {
      const c = jm.counter(counterName(k));
      add.push((v, a) => c.add(v, a));
    } else {
      const c: OtelCounter = metrics.getMeter('host').createCounter(counterName(k), options);
      add.push((v, a) => c.add(v, a));
    }
  }
  const url = `http://127.0.0.1:${jm.pullAddress!.port}/metrics`;
  return {
    record: (v) => each(l, v, (k, host, queue, value) => add[k]!(value, { host, queue })),
    remove: () => false,
    scrape: () => get(url),
    url,
    close: () => jm.shutdown(),
  };
}

/** The Prometheus clients' `remove(labels)` (both libraries have it). */
type Removable = PromCounter & { remove(labels: Record<string, string>): void };

async function promBuilt(l: WideLayout, lib: 'prometheus-io' | 'prom-client'): Promise<WideBuilt> {
  const { Counter } = promLib(lib);
  const registry: PromRegistry = promRegistry(lib);
  const server = await promClientServer(registry);
  const counters = Array.from(
    { length: l.instruments },
    (_, k) =>
      new Counter({
        name: `bench_jobs_${k}_total`,
        help: options.description,
        labelNames: ['host', 'queue'],
        registers: [registry],
      }) as Removable,
  );
  return {
    record: (v) => each(l, v, (k, host, queue, value) => counters[k]!.inc({ host, queue }, value)),
    remove: (v) => {
      each(l, v, (k, host, queue) => counters[k]!.remove({ host, queue }));
      return true;
    },
    scrape: () => get(server.url),
    url: server.url,
    close: () => server.close(),
  };
}

async function otelBuilt(l: WideLayout): Promise<WideBuilt> {
  const otel: PlainOtel = plainOtel(l.hosts * l.queues + 2);
  const server = createServer((req, res) => otel.exporter.getMetricsRequestHandler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  const counters = Array.from({ length: l.instruments }, (_, k) =>
    otel.meter.createCounter(counterName(k), options),
  );
  return {
    record: (v) => each(l, v, (k, host, queue, value) => counters[k]!.add(value, { host, queue })),
    remove: () => false,
    scrape: () => get(url),
    url,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await otel.provider.shutdown();
    },
  };
}

export function setUpWide(contender: WideContender, l: WideLayout): Promise<WideBuilt> {
  switch (contender) {
    case 'jobmeter-host':
      return jobmeterBuilt(l, false);
    case 'jobmeter-declared':
      return jobmeterBuilt(l, true);
    case 'prometheus-io':
    case 'prom-client':
      return promBuilt(l, contender);
    case 'otel':
      return otelBuilt(l);
  }
}
