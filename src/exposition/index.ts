/** Public surface of the exposition stage. */
export type {
  ExpositionFormat,
  Family,
  FamilyType,
  HistogramFamily,
  HistogramSeries,
  NativeBuckets,
  NumberFamily,
  NumberSeries,
} from './types.ts';
export type { NumberColumns } from './render-model.ts';
export { CONTENT_TYPE } from './types.ts';
export {
  escapeHelpOpenMetrics,
  escapeHelpText,
  escapeLabelValue,
  renderLabelPairs,
} from './escape.ts';
export { formatGoFloat, formatLeOpenMetrics, formatLeText, formatSampleValue } from './numbers.ts';
export { renderOpenMetrics } from './openmetrics.ts';
export { renderPrometheusText } from './text.ts';
export { acceptsGzip, negotiateFormat } from './negotiate.ts';
export { render, renderChunks } from './render.ts';
