/**
 * The pull reader: collects on demand (a scrape), always cumulative, as Prometheus expects.
 * Concurrent scrapes share one collection one level up (`coalescedScrape` in jobmeter.ts, with
 * the naming pass), so this reader does not coalesce. It is the SDK's MetricReader, so it is made
 * where the SDK is loaded (common/otel-sdk.ts): by {@link newPullReader}, not at import.
 */
import type { MetricProducer, MetricReader } from '@opentelemetry/sdk-metrics';
import { AggregationTemporality, sdkMetrics } from '../common/otel-sdk.ts';

export interface PullReaderOptions {
  /** Series per instrument per collection when no View sets a limit (the SDK's `cardinalitySelector`). @default 2000 */
  readonly cardinalityLimit?: number;
  /** Run by the reader's shutdown (a JobmeterReader closes its listener). @default nothing */
  readonly onShutdown?: () => Promise<void>;
}

let pullReaderClass: (new (p: MetricProducer[], o: PullReaderOptions) => MetricReader) | undefined;

/**
 * A pull reader.
 * @param metricProducers producers whose metrics join every collection after the SDK's own
 *   (a host's `metricProducers`; the ingest is read apart, as series sets: jobmeter.ts).
 */
export function newPullReader(
  metricProducers: MetricProducer[] = [],
  options: PullReaderOptions = {},
): MetricReader {
  pullReaderClass ??= class PullMetricReader extends sdkMetrics().MetricReader {
    readonly #onShutdown: (() => Promise<void>) | undefined;

    constructor(producers: MetricProducer[], o: PullReaderOptions) {
      const limit = o.cardinalityLimit;
      super({
        aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
        metricProducers: producers,
        ...(limit !== undefined && { cardinalitySelector: () => limit }),
      });
      this.#onShutdown = o.onShutdown;
    }

    // Nothing is buffered or pushed: a pull reader has nothing to flush.
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {
      await this.#onShutdown?.();
    }
  };
  return new pullReaderClass(metricProducers, options);
}
