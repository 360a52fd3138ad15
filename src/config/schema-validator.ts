/**
 * The config validator: ajv running the JSON Schema (json-schema.ts) over a whole file, or over one
 * value of the flags or the environment against the definition it is an instance of, so a value
 * is held to the same rule and worded the same (error-wording.ts) wherever it was set.
 *
 * Values are never coerced: `port = "9464"` is an error, not 9464.
 */
import { createRequire } from 'node:module';

import type { Ajv as AjvInstance, ValidateFunction } from 'ajv';

import type { ProfileName } from '../options.ts';
import { isTable } from '../common/option-rules.ts';
import { toConfigError } from './error-wording.ts';
import { CONFIG_SCHEMA, FORMATS, parseHostPort, type DefinitionName } from './json-schema.ts';

/**
 * Loaded and compiled on first use (tens of milliseconds each): a process that never validates a
 * value — the instrumentation preload without a config file — pays for neither.
 */
let ajv: AjvInstance | undefined;

/** The compiled schema (`undefined`: the whole file) or one of its definitions. */
function validator(definition?: DefinitionName): ValidateFunction {
  if (ajv === undefined) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    ajv = new Ajv({
      // The first error only, in schema order: the one to report.
      allErrors: false,
      // Our own wording (error-wording.ts) replaces ajv's messages, chosen by the definition whose
      // schema failed: `verbose` puts it on the error (`parentSchema`).
      messages: false,
      verbose: true,
      strict: true,
      // Tables may be null (an emptied YAML table); `required` sits apart from its properties
      // (see apiKey in json-schema.ts).
      allowUnionTypes: true,
      strictRequired: false,
      // Checked against the draft-07 meta-schema by test/config/config-schema.test.ts, not at
      // every start (it would double the compile time).
      validateSchema: false,
      formats: FORMATS,
    });
    ajv.addSchema(CONFIG_SCHEMA, SCHEMA_KEY);
  }
  const key = definition === undefined ? SCHEMA_KEY : `${SCHEMA_KEY}#/definitions/${definition}`;
  return ajv.getSchema(key)!;
}

const SCHEMA_KEY = 'jobmeter-config';

/** Validates `value` against the schema or one definition; `key` names it in the error. */
export function check(value: unknown, key: string, definition?: DefinitionName): void {
  const validate = validator(definition);
  if (!validate(jsonData(value))) throw toConfigError(validate.errors![0]!, value, key);
}

/**
 * The document as JSON data, for ajv: tables copied as null-prototype objects and any value JSON
 * has no type for (a TOML date, which JSON Schema's `object` would take for an empty table) made
 * {@link NOT_JSON}, which matches no type. Messages read values from the original.
 */
function jsonData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonData);
  if (isTable(value)) {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(value)) out[k] = jsonData(v);
    return out;
  }
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  )
    return value;
  return NOT_JSON;
}

const NOT_JSON = Symbol('not JSON');

// ---------------------------------------------------------------------------------------------
// Single values, for flags and the environment: the schema's definitions, with the key they came from.

/** `profile` / `--profile`. */
export function parseProfile(value: unknown, key: string): ProfileName {
  check(value, key, 'profile');
  return value as ProfileName;
}

/** `HOST:PORT` (or `[IPV6]:PORT`) on a loopback address. */
export function parseLoopbackListen(value: unknown, key: string): { host: string; port: number } {
  check(value, key, 'loopbackListen');
  const { host, port } = parseHostPort(value as string)!;
  return { host: host!, port };
}
