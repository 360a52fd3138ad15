/**
 * A legacy profile compiled into an OpenTelemetry Collector configuration (`jobmeter
 * collector-config`): a daemon that pushes jobmeter's canonical instruments over OTLP gets, from
 * the Collector's `prometheus` exporter, the series jobmeter's own pull endpoint serves under the
 * profile (docs/collector-profiles.md).
 *
 * The pipeline, in order:
 * - `filter/vocabulary` drops the data points a closed set refuses (the profile's `vocabularies`,
 *   the catalog's `outside: 'drop'`), before any attribute is renamed or summed away;
 * - `transform` folds values outside the catalog's closed sets into `other`, writes the
 *   profile's words and label names, sums the series that dropping attributes merges
 *   (`aggregate_on_attributes`), converts types, scales, sets HELP and unit, and renames;
 * - `filter/profile` keeps only the profile's families.
 * Around it, what a production Collector has: every processor with `error_mode: ignore` (an OTTL
 * statement that fails on one data point is logged and skipped, not the whole batch refused back to
 * the sender, which would lose every other point of it); a `health_check` extension (a load
 * balancer's probe, the gateway's especially); `service.telemetry` serving the Collector's own
 * metrics (`otelcol_receiver_refused_metric_points`, `otelcol_processor_*`, `otelcol_exporter_*`,
 * `otelcol_process_*`) on a loopback pull endpoint; and, beside a single daemon (not a gateway), a
 * `resource_detection` processor with the `system` detector for the host attributes the profile's
 * labels read (naming/resource-labels.ts: crewshipd's `hostname` from `host.name`), never overriding
 * what the sender set.
 *
 * Read from each profile: `rules` (instrument, name, type, help, unit, from, scale, labels, values,
 * zeroFill, emitZero), `vocabularies`, its resource labels. Its `buckets` are the sender's to record
 * (a Collector cannot re-bucket a histogram); format, order, snapshot and json are the pull
 * endpoint's own and have no Collector counterpart.
 */
import { DOMAIN_INSTRUMENTS } from '../domain/catalog.ts';
import { PROCESS_INSTRUMENTS, RUNTIME_INSTRUMENTS } from '../domain/process-metrics.ts';
import { OTHER, SHAPE_OF_KIND, type InstrumentSpec } from '../domain/types.ts';
import type { Shape } from '../series/output-set.ts';
import { resourceLabels, type ResourceLabel } from '../naming/resource-labels.ts';
import { readAddress } from '../config/json-schema.ts';
import type { FamilyRule, TableProfile } from '../naming/types.ts';
import { zeroSeries } from '../naming/zero-fill.ts';

export interface CollectorEndpoints {
  /** The `otlp` receiver's OTLP/HTTP address. */
  readonly otlp: string;
  /** The `prometheus` exporter's address (a configuration without a gateway store). */
  readonly prometheus: string;
  /**
   * A gateway's stores, instead of the `prometheus` exporter: an OTLP/HTTP base URL (`otlp_http`:
   * Prometheus 3's `…/api/v1/otlp`, Mimir's `…/otlp`), a remote-write URL
   * (`prometheus_remote_write`), and/or an OTLP/gRPC receiver's HOST:PORT (`otlp_grpc`: `jobmeter
   * serve`'s `[ingest] grpc_port`). With any, `memory_limiter` comes first and `batch` last.
   */
  readonly gateway?: {
    readonly otlp?: string;
    readonly remoteWrite?: string;
    readonly otlpGrpc?: string;
  };
  /** The `health_check` extension's address (the Collector's own default port, on loopback). */
  readonly health: string;
  /** Where `service.telemetry` serves the Collector's own metrics (its default port, on loopback). */
  readonly telemetry: string;
  /**
   * A sharded tier's part (docs/collector-profiles.md, "A sharded tier"): `front` receives the
   * senders' OTLP/HTTP on `otlp`, runs the profile's stateless processors and routes each data point
   * stream to one of `workers` (their OTLP/gRPC addresses) with the `load_balancing` exporter;
   * `worker` receives OTLP/gRPC on `otlp`, turns delta streams cumulative and exports, to the
   * `prometheus` exporter or the gateway's stores. Without it, one Collector does all of it.
   */
  readonly tier?:
    { readonly front: { readonly workers: readonly string[] } } | { readonly worker: true };
}

