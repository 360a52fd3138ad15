/**
 * OpenTelemetry -> Prometheus name rules of the OTel compatibility spec
 * (specification/compatibility/prometheus_and_openmetrics.md): sanitizing, UCUM unit words as a
 * suffix, `_total` on monotonic counters. Used by the native profile only; legacy profiles name
 * every series explicitly in their tables.
 */
import type { TranslationStrategy } from '../common/option-values.ts';
import type { FamilyType } from '../exposition/types.ts';

const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tebibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};

const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

/**
 * A metric name with the characters outside `[a-zA-Z0-9_:]` replaced by `_`, runs of `_` collapsed,
 * and `_` before a leading digit; a `label` name has no `:` (reserved for recording rules) and takes
 * `key_` before a leading digit.
 */
export function sanitizeName(name: string, label = false): string {
  const s = name
    .replace(label ? /[^a-zA-Z0-9_]+/g : /[^a-zA-Z0-9_:]+/g, '_')
    .replace(/_{2,}/g, '_');
  return /^[0-9]/.test(s) ? (label ? 'key_' : '_') + s : s;
}

/**
 * The Prometheus unit word of a UCUM unit (`s` -> `seconds`, `By/s` -> `bytes_per_second`,
 * `{run}` -> `''`). `1` becomes `ratio` for gauges only, as the spec says.
 */
export function unitWord(ucum: string, isGauge: boolean): string {
  const unit = ucum.replace(/\{[^}]*\}/g, '').trim();
  if (unit === '') return '';
  if (unit === '1') return isGauge ? 'ratio' : '';
  const slash = unit.indexOf('/');
  if (slash === -1) return sanitizeName(UNIT_WORDS[unit] ?? unit, true);
  const num = unit.slice(0, slash);
  const den = unit.slice(slash + 1);
  const numWord = num === '' || num === '1' ? '' : (UNIT_WORDS[num] ?? num);
  const denWord = PER_UNIT_WORDS[den] ?? UNIT_WORDS[den] ?? den;
  return sanitizeName(numWord === '' ? `per_${denWord}` : `${numWord}_per_${denWord}`, true);
}

export const DEFAULT_TRANSLATION_STRATEGY: TranslationStrategy = 'UnderscoreEscapingWithSuffixes';

/** Whether a strategy escapes names to the classic set (else keeps them UTF-8). */
export const escapesNames = (s: TranslationStrategy): boolean => s.startsWith('Underscore');
/** Whether a strategy adds the unit and `_total` suffixes. */
export const addsSuffixes = (s: TranslationStrategy): boolean => s.endsWith('WithSuffixes');

/**
 * Full Prometheus name of an OTel instrument: sanitized, unit suffix once, `_total` for counters
 * (the default strategy); other strategies keep the name in UTF-8 and/or leave the suffixes out.
 * `unitSuffixes: false` leaves the unit word out and keeps `_total`: the names
 * `@opentelemetry/exporter-prometheus` serves, so a switch from it keeps every series.
 * The unit word is returned either way (OpenMetrics `# UNIT` is written only when it is a suffix).
 */
export function prometheusName(
  instrument: string,
  ucum: string,
  kind: 'counter' | 'gauge' | 'histogram',
  strategy: TranslationStrategy = DEFAULT_TRANSLATION_STRATEGY,
  unitSuffixes = true,
): { name: string; unit: string } {
  let name = escapesNames(strategy) ? sanitizeName(instrument) : instrument;
  const unit = unitWord(ucum, kind === 'gauge');
  if (!addsSuffixes(strategy)) return { name, unit };
  if (unitSuffixes && unit !== '' && !name.endsWith('_' + unit)) name += '_' + unit;
  if (kind === 'counter') {
    if (name.endsWith('_total')) name = name.slice(0, -'_total'.length);
    name += '_total';
  }
  return { name, unit };
}

/**
 * Every name a native family takes in either exposition: its family name and its sample names (a
 * counter's OpenMetrics family drops `_total`; a histogram writes `_bucket`, `_count`, `_sum`; an
 * info family drops `_info`). Two families that share one of these cannot both be served: one
 * name would get two `# TYPE` lines, or a sample would be read as another family's.
 */
export function claimedNames(family: string, type: FamilyType): string[] {
  switch (type) {
    case 'counter':
      return family.endsWith('_total')
        ? [family, family.slice(0, -'_total'.length)]
        : [family, family + '_total'];
    case 'histogram':
      return [family, family + '_bucket', family + '_count', family + '_sum'];
    case 'info':
      return family.endsWith('_info')
        ? [family, family.slice(0, -'_info'.length)]
        : [family, family + '_info'];
    default:
      return [family];
  }
}

/** The names {@link claimedNames} gives the native family of an instrument. */
export function nativeClaimedNames(
  instrument: string,
  ucum: string,
  kind: 'counter' | 'gauge' | 'histogram',
): string[] {
  return claimedNames(prometheusName(instrument, ucum, kind).name, kind);
}
