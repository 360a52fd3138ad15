/**
 * Validates the rules a host adds to a profile (`profile: { name, rules }`, `[[profile.rules]]`),
 * the same shape as the built-in tables (types.ts `FamilyRule`): the one validator of a rule, for
 * the options object at start and for the config file as it is read (config/file-layer.ts; the
 * file's schema only names the fields, for editors). A bad rule is a ConfigError naming the rule by
 * its index, its family and the field (as its caller spells it), never a broken exposition.
 *
 * What must stay true of a rule: a Prometheus metric name and label names (the exposition
 * escapes values, never names); labels not repeated; zero-fill only on a counter or gauge with
 * that one label (types.ts); and a family it shares with a built-in rule (or another host rule)
 * has the same type and label names, so two instruments can feed one family and nothing else.
 */
import { nearestKey } from '../common/did-you-mean.ts';
import { unknownKeyError } from '../common/option-keys.ts';
import { bool, isTable, oneOfRule } from '../common/option-rules.ts';
import { ConfigError } from '../errors.ts';
import { CLASSIC_LABEL_NAME, CLASSIC_METRIC_NAME } from '../exposition/escape.ts';
import type { FamilyRule } from './types.ts';

export const RULE_TYPES: readonly FamilyRule['type'][] = ['counter', 'gauge', 'histogram', 'info'];
const isString = (v: unknown): v is string => typeof v === 'string';

const isLabelPair = (pair: unknown): pair is readonly [string, string] =>
  Array.isArray(pair) &&
  pair.length === 2 &&
  isString(pair[0]) &&
  pair[0] !== '' &&
  isString(pair[1]) &&
  CLASSIC_LABEL_NAME.test(pair[1]) &&
  !pair[1].startsWith('__');

/**
 * One field of a rule: the config file's spelling where it differs, and what its value must be:
 * an option rule's check and words (option-rules.ts) where one says it, else its own.
 */
interface Field {
  readonly file?: string;
  readonly required?: true;
  readonly is: (value: unknown) => boolean;
  readonly expected: string;
}

/** Every field of a FamilyRule, in the order they are checked; another key is a typo (`zerofill`). */
const FIELDS = {
  instrument: {
    required: true,
    is: (v) => isString(v) && v.trim() !== '',
    expected: 'the name of the instrument the family is rendered from',
  },
  name: {
    required: true,
    is: (v) => isString(v) && CLASSIC_METRIC_NAME.test(v),
    expected: 'a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)',
  },
  type: { required: true, ...oneOfRule(RULE_TYPES) },
  help: { required: true, is: isString, expected: 'a string (the # HELP text)' },
  unit: { is: isString, expected: 'a string' },
  from: oneOfRule<NonNullable<FamilyRule['from']>>(['value', 'sum', 'count']),
  scale: {
    is: (v) => typeof v === 'number' && Number.isFinite(v) && v > 0,
    expected: 'a positive number',
  },
  labels: {
    is: (v) =>
      Array.isArray(v) &&
      v.every(isLabelPair) &&
      new Set(v.map(([, label]) => label)).size === v.length,
    expected:
      'a list of [attribute, label] pairs, label names [a-zA-Z_][a-zA-Z0-9_]* not starting with __, each once',
  },
  values: {
    is: (v) =>
      isTable(v) && Object.values(v).every((m) => isTable(m) && Object.values(m).every(isString)),
    expected: "a table: attribute \u2192 { canonical value \u2192 the original's word }",
  },
  zeroFill: {
    file: 'zero_fill',
    is: (v) =>
      isTable(v) &&
      Object.values(v).every(
        // A word twice would serve its series twice (OpenMetrics: a family's label sets are unique).
        (words) =>
          Array.isArray(words) && words.every(isString) && new Set(words).size === words.length,
      ),
    expected:
      "a table { <the family's one label> = [words\u2026, each once] }, on a counter or gauge with exactly one label",
  },
  emitZero: { file: 'emit_zero', ...bool },
} as const satisfies Record<keyof FamilyRule, Field>;