export const COLLECTOR_CONFIG_DEFAULTS: CollectorEndpoints = {
  otlp: '127.0.0.1:4318',
  prometheus: '127.0.0.1:9464',
  health: '127.0.0.1:13133',
  telemetry: '127.0.0.1:8888',
};

const CATALOG: ReadonlyMap<string, InstrumentSpec> = new Map(
  [...DOMAIN_INSTRUMENTS, ...PROCESS_INSTRUMENTS, ...RUNTIME_INSTRUMENTS].map((spec) => [
    spec.name,
    spec,
  ]),
);

/** Prometheus unit words → UCUM, the unit an OTLP metric carries. */
const UCUM: Readonly<Record<string, string>> = { seconds: 's', bytes: 'By' };

const str = (s: string): string => JSON.stringify(s);
/** OTTL reads `1000` as an integer, and scale_metric takes a float. */
const floatLiteral = (n: number): string => (Number.isInteger(n) ? `${n}.0` : String(n));
const attr = (key: string): string => `attributes[${str(key)}]`;
const oneOf = (path: string, values: readonly string[]): string =>
  values.map((v) => `${path} == ${str(v)}`).join(' or ');
const outsideSet = (path: string, values: readonly string[]): string =>
  `${path} != nil and not (${oneOf(path, values)})`;

/** The metric a rule reads once extraction ran: the instrument, or its `_sum` / `_count` metric. */
function sourceOf(rule: FamilyRule): string {
  return rule.from === 'sum' || rule.from === 'count'
    ? `${rule.instrument}_${rule.from}`
    : rule.instrument;
}

function checkCompilable(profile: TableProfile): void {
  const sources = profile.rules.map(sourceOf);
  const twice = sources.filter((s, i) => sources.indexOf(s) !== i);
  if (twice.length > 0)
    throw new Error(
      `profile ${profile.name}: two rules read ${twice.join(', ')}; the compiler needs copy_metric for that`,
    );
  for (const rule of profile.rules) {
    for (const [attribute, words] of Object.entries(rule.values ?? {})) {
      const chained = Object.entries(words).filter(
        ([from, to]) => from !== to && to in words && words[to] !== to,
      );
      if (chained.length > 0)
        throw new Error(
          `${rule.name}: the words of ${attribute} chain (${chained.map(([f, t]) => `${f} → ${t}`).join(', ')})`,
        );
    }
  }
}

/** Data points a closed set refuses: the profile's vocabularies, the catalog's `outside: 'drop'` sets. */
function vocabularyDrops(profile: TableProfile): string[] {
  const drops = Object.entries(profile.vocabularies ?? {}).map(([key, values]) =>
    outsideSet(attr(key), values),
  );
  for (const instrument of new Set(profile.rules.map((r) => r.instrument))) {
    for (const a of CATALOG.get(instrument)?.attributes ?? []) {
      if (a.values !== undefined && a.outside === 'drop')
        drops.push(`metric.name == ${str(instrument)} and ${outsideSet(attr(a.key), a.values)}`);
    }
  }
  return drops;
}

/** Datapoint statements of one rule: `other` folds, the original's words, label names, the labels read from the resource. */
function datapointStatements(rule: FamilyRule, fromResource: readonly ResourceLabel[]): string[] {
  const guard = `metric.name == ${str(sourceOf(rule))}`;
  const out: string[] = [];
  for (const a of CATALOG.get(rule.instrument)?.attributes ?? []) {
    if (a.values !== undefined && a.outside !== 'drop')
      out.push(
        `set(${attr(a.key)}, ${str(OTHER)}) where ${guard} and ${outsideSet(attr(a.key), a.values)}`,
      );
  }
  for (const [attribute, words] of Object.entries(rule.values ?? {})) {
    for (const [from, to] of Object.entries(words)) {
      if (from !== to)
        out.push(
          `set(${attr(attribute)}, ${str(to)}) where ${guard} and ${attr(attribute)} == ${str(from)}`,
        );
    }
  }
  for (const [attribute, label] of rule.labels ?? []) {
    if (attribute === label) continue;
    out.push(
      `set(${attr(label)}, ${attr(attribute)}) where ${guard} and ${attr(attribute)} != nil`,
    );
    out.push(`delete_key(attributes, ${str(attribute)}) where ${guard}`);
  }
  for (const r of fromResource)
    out.push(`set(${attr(r.label)}, resource.attributes[${str(r.attribute)}]) where ${guard}`);
  return out;
}

