/**
 * The pull reader: collects on demand (a scrape), always cumulative, as Prometheus expects.
 * Concurrent scrapes share one collection instead of each walking every instrument.
 */
import { AggregationTemporality, MetricReader, type CollectionResult, type MetricProducer } from '@opentelemetry/sdk-metrics';

export interface PullReaderOptions {
  /** Series per instrument per collection when no View sets a limit (the SDK's `cardinalitySelector`). @default 2000 */
  readonly cardinalityLimit?: number;
}

export class PullMetricReader extends MetricReader {
  #inflight: Promise<CollectionResult> | undefined;

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
