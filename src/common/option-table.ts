/**
 * Every option, defined once: its library key (the row's), its config file key, the config file
 * schema's definition of its value, its default, the rule the library checks it with, and its one
 * line of docs. What reads it:
 * - common/option-defaults.ts: `OPTION_DEFAULTS` is the rows' defaults;
 * - resolve-options.ts: a row's rule checks a value given (or its default) under its dotted key;
 * - config/json-schema.ts: each table of the file lists the rows' file keys, in row order (the
 *   order unknown-key errors list them in, an original's spelling (`aliasOf`) left out), each
 *   `$ref` to the row's definition;
 * - config/file-layer.ts: a file key is renamed to the row's key (`[metrics]` too, whose rows are
 *   the config file's only), an original's spelling to the option it spells (runwisp's `[daemon]`,
 *   restic-manager's `metrics_token`); config/env-layer.ts reads a row's `env`,
 *   config/metrics-section.ts names a row's `flag`;
 * - option-keys.ts: the keys an options object may have (an unknown one is a ConfigError with
 *   the config file's "did you mean");
 * - docs/options.md is generated from it (scripts/gen-options-doc.ts, test/config/options-doc.test.ts).
 *
 * What must stay true: a row's file key, default and rule say the same as its type in options.ts
 * (its `@default` tag is checked against the row's default by the docs test).
 */
import {
  attributeValueLengthLimit,
  bodyBytes,
  bool,
  callback,
  cardinalityLimit,
  concurrentRequests,
  connections,
  inflightScrapes,
  memoryBytes,
  nonEmptyString,
  oneOfRule,
  port,
  positiveInteger,
  millis,
  stateDir,
} from './option-rules.ts';
import {
  HOST_INSTRUMENTS,
  LISTENER_FORMATS,
  OTLP_NAMINGS,
  OTLP_PROTOCOLS,
  TEMPORALITIES,
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
  /** The environment variable `jobmeter serve` reads it from, where one is its own. */
  readonly env?: string;
  /** The command-line flag of `jobmeter serve` that sets it, where one does. */
  readonly flag?: string;
  /** The default; absent where there is none, or it depends on others ({@link defaultText} says). */
  readonly default?: unknown;
  /** The default in words, where no one value is it. */
  readonly defaultText?: string;
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
  /**
   * An original's spelling of another option, which the config file accepts so the original's
   * file carries over: `metrics.<key>` is the `[metrics]` row `<key>`; `metrics` on a table is
   * `[metrics]` itself (its rows are spellings too). config/file-layer.ts reads it as that option
   * and refuses both spellings in one file; unknown-key errors list the canonical key only.
   */
  readonly aliasOf?: 'metrics' | `metrics.${string}`;
  /** One line for docs/options.md. */
  readonly doc: string;
}

export type Section = Readonly<Record<string, OptionRow>>;

/** Every listener's opt-in to a non-loopback `host`. */
const ALLOW_NON_LOOPBACK = {
  file: 'allow_non_loopback',
  schema: 'boolean',
  default: false,
  rule: bool,
  doc: 'Explicit opt-in to bind a non-loopback address.',
} as const satisfies OptionRow;

/** The timeouts and connection cap of every listener (http/server-limits.ts checks them). */
const SERVER_LIMITS = {
  requestTimeoutMillis: {
    file: 'request_timeout_ms',
    schema: 'millis',
    default: 30_000,
    rule: millis,
    doc: "A request's headers (and body) must arrive within this many ms; past it 408 and the connection closes.",
  },
  // Outlasts Prometheus's default 15 s scrape interval, so a scraper's connection is reused.
  idleTimeoutMillis: {
    file: 'idle_timeout_ms',
    schema: 'millis',
    default: 30_000,
    rule: millis,
    doc: 'A keep-alive connection with no request in progress is closed after this many ms.',
  },
  maxConnections: {
    file: 'max_connections',
    schema: 'connections',
    default: 256,
    rule: connections,
    doc: 'Connections open at once; one more evicts one holding room without progress, whatever its address: one with no whole request yet (headers, or a body short of 64 KiB) before an idle keep-alive one, and that before a larger body still arriving, each the longest without progress first; or is closed when every one has a whole request in.',
  },
} as const satisfies Section;
export const SERVER_LIMIT_KEYS = Object.keys(SERVER_LIMITS) as (keyof typeof SERVER_LIMITS)[];

