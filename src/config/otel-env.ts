/**
 * The standard OpenTelemetry environment variables that concern a metrics push and the resource,
 * read the way the OTel specification (`sdk-environment-variables`, `protocol/exporter`) says.
 *
 * Departures from the specification, on purpose:
 * - A value the specification would have an SDK warn about and ignore throws a {@link ConfigError}
 *   instead: a daemon that silently pushes nowhere, or to the wrong place, is worse than one that
 *   refuses to start with a message naming the variable.
 * - With `OTEL_METRICS_EXPORTER` unset, push is on only when an endpoint variable is set (the
 *   specification's default is `otlp` to `http://localhost:4318`): jobmeter's default is pull.
 * - `grpc` is rejected: jobmeter ships only the OTLP/HTTP exporters.
 * - `none` listed with other exporters is refused rather than guessed at.
 *
 * Values are never logged here; header values and endpoint credentials never appear in an error.
 */
import type { OtlpPushOptions } from '../options.ts';
import { ConfigError, REDACTED } from '../errors.ts';
import { definedOnly } from './service-config.ts';
import { cidr, httpUrl, type Rule } from '../common/option-rules.ts';
import { isSecret, OTLP_OPTIONS, type OptionRow, type Section } from '../common/option-table.ts';
import { readAddress } from './json-schema.ts';
import { TEMPORALITIES, type Temporality } from '../common/option-values.ts';
import { OTLP_METRICS_PATH } from '../readers/otlp-endpoint.ts';

/** Where the specification puts an OTLP/HTTP collector when nothing says otherwise. */
export const DEFAULT_OTLP_METRICS_ENDPOINT = 'http://localhost:4318/v1/metrics';

/**
 * OTLP push options from the environment, or undefined when the environment asks for no push.
 * Only the options the environment sets are present, so programmatic defaults still apply.
 *
 * - The [otlp] rows' variables ({@link rowsFromEnv}), each the metrics-specific one over the
 *   generic one: the protocol, the headers (merged, names lower-cased so the override is
 *   case-insensitive), the interval and the exporter's timeout.
 * - Endpoint: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` used as-is, else `OTEL_EXPORTER_OTLP_ENDPOINT`
 *   as a base URL with `v1/metrics` appended to its path.
 * - Push happens when `OTEL_METRICS_EXPORTER` lists `otlp` (then without an endpoint variable,
 *   to {@link DEFAULT_OTLP_METRICS_ENDPOINT}), or, with `OTEL_METRICS_EXPORTER` unset, when an
 *   endpoint variable is set.
 * - Timeout: the smaller of `OTEL_METRIC_EXPORT_TIMEOUT` (the reader's budget for one export) and
 *   the row's `OTEL_EXPORTER_OTLP_[METRICS_]TIMEOUT` (the exporter's budget for one request with
 *   its retries): one export is bounded by both, and jobmeter has a single option for it.
 *
 * Variables set to the empty string count as unset, as the specification requires. Variables the
 * OTLP exporter reads from `process.env` by itself (`…_COMPRESSION`, `…_CERTIFICATE`,
 * `…_CLIENT_KEY`, `…_CLIENT_CERTIFICATE`) are left to it.
 *
 * @throws {ConfigError} naming the variable, for any value that cannot be honoured.
 */
export function otlpOptionsFromEnv(env: NodeJS.ProcessEnv): OtlpPushOptions | undefined {
  const otlp = otlpExporterFromEnv(env);
  // Push off: nothing else is read, so variables meant for other signals cannot fail the start.
  if (otlp === false) return undefined;
  const endpoint = endpointFromEnv(env);
  if (otlp === undefined && endpoint === undefined) return undefined;
  refuseGrpc(env);
  const rows = rowsFromEnv(env, OTLP_OPTIONS) as OtlpPushOptions | undefined;
  const exportTimeout = rowFromEnv(env, { ...OTLP_OPTIONS.timeoutMillis, env: EXPORT_TIMEOUT });
  const timeouts = [rows?.timeoutMillis, exportTimeout].filter((t) => t !== undefined);
  return definedOnly<OtlpPushOptions>({
    ...rows,
    endpoint: endpoint ?? DEFAULT_OTLP_METRICS_ENDPOINT,
    timeoutMillis: timeouts.length === 0 ? undefined : Math.min(...(timeouts as number[])),
    temporality: temporalityFromEnv(env),
  });
}

