/**
 * The pull reader: collects on demand (a scrape), always cumulative, as Prometheus expects.
 * Concurrent scrapes share one collection instead of each walking every instrument.
 */
import { AggregationTemporality, MetricReader, type CollectionResult, type MetricProducer } from '@opentelemetry/sdk-metrics';

/** The SDK's `CollectionOptions` (not exported by name). */
type CollectionOptions = Parameters<MetricReader['collect']>[0];

export interface PullReaderOptions {
  /**
   * Producers whose metrics come *before* the SDK's own in every collection: the domain's
   * tallies, whose instruments were created before any SDK instrument, so a profile that orders
   * families by first appearance keeps the catalog's order. @default []
   */
  readonly leadingProducers?: readonly MetricProducer[];
  /** Series per instrument per collection when no View sets a limit (the SDK's `cardinalitySelector`). @default 2000 */
  readonly cardinalityLimit?: number;
}

export class PullMetricReader extends MetricReader {
  #inflight: Promise<CollectionResult> | undefined;
  readonly #leading: readonly MetricProducer[];

  /**
   * @param metricProducers producers whose metrics join every collection after the SDK's own
   *   (e.g. OTLP ingest).
   */
  constructor(metricProducers: MetricProducer[] = [], options: PullReaderOptions = {}) {
    const limit = options.cardinalityLimit;
    super({
      aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
      metricProducers,
      ...(limit !== undefined && { cardinalitySelector: () => limit }),
    });
    this.#leading = options.leadingProducers ?? [];
  }

  /**
   * The SDK's collection, then the leading producers'. They are read after the SDK has run its
   * callbacks, as the SDK reads its own synchronous instruments after them, so a record made by a
   * callback lands in this collection; their metrics are put first.
   */
  override async collect(options?: CollectionOptions): Promise<CollectionResult> {
    const own = await super.collect(options);
    if (this.#leading.length === 0) return own;
    const leading = await Promise.all(this.#leading.map((p) => p.collect(options)));
    return {
      resourceMetrics: {
        resource: own.resourceMetrics.resource,
        scopeMetrics: [...leading.flatMap((r) => r.resourceMetrics.scopeMetrics), ...own.resourceMetrics.scopeMetrics],
      },
      errors: [...leading.flatMap((r) => r.errors), ...own.errors],
    };
  }

  /**
   * A collection, shared with any other caller that asks while it is running. The result is not
   * cached past its completion: the next scrape sees fresh data.
   */
  collectShared(): Promise<CollectionResult> {
    if (this.#inflight === undefined) {
      this.#inflight = this.collect().finally(() => {
        this.#inflight = undefined;
      });
    }
    return this.#inflight;
  }

  // Nothing is buffered or pushed: a pull reader has nothing to flush or close.
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