export const LISTENER_OPTIONS = {
  enabled: {
    file: 'enabled',
    schema: 'boolean',
    library: false,
    doc: '`false` disables the pull listener (the library: `listener: false`).',
  },
  host: {
    file: 'host',
    schema: 'host',
    default: '127.0.0.1',
    doc: 'Address to bind: loopback (127.0.0.0/8, ::1, localhost) unless allowNonLoopback.',
  },
  port: {
    file: 'port',
    schema: 'port',
    default: 9464,
    rule: port,
    doc: 'TCP port; 0 picks a free one.',
  },
  allowNonLoopback: ALLOW_NON_LOOPBACK,
  format: {
    file: 'format',
    schema: 'listenerFormat',
    defaultText: "the profile's original's",
    rule: oneOfRule(LISTENER_FORMATS),
    doc: '`negotiate` (from `Accept`), `text` or `openmetrics`.',
  },
  ...SERVER_LIMITS,
} as const satisfies Section;

export const OTLP_OPTIONS = {
  endpoint: {
    file: 'endpoint',
    schema: 'endpoint',
    defaultText: 'none (no push)',
    doc: 'The metrics URL; one without a path gets `/v1/metrics`.',
  },
  protocol: {
    file: 'protocol',
    schema: 'protocol',
    default: 'http/protobuf',
    rule: oneOfRule(OTLP_PROTOCOLS),
    doc: '`http/protobuf` or `http/json`.',
  },
  intervalMillis: {
    file: 'interval_ms',
    schema: 'millis',
    default: 60_000,
    rule: millis,
    doc: 'Export interval in ms.',
  },
  timeoutMillis: {
    file: 'timeout_ms',
    schema: 'millis',
    default: 30_000,
    rule: millis,
    doc: 'Export timeout in ms; at most the interval.',
  },
  temporality: {
    file: 'temporality',
    schema: 'temporality',
    default: 'cumulative',
    rule: oneOfRule(TEMPORALITIES),
    doc: '`cumulative` or `delta`.',
  },
  headers: {
    file: 'headers',
    schema: 'headers',
    keys: 'open',
    defaultText: '{}',
    doc: 'Extra request headers (e.g. auth); never logged.',
  },
  naming: {
    file: 'naming',
    schema: 'otlpNaming',
    defaultText: '`profile` with a legacy profile and cumulative temporality, else `canonical`',
    rule: oneOfRule(OTLP_NAMINGS),
    doc: "`canonical` OpenTelemetry names, or the profile's exact series.",
  },
} as const satisfies Section;

export const INGEST_OPTIONS = {
  enabled: {
    file: 'enabled',
    schema: 'boolean',
    library: false,
    doc: '`true` turns the ingest listener on (the library: an `ingest` object).',
  },
  host: {
    file: 'host',
    schema: 'host',
    default: '127.0.0.1',
    doc: 'Address to bind: loopback unless allowNonLoopback.',
  },
  port: {
    file: 'port',
    schema: 'port',
    default: 4318,
    rule: port,
    doc: 'TCP port; 0 picks a free one.',
  },
  allowNonLoopback: ALLOW_NON_LOOPBACK,
  // The Collector's `max_request_body_size` default.
  maxBodyBytes: {
    file: 'max_body_bytes',
    schema: 'bodyBytes',
    default: 20 * 1024 * 1024,
    rule: bodyBytes,
    doc: 'Largest request body, as sent and once decompressed; past it 413.',
  },
  maxConcurrentRequests: {
    file: 'max_concurrent_requests',
    schema: 'concurrent',
    default: 8,
    rule: concurrentRequests,
    doc: 'Requests processed at once; past it 503 with Retry-After.',
  },
  // The Collector's Prometheus exporter `metric_expiration` default.
  expiryMillis: {
    file: 'expiry_ms',
    schema: 'millis',
    default: 5 * 60_000,
    rule: millis,
    doc: 'A series not updated for this long disappears.',
  },
  maxSeriesPerInstrument: {
    default: 2000,
    rule: positiveInteger,
    doc: 'Source series one instrument may hold; points of new ones past it are refused.',
  },
  maxSeries: {
    default: 50_000,
    rule: positiveInteger,
    doc: 'Source series in all; points of new ones past it are refused.',
  },
  maxMemoryBytes: {
    file: 'max_memory_bytes',
    schema: 'memoryBytes',
    default: 128 * 1024 * 1024,
    rule: memoryBytes,
    doc: 'Estimated bytes the ingested state may take; points of new series past it are refused.',
  },
  // The library keeps no file unasked; `jobmeter serve` defaults it (config/service-defaults.ts).
  stateDir: {
    file: 'state_dir',
    schema: 'stateDir',
    default: false,
    rule: stateDir,
    doc: 'Directory of the ingest state file, so a restart goes on; `false`: none.',
  },
  ...SERVER_LIMITS,
  token: {
    file: 'token',
    schema: 'token',
    defaultText: 'none',
    doc: 'A bearer token every sender must present; never logged.',
  },
  tokenFile: {
    file: 'token_file',
    schema: 'filePath',
    library: false,
    doc: 'A file holding the token.',
  },
  apiKeys: {
    file: 'api_keys',
    schema: 'apiKeys',
    items: 'apiKey',
    defaultText: '[]',
    doc: 'API keys and their tenants, accepted like the token.',
  },
  apiKeysFile: {
    file: 'api_keys_file',
    schema: 'filePath',
    library: false,
    doc: 'A file holding the API keys.',
  },
  trustedCidrs: {
    file: 'trusted_cidrs',
    schema: 'cidrList',
    defaultText: '[] (any peer)',
    doc: "Networks a sender's TCP peer must be in.",
  },
} as const satisfies Section;

