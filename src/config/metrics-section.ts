/**
 * The `[metrics]` settings of `jobmeter serve` beyond the file's shape (file-layer.ts): the originals'
 * environment variables, merging across layers, and the final, checked settings (secrets read
 * from their files, the posture's gates matched against what is configured).
 *
 * Environment variables are read under the chosen posture only, with that original's names
 * (common/postures.ts `env`): CREWSHIP_METRICS_TOKEN under crewshipd; RM_METRICS_TOKEN,
 * RM_METRICS_TOKEN_FILE, RM_METRICS_TRUSTED_CIDR (comma-separated) and RM_TRUSTED_PROXY under rm;
 * RUNWISP_TRUST_PROXY under runwisp. They sit at the env layer: a config file or a flag overrides
 * them, as every other variable (resolve-layers.ts documents the precedence).
 *
 * A value and the file holding it (`token` / `token_file`, `api_keys` / `api_keys_file`) are one
 * setting: a higher layer that sets either replaces both from lower layers; one layer setting both
 * is an error. `[ingest]`'s gate keys are merged and read the same way (mergeGateConfig,
 * readSecretFiles). Secrets never appear in a message: a bad token reads `<redacted>`.
 */
import { checkPostureGates } from '../http/gate.ts';
import { HEALTH_PATH, READY_PATH } from '../http/health-route.ts';
import type { Posture, PostureName } from '../common/postures.ts';
import { ConfigError } from '../errors.ts';
import { tenant, token } from '../common/option-rules.ts';
import { METRICS_OPTIONS, type OptionRow } from '../common/option-table.ts';
import { readTextFile } from './file-parser.ts';
import { hostPort } from './json-schema.ts';
import { readEnv, rowFromText } from './otel-env.ts';
import { definedOnly, setBy, type ConfigLayer, type MetricsConfig } from './service-config.ts';
import type { ApiKey } from '../http/route-options.ts';

/**
 * The settings the main server's metrics route and the dedicated listener run with
 * ({@link resolveMetrics}): `[metrics]`'s rows, each set (the posture's where the layers set none),
 * the secret files read into `token` and `apiKeys`; `listen` (the dedicated listener: metrics are
 * served there, not on the main server), `token` and `trustedProxies` may stay unset.
 */
export type ResolvedMetrics = Readonly<Awaited<ReturnType<typeof resolveMetrics>>>;

type Field = keyof MetricsConfig;
const ROWS: Readonly<Record<Field, OptionRow>> = METRICS_OPTIONS;

// ---------------------------------------------------------------------------------------------
// Environment

/**
 * The posture's own environment variables as a `[metrics]` layer. Empty values count as unset.
 * @throws ConfigError naming the variable.
 */