/**
 * What the sender's metric is, from the catalog (a histogram's sum or count: a monotonic sum);
 * undefined for an instrument it does not list.
 */
function otlpTypeOf(rule: FamilyRule): Shape | undefined {
  if (rule.from === 'sum' || rule.from === 'count') return 'monotonicSum';
  const kind = CATALOG.get(rule.instrument)?.kind;
  return kind === undefined ? undefined : SHAPE_OF_KIND[kind];
}

/**
 * The rule's type from the sender's: only where they differ, or, for an instrument the catalog does
 * not list, guarded by the metric's type. A non-monotonic sum is already a Prometheus gauge.
 */
function typeStatements(rule: FamilyRule, guard: string): string[] {
  const sent = otlpTypeOf(rule);
  if (rule.type === 'counter') {
    if (sent === 'gauge') return [`convert_gauge_to_sum("cumulative", true) where ${guard}`];
    if (sent === 'sum') return [`set(metric.is_monotonic, true) where ${guard}`];
    if (sent === undefined) {
      return [
        `convert_gauge_to_sum("cumulative", true) where ${guard} and metric.type == METRIC_DATA_TYPE_GAUGE`,
        `set(metric.is_monotonic, true) where ${guard} and metric.type == METRIC_DATA_TYPE_SUM`,
      ];
    }
  }
  if (rule.type === 'gauge' || rule.type === 'info') {
    if (sent === 'monotonicSum') return [`convert_sum_to_gauge() where ${guard}`];
    if (sent === undefined)
      return [
        `convert_sum_to_gauge() where ${guard} and metric.type == METRIC_DATA_TYPE_SUM and metric.is_monotonic == true`,
      ];
  }
  return [];
}

/** Metric statements of one rule: sum what dropped attributes merge, type, scale, HELP, unit, name last. */
function metricStatements(rule: FamilyRule, fromResource: readonly ResourceLabel[]): string[] {
  const guard = `metric.name == ${str(sourceOf(rule))}`;
  const labels = [
    ...(rule.labels ?? []).map(([, label]) => label),
    ...fromResource.map((r) => r.label),
  ];
  const out = [`aggregate_on_attributes("sum", [${labels.map(str).join(', ')}]) where ${guard}`];
  out.push(...typeStatements(rule, guard));
  if (rule.scale !== undefined && rule.scale !== 1)
    out.push(`scale_metric(${floatLiteral(rule.scale)}) where ${guard}`);
  out.push(`set(metric.description, ${str(rule.help)}) where ${guard}`);
  if (rule.unit !== undefined)
    out.push(`set(metric.unit, ${str(UCUM[rule.unit] ?? rule.unit)}) where ${guard}`);
  out.push(`set(metric.name, ${str(rule.name)}) where ${guard}`);
  return out;
}

/**
 * A Go daemon's runtime metrics, from the OpenTelemetry Go runtime instrumentation
 * (go.opentelemetry.io/contrib/instrumentation/runtime), read as the canonical instruments a
 * profile's process families come from: renamed before anything else, so the profile's own
 * statements then apply to them. The semconv `go.*` set has the goroutines and the memory the
 * runtime holds from the OS (summed over `go.memory.type`: Sys less what the heap released); the
 * heap in use, the GC count and the uptime come only in the instrumentation's deprecated set
 * (OTEL_GO_X_DEPRECATED_RUNTIME_METRICS=true), as `MemStats.HeapAlloc`, `NumGC` and milliseconds.
 * `deprecated` and `goOnly` are what docs/fleet.md's many-daemons table qualifies "all" with
 * (test/cli/collector-config.test.ts holds the table to them).
 */
