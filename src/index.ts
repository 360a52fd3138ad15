/**
 * `jobmeter`: the host API -- a jobmeter of its own, a reader for the host's provider, the domain
 * recorder on the host's meter, its Views -- and the types their signatures name. Names are
 * exported one by one; mounting the metrics route is `jobmeter/http`, the renderers
 * `jobmeter/exposition`, the instrument and vocabulary data `jobmeter/catalog`
 * (test/package/exports.test.ts pins every list).
 */
import { refuseUnsupportedNode } from './common/node-support.ts';

refuseUnsupportedNode();
export { createJobmeter } from './jobmeter.ts';
export type { Jobmeter } from './jobmeter.ts';
export { JobmeterReader } from './jobmeter-reader.ts';
export type { JobmeterReaderOptions } from './jobmeter-reader.ts';
export { createRecorder } from './host-recorder.ts';
export { guardMeter } from './host-guard.ts';
export type { HostRecorderOptions } from './host-recorder.ts';
export { jobmeterViews } from './jobmeter-views.ts';
export type { JobmeterViewsOptions } from './jobmeter-views.ts';
export { ConfigError } from './errors.ts';
export { VERSION } from './version.ts';
export type { FamilyRule } from './naming/types.ts';
export type { TranslationStrategy } from './common/option-values.ts';
export type {
  HostInstruments,
  IngestOptions,
  JobmeterOptions,
  OtlpPushOptions,
  OtlpProtocol,
  PullListenerOptions,
  ProfileName,
  ProfileOptions,
} from './options.ts';
export type {
  BuildInfo,
  Declared,
  DeclaredInstruments,
  FinishDetails,
  FinishedRun,
  Observation,
  ObservedValue,
  OldestWaiting,
  QueueSourceOptions,
  Recorder,
  RunAttributes,
  RunHandle,
  StartDetails,
} from './domain/recorder.ts';
export type { TimeValue } from './domain/run-timing.ts';
export type {
  BoundCounter,
  BoundGauge,
  BoundHistogram,
  DeclaredCounter,
  DeclaredGauge,
  DeclaredHistogram,
} from './domain/storage/handles.ts';
export type {
  AttributeSpec,
  DeclaredInstrumentSpec,
  InstrumentKind,
  InstrumentSpec,
  Outcome,
} from './domain/types.ts';
export type {
  HostSnapshot,
  HostRecord,
  SessionRecord,
  SnapshotCallback,
  SnapshotSourceOptions,
} from './domain/snapshot.ts';
