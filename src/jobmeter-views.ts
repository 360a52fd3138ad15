/**
 * `jobmeterViews(profile)`: jobmeter's own instruments as OpenTelemetry Views, for a host that
 * records the domain API on its own provider (`createRecorder(meter)`, read by a `JobmeterReader`):
 *
 *   new NodeSDK({ views: [...jobmeterViews('rm'), ...hostViews], metricReaders: [new JobmeterReader({ profile: 'rm' })] });
 *
 * One View per instrument: its attribute allow-list with the folds into `other` (under a legacy
 * profile, only the attributes its rules read: naming/profiles/ `profileSettings`), its buckets (the
 * profile's where it has its own, as rm does), its series ceiling. They are data ({@link buildViews}
 * makes them from the instruments' specs and the profile's module); jobmeter's own provider applies
 * the same bounds without them.
 */
import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import { AggregationType } from './common/otel-sdk.ts';
import { createBoundedAttributesProcessor, maxAttributeSets } from './domain/bounded-attributes.ts';
import { DOMAIN_INSTRUMENTS, SELF_INSTRUMENTS } from './domain/catalog.ts';
import { CONVENTION_PROCESS_INSTRUMENTS, PROCESS_INSTRUMENTS } from './domain/process-metrics.ts';
import { conventionCatalog } from './domain/convention.ts';
import type { DeclaredInstrumentSpec, InstrumentSpec } from './domain/types.ts';
import { profileSettings } from './naming/profiles/index.ts';
import type { ProfileName } from './options.ts';
import { checkOptionKeys } from './common/option-keys.ts';
import {
  PROFILE_TABLE_OPTIONS,
  type OptionsOf,
  type VIEWS_OPTIONS,
} from './common/option-table.ts';
import { checkInstrumentSpecs } from './domain/check-specs.ts';

/** What {@link jobmeterViews} is given besides the profile: the option table's views rows. */
export type JobmeterViewsOptions = OptionsOf<
  typeof VIEWS_OPTIONS,
  { instruments: readonly DeclaredInstrumentSpec[] }
>;

/**
 * jobmeter's own instruments as `profile` records them: the domain's (a semantic convention's in
 * place of those it names, under semconv) and the process metrics'.
 */
export function profileCatalog(profile: ProfileName) {
  const { convention } = profileSettings(profile);
  return convention === undefined
    ? { domain: DOMAIN_INSTRUMENTS, process: PROCESS_INSTRUMENTS }
    : {
        domain: conventionCatalog(convention, DOMAIN_INSTRUMENTS),
        process: CONVENTION_PROCESS_INSTRUMENTS,
      };
}

/** `specs` with the buckets a profile gives some of them (its `buckets` table) in place of the catalog's. */
export function withProfileBuckets(
  specs: readonly InstrumentSpec[],
  buckets: Readonly<Record<string, readonly number[]>>,
): InstrumentSpec[] {
  return specs.map((s) => (buckets[s.name] ? { ...s, buckets: buckets[s.name] } : s));
}

/**
 * The Views a host's provider needs for jobmeter's instruments (and the ones it declares) to be
 * served as `profile` serves them: the profile's histogram buckets and attribute allow-lists, and
 * the bounds jobmeter puts on each instrument's series.
 * @throws ConfigError for a profile that is not one of PROFILE_NAMES, or a bad instrument spec.
 * @example
 *   const sdk = new NodeSDK({ metricReaders: [new JobmeterReader({ profile: 'rm' })], views: jobmeterViews('rm') });
 */
export function jobmeterViews(
  profile: ProfileName = 'otel',
  options: JobmeterViewsOptions = {},
): ViewOptions[] {
  PROFILE_TABLE_OPTIONS.name.rule(profile, 'profile');
  checkOptionKeys(options, 'views');
  const settings = profileSettings(profile);
  const own = profileCatalog(profile);
  const specs = [
    ...own.domain,
    ...SELF_INSTRUMENTS,
    ...own.process,
    ...checkInstrumentSpecs(options.instruments ?? []),
  ];
  // The attributes of an instrument the profile has rules for narrowed to the ones its rules read
  // (ProfileSettings `attributes`): the SDK then keeps one series per served label set, not one per
  // task or runner that the profile's series sum over anyway.
  const read = settings.attributes;
  return buildViews(
    withProfileBuckets(specs, settings.buckets).map((s) =>
      Object.hasOwn(read, s.name)
        ? { ...s, attributes: s.attributes.filter((a) => read[s.name]!.includes(a.key)) }
        : s,
    ),
  );
}

/**
 * Instrument specs -> SDK views: one view per instrument carrying its allow-list/fold processor,
 * its histogram buckets and its cardinality limit.
 */
export function buildViews(specs: readonly InstrumentSpec[]): ViewOptions[] {
  return specs.map((spec) => ({
    instrumentName: spec.name,
    attributesProcessors: [createBoundedAttributesProcessor(spec.attributes)],
    // +1: the SDK counts its overflow series inside the limit.
    aggregationCardinalityLimit: maxAttributeSets(spec.attributes) + 1,
    ...(spec.kind === 'histogram' && {
      aggregation: {
        type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
        options: { boundaries: [...(spec.buckets ?? [])], recordMinMax: false },
      },
    }),
  }));
}