export const GO_RUNTIME: readonly {
  readonly from: string;
  readonly to: string;
  readonly milliseconds?: true;
  /** Only in the deprecated set. */
  readonly deprecated?: true;
  /** A figure only a Go runtime has. */
  readonly goOnly?: true;
}[] = [
  { from: 'go.goroutine.count', to: 'jobmeter.process.active_resources', goOnly: true },
  { from: 'go.memory.used', to: 'process.memory.usage' },
  { from: 'process.runtime.go.mem.heap_alloc', to: 'v8js.memory.heap.used', deprecated: true },
  { from: 'process.runtime.go.gc.count', to: 'jobmeter.process.gc.count', deprecated: true },
  { from: 'runtime.uptime', to: 'process.uptime', milliseconds: true, deprecated: true },
];

/** The Go runtime's metrics renamed to the instruments the profile reads; nothing for a profile that reads none. */
function goRuntimeStatements(profile: TableProfile): string[] {
  const read = new Set(profile.rules.map((r) => r.instrument));
  return GO_RUNTIME.filter((g) => read.has(g.to)).flatMap((g) => {
    const guard = `metric.name == ${str(g.from)}`;
    // runtime.uptime is a counter of milliseconds; process.uptime a gauge of seconds.
    const convert =
      g.milliseconds === true
        ? [`scale_metric(0.001, "s") where ${guard}`, `convert_sum_to_gauge() where ${guard}`]
        : [];
    return [...convert, `set(metric.name, ${str(g.to)}) where ${guard}`];
  });
}

/** Histogram figures served as plain counters (wasmrun's `…_ms_sum` / `…_ms_count`). */
function extractions(profile: TableProfile): string[] {
  return profile.rules.flatMap((rule) =>
    rule.from === 'sum' || rule.from === 'count'
      ? [`extract_${rule.from}_metric(true) where metric.name == ${str(rule.instrument)}`]
      : [],
  );
}

/**
 * The `prometheus` exporter serves a `target_info` (the resource's attributes) for every resource
 * with both `service.name` and `service.instance.id`, and has no option to leave it out; the legacy
 * pull serves none. So `service.instance.id` moves from the resource to each data point's `instance`
 * attribute, after the profile's sums, as a string (the exporter's own conversion): the series keep
 * the `instance` label the exporter would have written from the resource (two senders' series stay
 * apart), and no resource qualifies for `target_info`. Only where this Collector's own exporter serves the pull: a gateway's store or a
 * front's workers read `service.instance.id` from the resource.
 */
const WITHOUT_TARGET_INFO = [
  {
    context: 'datapoint',
    statements: [
      'set(attributes["instance"], String(resource.attributes["service.instance.id"])) where resource.attributes["service.instance.id"] != nil',
    ],
  },
  { context: 'resource', statements: ['delete_key(attributes, "service.instance.id")'] },
];

/** The Collector's recommended start: refuse data past 80 % of the memory limit, spikes of 20 %. */
const GATEWAY_MEMORY_LIMITER = {
  check_interval: '1s',
  limit_percentage: 80,
  spike_limit_percentage: 20,
};

/**
 * Host attributes from the machine the Collector runs on, for the profile labels read from the
 * resource (naming/resource-labels.ts: `host.name`, what the `system` detector gives). Only where the
 * Collector runs beside the daemon: a gateway's host is not its senders', so there the sender must
 * carry them (jobmeter's own push does). `override:
 * false` keeps what the sender set; `os.type`, on by default, is off: no label reads it, and it would
 * only widen `target_info`.
 */
const SYSTEM_DETECTION = {
  detectors: ['system'],
  override: false,
  system: { hostname_sources: ['os'], resource_attributes: { 'os.type': { enabled: false } } },
};

