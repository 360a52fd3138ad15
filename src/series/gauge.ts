/** The rules of a synchronous gauge: the last value recorded per series, a sum's column (sum.ts) read as a gauge. */
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import type { SeriesIndex } from './positions.ts';
import { SumSet } from './sum.ts';

export class GaugeSet extends SumSet {
  constructor(descriptor: MetricDescriptor, index: (grow: () => void) => SeriesIndex) {
    super(descriptor, index, { monotonic: false, exemplars: false, gauge: true });
  }
}
