/**
 * The config validator: the JSON Schema (json-schema.ts) read over a whole file, or over one value
 * of the flags or the environment against the definition it is an instance of, so a value is held
 * to the same rule and worded the same (error-wording.ts) wherever it was set. A value's own
 * keywords are read by the rules' one reader (common/option-rules.ts `meetsSchema`), the tables'
 * and lists' here.
 *
 * The first problem in schema order is the one reported: a table's unknown keys (in the file's
 * order) before its values (in the schema's), a definition's `allOf` parts in order. Values are
 * never coerced: `port = "9464"` is an error, not 9464.
 */
import { isTable, meetsSchema, type ValueSchema } from '../common/option-rules.ts';
import { ConfigError } from '../errors.ts';
import { describe, missingKey, notATable, unknownKeyIn } from './error-wording.ts';
import { CONFIG_SCHEMA, FORMATS, type DefinitionName } from './json-schema.ts';

/** The part of JSON Schema the config file's schema is written in, beyond a value's own keywords. */
interface Schema extends ValueSchema {
  readonly $ref?: string;
  readonly if?: Schema;
  readonly then?: Schema;
  readonly else?: Schema;
  readonly allOf?: readonly Schema[];
  readonly items?: Schema;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: false | Schema;
  readonly propertyNames?: Schema;
  readonly required?: readonly string[];
  readonly minProperties?: number;
  readonly maxProperties?: number;
}

const DEFINITIONS = CONFIG_SCHEMA.definitions as unknown as Readonly<
  Record<DefinitionName, Schema>
>;

/** Validates `value` against the schema or one definition; `key` names it in the error. */
export function check(value: unknown, key: string, definition?: DefinitionName): void {
  validate(
    value,
    definition === undefined ? CONFIG_SCHEMA : DEFINITIONS[definition],
    key,
    definition,
  );
}

/**
 * Throws the ConfigError for the first problem of `value` (at `at`) against `schema`, a part of
 * `definition` (whose words it takes; undefined: the top level's own).
 */
function validate(value: unknown, schema: Schema, at: string, definition?: DefinitionName): void {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.slice('#/definitions/'.length) as DefinitionName;
    return validate(value, DEFINITIONS[name], at, name);
  }
  const fail = (): never => {
    // Nothing but the shape of the top level is checked outside a definition.
    throw definition === undefined ? notATable(at, value) : describe(definition, value, at);
  };
  if (!meetsSchema(schema, value, FORMATS)) fail();
  if (schema.if !== undefined)
    validate(value, meetsSchema(schema.if, value) ? schema.then! : schema.else!, at, definition);
  for (const part of schema.allOf ?? []) validate(value, part, at, definition);
  if (Array.isArray(value) && schema.items !== undefined)
    value.forEach((item, i) => validate(item, schema.items!, `${at}[${i}]`, definition));
  if (!isTable(value)) return;
  const keys = Object.keys(value);
  if (
    keys.length < (schema.minProperties ?? 0) ||
    keys.length > (schema.maxProperties ?? keys.length)
  )
    fail();
  const missing = schema.required?.find((k) => !Object.hasOwn(value, k));
  if (missing !== undefined) throw missingKey(definition!, `${at}.${missing}`);
  const badName = keys.find((k) => schema.propertyNames && !meetsSchema(schema.propertyNames, k));
  if (badName !== undefined) {
    // A blank name reads as `""`, which is what it is.
    const key = `${at}.${badName.trim() === '' ? '""' : badName}`;
    throw new ConfigError(key, value[badName], 'a non-empty attribute name other than __proto__');
  }
  const properties = schema.properties ?? {};
  const unknown = keys.find(
    (k) => schema.additionalProperties === false && !Object.hasOwn(properties, k),
  );
  if (unknown !== undefined) throw unknownKeyIn(definition, unknown, Object.keys(properties), at);
  if (typeof schema.additionalProperties === 'object')
    for (const k of keys) validate(value[k], schema.additionalProperties, `${at}.${k}`, definition);
  for (const [k, part] of Object.entries(properties))
    if (Object.hasOwn(value, k)) validate(value[k], part, at === '' ? k : `${at}.${k}`, definition);
}