/** `service.telemetry`: the Collector's own metrics, pulled from `address` (HOST:PORT). */
function telemetryOf(address: string): Record<string, unknown> {
  const { host, port } = readAddress(address, '--telemetry', 'host');
  return {
    metrics: { level: 'normal', readers: [{ pull: { exporter: { prometheus: { host, port } } } }] },
  };
}

/** Names as the transform wrote them: no unit or `_total` suffix added, no scope labels. */
function prometheusExporter(endpoint: string): Record<string, unknown> {
  return {
    endpoint,
    translation_strategy: 'UnderscoreEscapingWithoutSuffixes',
    without_scope_info: true,
  };
}

type GatewayStores = NonNullable<CollectorEndpoints['gateway']>;

/** Whether the configuration forwards to a gateway's store rather than serving a scrape. */
const isGateway = (gateway: GatewayStores | undefined): gateway is GatewayStores =>
  gateway !== undefined && Object.values(gateway).some((store) => store !== undefined);

function gatewayExporters(gateway: GatewayStores): Record<string, unknown> {
  return {
    ...(gateway.otlp !== undefined && { otlp_http: { endpoint: gateway.otlp } }),
    // jobmeter serve's gRPC ingest speaks HTTP/2 without TLS (loopback unless configured otherwise).
    ...(gateway.otlpGrpc !== undefined && {
      otlp_grpc: { endpoint: gateway.otlpGrpc, tls: { insecure: true } },
    }),
    ...(gateway.remoteWrite !== undefined && {
      prometheus_remote_write: {
        endpoint: gateway.remoteWrite,
        translation_strategy: 'UnderscoreEscapingWithoutSuffixes',
        disable_scope_info: true,
        // TYPE and HELP travel as remote-write metadata.
        send_metadata: true,
      },
    }),
  };
}

/**
 * The front's queue and retries, written out (the exporter helper's defaults but for the consumers)
 * at both of `load_balancing`'s levels: its own, off unless written, and each worker's `otlp`. One
 * consumer per queue keeps a stream's points in the order they came to the worker: two requests
 * sent at once (a queue drained after a worker's outage) can arrive swapped, and the worker's
 * `delta_to_cumulative` refuses a delta window older than one it took, losing its counts.
 */
const FRONT_QUEUE = { enabled: true, num_consumers: 1, queue_size: 1000 };
const FRONT_RETRY = {
  enabled: true,
  initial_interval: '5s',
  max_interval: '30s',
  max_elapsed_time: '300s',
};

/**
 * The front's exporter: each data point stream (resource, scope, metric and attributes, as the
 * profile's transform left them) always to the same worker, so a worker's `delta_to_cumulative` and
 * `prometheus` exporter see every point of the streams they hold and no stream is served twice. The
 * workers are reached over OTLP/gRPC, the only protocol `load_balancing` speaks.
 */
function loadBalancing(workers: readonly string[]): Record<string, unknown> {
  return {
    routing_key: 'streamID',
    sending_queue: FRONT_QUEUE,
    retry_on_failure: FRONT_RETRY,
    protocol: {
      otlp: {
        tls: { insecure: true },
        sending_queue: FRONT_QUEUE,
        retry_on_failure: FRONT_RETRY,
      },
    },
    resolver: { static: { hostnames: [...workers] } },
  };
}

/**
 * A sharded tier's worker. It holds state only (delta streams made cumulative, the exporter's
 * series): the profile's processors ran in the front, where every stream a renamed or summed series
 * is made of arrives in one request — a worker sees only its share of the streams, so a sum over
 * dropped attributes there would be split between workers. `delta_to_cumulative` lets delta senders
 * (the OTel SDKs' delta preference, a Go or Rust daemon's) be served as Prometheus counters; it
 * leaves cumulative streams alone.
 */
function workerConfig(endpoints: CollectorEndpoints): Record<string, unknown> {
  const processors = { memory_limiter: GATEWAY_MEMORY_LIMITER, delta_to_cumulative: {}, batch: {} };
  return collectorOf(endpoints, 'grpc', processors, storeExporters(endpoints));
}