export const CLUSTER_OPTIONS = {
  enabled: {
    file: 'enabled',
    schema: 'boolean',
    library: false,
    doc: '`false`: every process stands alone (the library: `cluster: false`).',
  },
  timeoutMillis: {
    file: 'timeout_ms',
    schema: 'millis',
    default: 1000,
    rule: millis,
    doc: "How long a primary's collection waits for its members' reports.",
  },
  reportTo: {
    defaultText: 'none',
    doc: 'In a worker thread: the port to report to (`parentPort`).',
  },
  merge: {
    file: 'merge',
    schema: 'mergePolicies',
    keys: 'open',
    defaultText: '{}',
    doc: 'Instrument name \u2192 `sum` or `max`: how its series from several processes combine.',
  },
} as const satisfies Section;

export const BUILD_OPTIONS = {
  version: {
    file: 'version',
    schema: 'nonEmptyString',
    env: 'JOBMETER_BUILD_VERSION',
    doc: 'The version reported as `jobmeter.build.info`.',
  },
  commit: {
    file: 'commit',
    schema: 'nonEmptyString',
    env: 'JOBMETER_BUILD_COMMIT',
    doc: 'The commit reported with it.',
  },
  runtimeVersion: {
    file: 'runtime_version',
    schema: 'nonEmptyString',
    env: 'JOBMETER_BUILD_RUNTIME_VERSION',
    doc: 'The runtime version reported with it.',
  },
} as const satisfies Section;

export const SNAPSHOT_OPTIONS = {
  ttlMillis: {
    default: 0,
    doc: "How long a snapshot is reused (crewshipd's profile: 15000).",
  },
  timeoutMillis: {
    default: 2000,
    doc: "How long a scrape waits for the host's snapshot callback.",
  },
} as const satisfies Section;

/** An instrument a host declares (`instruments[]`; domain/check-specs.ts checks its values). */
export const INSTRUMENT_SPEC_OPTIONS = {
  name: { doc: 'Canonical OpenTelemetry instrument name, e.g. `app.jobs.processed`.' },
  kind: { doc: '`counter`, `upDownCounter`, `histogram`, `gauge`, or an observable one.' },
  unit: { doc: 'UCUM unit (`s`, `By`, `{run}`, `1`).' },
  description: { doc: 'The description (HELP).' },
  attributes: {
    items: 'attributeSpec',
    defaultText: '[] (none kept)',
    doc: 'The allow-list: attributes not listed are dropped before aggregation; left out, none are kept.',
  },
  buckets: { defaultText: 'none', doc: 'Histogram bucket upper bounds (ascending, without +Inf).' },
  exemplars: { default: false, doc: 'Keep trace-linked exemplars.' },
} as const satisfies Section;

