/**
 * `jobmeter serve`'s command-line flags (and the preload's JOBMETER_* variables, which it passes
 * as these flags): parsed strictly, then read as the highest config layer.
 *
 * The flags are {@link FLAGS}: serve's own (`--listen HOST:PORT` also takes `[IPV6]:PORT` and
 * `:PORT`, and implies `listener.enabled = true`; `--host HOST` is the host alone, for a `--listen`
 * without one), and the option table's rows with a `flag`: a boolean row's sets it true
 * (`--auth`: `metrics.auth = true`), any other's takes its value, read as the row's variable is.
 */
import { parseArgs } from 'node:util';

import { TABLES } from '../common/option-table.ts';
import { OPTION_DEFAULTS } from '../common/option-defaults.ts';
import { PROFILE_NAMES } from '../common/option-values.ts';
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

/** Each row with a flag: the flag's name (`auth`), the row and where it sits. */
const ROW_FLAGS = TABLES.flatMap(([table, section]) =>
  Object.entries(section)
    .filter(([, row]) => row.flag !== undefined)
    .map(([field, row]) => ({ name: row.flag!.slice(2), row, table, field })),
);

/**
 * `jobmeter serve`'s flags and their help, in the order `--help` lists them, each as its line shows
 * it (`-h, --help`; `--config FILE`, a string flag's value named); a `\n` in a help starts its next
 * line. They are serve's own and the option rows' `flag`s (with the row's `short`, and its value
 * named). The parseArgs spec is read from them, so a row's flag missing here is refused, and one
 * here that neither serve nor a row reads would do nothing: test/config/resolve.test.ts holds the
 * rows' flags to these.
 */
const FLAGS: Readonly<Record<string, string>> = {
  '--config FILE': 'config file: .toml, .yaml/.yml or .json',
  '--profile NAME': `naming profile: ${PROFILE_NAMES.join(', ')} (default ${OPTION_DEFAULTS.profile})`,
  '--listen HOST:PORT': `main server address (default ${OPTION_DEFAULTS.listener.host}:${OPTION_DEFAULTS.listener.port}); [::1]:PORT for IPv6,\n:PORT keeps the configured host, port 0 picks a free port`,
  '--host HOST': `main server host alone (default ${OPTION_DEFAULTS.listener.host})`,
  '--allow-non-loopback': 'allow the main server on a non-loopback address',
  '--auth': 'require a token or API keys on the metrics route (metrics.auth = true)',
  '-v, --verbose': 'access log: a request-received line before each access line',
  '--demo':
    "feed the profile's built-in scenario (every series of the profile),\nadvancing on the real clock",
  '--debug':
    "print every OTLP request received ([ingest]) and every OTLP export pushed\n([otlp]) to stderr, one line per data point, as the Collector's debug\nexporter does at verbosity: normal",
  '--log-format FORMAT':
    'stderr lines as text (default: "jobmeter: …"), logfmt\n(level=info|warn|error time=… msg="…" key=value…) or json (one\n{"level","time","msg",…fields} object a line), as Prometheus\'\n--log.format',
  '--enable-reload':
    "answer POST /-/reload on the [telemetry] listener: a re-read\nas SIGHUP's (telemetry.enable_reload = true)",
  '--ingest-grpc-port PORT':
    'OTLP/gRPC beside the OTLP/HTTP ingest ([ingest] grpc_port), port 0\npicks a free one; the ingest is on where [ingest] enabled = true',
  '--print-config':
    "print the effective configuration (file, environment and flags over\nthe defaults, secrets redacted) in the config file's format (TOML\nwithout one) and exit 0, serving nothing",
  '-h, --help': 'show this help',
};

const COLUMN = ' '.repeat(25);

/** `jobmeter serve --help`'s lines of its flags: each flag shown, its help from the 26th column on. */
export const SERVE_FLAG_HELP = Object.entries(FLAGS)
  .map(([shown, help]) => {
    const lines = help.replaceAll('\n', `\n${COLUMN}`);
    return `  ${shown.length < 22 ? shown.padEnd(23) : `${shown}\n${COLUMN}`}${lines}`;
  })
  .join('\n');

/** `node:util` parseArgs spec of `jobmeter serve`, and validate's `--print`. `help` is handled by the CLI. */
const SERVE_FLAGS = Object.fromEntries([
  ...Object.keys(FLAGS).map((shown) => {
    const [, short, name, value] = /^(?:-(\w), )?--(\S+)( .+)?$/.exec(shown)!;
    return [name, { type: value ? 'string' : 'boolean', ...(short && { short }) }] as const;
  }),
  ['print', { type: 'boolean' }],
]) as Record<string, { type: 'boolean' | 'string'; short?: string }>;

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