type FieldName = keyof typeof FIELDS;
const spelling = (k: FieldName, file: boolean): string =>
  file ? ((FIELDS[k] as Field).file ?? k) : k;

/** A rule's keys as the config file spells them (the file's schema names them, for editors). */
export const RULE_FILE_KEYS: readonly string[] = Object.keys(FIELDS).map((k) =>
  spelling(k as FieldName, true),
);

/**
 * Checks `rules` (as given: anything, set at `profile.rules`) against each other and the profile's
 * own `builtIn` rules.
 * @param labelsByName the profile writes label pairs sorted by name (`order: 'sorted'`, solti), so
 *   a rule must list its labels that way.
 * @param file the rules are the config file's tables (`zero_fill`): errors name its keys.
 * @returns the rules, each a FamilyRule (the file's keys as the options spell them).
 * @throws ConfigError on the first bad field.
 */
export function checkFamilyRules(
  rules: unknown,
  builtIn: readonly FamilyRule[],
  labelsByName = false,
  file = false,
): readonly FamilyRule[] {
  const key = 'profile.rules';
  if (!Array.isArray(rules))
    throw new ConfigError(key, rules, 'a list of rules ({ instrument, name, type, help, \u2026 })');
  const families = new Map<string, FamilyRule>(builtIn.map((r) => [r.name, r]));
  const names = Object.keys(FIELDS) as FieldName[];
  const known = names.map((k) => spelling(k, file));
  return rules.map((given: unknown, i) => {
    const at = `${key}[${i}]`;
    if (!isTable(given))
      throw new ConfigError(at, given, 'a rule ({ instrument, name, type, help, \u2026 })');
    for (const k of Object.keys(given)) {
      if (known.includes(k)) continue;
      const hint = nearestKey(k, known);
      throw unknownKeyError(`${at}.${k}`, 'a rule', known, hint && `${at}.${hint}`);
    }
    const named = isString(given['name']) ? ` (rule ${given['name']})` : '';
    const fail = (field: FieldName, expected: string = FIELDS[field].expected): never => {
      const spelled = spelling(field, file);
      const hint = field === 'type' ? nearestKey(String(given[spelled]), RULE_TYPES) : undefined;
      throw new ConfigError(
        `${at}.${spelled}`,
        given[spelled],
        `${expected}${named}${hint === undefined ? '' : ` (did you mean ${hint}?)`}`,
      );
    };
    const rule: Record<string, unknown> = {};
    for (const k of names) {
      const value = given[spelling(k, file)];
      if (value === undefined && !('required' in FIELDS[k])) continue;
      if (!FIELDS[k].is(value)) fail(k);
      rule[k] = value;
    }
    const typed = rule as unknown as FamilyRule;
    const labels = (typed.labels ?? []).map(([, label]) => label);
    if (labelsByName && labels.some((label, j) => j > 0 && label < labels[j - 1]!)) {
      fail(
        'labels',
        'labels listed by name (this profile writes label pairs sorted by name, as its original does)',
      );
    }
    if (
      typed.zeroFill !== undefined &&
      (typed.type === 'histogram' ||
        labels.length !== 1 ||
        Object.keys(typed.zeroFill).some((label) => label !== labels[0]))
    )
      fail('zeroFill');
    const same = families.get(typed.name);
    if (same !== undefined && (same.type !== typed.type || labelList(same) !== labelList(typed))) {
      fail(
        'name',
        `a family name not already served with another type or labels (${typed.name} is a ${same.type} with labels [${labelList(same)}])`,
      );
    }
    families.set(typed.name, typed);
    return typed;
  });
}

const labelList = (rule: FamilyRule): string =>
  (rule.labels ?? []).map(([, label]) => label).join(', ');