export function metricsEnvLayer(env: NodeJS.ProcessEnv, posture: Posture): MetricsConfig {
  const out: Record<string, unknown> = {};
  for (const [field, name] of Object.entries(posture.env)) {
    const raw = readEnv(env, name);
    if (raw !== undefined) out[field] = rowFromText(ROWS[field as Field], raw, name);
  }
  const names = posture.env;
  if (out.token !== undefined && out.tokenFile !== undefined)
    throw new ConfigError(
      names.tokenFile!,
      out.tokenFile,
      `it unset while ${names.token} is set (one or the other)`,
    );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Merging

/** The secret settings `[metrics]` and `[ingest]` share: each a value or the file holding it. */
const SECRET_PAIRS = [
  ['token', 'tokenFile'],
  ['apiKeys', 'apiKeysFile'],
] as const;
type SecretPairs = Pick<MetricsConfig, (typeof SECRET_PAIRS)[number][number]>;

/**
 * `over`'s set fields win; a value and its file are one setting. Inputs are not mutated. For
 * `[metrics]` and `[ingest]`.
 */
export function mergeGateConfig<T extends SecretPairs>(base: Readonly<T>, over: Readonly<T>): T {
  const out: T = { ...base };
  for (const pair of SECRET_PAIRS)
    if (pair.some((k) => over[k] !== undefined)) for (const k of pair) delete out[k];
  return { ...out, ...definedOnly(over) };
}

// ---------------------------------------------------------------------------------------------
// Final settings

/**
 * The layers' `[metrics]` merged, checked against the posture, its secret files read.
 * @param layers every layer in precedence order (lowest first), the posture's variables in the
 *   env layer's, to name where a value came from.
 * @param posture the one `[metrics] posture` names, else the profile's original's.
 * @throws ConfigError naming the key (file key, variable or flag) of the value at fault.
 */
export async function resolveMetrics(layers: readonly ConfigLayer[], posture: Posture) {
  const merged = layers.reduce<MetricsConfig>(
    (m, l) => mergeGateConfig(m, l.config.metrics ?? {}),
    {},
  );
  const env: Partial<Record<Field, string>> = posture.env;
  const keyOf = (field: Field): string => setBy(layers, 'metrics', field, env[field]);

  const { token, apiKeys = [] } = await readSecretFiles(merged, keyOf);

  // wasmrun's --auth: on by default when credentials exist; asked for without any, refuse to
  // start open. auth = false beside credentials is a contradiction (it would serve open what the
  // credentials were meant to guard): refused, naming both. From here, authOn means credentials exist.
  const hasCredentials = token !== undefined || apiKeys.length > 0;
  // The key of the credentials in force (a token's file before the token, then the API keys').
  const credential = keyOf(
    (['tokenFile', 'token', 'apiKeysFile'] as const).find((f) => merged[f] !== undefined) ??
      'apiKeys',
  );
  if (merged.auth === true && !hasCredentials) {
    throw new ConfigError(
      keyOf('auth'),
      true,
      'API keys or a token to check (set metrics.api_keys, metrics.api_keys_file or metrics.token)',
    );
  }
  if (merged.auth === false && hasCredentials) {
    throw new ConfigError(
      keyOf('auth'),
      false,
      `true, or no credentials: ${credential} is set too, and with auth off it would be ignored and metrics served open (remove ${credential} or the auth setting)`,
    );
  }
  const authOn = merged.auth ?? hasCredentials;

  const trustedCidrs = merged.trustedCidrs ?? [];
  checkPostureGates(
    posture,
    { credentials: authOn, cidrs: trustedCidrs },
    { credentials: credential, cidrs: keyOf('trustedCidrs') },
  );
  const enabled = merged.enabled ?? !posture.optIn;
  if (enabled && merged.listen !== undefined && (authOn || trustedCidrs.length > 0)) {
    throw new ConfigError(
      keyOf('listen'),
      hostPort(merged.listen),
      'no token, API keys or trusted CIDRs as well (the dedicated listener is unauthenticated, loopback only)',
    );
  }

  const path = merged.path ?? posture.path;
  if (enabled && merged.listen === undefined && (path === HEALTH_PATH || path === READY_PATH)) {
    throw new ConfigError(
      keyOf('path'),
      path,
      `a path other than ${path}, which the main server answers itself`,
    );
  }

  return {
    enabled,
    posture: posture.name as PostureName,
    path,
    listen: merged.listen,
    token,
    apiKeys,
    trustedCidrs,
    trustedProxies: merged.trustedProxies,
    accessLog: merged.accessLog ?? posture.accessLog,
    verbose: merged.verbose ?? METRICS_OPTIONS.verbose.default,
    maxInflightScrapes: merged.maxInflightScrapes ?? METRICS_OPTIONS.maxInflightScrapes.default,
  };
}

/**
 * A gate's table (`[metrics]`, `[ingest]`) with its secret files read into `token` and `apiKeys`,
 * the file fields removed. `keyOf` names a file's key (a file key, a variable) in errors.
 * @throws ConfigError naming that key and the path, never the secret.
 */
export async function readSecretFiles<T extends SecretPairs>(
  table: Readonly<T>,
  keyOf: (field: 'tokenFile' | 'apiKeysFile') => string,
): Promise<Omit<T, 'tokenFile' | 'apiKeysFile'>> {
  const { tokenFile, apiKeysFile, ...out } = table as SecretPairs;
  if (tokenFile !== undefined) out.token = await readTokenFile(tokenFile, keyOf('tokenFile'));
  if (apiKeysFile !== undefined)
    out.apiKeys = await readApiKeysFile(apiKeysFile, keyOf('apiKeysFile'));
  return out as Omit<T, 'tokenFile' | 'apiKeysFile'>;
}

/** The token file: one token, surrounding whitespace (the trailing newline) ignored. */
async function readTokenFile(path: string, key: string): Promise<string> {
  const text = (await readTextFile(path, key)).trim();
  if (text === '') throw new ConfigError(key, path, 'a file holding a token (it is empty)');
  if (!token.is(text))
    throw new ConfigError(key, path, 'a file holding one token without whitespace');
  return text;
}

/**
 * The API keys file: one `tenant:key` per line; blank lines and lines starting with `#` are
 * skipped. Errors name the line, never its content.
 */
async function readApiKeysFile(path: string, key: string): Promise<ApiKey[]> {
  const text = await readTextFile(path, key);
  const out: ApiKey[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const owner = colon === -1 ? '' : line.slice(0, colon).trim();
    const apiKey = colon === -1 ? '' : line.slice(colon + 1).trim();
    if (!tenant.is(owner) || !token.is(apiKey)) {
      throw new ConfigError(key, path, `lines of tenant:key (line ${i + 1} is not)`);
    }
    if (seen.has(apiKey))
      throw new ConfigError(key, path, `each key once (line ${i + 1} repeats one)`);
    seen.add(apiKey);
    out.push({ tenant: owner, key: apiKey });
  }
  if (out.length === 0)
    throw new ConfigError(key, path, 'a file with at least one tenant:key line (it has none)');
  return out;
}
