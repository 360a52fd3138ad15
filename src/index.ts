/** jobmeter's public surface: names exported one by one; internals stay internal. */
export { createJobmeter } from './jobmeter.ts';
export type { Jobmeter } from './jobmeter.ts';
export { JobmeterReader } from './jobmeter-reader.ts';
export { createRecorder } from './host-recorder.ts';
export { guardMeter } from './host-guard.ts';
export type { HostRecorderOptions } from './host-recorder.ts';
export { jobmeterViews } from './jobmeter-views.ts';
export type { JobmeterViewsOptions } from './jobmeter-views.ts';
export type { JobmeterReaderOptions } from './jobmeter-reader.ts';
export { ConfigError } from './errors.ts';
export type { FamilyRule } from './naming/types.ts';
export type { HostInstruments, IngestOptions, JobmeterOptions, OtlpPushOptions, OtlpProtocol, PullListenerOptions, ProfileName, ProfileOptions } from './options.ts';
export { PROFILE_NAMES } from './options.ts';
export type {
  BoundCounter,
  BoundGauge,
  BoundHistogram,
  DeclaredCounter,
  DeclaredGauge,
  DeclaredHistogram,
  FinishedRun,
  Observation,
  ObservedValue,
  Recorder,
  RunAttributes,
  RunHandle,
} from './domain/recorder.ts';
export type { AttributeSpec, InstrumentKind, InstrumentSpec, Outcome } from './domain/types.ts';
export { OUTCOMES, OTHER } from './domain/types.ts';
export { DOMAIN_INSTRUMENTS, DEFAULT_RUN_DURATION_BUCKETS } from './domain/catalog.ts';
export { PROCESS_INSTRUMENTS } from './domain/process-metrics.ts';
export type { ExpositionFormat, Family, FamilyType, HistogramSeries, NativeBuckets, NumberSeries } from './exposition/types.ts';
export type { NumberColumns } from './exposition/render-model.ts';
export type { TranslationStrategy } from './naming/prometheus-names.ts';
export { renderOpenMetrics } from './exposition/openmetrics.ts';
export { renderPrometheusText } from './exposition/text.ts';
export { VERSION } from './version.ts';
export { jobmeterMetrics } from './http/plugin.ts';
export type { JobmeterMetricsPlugin } from './http/plugin.ts';
export { setAccessLogTenant } from './http/access-log.ts';
export { describeMetricsRoute } from './http/route-options.ts';
export type { JobmeterMetricsOptions, MetricsSource, ApiKey, MetricsRouteInfo } from './http/route-options.ts';
export { createMetricsHandler } from './http/node-handler.ts';
export type { MetricsHandler } from './http/node-handler.ts';
export { createMetricsMiddleware } from './http/middleware.ts';
export type { MetricsMiddleware } from './http/middleware.ts';
export { POSTURES, POSTURE_NAMES } from './common/postures.ts';
export type { Posture, PostureName, GateKind, DenyStatus } from './common/postures.ts';
export type { AccessLogOptions, LineSink } from './http/access-log.ts';
export type { HostSnapshot, HostRecord, SessionRecord, SnapshotCallback, SnapshotSourceOptions } from './domain/snapshot.ts';
export type { BuildInfo, FinishDetails } from './domain/recorder.ts';