/** One attribute of an instrument spec: exactly one of `values`, `cap` bounds it. */
export const ATTRIBUTE_SPEC_OPTIONS = {
  key: { doc: 'The attribute key.' },
  values: { doc: 'Closed vocabulary: any other value folds into `other` (or is dropped).' },
  outside: {
    defaultText: '`other`',
    doc: 'A value outside the closed vocabulary: fold into `other`, or `drop` it.',
  },
  cap: {
    doc: 'Open vocabulary: the first `cap` distinct values are kept, later ones fold into `other`.',
  },
} as const satisfies Section;

/**
 * `jobmeter serve`'s `[telemetry]`: its own telemetry listener (the config file's only), on by
 * default as the Collector's own telemetry is (it serves on localhost:8888 unasked): an alert needs
 * the process to say how it fares before anyone thought to ask. Loopback only, as every listener.
 */
export const TELEMETRY_OPTIONS = {
  enabled: {
    file: 'enabled',
    schema: 'boolean',
    library: false,
    default: true,
    rule: bool,
    doc: '`false` turns the telemetry listener off, and `POST /-/reload` with it.',
  },
  listen: {
    file: 'listen',
    schema: 'loopbackListen',
    library: false,
    default: '127.0.0.1:9465',
    doc: "Loopback `HOST:PORT` serving jobmeter serve's own telemetry at `/metrics`, and `/health`, `/ready`; `JOBMETER_TELEMETRY_LISTEN` when the file sets none. Taken at start: serve exits 1 naming it.",
  },
  enableReload: {
    file: 'enable_reload',
    schema: 'boolean',
    library: false,
    default: false,
    rule: bool,
    doc: "`true` (or `jobmeter serve --enable-reload`): `POST /-/reload` on the telemetry listener re-reads the configuration as SIGHUP does, as Prometheus' `--web.enable-lifecycle`; needs the listener on.",
  },
} as const satisfies Section;

/** `profile: { name, rules }`. */
export const PROFILE_TABLE_OPTIONS = {
  name: {
    file: 'name',
    schema: 'profile',
    default: 'otel',
    doc: 'The profile the host rules extend.',
  },
  rules: {
    file: 'rules',
    schema: 'profileRules',
    defaultText: '[]',
    doc: "Rules of the host's own, shaped like the built-in tables (naming/check-rules.ts checks them).",
  },
} as const satisfies Section;

export const API_KEY_OPTIONS = {
  tenant: { file: 'tenant', schema: 'tenant', doc: 'The tenant the key authenticates.' },
  key: {
    file: 'key',
    schema: 'token',
    doc: 'The key a client sends as `Authorization: Bearer <key>`.',
  },
} as const satisfies Section;

/**
 * `jobmeter serve`'s `[metrics]`: the metrics route of its main server and its posture (the config
 * file's only; config/metrics-section.ts resolves it). The posture's own environment variables
 * are the posture's (common/postures.ts `env`).
 */
export const METRICS_OPTIONS = fileOnly({
  enabled: {
    file: 'enabled',
    schema: 'boolean',
    defaultText: 'true, unless the posture is opt-in (runwisp)',
    doc: '`false`: no metrics route anywhere.',
  },
  path: { file: 'path', schema: 'path', defaultText: "the posture's", doc: 'The route.' },
  posture: {
    file: 'posture',
    schema: 'posture',
    defaultText: "the profile's original's",
    doc: 'Whose path, gates and access log the route takes.',
  },
  listen: {
    file: 'listen',
    schema: 'loopbackListen',
    defaultText: 'none',
    doc: 'A dedicated loopback `HOST:PORT`, unauthenticated; metrics move there.',
  },
  token: { file: 'token', schema: 'token', doc: 'A bearer token; never logged.' },
  tokenFile: { file: 'token_file', schema: 'filePath', doc: 'A file holding it.' },
  apiKeys: { file: 'api_keys', schema: 'apiKeys', doc: 'API keys and their tenants.' },
  apiKeysFile: { file: 'api_keys_file', schema: 'filePath', doc: 'A file of `tenant:key` lines.' },
  auth: {
    file: 'auth',
    schema: 'boolean',
    flag: '--auth',
    defaultText: 'on with credentials',
    doc: "wasmrun's `--auth`: `true` refuses to start without credentials.",
  },
  trustedCidrs: {
    file: 'trusted_cidrs',
    schema: 'cidrList',
    doc: 'Networks the cidr gate allows.',
  },
  trustedProxies: {
    file: 'trusted_proxies',
    schema: 'cidrList',
    defaultText: "the posture's",
    doc: 'Proxies whose `X-Forwarded-For` is believed.',
  },
  accessLog: {
    file: 'access_log',
    schema: 'boolean',
    defaultText: "the posture's",
    doc: 'The access line on every request.',
  },
  verbose: {
    file: 'verbose',
    schema: 'boolean',
    flag: '--verbose',
    default: false,
    doc: 'A request-received line ahead of each access line.',
  },
  maxInflightScrapes: {
    file: 'max_inflight_scrapes',
    schema: 'inflight',
    rule: inflightScrapes,
    default: 0,
    doc: 'Scrapes at once past which a scrape gets 503; 0: no limit.',
  },
});

