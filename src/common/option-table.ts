/**
 * Every option, declared once: its library key (the row's), its config file key, the config file
 * schema's definition of its value, its default, the rule the library checks it with, and its doc:
 * the row's doc comment, `@default` included (the words where no one value is the default). What
 * reads it:
 * - options.ts: the public options types are the rows mapped (`OptionsOf`), so an editor shows
 *   each row's doc comment on its field;
 * - common/option-defaults.ts: `OPTION_DEFAULTS` is the rows' defaults;
 * - resolve-options.ts: a row's rule checks a value given (or its default) under its dotted key;
 * - config/json-schema.ts: each table of the file lists the rows' file keys, in row order (the
 *   order unknown-key errors list them in, an original's spelling (`aliasOf`) left out), each
 *   `$ref` to the row's definition;
 * - config/file-layer.ts: a file key is renamed to the row's key (`[metrics]` too, whose rows are
 *   the config file's only), an original's spelling to the option it spells (runwisp's `[daemon]`,
 *   restic-manager's `metrics_token`); config/env-layer.ts reads a row's `env`,
 *   config/serve-flags.ts makes a row's `flag` a flag of `jobmeter serve` (listed, with its help,
 *   in its `FLAGS`), and config/metrics-section.ts names it;
 * - option-keys.ts: the keys an options object may have (an unknown one is a ConfigError with
 *   the config file's "did you mean");
 * - docs/options.md is generated from it, doc comments read with the TypeScript checker
 *   (scripts/gen-options-doc.ts, test/config/options-doc.test.ts).
 *
 * What must stay true: a row's `@default` tag starts with its `default` where it has one
 * (test/config/options-doc.test.ts).
 */
import {
  attributeValueLengthLimit,
  bodyBytes,
  bool,
  callback,
  cardinalityLimit,
  cidrList,
  concurrentRequests,
  connections,
  inflightScrapes,
  memoryBytes,
  nonEmptyString,
  logSink,
  oneOfRule,
  pollMillisOrOff,
  port,
  positiveInteger,
  resourceAttributes,
  millis,
  millisOrZero,
  stateDir,
  filePath,
  headers,
  host,
  httpUrl,
  routePath,
  tenant,
  token,
} from './option-rules.ts';
import {
  HOST_INSTRUMENTS,
  LISTENER_FORMATS,
  OTLP_NAMINGS,
  OTLP_PROTOCOLS,
  PROFILE_NAMES,
  TEMPORALITIES,
  TRANSLATION_STRATEGIES,
} from './option-values.ts';

/** One option of a section. */
export interface OptionRow {
  /**
   * The config file's key in the section's table; `table.key` puts it in another table of the
   * file (`naming.start_timestamps`). Absent: the library's only.
   */
  readonly file?: string;
  /** The config file schema's definition of the value (config/json-schema.ts `definitions`). */
  readonly schema?: string;
  /** `false`: the config file's only (`enabled`, `token_file`), no library option. */
  readonly library?: false;
  /**
   * The environment variable `jobmeter serve` (and the preload) reads it from, below the config
   * file, held to its rule (config/otel-env.ts `rowFromEnv`); an `OTEL_EXPORTER_OTLP_METRICS_*`
   * one over the specification's general `OTEL_EXPORTER_OTLP_*` (a table of names, the headers,
   * merged over it). The OTEL_* variables the specification maps rather than pairs (the endpoint,
   * whose general one is a base URL, the export timeout, the temporality, the resource) are
   * otel-env.ts's.
   */
  readonly env?: string;
  /**
   * The flag of `jobmeter serve` that sets the row, where one does (config/serve-flags.ts, whose
   * `FLAGS` lists it with its help): a boolean row's sets it true, any other's takes the value,
   * read as the row's variable is.
   */
  readonly flag?: `--${string}`;
  /** The flag's one-letter form (`-v`). */
  readonly short?: string;
  /** The default; absent where there is none, or it depends on others (the row's `@default` says). */
  readonly default?: unknown;
  /** Checks a value (given, or the default) under its dotted key; absent: checked where it is used. */
  readonly rule?: (value: never, key: string) => unknown;
  /**
   * An object value's keys: another section's (closed: an unknown one is an error), or `open`
   * (the host's own: attribute names, header names, instrument names; never checked).
   * Absent: a plain value, or a host's object (a MessagePort, a MetricReader) left as it is.
   */
  readonly keys?: SectionName | 'open';
  /** A list whose items' keys are this section's. */
  readonly items?: SectionName;
  /** An options object must have it (an API key's `key`, an instrument's `name`): its type's field is not optional. */
  readonly required?: true;
  /**
   * An original's spelling of another option, which the config file accepts so the original's
   * file carries over: `metrics.<key>` is the `[metrics]` row `<key>`; `metrics` on a table is
   * `[metrics]` itself (its rows are spellings too). config/file-layer.ts reads it as that option
   * and refuses both spellings in one file; unknown-key errors list the canonical key only.
   */
  readonly aliasOf?: 'metrics' | `metrics.${string}`;
}

export type Section = Readonly<Record<string, OptionRow>>;

/**
 * A row the config file has as `file`, its value the schema's `schema` definition, checked by
 * `rule`; `more` its other fields (`{}`: none).
 */
function ruled<
  const F extends string,
  const S extends string,
  R extends OptionRow['rule'],
  const M extends OptionRow,
>(file: F, schema: S, rule: R, more: M) {
  return { file, schema, rule, ...more } as {
    readonly file: F;
    readonly schema: S;
    readonly rule: R;
  } & M;
}

/** A duration's row: an integer of milliseconds, the config file's `file`, `by` by default. */
function duration<const F extends string, const D extends number>(file: F, by: D) {
  return { file, schema: 'millis', default: by, rule: millis } as const;
}

/** A boolean's row: the config file's `file`, `by` by default. */
function boolean<const F extends string, const D extends boolean>(file: F, by: D) {
  return { file, schema: 'boolean', default: by, rule: bool } as const;
}

/** A table's `enabled`: the config file's only (the library's is the table itself, or `false`). */
const ENABLED = { file: 'enabled', schema: 'boolean', library: false } as const;

/** A listener's address: loopback unless its `allowNonLoopback` (common/loopback.ts). */
const LOOPBACK_HOST = { file: 'host', schema: 'host', default: '127.0.0.1', rule: host } as const;