/** The reader's timeout for one export, which bounds the exporter's (the row's variables) too. */
export const EXPORT_TIMEOUT = 'OTEL_METRIC_EXPORT_TIMEOUT';

/**
 * `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`, percent-decoded, whitespace
 * around keys and values trimmed). `OTEL_SERVICE_NAME` wins over a `service.name` attribute; the
 * service name is lifted out of the attributes (undefined when neither sets it), so callers have a
 * single place to apply their own default.
 *
 * @throws {ConfigError} for an entry without `=`, an empty key, or a bad percent-escape (the
 *   specification says to discard the whole variable then; refusing says why).
 */
export function resourceFromEnv(env: NodeJS.ProcessEnv) {
  const raw = readEnv(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const resourceAttributes =
    raw === undefined ? {} : parsePairs('OTEL_RESOURCE_ATTRIBUTES', raw, false);
  const fromAttributes = resourceAttributes['service.name'];
  delete resourceAttributes['service.name'];
  const serviceName =
    readEnv(env, 'OTEL_SERVICE_NAME') ?? (fromAttributes === '' ? undefined : fromAttributes);
  return serviceName === undefined ? { resourceAttributes } : { serviceName, resourceAttributes };
}

/**
 * Whether `OTEL_METRICS_EXPORTER` asks for `otlp`; undefined when unset. `prometheus` (pull, which
 * jobmeter always serves) is accepted; `none` means neither, and is refused alongside other values
 * because the intent is then unclear.
 */
export function otlpExporterFromEnv(env: NodeJS.ProcessEnv): boolean | undefined {
  const key = 'OTEL_METRICS_EXPORTER';
  const raw = readEnv(env, key);
  if (raw === undefined) return undefined;
  const names = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  // `none` beside another name is refused rather than guessed at.
  const known = names.every((n) => n === 'otlp' || n === 'prometheus' || n === 'none');
  if (!known || (names.includes('none') && names.some((n) => n !== 'none')))
    throw new ConfigError(key, raw, '"none", or a comma-separated list of "otlp" and "prometheus"');
  return names.includes('otlp');
}

/** `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` (case-insensitive). */
export function temporalityFromEnv(env: NodeJS.ProcessEnv): Temporality | undefined {
  const key = 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE';
  const raw = readEnv(env, key);
  if (raw === undefined) return undefined;
  const value = raw.toLowerCase();
  if ((TEMPORALITIES as readonly string[]).includes(value)) return value as Temporality;
  throw new ConfigError(key, raw, 'cumulative, delta or lowmemory');
}

function endpointFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const specific = readEnv(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  if (specific !== undefined) return httpUrl(specific, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const base = readEnv(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base === undefined) return undefined;
  const url = new URL(httpUrl(base, 'OTEL_EXPORTER_OTLP_ENDPOINT'));
  // Appending to the path (not to the string) keeps a query string, if any, after the path.
  url.pathname = url.pathname.replace(/\/?$/, OTLP_METRICS_PATH);
  return url.href;
}

/** A protocol variable saying `grpc` is refused with why: jobmeter ships only OTLP/HTTP exporters. */
function refuseGrpc(env: NodeJS.ProcessEnv): void {
  const specific = OTLP_OPTIONS.protocol.env;
  const generic = generalOf(specific);
  const key = readEnv(env, specific) !== undefined ? specific : generic;
  const raw = readEnv(env, key);
  if (raw?.toLowerCase() !== 'grpc') return;
  const others =
    key === generic ? ` (set ${specific}=http/protobuf to keep grpc for other signals)` : '';
  throw new ConfigError(
    key,
    raw,
    `${OTLP_OPTIONS.protocol.rule.expected}: OTLP over gRPC is not supported by jobmeter${others}`,
  );
}

/**
 * The rows of `section` with a variable set, each read as its row says ({@link rowFromEnv}).
 * Undefined when none is set.
 * @throws {ConfigError} naming the variable.
 */
export function rowsFromEnv(
  env: NodeJS.ProcessEnv,
  section: Section,
): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, row] of Object.entries(section)) {
    const value = rowFromEnv(env, row);
    if (value !== undefined) out[k] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * The specification's general variable below a signal's own: `OTEL_EXPORTER_OTLP_METRICS_X` over
 * `OTEL_EXPORTER_OTLP_X` (any other variable is its own).
 */
export function generalOf(key: string): string {
  return key.replace(/^OTEL_EXPORTER_OTLP_METRICS_/, 'OTEL_EXPORTER_OTLP_');
}

/**
 * A row's value from its variable (and the general one below it, {@link generalOf}), held to its
 * rule: a table of names (the headers) from both, each `k=v` pairs, the signal's own merged over
 * the general; any other value from the signal's own, else the general, read by {@link rowFromText}.
 */
function rowFromEnv(env: NodeJS.ProcessEnv, row: OptionRow): unknown {
  if (row.env === undefined) return undefined;
  const keys = [...new Set([row.env, generalOf(row.env)])].filter(
    (k) => readEnv(env, k) !== undefined,
  );
  if (row.keys === 'open') {
    const check = row.rule as (value: unknown, key: string) => object;
    const tables = keys
      .reverse()
      .map((k) => check(parsePairs(k, readEnv(env, k)!, isSecret(row)), k));
    return keys.length === 0 ? undefined : (Object.assign({}, ...tables) as unknown);
  }
  const key = keys[0];
  return key === undefined ? undefined : rowFromText(row, readEnv(env, key)!, key);
}

/**
 * A row's value from text, as a variable or a flag gives it (`key` names which in errors): an
 * integer row's digits only (`Number()` would also take `1e3`, `0x10` and `10.5`, none of which the
 * specification's integers allow), a closed list's word in any case, a loopback `HOST:PORT`
 * parsed, a list of networks comma-separated (each entry held to the rule of one), any other
 * string as it is; then held to the row's rule.
 */
export function rowFromText(row: OptionRow, raw: string, key: string): unknown {
  const rule = row.rule as
    (Partial<Rule<unknown>> & ((v: unknown, k: string) => unknown)) | undefined;
  const schema = rule?.schema;
  if (schema?.type === 'integer') {
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value)) throw new ConfigError(key, raw, rule!.expected!);
    return rule!(value, key);
  }
  if (schema?.enum !== undefined) {
    if (!rule!.is!(raw.toLowerCase())) throw new ConfigError(key, raw, rule!.expected!);
    return raw.toLowerCase();
  }
  if (row.schema === 'loopbackListen') return readAddress(raw, key, 'loopback');
  if (row.schema === 'cidrList')
    return raw
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '')
      .map((e) => cidr(e, key));
  return rule === undefined ? raw : rule(raw, key);
}

