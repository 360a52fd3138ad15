/**
 * The pull reader: collects on demand (a scrape), always cumulative, as Prometheus expects.
 * Concurrent scrapes share one collection instead of each walking every instrument.
 */
import { AggregationTemporality, MetricReader, type CollectionResult, type MetricProducer } from '@opentelemetry/sdk-metrics';

export class PullMetricReader extends MetricReader {
  #inflight: Promise<CollectionResult> | undefined;

  /** @param metricProducers producers whose metrics join every collection (e.g. OTLP ingest). */
  constructor(metricProducers: MetricProducer[] = []) {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE, metricProducers });
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