/**
 * An original's spelling `file` of the `[metrics]` row `key` (`original`: whose, for the docs). Its
 * value is that row's: the same schema, read into the same option.
 */
function metricsSpelling<K extends keyof typeof METRICS_OPTIONS>(
  key: K,
  file: string,
  original?: string,
) {
  const canonical = `\`[metrics] ${METRICS_OPTIONS[key].file}\``;
  return {
    file,
    schema: METRICS_OPTIONS[key].schema,
    library: false,
    aliasOf: `metrics.${key}`,
    doc: original === undefined ? `${canonical}.` : `${original}'s spelling of ${canonical}.`,
  } as const;
}

/** runwisp.toml's `[daemon]`: its metrics keys, each a spelling of a `[metrics]` key. */
export const DAEMON_OPTIONS = fileOnly({
  enabled: metricsSpelling('enabled', 'metrics_enabled'),
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
  profile: {
    file: 'profile',
    schema: 'profileSetting',
    keys: 'profileTable',
    default: 'otel',
    doc: 'Naming profile, by name or `{ name, rules }`.',
  },
  serviceName: {
    file: 'service_name',
    schema: 'nonEmptyString',
    default: 'jobmeter',
    rule: nonEmptyString,
    doc: 'The `service.name` resource attribute.',
  },
  processMetrics: {
    file: 'process_metrics',
    schema: 'boolean',
    default: true,
    rule: bool,
    doc: 'Record Node process/runtime metrics.',
  },
  otelScopeInfo: {
    file: 'otel_scope_info',
    schema: 'boolean',
    default: true,
    rule: bool,
    doc: 'Native profile: keep `target_info` and `otel_scope_*` labels.',
  },
  global: {
    file: 'global',
    schema: 'boolean',
    default: true,
    rule: bool,
    doc: "Register jobmeter's MeterProvider as the global one (unless one is).",
  },
  // OpenTelemetry's default cardinality limit: series per host instrument, overflow included.
  cardinalityLimit: {
    file: 'cardinality_limit',
    schema: 'cardinalityLimit',
    default: 2000,
    rule: cardinalityLimit,
    doc: 'Series each host instrument may hold, the overflow series included.',
  },
  // jobmeter's own label value length (domain/bounded-attributes.ts MAX_VALUE_LENGTH, the same
  // number: a test holds it): a host's labels bounded as jobmeter's are. OpenTelemetry's default,
  // no limit, is never a label's.
  attributeValueLengthLimit: {
    file: 'attribute_value_length_limit',
    schema: 'attributeValueLengthLimit',
    default: 256,
    rule: attributeValueLengthLimit,
    doc: 'Longest host attribute value, in characters (the length jobmeter cuts its own to): a longer string, and each in an array, is cut, its last character `\u2026`, and counted in `jobmeter.attribute_values.truncated`; `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` under `jobmeter serve`.',
  },
  hostExemplars: {
    file: 'host_exemplars',
    schema: 'boolean',
    default: false,
    rule: bool,
    doc: 'Trace-linked exemplars on host instruments.',
  },
  hostInstruments: {
    file: 'host_instruments',
    schema: 'hostInstruments',
    default: 'native',
    rule: oneOfRule(HOST_INSTRUMENTS),
    doc: 'Host instruments a profile has no rule for: `native` names, or `drop`.',
  },
  resourceAttributes: {
    file: 'resource_attributes',
    schema: 'resourceAttributes',
    keys: 'open',
    defaultText: '{}',
    doc: 'Extra resource attributes.',
  },
  translationStrategy: {
    file: 'naming.translation_strategy',
    schema: 'translationStrategy',
    defaultText: '`UnderscoreEscapingWithSuffixes`',
    doc: "The `otel` profile's naming of OTel instruments (the OTel spec's translation strategies).",
  },
  unitSuffixes: {
    file: 'naming.unit_suffixes',
    schema: 'boolean',
    default: true,
    doc: "`false`: the `otel` profile's names without the unit word (`_total` stays), as `@opentelemetry/exporter-prometheus` names them.",
  },
  startTimestamps: {
    file: 'naming.start_timestamps',
    schema: 'boolean',
    default: false,
    doc: 'Counters and histograms carry their start time (`_created`, `created_timestamp`).',
  },
  naming: {
    file: 'naming',
    schema: 'naming',
    library: false,
    doc: 'The `[naming]` table: translation_strategy, unit_suffixes, start_timestamps.',
  },
  listener: {
    file: 'listener',
    schema: 'listener',
    keys: 'listener',
    defaultText: '{} (on)',
    doc: 'The pull listener; `false` disables it.',
  },
  otlp: {
    file: 'otlp',
    schema: 'otlp',
    keys: 'otlp',
    defaultText: 'none',
    doc: 'OTLP push; without `endpoint` no push reader.',
  },
  ingest: {
    file: 'ingest',
    schema: 'ingest',
    keys: 'ingest',
    defaultText: 'none',
    doc: 'OTLP/HTTP ingest listener; omitted or `false`: none.',
  },
  cluster: {
    file: 'cluster',
    schema: 'cluster',
    keys: 'cluster',
    defaultText: '{} (on)',
    doc: '`node:cluster` and worker threads; `false`: every process stands alone.',
  },
  metrics: {
    file: 'metrics',
    schema: 'metrics',
    keys: 'metrics',
    library: false,
    doc: "`jobmeter serve`'s metrics route (the library: the handler, middleware and plugin options).",
  },
  telemetry: {
    file: 'telemetry',
    schema: 'telemetry',
    keys: 'telemetry',
    library: false,
    doc: "`jobmeter serve`'s own telemetry listener.",
  },
  daemon: {
    file: 'daemon',
    schema: 'daemon',
    keys: 'daemon',
    library: false,
    aliasOf: 'metrics',
    doc: "runwisp.toml's `[daemon]`: metrics_enabled, metrics_listen.",
  },
  metricsToken: metricsSpelling('token', 'metrics_token', 'restic-manager'),
  metricsTrustedCidrs: metricsSpelling('trustedCidrs', 'metrics_trusted_cidrs', 'restic-manager'),
  build: {
    file: 'build',
    schema: 'build',
    keys: 'build',
    defaultText: "jobmeter's own version",
    doc: 'Reported as `jobmeter.build.info`.',
  },
  views: {
    file: 'views',
    schema: 'views',
    defaultText: '[]',
    doc: "OpenTelemetry Views for every instrument on jobmeter's provider.",
  },
  instruments: {
    items: 'instrumentSpec',
    defaultText: '[]',
    doc: "Instruments the host declares, bounded like the domain's own.",
  },
  snapshot: {
    keys: 'snapshot',
    defaultText: "the profile's, else `{ ttlMillis: 0, timeoutMillis: 2000 }`",
    doc: "Cache policy for the host's snapshot callback.",
  },
  hostname: {
    defaultText: '`os.hostname()`',
    rule: nonEmptyString,
    doc: 'The `hostname` label crewshipd puts on every series.',
  },
  metricProducers: {
    defaultText: '[]',
    doc: 'Producers whose metrics join every pull collection.',
  },
  debug: {
    defaultText: 'none',
    rule: callback,
    doc: "Where to print every OTLP request ingested and export pushed, as the Collector's `debug` exporter.",
  },
  readers: { defaultText: '[]', doc: "Standard OpenTelemetry readers on jobmeter's provider." },
  log: {
    defaultText: 'stderr, prefixed `jobmeter: `',
    rule: callback,
    doc: 'Where jobmeter writes its lines: startup, the OTLP push failing and recovering, the ingest state.',
  },
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
  metricProducers: {
    defaultText: '[]',
    doc: "Producers whose metrics join every collection, after the provider's own.",
  },
} as const satisfies Section;

/** `createRecorder(meter, options)`. */
export const RECORDER_OPTIONS = {
  ...pick(JOBMETER_OPTIONS, ['instruments', 'build', 'snapshot']),
  profile: {
    defaultText: '`otel`',
    doc: "The profile the host's JobmeterReader serves: its vocabularies, buckets and snapshot policy.",
  },
} as const satisfies Section;

/** `jobmeterViews(profile, options)`. */
export const VIEWS_OPTIONS = pick(JOBMETER_OPTIONS, ['instruments']);

/** The options of a metrics route on a host's server (the handler, the middleware, the fastify plugin). */
export const ROUTE_OPTIONS = {
  jobmeter: { doc: 'The jobmeter whose metrics are served (required).' },
  posture: { defaultText: "the jobmeter profile's original", doc: 'A posture name or object.' },
  path: { defaultText: "the posture's", doc: 'The route.' },
  enabled: { default: true, doc: '`false` mounts nothing.' },
  token: { defaultText: 'none', doc: 'A bearer token; never logged.' },
  apiKeys: { items: 'apiKey', defaultText: '[]', doc: 'API keys and their tenants.' },
  trustedCidrs: { defaultText: '[]', doc: 'Networks allowed by the cidr gate.' },
  trustProxy: { defaultText: "the posture's", doc: 'Proxies whose `X-Forwarded-For` is believed.' },
  accessLog: {
    keys: 'accessLog',
    defaultText: "the posture's",
    doc: 'The access line on every request: `true`, or `{ stream, verbose, now }`.',
  },
  maxInflightScrapes: {
    default: 0,
    doc: 'Scrapes at once past which a scrape gets 503; 0: no limit.',
  },
  format: { defaultText: "the jobmeter's", doc: '`negotiate`, `text` or `openmetrics`.' },
  selfMetrics: {
    defaultText: 'true for the native profile',
    doc: 'Serve `jobmeter_scrape_errors_total{cause}`.',
  },
} as const satisfies Section;

export const ACCESS_LOG_OPTIONS = {
  stream: { defaultText: 'process.stderr', doc: 'Where lines go.' },
  verbose: { default: false, doc: 'A request-received line ahead of each access line.' },
  now: { defaultText: 'Date.now', doc: 'The clock for `ts` (tests).' },
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
  | 'telemetry';

/** The rows of a section a library options object may have (not the config file's only). */
export function libraryKeys(section: Section): string[] {
  return Object.keys(section).filter((k) => section[k]!.library !== false);
}

type Defaults<S> = {
  readonly [K in keyof S as S[K] extends { readonly default: unknown } ? K : never]: S[K] extends {
    readonly default: infer D;
  }
    ? D
    : never;
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

/** {@link defaultsOf} for the rows the config file has (a file key), `except`'s left out. */
export function fileDefaults<S extends Section, X extends keyof S = never>(
  section: S,
  except: readonly X[] = [],
): Partial<Omit<Defaults<S>, X>> {
  const out: Record<string, unknown> = defaultsOf(section, except);
  for (const k of Object.keys(out)) if (section[k]!.file === undefined) delete out[k];
  return out as Partial<Omit<Defaults<S>, X>>;
}

function pick<S extends Section, K extends keyof S>(section: S, keys: readonly K[]): Pick<S, K> {
  return Object.fromEntries(keys.map((k) => [k, section[k]])) as Pick<S, K>;
}

/**
 * The rows of `section` that have a default, each the value `given` sets or the default, checked
 * by the row's rule under `prefix.key` (`except`'s rows left out: resolved by their caller).
 * @throws ConfigError naming the option, for a value its rule refuses.
 */
export function resolveSection<S extends Section, X extends keyof S = never>(
  given: object | undefined,
  section: S,
  prefix: string,
  except: readonly X[] = [],
): Omit<Defaults<S>, X> {
  const out: Record<string, unknown> = {};
  for (const [k, row] of Object.entries(section)) {
    if ('default' in row && !(except as readonly string[]).includes(k))
      out[k] = resolveOption(
        section,
        k,
        (given as Record<string, unknown> | undefined)?.[k],
        prefix,
      );
  }
  return out as Omit<Defaults<S>, X>;
}

/** The option `key` of `section`: `value`, or the row's default when undefined, checked by the row's rule. */
export function resolveOption<S extends Section, K extends keyof S & string>(
  section: S,
  key: K,
  value: unknown,
  prefix = '',
): S[K] extends { readonly default: infer D } ? D : unknown {
  const row = section[key]!;
  const v = value ?? row.default;
  return (
    row.rule === undefined ? v : row.rule(v as never, prefix === '' ? key : `${prefix}.${key}`)
  ) as S[K] extends { readonly default: infer D } ? D : unknown;
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
