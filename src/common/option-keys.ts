/**
 * Unknown keys of a programmatic options object are a ConfigError, worded as the config file's
 * (`invalid listner=<redacted>: expected a key of the options: profile, ... (did you mean
 * listener?)`): a JS host, or options spread from JSON, has no type check to catch a typo that
 * would otherwise be ignored, silently (`listner: { port: 1 }` listening on 9464).
 *
 * The known keys are the option table's (option-table.ts), nested sections included; maps whose
 * keys are the host's (resource attributes, headers, merge policies) are never checked, nor are
 * objects of the host's (readers, views, a MessagePort). The value of an unknown key is never
 * shown: nothing says what it holds (a misplaced token).
 */
import { ConfigError, REDACTED } from '../errors.ts';
import { nearestKey } from './did-you-mean.ts';
import { isTable } from './option-rules.ts';
import {
  JOBMETER_OPTIONS,
  libraryKeys,
  ROUTE_OPTIONS,
  SECTIONS,
  type Section,
  type SectionName,
} from './option-table.ts';

/** How an error names the objects no row of the options holds (the others: {@link what}). */
const WHAT: Partial<Record<SectionName, string>> = {
  jobmeter: 'the options',
  apiKey: 'an API key',
  instrumentSpec: 'an instrument spec',
  attributeSpec: 'an attribute spec',
  reader: "JobmeterReader's options",
  recorder: "createRecorder's options",
  views: "jobmeterViews' options",
  route: "the metrics route's options",
};

/**
 * Another library's option names a section is met with, and what stands in for each: the
 * options of `@opentelemetry/exporter-prometheus`'s `PrometheusExporter` (its ExporterConfig) given
 * to JobmeterReader by a host switching from it (docs/host-apps.md, "Coming from
 * @opentelemetry/exporter-prometheus"). Such a key is refused naming what to use.
 */
const FOREIGN_KEYS: Partial<Record<SectionName, { of: string; use: Record<string, string> }>> = {
  reader: {
    of: 'PrometheusExporter',
    use: {
      host: 'listener: { host }',
      port: 'listener: { port }',
      endpoint: 'nothing: the listener serves /metrics, as Prometheus scrapes by default',
      prefix: 'a View that names each instrument (`name`), or rules of the profile',
      appendTimestamp: 'nothing: samples carry no timestamp, Prometheus stamps each scrape',
      withResourceConstantLabels:
        'target_info, joined in a query (`* on(job, instance) group_left(...) target_info`)',
      withoutScopeInfo: 'otelScopeInfo: false (target_info goes too)',
      withoutTargetInfo: 'otelScopeInfo: false (the otel_scope_* labels go too)',
      preventServerStart: 'listener: false, and scrape() for the families',
    },
  },
};

/** How an error names `section`'s object: the key of the row holding it (`[metrics]`: the file's only), else WHAT's words. */
function what(section: SectionName): string {
  for (const rows of [JOBMETER_OPTIONS, ROUTE_OPTIONS] as Section[])
    for (const [key, row] of Object.entries(rows))
      if (row.keys === section) return row.library === false ? `[${row.file!}]` : key;
  return WHAT[section]!;
}

/**
 * The one wording of an unknown key, for an options object, the config file and a profile's rules:
 * its value never shown (nothing says what it holds: a misplaced token), the keys `what` takes
 * listed, and the near miss `hint` (a dotted key) when there is one.
 */
export function unknownKeyError(
  key: string,
  what: string,
  known: readonly string[],
  hint: string | undefined,
): ConfigError {
  return new ConfigError(
    key,
    REDACTED,
    `a key of ${what}: ${known.join(', ')}${hint === undefined ? '' : ` (did you mean ${hint}?)`}`,
  );
}

/**
 * Refuses a key of `value` (and of the nested objects the section's rows name) that is not an
 * option of `section`. Values that are not plain objects are left to their rules.
 * @param at the dotted key `value` sits at (`''` for a whole options object).
 * @throws ConfigError naming the first unknown key.
 */
export function checkOptionKeys(value: unknown, section: SectionName, at = ''): void {
  if (!isTable(value)) return;
  const rows: Section = SECTIONS[section];
  const known = libraryKeys(rows);
  const prefix = at === '' ? '' : `${at}.`;
  for (const key of Object.keys(value)) {
    const row = Object.hasOwn(rows, key) ? rows[key] : undefined;
    if (row === undefined || row.library === false) {
      const foreign = FOREIGN_KEYS[section];
      if (foreign !== undefined && Object.hasOwn(foreign.use, key))
        throw new ConfigError(
          `${prefix}${key}`,
          REDACTED,
          `${foreign.use[key]!} (\`${key}\` is ${foreign.of}'s option, not one of ${what(section)})`,
        );
      const hint = nearestKey(key, known);
      throw unknownKeyError(`${prefix}${key}`, what(section), known, hint && `${prefix}${hint}`);
    }
    const child = value[key];
    if (row.keys !== undefined && row.keys !== 'open')
      checkOptionKeys(child, row.keys, `${prefix}${key}`);
    if (row.items !== undefined && Array.isArray(child)) {
      child.forEach((item, i) => checkOptionKeys(item, row.items!, `${prefix}${key}[${i}]`));
    }
  }
}
