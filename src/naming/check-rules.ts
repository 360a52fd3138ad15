/**
 * Validates the rules a host adds to a profile (`profile: { name, rules }`, `[[profile.rules]]`),
 * the same shape as the built-in tables (types.ts `FamilyRule`), at start: a bad rule is a
 * ConfigError naming the rule by its index, its family and the field, never a broken exposition.
 *
 * What must stay true of a rule: a Prometheus metric name and label names (the exposition
 * escapes values, never names); labels not repeated; zero-fill only on a counter or gauge with
 * that one label (types.ts); and a family it shares with a built-in rule (or another host rule)
 * has the same type and label names, so two instruments can feed one family and nothing else.
 */
import { nearestKey } from '../common/did-you-mean.ts';
import { ConfigError, REDACTED } from '../errors.ts';
import type { FamilyRule } from './types.ts';

export const RULE_TYPES: readonly FamilyRule['type'][] = ['counter', 'gauge', 'histogram', 'info'];

/** Every field of a FamilyRule: another key is a typo (`zerofill`) that would be ignored. */
const RULE_FIELDS: readonly string[] = [
  'instrument',
  'name',
  'type',
  'help',
  'unit',
  'from',
  'scale',
  'labels',
  'values',
  'zeroFill',
  'emitZero',
] satisfies readonly (keyof FamilyRule)[];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * Checks `rules` (as given: anything) against each other and the profile's own `builtIn` rules.
 * @param key where the rules were set, e.g. `profile.rules`.
 * @param labelsByName the profile writes label pairs sorted by name (`order: 'sorted'`, solti), so
 *   a rule must list its labels that way.
 * @throws ConfigError on the first bad field.
 */
export function checkFamilyRules(
  rules: unknown,
  builtIn: readonly FamilyRule[],
  key = 'profile.rules',
  labelsByName = false,
): readonly FamilyRule[] {
  if (!Array.isArray(rules))
    throw new ConfigError(key, rules, 'a list of rules ({ instrument, name, type, help, \u2026 })');
  const families = new Map<string, FamilyRule>(builtIn.map((r) => [r.name, r]));
  rules.forEach((rule: unknown, i) => {
    const at = `${key}[${i}]`;
    if (!isTable(rule))
      throw new ConfigError(at, rule, 'a rule ({ instrument, name, type, help, \u2026 })');
    for (const k of Object.keys(rule)) {
      if (RULE_FIELDS.includes(k)) continue;
      const hint = nearestKey(k, RULE_FIELDS);
      throw new ConfigError(
        `${at}.${k}`,
        REDACTED,
        `a key of a rule: ${RULE_FIELDS.join(', ')}${hint === undefined ? '' : ` (did you mean ${at}.${hint}?)`}`,
      );
    }
    const named = isString(rule.name) ? ` (rule ${rule.name})` : '';
    const fail = (field: string, expected: string): never => {
      throw new ConfigError(`${at}.${field}`, rule[field], expected + named);
    };
    if (!isString(rule.instrument) || rule.instrument.trim() === '')
      fail('instrument', 'the name of the instrument the family is rendered from');
    if (!isString(rule.name) || !METRIC_NAME.test(rule.name))
      fail('name', 'a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)');
    if (!RULE_TYPES.includes(rule.type as FamilyRule['type']))
      fail('type', `one of ${RULE_TYPES.join(', ')}`);
    if (!isString(rule.help)) fail('help', 'a string (the # HELP text)');
    if (rule.unit !== undefined && !isString(rule.unit)) fail('unit', 'a string');
    const labels = checkLabels(rule.labels, fail);
    if (labelsByName && labels.some(([, label], j) => j > 0 && label < labels[j - 1]![1])) {
      fail(
        'labels',
        'labels listed by name (this profile writes label pairs sorted by name, as its original does)',
      );
    }
    if (
      rule.values !== undefined &&
      !(
        isTable(rule.values) &&
        Object.values(rule.values).every((m) => isTable(m) && Object.values(m).every(isString))
      )
    ) {
      fail('values', "a table: attribute \u2192 { canonical value \u2192 the original's word }");
    }
    if (rule.zeroFill !== undefined) {
      const labelNames = labels.map(([, label]) => label);
      const ok =
        isTable(rule.zeroFill) &&
        rule.type !== 'histogram' &&
        labelNames.length === 1 &&
        Object.entries(rule.zeroFill).every(
          ([label, words]) =>
            label === labelNames[0] &&
            Array.isArray(words) &&
            words.every(isString) &&
            // A word twice would serve its series twice (OpenMetrics: a family's label sets are unique).
            new Set(words).size === words.length,
        );
      if (!ok)
        fail(
          'zeroFill',
          "a table { <the family's one label> = [words\u2026, each once] }, on a counter or gauge with exactly one label",
        );
    }
    const typed = rule as unknown as FamilyRule;
    const same = families.get(typed.name);
    if (same !== undefined && (same.type !== typed.type || !sameLabels(same, typed))) {
      fail(
        'name',
        `a family name not already served with another type or labels (${typed.name} is a ${same.type} with labels [${labelList(same)}])`,
      );
    }
    families.set(typed.name, typed);
  });
  return rules as FamilyRule[];
}

function checkLabels(
  labels: unknown,
  fail: (field: string, expected: string) => never,
): readonly (readonly [string, string])[] {
  if (labels === undefined) return [];
  const expected =
    'a list of [attribute, label] pairs, label names [a-zA-Z_][a-zA-Z0-9_]* not starting with __, each once';
  if (!Array.isArray(labels)) return fail('labels', expected);
  const seen = new Set<string>();
  for (const pair of labels as unknown[]) {
    const ok =
      Array.isArray(pair) &&
      pair.length === 2 &&
      isString(pair[0]) &&
      pair[0] !== '' &&
      isString(pair[1]) &&
      LABEL_NAME.test(pair[1]) &&
      !pair[1].startsWith('__');
    if (!ok || seen.has(pair[1] as string)) return fail('labels', expected);
    seen.add(pair[1] as string);
  }
  return labels as (readonly [string, string])[];
}

const labelList = (rule: FamilyRule): string =>
  (rule.labels ?? []).map(([, label]) => label).join(', ');
const sameLabels = (a: FamilyRule, b: FamilyRule): boolean => labelList(a) === labelList(b);
