/**
 * The soak's well-behaved sender: the official OpenTelemetry JS SDK exporting OTLP/protobuf to
 * the ingest every second, with label churn. Every `generationMillis` a new "worker process"
 * starts — a new MeterProvider, a new `service.instance.id`, new task names — and the previous one
 * exports a last time and stops, so its series go quiet and expire in jobmeter (after
 * `expiry_ms`) while new ones arrive: the churn a daemon that runs short-lived jobs produces.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

export interface ChurnOptions {
  /** `http://127.0.0.1:<port>/v1/metrics` */
  readonly url: string;
  /** How long one generation of workers lives. @default 60000 */
  readonly generationMillis?: number;
  /**
   * Task names per generation: each is a counter series per outcome (3) and a histogram series.
   * The default keeps the churn under the ingest's 2000 series per instrument: a generation's
   * series live until the 5-minute expiry after it stops, so ~6 generations are held at once
   * (80 × 3 × 6 = 1440 counter series). @default 80
   */
  readonly tasks?: number;
  /** @default 1000 */
  readonly exportMillis?: number;
  /** Whether a failed export at this time (Date.now()) is expected (jobmeter restarting on purpose): counted apart. */
  readonly excused?: (at: number) => boolean;
  /** The fault phase under way at this time (Date.now()), if any: exports sent during one are also counted by it. */
  readonly phase?: (at: number) => string | undefined;
}

export interface ChurnStats {
  generations: number;
  exports: number;
  failedExports: number;
  /** Failed while jobmeter was being restarted on purpose. */
  excusedExports: number;
  lastError: string;
  recorded: number;
  /** Exports sent during each fault phase, and how many of them failed (also in the counts above). */
  byPhase: Record<string, { exports: number; failed: number }>;
  /**
   * The counter `soak.jobs.completed` as acknowledged: per `task|outcome`, each value an export
   * that succeeded carried, with when it was first acknowledged (`Date.now()`).
   */
  acked: Map<string, Array<readonly [at: number, value: number]>>;
}

/** Counts what the official exporter reports, then passes everything through. */
class CountingExporter implements PushMetricExporter {
  readonly #inner: OTLPMetricExporter;
  readonly #stats: ChurnStats;
  readonly #excused: (at: number) => boolean;
  readonly #phase: (at: number) => string | undefined;
  constructor(
    url: string,
    stats: ChurnStats,
    excused: (at: number) => boolean,
    phase: (at: number) => string | undefined,
  ) {
    this.#inner = new OTLPMetricExporter({ url, timeoutMillis: 10_000 });
    this.#stats = stats;
    this.#excused = excused;
    this.#phase = phase;
  }
  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    const sent = Date.now();
    const phase = this.#phase(sent);
    this.#inner.export(metrics, (result) => {
      this.#stats.exports++;
      if (phase !== undefined) {
        const p = (this.#stats.byPhase[phase] ??= { exports: 0, failed: 0 });
        p.exports++;
        if (result.code !== ExportResultCode.SUCCESS) p.failed++;
      }
      if (result.code === ExportResultCode.SUCCESS) this.#ack(metrics, Date.now());
      if (
        result.code !== ExportResultCode.SUCCESS &&
        (this.#excused(sent) || this.#excused(Date.now()))
      )
        this.#stats.excusedExports++;
      else if (result.code !== ExportResultCode.SUCCESS) {
        this.#stats.failedExports++;
        this.#stats.lastError = String(result.error?.message ?? result.error);
      }
      done(result);
    });
  }
  /** Writes down the counter's values this acknowledged export carried. */
  #ack(metrics: ResourceMetrics, at: number): void {
    for (const scope of metrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== 'soak.jobs.completed') continue;
        for (const point of metric.dataPoints) {
          const key = `${String(point.attributes.task)}|${String(point.attributes.outcome)}`;
          const acks = this.#stats.acked.get(key) ?? this.#stats.acked.set(key, []).get(key)!;
          // Each value with when it was first acknowledged (what a restart must keep from then on).
          if (acks.at(-1)?.[1] !== point.value) acks.push([at, point.value as number]);
        }
      }
    }
  }
  forceFlush(): Promise<void> {
    return this.#inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }
}

const OUTCOMES = ['success', 'failure', 'timeout'] as const;
export const DEFAULT_TASKS = 80;

export function startChurnSender(options: ChurnOptions): {
  stats: ChurnStats;
  stop(): Promise<void>;
} {
  const generationMillis = options.generationMillis ?? 60_000;
  const tasks = options.tasks ?? DEFAULT_TASKS;
  const exportMillis = options.exportMillis ?? 1_000;
  const stats: ChurnStats = {
    generations: 0,
    exports: 0,
    failedExports: 0,
    excusedExports: 0,
    lastError: '',
    recorded: 0,
    byPhase: {},
    acked: new Map(),
  };
  let provider: MeterProvider | undefined;
  let record: (() => void) | undefined;
  const retiring = new Set<Promise<void>>();

  const startGeneration = (): void => {
    const g = stats.generations++;
    const next = new MeterProvider({
      resource: resourceFromAttributes({
        'service.name': 'soak-worker',
        'service.instance.id': `worker-${g}`,
      }),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new CountingExporter(
            options.url,
            stats,
            options.excused ?? (() => false),
            options.phase ?? (() => undefined),
          ),
          exportIntervalMillis: exportMillis,
          exportTimeoutMillis: exportMillis,
        }),
      ],
    });
    const meter = next.getMeter('soak.worker', '1.0.0');
    const runs = meter.createCounter('soak.jobs.completed', {
      unit: '{job}',
      description: 'Jobs completed, by task and outcome.',
    });
    const duration = meter.createHistogram('soak.job.duration', {
      unit: 's',
      description: 'Job duration.',
    });
    const depth = meter.createUpDownCounter('soak.queue.depth', {
      unit: '{job}',
      description: 'Jobs waiting, by queue.',
    });
    let i = 0;
    record = () => {
      for (let n = 0; n < 50; n++, i++) {
        const task = `task-${g}-${(i * 7919) % tasks}`;
        runs.add(1, { task, outcome: OUTCOMES[i % 3]! });
        duration.record(((i * 37) % 1000) / 100, { task });
        depth.add(i % 2 === 0 ? 1 : -1, { queue: `queue-${i % 10}` });
        stats.recorded += 3;
      }
    };
    const previous = provider;
    provider = next;
    if (previous !== undefined) {
      const done = previous.shutdown().catch(() => undefined);
      retiring.add(done);
      void done.then(() => retiring.delete(done));
    }
  };

  startGeneration();
  const recorder = setInterval(() => record?.(), 200);
  const generations = setInterval(startGeneration, generationMillis);
  return {
    stats,
    async stop() {
      clearInterval(recorder);
      clearInterval(generations);
      await provider?.shutdown().catch(() => undefined);
      await Promise.all(retiring);
    },
  };
}
