/**
 * The closed lists of words an option takes: the one list each that the options' types, their
 * checks, the config file's schema and its error wording read.
 */
/**
 * Every naming profile, in the seeds' order: the one list config validation, errors and docs read.
 * @example
 *   const profile = PROFILE_NAMES.find((name) => name === process.env.METRICS_PROFILE) ?? 'otel';
 */
export const PROFILE_NAMES = [
  'otel',
  'runwisp',
  'wasmrun',
  'crewshipd',
  'rm',
  'solti',
  'semconv',
] as const;
/**
 * The name of a naming profile: `otel` (OpenTelemetry's Prometheus names), `semconv` (the
 * semantic conventions' instruments, named as `otel` names them) or one of the legacy systems'
 * ({@link PROFILE_NAMES}).
 */
export type ProfileName = (typeof PROFILE_NAMES)[number];
/** The profiles whose series are named by the OTel -> Prometheus compatibility rules, not a table. */
export type NativeProfileName = 'otel' | 'semconv';
/** The profiles that reproduce one existing system's series from a table. */
export type LegacyProfileName = Exclude<ProfileName, NativeProfileName>;
/**
 * Whether `name` is named natively (no table).
 * @example
 *   console.log(isNativeProfileName('semconv')); // true
 */
export function isNativeProfileName(name: ProfileName): name is NativeProfileName {
  return name === 'otel' || name === 'semconv';
}

/** What a profile does with host instruments it has no rule for: serve them under native names, or drop them. */
export const HOST_INSTRUMENTS = ['native', 'drop'] as const;
/** The option `hostInstruments`: `native` serves a host's instruments a legacy profile has no rule for under their OpenTelemetry names, `drop` leaves them out. */
export type HostInstruments = (typeof HOST_INSTRUMENTS)[number];

/** What a pull listener serves: the client's choice from `Accept`, or one format forced (an ExpositionFormat). */
export const LISTENER_FORMATS = ['negotiate', 'text', 'openmetrics'] as const;

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
/** The OTLP/HTTP encoding of the push (`otlp.protocol`, `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`). */
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** The push's temporality preference (`otlp.temporality`): OTel's three, as its OTLP exporters take them. */
export const TEMPORALITIES = ['cumulative', 'delta', 'lowmemory'] as const;
export type Temporality = (typeof TEMPORALITIES)[number];

/** The names an OTLP push carries (OtlpPushOptions `naming`). */
export const OTLP_NAMINGS = ['canonical', 'profile'] as const;

/**
 * The OTel spec's translation strategies (the Prometheus OTLP receiver's `translation_strategy`):
 * whether names and label names are escaped to the classic character set, and whether the unit
 * and `_total` suffixes are added. A name kept in UTF-8 is served as such only to a scraper that
 * negotiates `escaping=allow-utf-8`; any other gets it escaped (exposition/escape-names.ts).
 */
export const TRANSLATION_STRATEGIES = [
  'UnderscoreEscapingWithSuffixes',
  'UnderscoreEscapingWithoutSuffixes',
  'NoUTF8EscapingWithSuffixes',
  'NoTranslation',
] as const;
/** One of {@link TRANSLATION_STRATEGIES}: how the native profile turns OTel names into Prometheus names. */
export type TranslationStrategy = (typeof TRANSLATION_STRATEGIES)[number];