/** The timeouts and connection cap of every listener (http/server-limits.ts checks them). */
export const SERVER_LIMITS = {
  /**
   * A request's headers (and body) must arrive within this many ms; past it 408 and the connection
   * closes.
   * @default 30000
   */
  requestTimeoutMillis: duration('request_timeout_ms', 30_000),
  // Outlasts Prometheus's default 15 s scrape interval, so a scraper's connection is reused.
  /** A keep-alive connection with no request in progress is closed after this many ms. @default 30000 */
  idleTimeoutMillis: duration('idle_timeout_ms', 30_000),
  /**
   * Connections open at once; one more evicts one holding room without progress, whatever its
   * address: one with no whole request yet (headers, or a body short of 64 KiB) before an idle
   * keep-alive one, and that before a larger body still arriving, each the longest without progress
   * first; or is closed when every one has a whole request in.
   * @default 256
   */
  maxConnections: ruled('max_connections', 'connections', connections, { default: 256 }),
} as const satisfies Section;
export const SERVER_LIMIT_KEYS = Object.keys(SERVER_LIMITS) as (keyof typeof SERVER_LIMITS)[];
/** A listener's timeouts and connection cap, each its row's value (http/server-limits.ts applies them). */
export type ServerLimits = Defaults<typeof SERVER_LIMITS>;

export const LISTENER_OPTIONS = {
  /** `false` disables the pull listener (the library: `listener: false`). */
  enabled: ENABLED,
  /**
   * Address to bind. Must be a loopback address (127.0.0.0/8, ::1, `localhost`) unless {@link
   * allowNonLoopback} is true.
   * @default '127.0.0.1'
   */
  host: LOOPBACK_HOST,
  /** TCP port; 0 picks a free port (read it back from `jobmeter.pullAddress`). @default 9464 */
  port: { file: 'port', schema: 'port', default: 9464, rule: port },
  /** Explicit opt-in to bind a non-loopback address. @default false */
  allowNonLoopback: { ...boolean('allow_non_loopback', false), flag: '--allow-non-loopback' },
  /**
   * Which format to serve. `negotiate` follows the client's `Accept` (OpenMetrics 1.0.0 when
   * preferred, text 0.0.4 otherwise); `text` / `openmetrics` force one.
   * @default the profile's original's (`negotiate` for `otel` and `semconv`)
   */
  format: { file: 'format', schema: 'listenerFormat', rule: oneOfRule(LISTENER_FORMATS) },
  ...SERVER_LIMITS,
} as const satisfies Section;

