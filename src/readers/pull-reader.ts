/**
 * The pull reader: collects on demand (a scrape), always cumulative, as Prometheus expects.
 * Concurrent scrapes share one collection one level up (`coalescedScrape` in jobmeter.ts, with
 * the naming pass), so this reader does not coalesce.
 */
import {
  AggregationTemporality,
  MetricReader,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';

export interface PullReaderOptions {
  /** Series per instrument per collection when no View sets a limit (the SDK's `cardinalitySelector`). @default 2000 */
  readonly cardinalityLimit?: number;
}

export class PullMetricReader extends MetricReader {
  /**
   * @param metricProducers producers whose metrics join every collection after the SDK's own
   *   (a host's `metricProducers`; the ingest is read apart, as series sets: jobmeter.ts).
   */
  constructor(metricProducers: MetricProducer[] = [], options: PullReaderOptions = {}) {
    const limit = options.cardinalityLimit;
    super({
      aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
      metricProducers,
      ...(limit !== undefined && { cardinalitySelector: () => limit }),
    });
  }

  // Nothing is buffered or pushed: a pull reader has nothing to flush or close.
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
