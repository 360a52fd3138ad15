/**
 * `createRecorder(meter)`: jobmeter's domain API (`startRun`, `recordRun`, `reject`,
 * `runnerError`, `sessionCreated`, declared instruments, snapshots) on a host's own Meter -- its
 * NodeSDK's or MeterProvider's, read by a `JobmeterReader` under a profile:
 *
 *   const jm = createRecorder(metrics.getMeter('jobmeter'), { profile: 'solti' });
 *   jm.recordRun({ task: 'build', runner: 'wasm', outcome: 'success', durationSeconds: 2.5 });
 *
 * The instruments are the host's SDK's, so its Views and readers apply. Each is bounded by its
 * spec at the record (allow-list, folds into `other`, series ceiling), whatever Views the host
 * registered; the profile's buckets are given as advice (a View of the host's, or
 * `jobmeterViews(profile)`, overrides them). Bad values are dropped with one `diag` warning per
 * instrument and reason, and counted in `jobmeter.records.dropped` on the same meter (the same
 * account as `guardMeter(meter)`'s, host-guard.ts, for the host's other instruments).
 */
const { inspect, isDeepStrictEqual } = process.getBuiltinModule('node:util');
import type { Meter } from '@opentelemetry/api';
import { checkOptionKeys } from './common/option-keys.ts';
import type { OptionsOf, RECORDER_OPTIONS } from './common/option-table.ts';
import { checkInstrumentSpecs } from './domain/check-specs.ts';
import {
  createRecorder as createDomainRecorder,
  recorderOn,
  type BuildInfo,
  type Declared,
  type Recorder,
} from './domain/recorder.ts';
import { ConfigError } from './errors.ts';
import type { SnapshotSourceOptions } from './domain/snapshot.ts';
import type { DeclaredInstrumentSpec } from './domain/types.ts';
import { guardMeter as guardInstruments, HOST_METER, ownSdkFor } from './domain/guarded-meter.ts';
import { guardOf } from './host-guard.ts';
import { profileCatalog, withProfileBuckets } from './jobmeter-views.ts';
import { resolveProfileChoice } from './resolve-options.ts';
import { profileSettings } from './naming/profiles/index.ts';
import type { ProfileName } from './options.ts';

/**
 * What {@link createRecorder} is given: the option table's recorder rows. `I`: the `instruments`
 * declared, kept literal so the recorder's `counter`, `histogram`, `gauge` and `observe` take only
 * their names and attribute keys.
 * @example
 *   const options: HostRecorderOptions = { profile: 'solti', snapshot: { ttlMillis: 15_000 } };
 */
export type HostRecorderOptions<
  I extends readonly DeclaredInstrumentSpec[] = readonly DeclaredInstrumentSpec[],
> = OptionsOf<
  typeof RECORDER_OPTIONS,
  { profile: ProfileName; instruments: I; build: BuildInfo; snapshot: SnapshotSourceOptions }
>;

/** What each host recorder was asked for, so a second call asking for the same gets it back. */
const ASKED = new WeakMap<Recorder, HostRecorderOptions>();

/**
 * The recorder of `meter`. A meter has one (domain/recorder.ts says why): a second call on the
 * same meter with the same options (key order aside) returns the first, so modules that each ask
 * for it share it, as `getMeter` shares a meter.
 * @throws ConfigError for a profile that is not one of PROFILE_NAMES, a bad instrument spec, or a
 * meter whose recorder was made with other options (createJobmeter's meter among them: the
 * Jobmeter is its recorder); the message says to pass the first recorder where it is needed.
 * @example
 *   const jm = createRecorder(metrics.getMeter('jobmeter'), { profile: 'solti' });
 *   instrumentWorker(worker, { jobmeter: jm, meter: metrics.getMeter('jobmeter') });
 */
export function createRecorder<
  const I extends readonly DeclaredInstrumentSpec[] = readonly DeclaredInstrumentSpec[],
>(meter: Meter, options: HostRecorderOptions<I> = {}): Declared<Recorder, I[number]> {
  checkOptionKeys(options, 'recorder');
  const { profile: name } = resolveProfileChoice(options.profile, undefined);
  // Compared as checked, so a spec that leaves `attributes` out asks for the same as one with none.
  const declared = checkInstrumentSpecs(options.instruments ?? []);
  const asked: HostRecorderOptions = {
    profile: name,
    instruments: declared,
    ...(options.build !== undefined && { build: options.build }),
    snapshot: options.snapshot ?? {},
  };
  const existing = recorderOn(meter);
  if (existing !== undefined) {
    const first = ASKED.get(existing);
    if (first !== undefined && isDeepStrictEqual(first, asked)) return existing;
    const made =
      first === undefined
        ? "createJobmeter's, and the Jobmeter is its recorder"
        : `made with ${inspect(first, { breakLength: Infinity, depth: 4 })}`;
    throw new ConfigError(
      'createRecorder(meter, options)',
      options,
      `the options of the recorder this meter has (${made}): pass the first recorder where it is needed`,
    );
  }
  const profile = profileSettings(name);
  // Every instrument checked on guardMeter(meter)'s account, the recorder's bounded by its spec
  // (the profile's buckets as advice), as jobmeter's provider bounds an own instrument the SDK
  // records; the snapshot's and observe()'s observables checked as the instruments are.
  const guard = guardOf(meter);
  const specs = withProfileBuckets([...profileCatalog(name).domain, ...declared], profile.buckets);
  const recorderMeter = guardInstruments(meter, HOST_METER, { guard, ownSdk: ownSdkFor(specs) });
  const recorder = createDomainRecorder(recorderMeter, {
    recorderOf: meter,
    guard,
    declared,
    ...(options.build !== undefined && { build: options.build }),
    snapshotDefaults: { ...profile.snapshot, ...options.snapshot },
    ...(profile.vocabularies !== undefined && { vocabularies: profile.vocabularies }),
    ...(profile.convention !== undefined && { convention: profile.convention }),
  });
  ASKED.set(recorder, asked);
  return recorder;
}