export const OTLP_OPTIONS = {
  /**
   * The metrics URL, e.g. `http://127.0.0.1:4318/v1/metrics`. A URL without a path is a base URL,
   * as `OTEL_EXPORTER_OTLP_ENDPOINT` is: `/v1/metrics` is appended. No endpoint -> no push reader.
   * @default none (no push)
   */
  endpoint: { file: 'endpoint', schema: 'endpoint', rule: httpUrl },
  /** The OTLP/HTTP encoding: `http/protobuf` or `http/json`. @default 'http/protobuf' */
  protocol: ruled('protocol', 'protocol', oneOfRule(OTLP_PROTOCOLS), {
    env: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
    default: 'http/protobuf',
  }),
  /** Export interval in ms. @default 60000 */
  intervalMillis: { ...duration('interval_ms', 60_000), env: 'OTEL_METRIC_EXPORT_INTERVAL' },
  /** Export timeout in ms; must not exceed the interval. @default 30000 */
  timeoutMillis: { ...duration('timeout_ms', 30_000), env: 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT' },
  /**
   * OTel's temporality preference (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE), as its OTLP
   * exporters apply it: `cumulative`; `delta`, counters, histograms and gauges delta, up-down
   * counters cumulative; `lowmemory`, synchronous counters and histograms delta, every other kind
   * cumulative. @default 'cumulative'
   */
  temporality: ruled('temporality', 'temporality', oneOfRule(TEMPORALITIES), {
    default: 'cumulative',
  }),
  /** Extra request headers (e.g. auth). Never logged. @default {} */
  headers: ruled('headers', 'headers', headers, {
    env: 'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
    keys: 'open',
    default: {},
  }),
  /**
   * The names pushed. `canonical`: the OpenTelemetry instrument names (`jobmeter.run.finished`).
   * `profile`: the profile's exact series names, labels and values, as on the pull endpoint
   * (`solti_runner_tasks_completed_total`), for a Collector that re-exposes them unchanged
   * (otel-collector.yaml, docs/collector.md). `profile` needs cumulative temporality (a ConfigError
   * otherwise).
   * @default 'profile' with a legacy profile and cumulative temporality, else 'canonical'
   */
  naming: { file: 'naming', schema: 'otlpNaming', rule: oneOfRule(OTLP_NAMINGS) },
} as const satisfies Section;

export const INGEST_OPTIONS = {
  /** `true` turns the ingest listener on (the library: an `ingest` object). */
  enabled: ENABLED,
  /** Address to bind; loopback unless {@link allowNonLoopback}. @default '127.0.0.1' */
  host: LOOPBACK_HOST,
  /** TCP port; 0 picks a free one (read it back from `jobmeter.ingestAddress`). @default 4318 */
  port: { file: 'port', schema: 'port', default: 4318, rule: port },
  /**
   * TCP port of the OTLP/gRPC listener (`MetricsService/Export`, the Collector's 4317), on
   * {@link host} beside the OTLP/HTTP one, with the same gate, limits and store; 0 picks a free one
   * (read it back from `jobmeter.ingestGrpcAddress`).
   * @default none (no gRPC listener)
   */
  grpcPort: ruled('grpc_port', 'port', port, {
    env: 'JOBMETER_INGEST_GRPC_PORT',
    flag: '--ingest-grpc-port',
  }),
  /** Explicit opt-in to bind a non-loopback address. @default false */
  allowNonLoopback: boolean('allow_non_loopback', false),
  // The Collector's `max_request_body_size` default.
  /**
   * Largest request body, as sent and once decompressed; past it the answer is 413.
   * @default 20971520 (20 MiB)
   */
  maxBodyBytes: ruled('max_body_bytes', 'bodyBytes', bodyBytes, { default: 20 * 1024 * 1024 }),
  /**
   * Requests processed at once (a slot is taken once the body is in); one more waits for a slot,
   * its body counted against the bytes in flight ((this + 1) x maxBodyBytes), past which the answer
   * is 503 with Retry-After.
   * @default 8
   */
  maxConcurrentRequests: ruled('max_concurrent_requests', 'concurrent', concurrentRequests, {
    default: 8,
  }),
  // The Collector's Prometheus exporter `metric_expiration` default.
  /**
   * A series not updated for this long disappears (the Collector's `metric_expiration`).
   * @default 300000
   */
  expiryMillis: duration('expiry_ms', 5 * 60_000),
  /**
   * Source series one instrument may hold; points of new ones past it are refused.
   * @default 2000
   */
  maxSeriesPerInstrument: { default: 2000, rule: positiveInteger },
  /** Source series in all; points of new ones past it are refused. @default 50000 */
  maxSeries: { default: 50_000, rule: positiveInteger },
  /**
   * Estimated bytes the ingested state may take (series keys, attributes, the naming stage's label
   * strings; docs/collector.md "Limits"); points of new series past it are refused with
   * `partial_success` and counted in `jobmeter.ingest.refused{reason="memory_budget"}`.
   * @default 134217728 (128 MiB)
   */
  maxMemoryBytes: ruled('max_memory_bytes', 'memoryBytes', memoryBytes, {
    default: 128 * 1024 * 1024,
  }),
  // The library keeps no file unasked; `jobmeter serve` defaults it (config/service-defaults.ts).
  /**
   * Directory of the ingest state file (created if missing), so a restart goes on from what was
   * ingested: loaded at start, before the listener takes a request; written every 5 s when
   * something changed, before a collection serves what was not yet written, and at `shutdown()`.
   * The file is named after the listener's `host` and `port` (two jobmeters never share one; none
   * is kept with port 0) and is at most {@link maxMemoryBytes}. A file that cannot be used is one
   * warning line and a fresh start. `false`: no state file, a restart starts the ingested series
   * afresh (docs/collector.md "jobmeter's own restart"). `jobmeter serve` sets it by default.
   * @default false
   */
  stateDir: { file: 'state_dir', schema: 'stateDir', default: false, rule: stateDir },
  ...SERVER_LIMITS,
  /**
   * A bearer token every sender must present (`Authorization: Bearer <token>`; a Collector's
   * `otlphttp` exporter: `headers`). Puts the gate in force: without it the answer is 401
   * UNAUTHENTICATED, before the body is read (docs/collector.md "The ingest gate"). Never logged.
   * @default none (no token asked)
   */
  token: { file: 'token', schema: 'token', rule: token },
  /** A file holding the token. */
  tokenFile: { file: 'token_file', schema: 'filePath', rule: filePath, library: false },
  /**
   * API keys (each a token) and their tenants, accepted like {@link token}; with it, any one is.
   * @default []
   */
  apiKeys: { file: 'api_keys', schema: 'apiKeys', items: 'apiKey' },
  /** A file holding the API keys. */
  apiKeysFile: { file: 'api_keys_file', schema: 'filePath', rule: filePath, library: false },
  /**
   * Networks (CIDRs or addresses) a sender's TCP peer must be in; outside them the answer is 403
   * PERMISSION_DENIED (401 while a token is asked too: both must pass).
   * @default [] (any peer)
   */
  trustedCidrs: { file: 'trusted_cidrs', schema: 'cidrList' },
} as const satisfies Section;

export const CLUSTER_OPTIONS = {
  /** `false`: every process stands alone (the library: `cluster: false`). */
  enabled: ENABLED,
  /**
   * How long a scrape (or an OTLP export) of the primary waits for its members' reports. A member
   * that answers late, or not at all, counts with its last report: never less than before.
   * @default 1000
   */
  timeoutMillis: duration('timeout_ms', 1000),
  /**
   * In a worker thread: report to the thread that aggregates over this port (usually `parentPort`
   * from node:worker_threads) instead of serving.
   * @default none (a `node:cluster` worker reports to its primary by itself)
   */
  reportTo: {},
  /**
   * How an instrument's series from several processes combine, by instrument name: `sum` (the
   * default; counters and histograms keep the totals of exited members, up-down counters and gauges
   * count live members only) or `max` (every process observes the same value: jobmeter's snapshot
   * instruments, build info, last failure time, uptime and system.* default to it).
   * @default {} (src/domain/merge-rules.ts has jobmeter's own)
   */
  merge: { file: 'merge', schema: 'mergePolicies', keys: 'open' },
} as const satisfies Section;

export const BUILD_OPTIONS = {
  /** The version reported as `jobmeter.build.info`. */
  version: {
    file: 'version',
    schema: 'nonEmptyString',
    env: 'JOBMETER_BUILD_VERSION',
    required: true,
  },
  /** The commit reported with it. @default 'unknown' */
  commit: { file: 'commit', schema: 'nonEmptyString', env: 'JOBMETER_BUILD_COMMIT' },
  /**
   * The daemon's runtime reported with it (rm's `go_version` label): `jobmeter serve`'s `[build]
   * runtime_version` names the daemon's Go or Rust version.
   * @default this Node's `process.version`
   */
  runtimeVersion: {
    file: 'runtime_version',
    schema: 'nonEmptyString',
    env: 'JOBMETER_BUILD_RUNTIME_VERSION',
  },
} as const satisfies Section;

/** How a snapshot callback's results are cached and how long a call may take. */
export const SNAPSHOT_OPTIONS = {
  /**
   * How long a snapshot is reused; 0 calls the host on every collection (crewshipd's profile:
   * 15000).
   * @default 0
   */
  ttlMillis: { default: 0, rule: millisOrZero },
  /**
   * How long a scrape waits for the host's snapshot callback; past it the last good snapshot is
   * served.
   * @default 2000
   */
  timeoutMillis: { default: 2000, rule: millis },
} as const satisfies Section;

/** An instrument a host declares (`instruments[]`; domain/check-specs.ts checks its values). */
export const INSTRUMENT_SPEC_OPTIONS = {
  /** Canonical OpenTelemetry instrument name, e.g. `app.jobs.processed`. */
  name: { required: true },
  /** `counter`, `upDownCounter`, `histogram`, `gauge`, or an observable one. */
  kind: { required: true },
  /** UCUM unit (`s`, `By`, `{run}`, `1`). */
  unit: { required: true },
  /** The description (HELP). */
  description: { required: true },
  /**
   * The allow-list: attributes not listed are dropped before aggregation; left out, none are kept.
   * @default [] (none kept)
   */
  attributes: { items: 'attributeSpec' },
  /**
   * Histogram bucket upper bounds: finite, strictly increasing, without +Inf (else a ConfigError).
   * Histograms only.
   * @default none
   */
  buckets: {},
  /**
   * Keep trace-linked exemplars (domain/exemplars.ts): the latest per series (counters) or per
   * bucket (histograms) of the records made while a sampled span is active.
   * @default false
   */
  exemplars: { default: false },
} as const satisfies Section;

/** One attribute of an instrument spec: exactly one of `values`, `cap` bounds it. */
export const ATTRIBUTE_SPEC_OPTIONS = {
  /** The attribute key. */
  key: { required: true },
  /** Closed vocabulary: any other value folds into `other` (or is dropped: `outside`). */
  values: {},
  /**
   * What a value outside the closed vocabulary does: fold into `other`, or `drop` the observation,
   * counted in `jobmeter.records.dropped{reason="vocabulary"}` -- for a set the original's document
   * closes without an `other`. `drop` is an observable instrument's: a record of another kind folds.
   * @default `other`
   */
  outside: {},
  /** Open vocabulary: the first `cap` distinct values are kept, later ones fold into `other`. */
  cap: {},
} as const satisfies Section;

/**
 * `jobmeter serve`'s `[telemetry]`: its own telemetry listener (the config file's only), on by
 * default as the Collector's own telemetry is (it serves on localhost:8888 unasked): an alert needs
 * the process to say how it fares before anyone thought to ask. Loopback only, as every listener.
 */
export const TELEMETRY_OPTIONS = {
  /** `false` turns the telemetry listener off, and `POST /-/reload` with it. */
  enabled: { ...boolean('enabled', true), library: false },
  /**
   * Loopback `HOST:PORT` serving jobmeter serve's own telemetry at `/metrics`, and `/health`,
   * `/ready`; `JOBMETER_TELEMETRY_LISTEN` when the file sets none. Taken at start: serve exits 1
   * naming it.
   */
  listen: {
    file: 'listen',
    schema: 'loopbackListen',
    library: false,
    env: 'JOBMETER_TELEMETRY_LISTEN',
    default: '127.0.0.1:9465',
  },
  /**
   * `true` (or `jobmeter serve --enable-reload`): `POST /-/reload` on the telemetry listener
   * re-reads the configuration as SIGHUP does, as Prometheus' `--web.enable-lifecycle`; needs the
   * listener on.
   */
  enableReload: { ...boolean('enable_reload', false), library: false, flag: '--enable-reload' },
  /**
   * A bearer token every request to the telemetry listener but `/health` and `/ready` must
   * present (`Authorization: Bearer <token>`): its metrics, the status page and `POST /-/reload`
   * are refused 401 without it, for a host whose other users must not read or reload serve. A
   * SIGHUP applies a new one. Never logged. @default none (loopback is the only gate)
   */
  token: { file: 'token', schema: 'token', rule: token, library: false },
  /** A file holding the token. */
  tokenFile: { file: 'token_file', schema: 'filePath', rule: filePath, library: false },
} as const satisfies Section;

/** `profile: { name, rules }`. */
export const PROFILE_TABLE_OPTIONS = {
  /** The profile the host's rules extend. @default 'otel' */
  name: { file: 'name', schema: 'profile', default: 'otel', rule: oneOfRule(PROFILE_NAMES) },
  /**
   * Rules of the host's, the same shape as the built-in tables (src/naming/profiles/): each renders
   * one instrument (`instrument`, e.g. a host counter `app.tasks.started`) as one family with the
   * exact `name`, `type`, `help`, `unit`, `labels` (`[attribute, label]` pairs), `values`
   * (attribute -> { value -> word }) and `zeroFill` (label -> words always emitted). Under a legacy
   * profile they come after the table's own; on `otel` they replace the native naming of the
   * instruments they name. Validated at start: a bad rule is a ConfigError naming it.
   * @default []
   */
  rules: { file: 'rules', schema: 'profileRules' },
} as const satisfies Section;

export const API_KEY_OPTIONS = {
  /** The tenant the key authenticates, written as `tenant=` in the access log. */
  tenant: { file: 'tenant', schema: 'tenant', rule: tenant, required: true },
  /** The key a client sends as `Authorization: Bearer <key>`. */
  key: { file: 'key', schema: 'token', rule: token, required: true },
} as const satisfies Section;

/**
 * `jobmeter serve`'s `[metrics]`: the metrics route of its main server and its posture (the config
 * file's only; config/metrics-section.ts resolves it). The posture's own environment variables
 * are the posture's (common/postures.ts `env`).
 */
export const METRICS_OPTIONS = fileOnly({
  /** `false`: no metrics route anywhere. @default true, unless the posture is opt-in (runwisp) */
  enabled: { file: 'enabled', schema: 'boolean' },
  /** The route. @default the posture's */
  path: { file: 'path', schema: 'path', rule: routePath },
  /** Whose path, gates and access log the route takes. @default the profile's original's */
  posture: { file: 'posture', schema: 'posture' },
  /** A dedicated loopback `HOST:PORT`, unauthenticated; metrics move there. @default none */
  listen: { file: 'listen', schema: 'loopbackListen' },
  /** A bearer token; never logged. */
  token: { file: 'token', schema: 'token', rule: token },
  /** A file holding it. */
  tokenFile: { file: 'token_file', schema: 'filePath', rule: filePath },
  /** API keys and their tenants. */
  apiKeys: { file: 'api_keys', schema: 'apiKeys', items: 'apiKey' },
  /** A file of `tenant:key` lines. */
  apiKeysFile: { file: 'api_keys_file', schema: 'filePath', rule: filePath },
  /**
   * wasmrun's `--auth`: `true` refuses to start without credentials.
   * @default on with credentials
   */
  auth: { file: 'auth', schema: 'boolean', flag: '--auth' },
  /** Networks the cidr gate allows. */
  trustedCidrs: { file: 'trusted_cidrs', schema: 'cidrList' },
  /** Proxies whose `X-Forwarded-For` is believed. @default the posture's */
  trustedProxies: { file: 'trusted_proxies', schema: 'cidrList' },
  /** The access line on every request. @default the posture's */
  accessLog: { file: 'access_log', schema: 'boolean' },
  /** A request-received line ahead of each access line. */
  verbose: { file: 'verbose', schema: 'boolean', flag: '--verbose', short: 'v', default: false },
  /** Scrapes at once past which a scrape gets 503; 0: no limit. */
  maxInflightScrapes: ruled('max_inflight_scrapes', 'inflight', inflightScrapes, { default: 0 }),
});

/**
 * An original's spelling `file` of the `[metrics]` row `key`. Its value is that row's: the same
 * schema, read into the same option.
 */
function metricsSpelling<K extends keyof typeof METRICS_OPTIONS>(key: K, file: string) {
  const schema = METRICS_OPTIONS[key].schema;
  return { file, schema, library: false, aliasOf: `metrics.${key}` } as const;
}

/** runwisp.toml's `[daemon]`: its metrics keys, each a spelling of a `[metrics]` key. */
export const DAEMON_OPTIONS = fileOnly({
  /** `[metrics] enabled`. */
  enabled: metricsSpelling('enabled', 'metrics_enabled'),
  /** `[metrics] listen`. */
  listen: metricsSpelling('listen', 'metrics_listen'),
});

/** `rows` as the config file's only (`library: false`): a table no options object has. */
function fileOnly<const S extends Section>(
  rows: S,
): { readonly [K in keyof S]: S[K] & { readonly library: false } } {
  const out: Record<string, OptionRow> = {};
  for (const [key, row] of Object.entries(rows)) out[key] = { ...row, library: false };
  return out as { readonly [K in keyof S]: S[K] & { readonly library: false } };
}

/** createJobmeter's options (and the config file's top level), in the file's key order. */
export const JOBMETER_OPTIONS = {
  /**
   * Naming profile the pull endpoint renders, by name or with rules of the host's own.
   * @default 'otel'
   */
  profile: { file: 'profile', schema: 'profileSetting', keys: 'profileTable', default: 'otel' },
  /**
   * OpenTelemetry `service.name` resource attribute. The library reads no environment itself; the
   * instrumentation entry and `jobmeter serve` map OTEL_SERVICE_NAME here.
   * @default 'jobmeter'
   */
  serviceName: ruled('service_name', 'nonEmptyString', nonEmptyString, { default: 'jobmeter' }),
  /** Record Node process/runtime metrics. @default true */
  processMetrics: boolean('process_metrics', true),
  /**
   * Serve the Node process and runtime figures under the Prometheus client libraries' names as
   * well (prom-client's and `@prometheus-io/client`'s default metrics: `process_cpu_seconds_total`,
   * `process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`,
   * `nodejs_heap_space_size_used_bytes{space}`, `nodejs_gc_duration_seconds{kind}`...), so the
   * common Node.js dashboards answer; the OpenTelemetry names stay. Under a legacy profile they are
   * served as a host's instruments are (`host_instruments`).
   * @default false
   */
  prometheusClientNames: boolean('prometheus_client_names', false),
  /**
   * Native profile only: keep `target_info` and `otel_scope_*` labels. Legacy profiles never emit
   * them, as the originals do not.
   * @default true
   */
  otelScopeInfo: boolean('otel_scope_info', true),
  /**
   * Register jobmeter's MeterProvider as the global one (`metrics.setGlobalMeterProvider`), so
   * instruments a host or a library creates later with `metrics.getMeter(name)` are served on
   * jobmeter's endpoint. When another provider is already registered, jobmeter leaves it and logs
   * one line saying what to do. `shutdown()` unregisters what it registered. `false` opts out.
   * @default true
   */
  global: boolean('global', true),
  // OpenTelemetry's default cardinality limit: series per host instrument, overflow included.
  /**
   * Series each host instrument may hold -- one jobmeter has no spec for, created through
   * `jm.meter`, `jm.meterProvider` or the global API -- the overflow series included. Counted over
   * the instrument's life (not per collection, as the SDK counts), so attribute churn (a `job_id`)
   * cannot grow memory: past it, new attribute sets record into one series with
   * `otel.metric.overflow="true"`. A View's `aggregationCardinalityLimit` overrides it for the
   * instruments it selects. The SDK applies a limit per reader: an instrument it records (a host's
   * observable one, one a View selects, any of a kind a standard reader in `readers` aggregates
   * otherwise or limits lower) is bounded by this on jobmeter's pull and push, and by each standard
   * reader's own limit (its `cardinalitySelector`) on that reader.
   * @default 2000 (OpenTelemetry's default limit)
   */
  cardinalityLimit: ruled('cardinality_limit', 'cardinalityLimit', cardinalityLimit, {
    default: 2000,
  }),
  // jobmeter's own label value length (domain/bounded-attributes.ts MAX_VALUE_LENGTH, the same
  // number: a test holds it): a host's labels bounded as jobmeter's are. OpenTelemetry's default,
  // no limit, is never a label's.
  /**
   * Longest attribute value of a host's instruments, in characters (OpenTelemetry's attribute value
   * length limit, `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` under `jobmeter serve`): a longer string is
   * cut to this many, its last `...`, and so is each string of an array; other values are kept.
   * Applied to every record and observation before aggregation (values that differ only past it
   * share a series), each value cut counted in `jobmeter.attribute_values.truncated`, one `diag`
   * warning per instrument. Always finite, so no label carries an unbounded value.
   * @default 256 (the length jobmeter cuts its own attribute values to)
   */
  attributeValueLengthLimit: ruled(
    'attribute_value_length_limit',
    'attributeValueLengthLimit',
    attributeValueLengthLimit,
    { env: 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', default: 256 },
  ),
  /**
   * Trace-linked exemplars on host instruments (made on `jm.meter`, `jm.meterProvider` or the
   * global API) as on jobmeter's own: a counter's or a histogram's record made in a sampled span
   * keeps that span's ids, the latest per series (per bucket for a histogram), served in
   * OpenMetrics and protobuf under the host's own scope. One small object per series or bucket at
   * most. An instrument a View selects is the SDK's, which keeps none.
   * @default false
   */
  hostExemplars: boolean('host_exemplars', false),
  /**
   * Instruments of the host's (declared, observed, made on `jm.meter` or the global API, or
   * ingested) that the profile has no rule for. `native`: served after the profile's families under
   * native OTel naming (`app_jobs_total`), never silently dropped; `drop`: left out, with a startup
   * line saying how many declared ones are. jobmeter's own instruments a legacy profile has no rule
   * for are always left out (the original has no such series). Rules of the host's own (`profile: {
   * name, rules }`) name any instrument exactly as the built-in tables do.
   * @default 'native'
   */
  hostInstruments: ruled('host_instruments', 'hostInstruments', oneOfRule(HOST_INSTRUMENTS), {
    default: 'native',
  }),
  /** Extra resource attributes (merged over OTEL_RESOURCE_ATTRIBUTES). @default {} */
  resourceAttributes: ruled('resource_attributes', 'resourceAttributes', resourceAttributes, {
    keys: 'open',
    default: {},
  }),
  /**
   * The `otel` profile's naming of OTel instruments, the OTel spec's translation strategies:
   * `UnderscoreEscapingWithSuffixes` (`http_server_duration_seconds`),
   * `UnderscoreEscapingWithoutSuffixes` (`http_server_duration`), `NoUTF8EscapingWithSuffixes`
   * (`http.server.duration_seconds`, label names as the attribute keys), `NoTranslation`
   * (`http.server.duration`). UTF-8 names are served only to scrapers that negotiate
   * `escaping=allow-utf-8` (Prometheus 3 does by default); any other gets them escaped
   * (`underscores`, or `values` when asked). Legacy profiles never change names: setting it with
   * one is a ConfigError.
   * @default 'UnderscoreEscapingWithSuffixes'
   */
  translationStrategy: ruled(
    'naming.translation_strategy',
    'translationStrategy',
    oneOfRule(TRANSLATION_STRATEGIES),
    {},
  ),
  /**
   * `false`: the `otel` profile's names leave out the unit word (`app_job_latency`, not
   * `app_job_latency_seconds`; `_total` stays on counters): exactly the series names and labels
   * `@opentelemetry/exporter-prometheus` serves, so a switch from it keeps every series; jobmeter's
   * own instruments keep theirs (`jobmeter_run_duration_seconds`), which its dashboards read. Legacy
   * profiles never change names: setting it with one is a ConfigError.
   * @default true
   */
  unitSuffixes: boolean('naming.unit_suffixes', true),
  /**
   * Counters and histograms carry their start time on the pull endpoint: OpenMetrics `_created`
   * samples and protobuf `created_timestamp` (text 0.0.4 has no place for it). Off by default, for
   * every profile (the legacy originals never wrote them; client_golang leaves OpenMetrics
   * `_created` off too): Prometheus 2.x stores each `_created` sample as a series of its own.
   * Prometheus 3 with `--enable-feature=created-timestamp-zero-ingestion` reads both as the start
   * of the series instead.
   * @default false
   */
  startTimestamps: boolean('naming.start_timestamps', false),
  /** The `[naming]` table: translation_strategy, unit_suffixes, start_timestamps. */
  naming: { file: 'naming', schema: 'naming', library: false },
  /** Pull listener; `false` disables it (embed-only or push-only use). @default {} (enabled) */
  listener: { file: 'listener', schema: 'listener', keys: 'listener' },
  /** OTLP push; omitted or without `endpoint` -> no push reader. @default none */
  otlp: { file: 'otlp', schema: 'otlp', keys: 'otlp' },
  /**
   * OTLP/HTTP ingest listener (`POST /v1/metrics`); omitted or `false` -> none. Ingested metrics
   * join the pull endpoint and the OTLP push.
   * @default none
   */
  ingest: { file: 'ingest', schema: 'ingest', keys: 'ingest' },
  /**
   * `node:cluster` and worker threads ({@link ClusterOptions}). In a cluster worker (or with
   * `reportTo`) jobmeter reports to the primary and binds no listener, pushes nothing and takes no
   * ingest, whatever `listener`, `otlp` and `ingest` say; the primary serves the aggregate.
   * `false`: every process stands alone (then workers must not share one listener port).
   * @default {} (on)
   */
  cluster: { file: 'cluster', schema: 'cluster', keys: 'cluster' },
  /** `jobmeter serve`'s metrics route (the library: the handler, middleware and plugin options). */
  metrics: { file: 'metrics', schema: 'metrics', keys: 'metrics', library: false },
  /** `jobmeter serve`'s own telemetry listener. */
  telemetry: { file: 'telemetry', schema: 'telemetry', keys: 'telemetry', library: false },
  /** runwisp.toml's `[daemon]`: metrics_enabled, metrics_listen. */
  daemon: { file: 'daemon', schema: 'daemon', keys: 'daemon', library: false, aliasOf: 'metrics' },
  /** restic-manager's spelling of `[metrics] token`. */
  metricsToken: metricsSpelling('token', 'metrics_token'),
  /** restic-manager's spelling of `[metrics] trusted_cidrs`. */
  metricsTrustedCidrs: metricsSpelling('trustedCidrs', 'metrics_trusted_cidrs'),
  /**
   * Reported as `jobmeter.build.info` (runwisp_build_info, rm_build_info). Omitted when absent.
   * @default jobmeter's own version
   */
  build: { file: 'build', schema: 'build', keys: 'build' },
  /**
   * OpenTelemetry Views (the SDK's `ViewOptions`) for every instrument on jobmeter's provider: the
   * host's own -- e.g. an attribute allow-list (`attributesProcessors:
   * [createAllowListAttributesProcessor(['queue'])]`) that drops a `job_id`, buckets, a limit --
   * and jobmeter's (`{ instrumentName: 'jobmeter.run.duration', aggregation: { type:
   * AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [1, 10, 60] } } }`). An own
   * instrument a View selects keeps its spec's attribute bounds. Under a legacy profile, a View
   * that renames an own instrument takes it out of the profile's rule for it.
   * @default []
   */
  views: { file: 'views', schema: 'views' },
  /**
   * Extra instruments the host declares, bounded like the domain's own (their attributes are
   * declared here): observable ones it feeds with `jobmeter.observe(name, callback)` (e.g. counts
   * it keeps in its database), and counters, up-down counters, histograms and gauges it records
   * with `jobmeter.counter(name)`, `jobmeter.histogram(name)`, `jobmeter.gauge(name)` (the domain's
   * fast record path).
   * @default []
   */
  instruments: { items: 'instrumentSpec' },
  /**
   * Cache policy for the host's snapshot callback (`jobmeter.setSnapshotSource`).
   * @default the profile's (crewshipd: ttlMillis 15000), else { ttlMillis: 0, timeoutMillis: 2000 }
   */
  snapshot: { keys: 'snapshot' },
  /** Value of the `hostname` label that crewshipd puts on every series. @default os.hostname() */
  hostname: { rule: nonEmptyString },
  /**
   * Producers whose metrics join every pull collection, after the SDK's own (OTLP ingest uses
   * this). They bypass the SDK's views, so they must bound their own attributes.
   * @default []
   */
  metricProducers: {},
  /**
   * Where to print, one call per line, every OTLP request the ingest listener decodes and every
   * OTLP export pushed, as the Collector's `debug` exporter prints them at `verbosity: normal`
   * (`name{attrs} value` per data point; src/debug/). Never headers or tokens. `jobmeter serve
   * --debug` writes them to stderr.
   * @default none (nothing printed, no cost)
   */
  debug: { rule: callback<(line: string) => void> },
  /**
   * Standard OpenTelemetry readers of the host's choosing on jobmeter's provider -- a
   * `PeriodicExportingMetricReader` with an official OTLP exporter, a `PrometheusExporter` --
   * beside jobmeter's own pull and push readers. They read every instrument (jobmeter's included)
   * under the canonical OpenTelemetry names.
   * @default []
   */
  readers: {},
  /**
   * Where jobmeter writes its lines: startup (a global provider already registered; host
   * instruments a profile drops), the OTLP push failing and recovering, the ingest state. A
   * function is given each line as a sentence; a logger with `debug`, `info`, `warn` and `error`
   * methods (pino's, bunyan's) is given each record as `logger.warn(fields, msg)`: a constant
   * message and its details as fields (docs/collector.md lists them).
   * @default one line each on stderr, prefixed `jobmeter: `
   */
  log: { rule: logSink },
} as const satisfies Section;

/** `new JobmeterReader(options)`: the createJobmeter options that make sense for a reader of someone else's provider. */
export const READER_OPTIONS = {
  ...pick(JOBMETER_OPTIONS, [
    'profile',
    'listener',
    'otelScopeInfo',
    'hostname',
    'hostInstruments',
    'startTimestamps',
    'translationStrategy',
    'unitSuffixes',
    'attributeValueLengthLimit',
  ]),
  /** Producers whose metrics join every collection, after the provider's own. @default [] */
  metricProducers: {},
} as const satisfies Section;

/** `createRecorder(meter, options)`. */
export const RECORDER_OPTIONS = {
  ...pick(JOBMETER_OPTIONS, ['instruments', 'build', 'snapshot']),
  /**
   * The profile the host's JobmeterReader serves: its closed vocabularies, buckets and snapshot
   * policy; `semconv`: the semantic conventions' instruments in place of the ones they name.
   * @default 'otel'
   */
  profile: {},
} as const satisfies Section;

/** `jobmeterViews(profile, options)`. */
export const VIEWS_OPTIONS = pick(JOBMETER_OPTIONS, ['instruments']);

/**
 * The options of a metrics route on a host's server (the handler, the middleware, the fastify
 * plugin): which jobmeter it serves, under which posture (gates, path, access log), with which
 * credentials.
 */
export const ROUTE_OPTIONS = {
  /** The jobmeter whose metrics are served (`createJobmeter`'s result). */
  jobmeter: { required: true },
  /**
   * A posture name (`otel`, `runwisp`, `wasmrun`, `crewshipd`, `rm`, `solti`) or a posture object.
   * @default the jobmeter profile's original (`otel` for the native profile)
   */
  posture: {},
  /** The route. @default the posture's path: `/api/v1/metrics` for wasmrun, `/metrics` otherwise */
  path: { rule: routePath },
  /**
   * `false` mounts nothing at all (runwisp's `[daemon] metrics_enabled = false`). Mounting the
   * route is the opt-in, so this is true even for the opt-in runwisp posture.
   * @default true
   */
  enabled: { default: true, rule: bool },
  /**
   * A bearer token (crewshipd's CREWSHIP_METRICS_TOKEN, rm's RM_METRICS_TOKEN). Puts the bearer
   * gate in force; an error under a posture without one. Never logged.
   * @default none
   */
  token: { rule: token },
  /** API keys and their tenants (wasmrun `--auth`); with `token`, all are accepted. @default [] */
  apiKeys: { items: 'apiKey' },
  /**
   * Networks allowed by the cidr gate (rm's RM_METRICS_TRUSTED_CIDR), as CIDRs or addresses.
   * @default []
   */
  trustedCidrs: { rule: cidrList },
  /**
   * Proxies (CIDRs or addresses) whose `X-Forwarded-For` is believed, walking right to left past
   * trusted hops (rm's RM_TRUSTED_PROXY, runwisp's RUNWISP_TRUST_PROXY). `[]` trusts none.
   * @default the posture's: loopback for crewshipd, none otherwise
   */
  trustProxy: { rule: cidrList },
  /**
   * The key=value access line on every request of the server, with `X-Request-Id`; `true` writes
   * to stderr, an object picks the stream, `-v` (verbose) and clock.
   * @default the posture's (wasmrun: on)
   */
  accessLog: { keys: 'accessLog' },
  /**
   * Scrapes being collected or rendered at once past which a scrape gets 503 (with `Retry-After:
   * 1`). 0 means no limit: concurrent scrapes share one collection and one rendering, so a storm
   * costs little; the limit bounds the rest. Negative is an error.
   * @default 0
   */
  maxInflightScrapes: { default: 0, rule: inflightScrapes },
  /** Force a format, or `negotiate` from `Accept`. @default the jobmeter's (its profile's original) */
  format: { rule: oneOfRule(LISTENER_FORMATS) },
  /**
   * Serve `jobmeter_scrape_errors_total{cause}` after the collected families. Legacy profiles must
   * not grow series their original never had.
   * @default true for the native profile, false otherwise
   */
  selfMetrics: { rule: bool },
} as const satisfies Section;

/** How the metrics route's access log writes: where its lines go, and wasmrun's verbose request lines. */
export const ACCESS_LOG_OPTIONS = {
  /**
   * Where lines go: anything with `write(string)` (a Writable, a test's collector); or a logger
   * with `debug`, `info`, `warn` and `error` methods (pino's), given each request as fields.
   * @default process.stderr
   */
  stream: {},
  /** wasmrun `-v`: a request-received line ahead of each access line. @default false */
  verbose: { default: false },
  /** The clock for `ts`, in ms since the epoch (tests). @default Date.now */
  now: {},
} as const satisfies Section;

/**
 * What every job-library integration takes (`instrumentWorker`, `instrumentBoss`,
 * `instrumentRunner`, `instrumentTask`; integrations/job-runs.ts checks them): where it records,
 * how its runs are named, how often it reads the job store.
 */
export const INTEGRATION_OPTIONS = {
  /** `createJobmeter()`'s instance, or a recorder from `createRecorder(meter, { profile })`. */
  jobmeter: { required: true },
  /** The meter the queue-depth gauges are made on. @default `jobmeter.meter` (required with `createRecorder`) */
  meter: {},
  /** Which name is the run's `task` attribute: the queue's, or the job's own (bounded by the task cap, 500). @default 'queue' */
  task: { default: 'queue', rule: oneOfRule(['queue', 'name'] as const) },
  /** The run's `kind`. @default 'task' */
  kind: { default: 'task', rule: nonEmptyString },
  /** The run's `runner` (also the runner of `runnerError`). @default the library's name */
  runner: { rule: nonEmptyString },
  /**
   * How often the queue depth and the oldest waiting job are read from the store, in ms; `false`
   * reads neither.
   * @default 10000
   */
  depthIntervalMillis: { default: 10_000, rule: pollMillisOrOff },
} as const satisfies Section;

/** Every section, by the name rows' `keys` and `items` use. */
export const SECTIONS = {
  jobmeter: JOBMETER_OPTIONS,
  profileTable: PROFILE_TABLE_OPTIONS,
  listener: LISTENER_OPTIONS,
  otlp: OTLP_OPTIONS,
  ingest: INGEST_OPTIONS,
  apiKey: API_KEY_OPTIONS,
  cluster: CLUSTER_OPTIONS,
  build: BUILD_OPTIONS,
  metrics: METRICS_OPTIONS,
  daemon: DAEMON_OPTIONS,
  snapshot: SNAPSHOT_OPTIONS,
  instrumentSpec: INSTRUMENT_SPEC_OPTIONS,
  attributeSpec: ATTRIBUTE_SPEC_OPTIONS,
  reader: READER_OPTIONS,
  recorder: RECORDER_OPTIONS,
  views: VIEWS_OPTIONS,
  route: ROUTE_OPTIONS,
  accessLog: ACCESS_LOG_OPTIONS,
  telemetry: TELEMETRY_OPTIONS,
  integration: INTEGRATION_OPTIONS,
} as const satisfies Record<SectionName, Section>;
export type SectionName =
  | 'jobmeter'
  | 'profileTable'
  | 'listener'
  | 'otlp'
  | 'ingest'
  | 'apiKey'
  | 'cluster'
  | 'build'
  | 'metrics'
  | 'daemon'
  | 'snapshot'
  | 'instrumentSpec'
  | 'attributeSpec'
  | 'reader'
  | 'recorder'
  | 'views'
  | 'route'
  | 'accessLog'
  | 'telemetry'
  | 'integration';

/**
 * The top level's tables: each row of {@link JOBMETER_OPTIONS} whose value is an object of another
 * section (`listener`, `otlp`, `metrics`, …), by its key, with that section's rows. A row's `env`
 * and `flag` are read wherever it sits among them (config/env-layer.ts, config/serve-flags.ts).
 */
export const TABLES = Object.entries(JOBMETER_OPTIONS as Section).flatMap(([key, row]) =>
  row.keys === undefined || row.keys === 'open'
    ? []
    : [[key, SECTIONS[row.keys] as Section] as const],
);

/**
 * Whether a row's value is a credential, or a list of them: its rule is secret (a token, the
 * headers), or an item's row is (an API key's `key`). No error and no printed configuration shows it.
 */
export function isSecret(row: OptionRow): boolean {
  if ((row.rule as { readonly secret?: boolean } | undefined)?.secret === true) return true;
  return row.items !== undefined && Object.values<OptionRow>(SECTIONS[row.items]).some(isSecret);
}

/** The rows of a section a library options object may have (not the config file's only). */
export function libraryKeys(section: Section): string[] {
  return Object.keys(section).filter((k) => section[k]!.library !== false);
}

/** What a value of a schema definition is, for the rows without a rule that one types. */
interface SchemaValues {
  readonly boolean: boolean;
  readonly nonEmptyString: string;
  readonly cidrList: readonly string[];
  readonly resourceAttributes: Record<string, string>;
}

/**
 * The value a row takes: what its rule returns, else a list of its items' section's options, else
 * its schema definition's (SchemaValues), else its default's type (a number or a boolean widened);
 * the host's types are the options types' own ({@link OptionsOf}'s `T`).
 */
export type RowValue<R> = R extends { readonly rule: (value: never, key: string) => infer V }
  ? V
  : R extends { readonly items: infer I extends SectionName }
    ? readonly OptionsOf<(typeof SECTIONS)[I]>[]
    : R extends { readonly schema: infer D extends keyof SchemaValues }
      ? SchemaValues[D]
      : R extends { readonly default: infer D }
        ? D extends number
          ? number
          : D extends boolean
            ? boolean
            : D
        : unknown;

/**
 * The options object a section of the table types: one field per library row (the config file's
 * only left out), optional unless the row is `required`, each keeping the row's doc comment. A
 * field's type is `T`'s where the row's value is a host's type (an object, a callback, a type of
 * another stage), else {@link RowValue}.
 */
export type OptionsOf<S, T extends { readonly [K in keyof S]?: unknown } = object> = {
  -readonly [
    K in keyof S as S[K] extends { readonly library: false } | { readonly required: true }
      ? never
      : K
  ]?: K extends keyof T ? T[K] : RowValue<S[K]>;
} & ([MustHave<S>] extends [never]
  ? unknown
  : {
      -readonly [K in keyof S as K extends MustHave<S> ? K : never]: K extends keyof T
        ? T[K]
        : RowValue<S[K]>;
    });
/** The rows of `S` an options object must have. */
type MustHave<S> = {
  [K in keyof S]: S[K] extends { readonly required: true } ? K : never;
}[keyof S];

/** A section's rows that have a default, each its value: what resolving the section gives. */
export type Defaults<S> = {
  readonly [K in keyof S as S[K] extends { readonly default: unknown } ? K : never]: RowValue<S[K]>;
};

/** What resolving a section gives: {@link Defaults}, and each row with a rule but none, if set. */
export type Resolved<S> = Defaults<S> & {
  readonly [
    K in keyof S as S[K] extends { readonly default: unknown }
      ? never
      : S[K] extends { readonly rule: unknown }
        ? K
        : never
  ]?: RowValue<S[K]>;
};

/** A section's defaults, by key (rows without one left out; `except`'s keys too). */
export function defaultsOf<S extends Section, X extends keyof S = never>(
  section: S,
  except: readonly X[] = [],
): Omit<Defaults<S>, X> {
  const out: Record<string, unknown> = {};
  for (const [k, row] of Object.entries(section))
    if ('default' in row && !(except as readonly string[]).includes(k)) out[k] = row.default;
  return out as Omit<Defaults<S>, X>;
}

function pick<S extends Section, const K extends keyof S>(
  section: S,
  keys: readonly K[],
): Pick<S, K> {
  return Object.fromEntries(keys.map((k) => [k, section[k]])) as Pick<S, K>;
}

/**
 * The rows of `section` that have a default or a rule, each the value `given` sets or the default,
 * checked by the row's rule under `prefix.key` (`except`'s rows left out: resolved by their
 * caller); a row without a default left unset is left out.
 * @throws ConfigError naming the option, for a value its rule refuses.
 */
export function resolveSection<S extends Section, X extends keyof S = never>(
  given: object | undefined,
  section: S,
  prefix: string,
  except: readonly X[] = [],
): Omit<Resolved<S>, X> {
  const out: Record<string, unknown> = {};
  const values = (given ?? {}) as Record<string, unknown>;
  for (const [k, row] of Object.entries(section)) {
    if ((except as readonly string[]).includes(k) || !('default' in row || row.rule)) continue;
    const v = resolveOption(section, k, values[k], prefix);
    if (v !== undefined) out[k] = v;
  }
  return out as Omit<Resolved<S>, X>;
}

/**
 * The option `key` of `section`: `value`, or the row's default when undefined, checked by the row's
 * rule; an option without a default left unset stays undefined (its user decides: the profile's
 * format, its OTLP naming).
 */
export function resolveOption<S extends Section, K extends keyof S & string>(
  section: S,
  key: K,
  value: unknown,
  prefix = '',
): S[K] extends { readonly default: unknown } ? RowValue<S[K]> : RowValue<S[K]> | undefined {
  const row = section[key]!;
  const v = value ?? row.default;
  return (
    row.rule === undefined || v === undefined
      ? v
      : row.rule(v as never, prefix === '' ? key : `${prefix}.${key}`)
  ) as never;
}

/** The config file's key -> the row's key, for the rows of `section` in the file's table `table` (`''`: the section's own). */
export function fileNames(section: Section, table = ''): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, row] of Object.entries(section)) {
    if (row.file === undefined) continue;
    const dot = row.file.indexOf('.');
    if (table === '' ? dot === -1 : row.file.startsWith(`${table}.`))
      out[row.file.slice(dot + 1)] = k;
  }
  return out;
}