/**
 * A W3C-baggage-like `k=v,k2=v2` list: entries split on `,`, each on its first `=`, optional
 * whitespace trimmed, values percent-decoded, empty entries skipped. `secret` redacts the value
 * in errors and lower-cases keys (header names are case-insensitive).
 */
function parsePairs(key: string, raw: string, secret: boolean): Record<string, string> {
  const shown = secret ? REDACTED : raw;
  const result: Record<string, string> = {};
  const entries = raw.split(',');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const name = eq < 0 ? '' : entry.slice(0, eq).trim();
    if (eq < 0 || name === '') {
      throw new ConfigError(
        key,
        shown,
        `comma-separated key=value pairs (entry ${i + 1} is not key=value)`,
      );
    }
    let value: string;
    try {
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      // No `cause`: the URIError carries nothing useful, and nothing about the secret should leak.
      throw new ConfigError(
        key,
        shown,
        `percent-encoded values (the value of "${name}" has a bad %-escape)`,
      );
    }
    result[secret ? name.toLowerCase() : name] = value;
  }
  return result;
}

/**
 * The variable `key`, trimmed; undefined when unset or empty (the specification's rule for its
 * own, which jobmeter holds every variable it reads to). No name: undefined.
 */
export function readEnv(env: NodeJS.ProcessEnv, key: string | undefined): string | undefined {
  const value = key === undefined ? undefined : env[key]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
