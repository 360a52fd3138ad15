/**
 * `jobmeter/exposition`: the exposition model a scrape collects (`jm.scrape()`) and the renderers
 * that write it as Prometheus text 0.0.4 or OpenMetrics 1.0.0.
 */
import { refuseUnsupportedNode } from './common/node-support.ts';

refuseUnsupportedNode();
export { renderOpenMetrics } from './exposition/openmetrics.ts';
export { renderPrometheusText } from './exposition/text.ts';
export type {
  ExpositionFormat,
  Family,
  FamilyType,
  HistogramSeries,
  NativeBuckets,
  NumberSeries,
} from './exposition/types.ts';
export type { NumberColumns } from './exposition/render-model.ts';
