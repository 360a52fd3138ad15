/**
 * `jobmeter serve`'s command-line flags (and the preload's JOBMETER_* variables, which it passes
 * as these flags): parsed strictly, then read as the highest config layer.
 *
 * Flags: `--config FILE`, `--profile NAME`, `--listen HOST:PORT` (also `[IPV6]:PORT` and
 * `:PORT`; implies `listener.enabled = true`), `--host HOST` (the host alone, for a `--listen`
 * without one), and the option table's rows with a `flag`: a boolean row's sets it true
 * (`--allow-non-loopback`, `--auth`: `metrics.auth = true`, `-v` / `--verbose`, `--enable-reload`),
 * any other's takes its value, read as the row's variable is (`--ingest-grpc-port PORT`).
 */
import { parseArgs } from 'node:util';

import { TABLES } from '../common/option-table.ts';
import { ConfigError } from '../errors.ts';
import { readAddress } from './json-schema.ts';
import { check } from './schema-validator.ts';
import type { ProfileName } from '../options.ts';
import { host } from '../common/option-rules.ts';
import { rowFromText } from './otel-env.ts';
import type { ServiceConfig } from './service-config.ts';

/**
 * How the user spells each setting of the flags layer, so an error names what they actually set:
 * `serve`'s flags, or the preload's JOBMETER_* variables (which it passes as these flags).
 */
export type FlagKeys = Readonly<Record<'config' | 'profile' | 'listen' | 'host', string>> & {
  /** The opt-in to a non-loopback main server this layer offers; undefined: only the file's key. */
  readonly allowNonLoopback: string | undefined;
};

export const SERVE_FLAG_KEYS: FlagKeys = {
  config: '--config',
  profile: '--profile',
  listen: '--listen',
  host: '--host',
  allowNonLoopback: '--allow-non-loopback',
};

/** The preload's variables; it has no --host or --allow-non-loopback of its own. */
export const PRELOAD_FLAG_KEYS: FlagKeys = {
  config: 'JOBMETER_CONFIG',
  profile: 'JOBMETER_PROFILE',
  listen: 'JOBMETER_LISTEN',
  host: 'JOBMETER_LISTEN',
  allowNonLoopback: undefined,
};

/** Each row with a flag: the flag's name (`auth`), its short form, the row and where it sits. */
const ROW_FLAGS = TABLES.flatMap(([table, section]) =>
  Object.entries(section)
    .filter(([, row]) => row.flag !== undefined)
    .map(([field, row]) => ({
      name: row.flag!.slice(2),
      short: row.short,
      type: row.schema === 'boolean' ? ('boolean' as const) : ('string' as const),
      row,
      table,
      field,
    })),
);

/** `node:util` parseArgs spec of `jobmeter serve`. `help` is handled by the CLI, ignored here. */
export const SERVE_FLAGS = {
  config: { type: 'string' },
  profile: { type: 'string' },
  listen: { type: 'string' },
  host: { type: 'string' },
  ...(Object.fromEntries(
    ROW_FLAGS.map(({ name, short, type }) => [name, { type, ...(short && { short }) }]),
  ) as Record<string, { type: 'boolean' | 'string'; short?: string }>),
  demo: { type: 'boolean' },
  debug: { type: 'boolean' },
  'log-format': { type: 'string' },
  'print-config': { type: 'boolean' },
  print: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ServeFlags {
  config?: string;
  profile?: string;
  listen?: string;
  /** The main server's host (`listener.host`). */
  host?: string;
  /** Feed the profile's built-in demo scenario (handled by the CLI, not a config key). */
  demo?: boolean;
  /** Print OTLP received and pushed in the debug exporter's normal form (handled by the CLI, not a config key). */
  debug?: boolean;
  /** How stderr lines are written (handled by the CLI, not a config key). */
  logFormat?: LogFormat;
  /** Print the effective configuration and exit: serve's `--print-config`, validate's `--print` (handled by the CLI, not a config key). */
  printConfig?: boolean;
  help?: boolean;
  /** The rows' flags (`allowNonLoopback`, `auth`, `ingestGrpcPort`, …): true, or the text given. */
  readonly [rowFlag: string]: unknown;
}

/** `--log-format`'s values, as Prometheus' `--log.format` names them; `text` (the default) is the plain `jobmeter: …` line. */
export const LOG_FORMATS = ['text', 'json', 'logfmt'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Parses `serve` flags strictly (unknown flags and positionals throw parseArgs'
 * `ERR_PARSE_ARGS_*` TypeErrors). Values are validated later, by {@link flagsLayer}, but for
 * `--log-format`'s, which no config layer holds.
 * @throws ConfigError for a `--log-format` other than {@link LOG_FORMATS}.
 */
export function parseServeFlags(argv: readonly string[]): ServeFlags {
  const { values } = parseArgs({
    args: [...argv],
    options: SERVE_FLAGS,
    strict: true,
    allowPositionals: false,
  });
  // Each flag under its name in camelCase (`--allow-non-loopback`: allowNonLoopback); validate's
  // `--print` is `--print-config`.
  const flags: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values))
    if (value !== undefined) flags[name === 'print' ? 'printConfig' : camel(name)] = value;
  const format = values['log-format'];
  if (format !== undefined && !LOG_FORMATS.some((f) => f === format))
    throw new ConfigError(
      '--log-format',
      format,
      `${LOG_FORMATS.slice(0, -1).join(', ')} or ${LOG_FORMATS.at(-1)}`,
    );
  return flags;
}

/** The command-line flags as a config layer. Errors name the flag (`--listen`, `--profile`) as `keys` spells it. */
export function flagsLayer(flags: ServeFlags, keys: FlagKeys = SERVE_FLAG_KEYS): ServiceConfig {
  const out: ServiceConfig = {};
  if (flags.profile !== undefined) {
    check(flags.profile, keys.profile, 'profile');
    out.profile = flags.profile as ProfileName;
  }
  if (flags.listen !== undefined) {
    const { host, port } = readAddress(flags.listen, keys.listen, 'port');
    // Asking for an address means "serve there", even if the file disabled the listener.
    out.listener = { enabled: true, port };
    if (host !== undefined) out.listener.host = host;
  }
  if (flags.host !== undefined) {
    if (out.listener?.host !== undefined) {
      throw new ConfigError(
        '--host',
        flags.host,
        'no host in --listen as well (give --listen :PORT with --host)',
      );
    }
    out.listener = { ...out.listener, host: host(flags.host, '--host') };
  }
  for (const { name, table, field, row } of ROW_FLAGS) {
    const given = flags[camel(name)];
    if (given === undefined) continue;
    const value = given === true ? true : rowFromText(row, String(given), `--${name}`);
    const layer = out as Record<string, object | undefined>;
    layer[table] = { ...layer[table], [field]: value };
  }
  return out;
}

/** A flag's name as a field (`allow-non-loopback`: allowNonLoopback). */
const camel = (name: string): string => name.replace(/-(.)/g, (_, c: string) => c.toUpperCase());