/** The stores: a gateway's, or the `prometheus` exporter. */
function storeExporters(endpoints: CollectorEndpoints): Record<string, unknown> {
  return isGateway(endpoints.gateway)
    ? gatewayExporters(endpoints.gateway)
    : { prometheus: prometheusExporter(endpoints.prometheus) };
}

/** One metrics pipeline, processors in the order given, with the health and telemetry every configuration has. */
function collectorOf(
  endpoints: CollectorEndpoints,
  protocol: 'http' | 'grpc',
  processors: Record<string, unknown>,
  exporters: Record<string, unknown>,
): Record<string, unknown> {
  return {
    extensions: { health_check: { endpoint: endpoints.health } },
    receivers: { otlp: { protocols: { [protocol]: { endpoint: endpoints.otlp } } } },
    processors,
    exporters,
    service: {
      extensions: ['health_check'],
      telemetry: telemetryOf(endpoints.telemetry),
      pipelines: {
        metrics: {
          receivers: ['otlp'],
          processors: Object.keys(processors),
          exporters: Object.keys(exporters),
        },
      },
    },
  };
}

/**
 * `profile` as a Collector configuration: `config` as the Collector reads it (YAML or JSON of
 * it); `notReproduced`, the families the Collector cannot reproduce (the `# not reproduced by the
 * Collector:` line); `zeroFilled`, the families with series the profile fills in with 0 (jobmeter's
 * canonical push carries those zeros, naming/zero-fill-push.ts; another SDK's push has them once it
 * records them, 0 at start-up).
 */
export function compileCollectorConfig(
  profile: TableProfile,
  endpoints: CollectorEndpoints = COLLECTOR_CONFIG_DEFAULTS,
) {
  checkCompilable(profile);
  const zeroFilled = [...new Set(zeroSeries(profile.rules).map((s) => s.rule.name))];
  if (endpoints.tier !== undefined && 'worker' in endpoints.tier)
    return { config: workerConfig(endpoints), notReproduced: [], zeroFilled };
  const front =
    endpoints.tier !== undefined && 'front' in endpoints.tier ? endpoints.tier.front : undefined;
  const fromResource = resourceLabels(profile);
  const drops = vocabularyDrops(profile);
  const gateway = front !== undefined || isGateway(endpoints.gateway);
  // A group without statements is left out (the filter below).
  const metricStatementGroups = [
    { context: 'metric', statements: goRuntimeStatements(profile) },
    { context: 'metric', statements: extractions(profile) },
    {
      context: 'datapoint',
      statements: profile.rules.flatMap((r) => datapointStatements(r, fromResource)),
    },
    {
      context: 'metric',
      statements: profile.rules.flatMap((r) => metricStatements(r, fromResource)),
    },
    ...(gateway ? [] : WITHOUT_TARGET_INFO),
  ].filter((g) => g.statements.length > 0);
  const served = `not (${oneOf(
    'metric.name',
    profile.rules.map((r) => r.name),
  )})`;
  const processors: Record<string, unknown> = {
    ...(gateway && { memory_limiter: GATEWAY_MEMORY_LIMITER }),
    ...(!gateway && fromResource.length > 0 && { 'resource_detection/system': SYSTEM_DETECTION }),
    ...(drops.length > 0 && {
      'filter/vocabulary': { error_mode: 'ignore', metrics: { datapoint: drops } },
    }),
    transform: { error_mode: 'ignore', metric_statements: metricStatementGroups },
    'filter/profile': { error_mode: 'ignore', metrics: { metric: [served] } },
    // Last, so it batches only what the profile kept; a front's batches are routed per stream.
    ...(gateway && { batch: {} }),
  };
  const exporters =
    front !== undefined
      ? { load_balancing: loadBalancing(front.workers) }
      : storeExporters(endpoints);
  const config = collectorOf(endpoints, 'http', processors, exporters);
  // Every rule of the legacy tables compiles (checkCompilable): none is left to the pull endpoint
  // alone. A rule that could not would be named here, and in the header, instead of throwing.
  return { config, notReproduced: [], zeroFilled };
}
