/**
 * `jobmeter serve --print-config` / `jobmeter validate --print`: the configuration serve runs with
 * (file, secret files, environment and flags over the defaults, each default filled in) as a
 * config file that would give the same service, in the config file's format (TOML without one),
 * as `otelcol print-config` and Prometheus' `/api/v1/status/config` show theirs.
 *
 * Keys are the config file's, from the option table (common/option-table.ts); a section that is off (`[ingest] enabled = false`, no `[otlp] endpoint`)
 * shows the defaults it would start with. `[[views]]` and `[[profile.rules]]` are counted, not
 * printed back: they are kept as the library takes them, not as the file spells them.
 * Every other key the table declares for the file is printed (test/cli/print-config-keys.test.ts).
 *
 * What must stay true: no secret is printed. A value is `<redacted>` when its row is secret
 * (option-table.ts `isSecret`: a token, each header's value, each API key's `key`: not its
 * `tenant`); a URL's `user:password@` and its query are masked wherever it appears.
 */
import { extname } from 'node:path';
import { isNativeProfileName } from '../common/option-values.ts';
import { stringify as tomlText } from 'smol-toml';
import { stringify as yamlText } from 'yaml';

import type { ServeConfig } from '../config/resolve-layers.ts';
import { withServeStateDir } from '../config/service-defaults.ts';
import {
  defaultsOf,
  INGEST_OPTIONS,
  isSecret,
  JOBMETER_OPTIONS,
  LISTENER_OPTIONS,
  OTLP_OPTIONS,
  SECTIONS,
  TELEMETRY_OPTIONS,
  type Section,
} from '../common/option-table.ts';
import { maskedUrl, REDACTED } from '../errors.ts';
import { isTable } from '../common/option-rules.ts';
import { resolveOptions } from '../resolve-options.ts';
import { hostPort } from '../config/json-schema.ts';

/**
 * The effective configuration as the text of a config file named like `configPath` (TOML when
 * there is none), secrets redacted.
 * @throws ConfigError for options the library refuses (as serve and validate would).
 */
export function printConfig(
  config: ServeConfig,
  env: NodeJS.ProcessEnv,
  configPath: string | undefined,
): string {
  const file = effectiveFile(config, env);
  const ext = configPath === undefined ? '' : extname(configPath).toLowerCase();
  if (ext === '.json') return JSON.stringify(file, null, 2);
  const head = `# jobmeter serve's effective configuration: ${configPath ?? 'no file'}, the environment and the flags over the defaults; secrets ${REDACTED}.`;
  // What the printed file does not spell out, one line each.
  const views = config.options.views?.length ?? 0;
  const profile = config.options.profile;
  const rules = typeof profile === 'object' ? (profile.rules?.length ?? 0) : 0;
  const notes = [
    ...(views > 0 ? [`# [[views]]: ${views} configured, not printed back`] : []),
    ...(rules > 0 ? [`# [[profile.rules]]: ${rules} configured, not printed back`] : []),
  ];
  const body = ext === '.yaml' || ext === '.yml' ? yamlText(file).trimEnd() : tomlText(file);
  return [head, ...notes, body].join('\n');
}

/** The configuration as the config file's tables and keys, every default filled in. */
function effectiveFile(config: ServeConfig, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const options = withServeStateDir(config.options, env).options;
  const resolved = resolveOptions(options);
  const given = options as Record<string, unknown>;
  // Every option under its own key, `fileTable` names them as the file does.
  const values: Record<string, unknown> = {};
  // The top level's single values and `[naming]`'s: as given, else the row's default; `[naming]`'s
  // defaults under the native profiles only (the legacy profiles refuse its keys: their names are
  // the original's).
  for (const [key, row] of Object.entries(JOBMETER_OPTIONS as Section)) {
    const legacyNaming = row.file?.startsWith('naming.') && !isNativeProfileName(resolved.profile);
    if (row.keys === undefined && key !== 'views')
      values[key] = given[key] ?? (legacyNaming ? undefined : row.default);
  }
  // A table that is off shows the defaults it would start with.
  const off = (section: Section): object => ({ enabled: false, ...defaultsOf(section) });
  const { metrics, telemetry } = config;
  Object.assign(values, {
    profile:
      typeof options.profile === 'object'
        ? (options.profile.name ?? JOBMETER_OPTIONS.profile.default)
        : resolved.profile,
    resourceAttributes: { ...resolved.resourceAttributes },
    listener:
      resolved.listener === false ? off(LISTENER_OPTIONS) : { enabled: true, ...resolved.listener },
    otlp: { ...(resolved.otlp ?? defaultsOf(OTLP_OPTIONS)), naming: resolved.otlpNaming },
    // The resolved ingest holds its gate compiled; the file's gate keys are the ones given.
    ingest:
      resolved.ingest === false
        ? off(INGEST_OPTIONS)
        : { enabled: true, ...options.ingest, ...resolved.ingest },
    cluster:
      resolved.cluster === false ? { enabled: false } : { enabled: true, ...resolved.cluster },
    // `[metrics]` as resolved (the posture's defaults in); `auth` on exactly when there are
    // credentials (metrics-section.ts refuses the rest).
    metrics: {
      ...metrics,
      listen: metrics.listen === undefined ? undefined : hostPort(metrics.listen),
      auth: metrics.token !== undefined || metrics.apiKeys.length > 0,
    },
    // Off, it shows the address it would listen on, as the other tables that are off do.
    telemetry: {
      enabled: telemetry !== undefined,
      listen: telemetry === undefined ? TELEMETRY_OPTIONS.listen.default : hostPort(telemetry),
      enableReload: telemetry?.enableReload ?? TELEMETRY_OPTIONS.enableReload.default,
      token: telemetry?.token,
    },
    build: options.build,
  });
  return fileTable(JOBMETER_OPTIONS, values);
}

/**
 * `values` under the file keys of `section`'s rows (its file's only; unset values left out), a
 * `table.key` row's in that table, a section's table and list items by their own rows; every
 * secret {@link REDACTED}: a secret row's value (each value of a table of them: a header's), and
 * below it by their own rows (an API key's `key`, not its `tenant`); anywhere, a URL's userinfo and
 * query.
 */
function fileTable(section: Section, values: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, row] of Object.entries(section)) {
    const value = (values as Record<string, unknown>)[key];
    if (row.file === undefined || value === undefined) continue;
    const below = row.keys === 'open' ? undefined : row.keys;
    const [table, file] = row.file.includes('.') ? row.file.split('.') : [undefined, row.file];
    const into = table === undefined ? out : ((out[table] ??= {}) as Record<string, unknown>);
    into[file] =
      row.items !== undefined
        ? (value as object[]).map((item) => fileTable(SECTIONS[row.items!], item))
        : below !== undefined && isTable(value)
          ? fileTable(SECTIONS[below], value)
          : !isSecret(row)
            ? masked(value)
            : isTable(value)
              ? Object.fromEntries(Object.keys(value).map((h) => [h, REDACTED]))
              : REDACTED;
  }
  return out;
}

/** `value` with every URL in it masked (errors.ts {@link maskedUrl}). */
function masked(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('://') ? maskedUrl(value) : value;
  if (Array.isArray(value)) return value.map(masked);
  return isTable(value)
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v)]))
    : value;
}
