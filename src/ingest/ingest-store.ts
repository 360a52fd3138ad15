/**
 * The OTLP ingest store: a `MetricProducer` holding, as cumulative state, every metric that
 * foreign SDKs push to `jobmeter serve`. Each pull collection (and each OTLP push, when the push
 * reader is given the store) reads it after the SDK's own metrics, in the SDK's own shapes
 * (cumulative SUM / GAUGE / HISTOGRAM `MetricData`), so the one naming stage applies to both.
 *
 * Decisions (docs/collector.md explains them to users):
 *
 * - **One jobmeter is one target.** Resources are merged: the series of every sender are rendered
 *   under jobmeter's own resource (`target_info`, the `hostname` label…), and the senders' resource
 *   attributes become neither labels nor `target_info`. Instrumentation scopes are kept (the native
 *   profile shows them as `otel_scope_name`/`otel_scope_version`).
 * - **State per source series, output per bounded series.** A source series (a *stream*) is one
 *   (resource, scope, instrument, attribute set) as sent. Canonical instruments (the catalog's
 *   names) have their attributes bounded exactly as an embedded host's views bound them
 *   (`createBoundedAttributesProcessor`: undeclared keys dropped, values folded into `other`), and
 *   the streams that land on one bounded attribute set are added up — what the SDK does with the
 *   measurements of an embedded host. Cumulative re-aggregation needs the per-stream state, so the
 *   number of streams is what the caps bound.
 * - **Temporality.** Delta points are accumulated; cumulative points replace the stream's value.
 *   A cumulative monotonic stream whose value goes down has been reset (its sender restarted and
 *   counts from zero): what it had counted is kept in the series' base and the new value adds from
 *   there, so the series never jumps backwards because of one sender. A new start time alone is no
 *   reset: a daemon that reports totals it keeps (in its database) sends the same totals with a new
 *   start time after a restart, and they must not be counted twice — the rule Prometheus applies
 *   to a scraped counter (only a decrease is a reset). The price: increments a restarted in-memory
 *   counter made before its first export, up to its old value, are not seen. Up-down
 *   sums and gauges are levels: a stream contributes its latest value. A delta point at or before
 *   the stream's last time is a duplicate (a retried export) and is skipped.
 * - **Expiry.** A stream not updated for `expiryMillis` (default 5 minutes, the Collector's
 *   `metric_expiration`) is dropped; a series with no stream left disappears with it. A point
 *   flagged "no recorded value" ends its stream at once.
 * - **Refusals** are counted per request and reported in `partial_success`: a type or unit
 *   conflict (with the canonical instrument, or with what the store already holds under that
 *   name), a point without a value or with an invalid histogram, a negative delta on a monotonic
 *   sum, a summary (no Prometheus rendering worth having), and the caps (source
 *   series per instrument, in all, instruments). Undeclared attributes of canonical instruments
 *   are dropped, not refused — as on an embedded host — and said in the message as a warning.
 *
 * - **Memory in bytes.** Names, units, descriptions, scope names and attributes are bounded in
 *   length before anything is kept (input-bounds.ts); every stream, series and instrument is
 *   charged its estimated size (memory-estimate.ts) against `maxMemoryBytes`, and a new one that
 *   would pass it is refused, as the caps refuse.
 * - **Refusals are counted** by reason for the life of the store and served as the self-metric
 *   `jobmeter.ingest.refused{reason}` (a name no sender may use).
 *
 * Memory is bounded by `maxSeries` streams (plus their bounded series) and by `maxMemoryBytes`,
 * whatever the senders do.
 * Nothing runs on a timer: expiry is applied when data arrives and when a collection reads the
 * store, against the injectable clock `now`.
 */
import { ValueType, type Attributes, type AttributeValue, type HrTime } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type ExponentialHistogram,
  type Histogram,
  type MetricData,
  type MetricDescriptor,
  type MetricProducer,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { OPTION_DEFAULTS } from '../common/option-defaults.ts';
import { positiveInteger, positiveMillis } from '../common/option-rules.ts';
import { createBoundedAttributesProcessor, maxAttributeSets, MAX_VALUE_LENGTH, toLabelString } from '../domain/bounded-attributes.ts';
import { DOMAIN_INSTRUMENTS, RUN_FINISHED } from '../domain/catalog.ts';
import { PROCESS_INSTRUMENTS } from '../domain/process-metrics.ts';
import type { InstrumentKind, InstrumentSpec } from '../domain/types.ts';
import { dropOutsideCheck, vocabularyCheck, type VocabularyCheck } from '../domain/vocabulary.ts';
import { MAX_SERIES_PER_INSTRUMENT } from '../views/build-views.ts';
import { VERSION } from '../version.ts';
import {
  compactKey,
  cut,
  limitAttributes,
  MAX_DESCRIPTION_LENGTH,
  MAX_NAME_LENGTH,
  MAX_SCOPE_LENGTH,
  MAX_UNIT_LENGTH,
  type DroppedAttributes,
} from './input-bounds.ts';
import { instrumentBytes, seriesBytes, streamBytes } from './memory-estimate.ts';
import { derivedRunMetrics } from './derived-runs.ts';
import type {
  OtlpExportRequest,
  OtlpExponentialHistogramPoint,
  OtlpHistogramPoint,
  OtlpMetric,
  OtlpNumberPoint,
  OtlpPartialSuccess,
} from '../otlp/types.ts';
import { addExponential, MAX_EXPONENTIAL_BUCKETS, type ExponentialSum } from '../otlp/exponential.ts';

export const DEFAULT_INGEST_EXPIRY_MILLIS = OPTION_DEFAULTS.ingest.expiryMillis;
/** The OpenTelemetry SDKs' default cardinality limit: what a sender itself keeps per instrument. */
export const DEFAULT_MAX_SERIES_PER_INSTRUMENT = OPTION_DEFAULTS.ingest.maxSeriesPerInstrument;
export const DEFAULT_MAX_SERIES = OPTION_DEFAULTS.ingest.maxSeries;
export const DEFAULT_MAX_INSTRUMENTS = 1_000;
/** Estimated bytes the store may hold (memory-estimate.ts). */
export const DEFAULT_MAX_MEMORY_BYTES = OPTION_DEFAULTS.ingest.maxMemoryBytes;
/** The self-metric counting refused data points by reason; a sender may not use the name. */
export const REFUSED_METRIC = 'jobmeter.ingest.refused';

/**
 * The series Prometheus writes itself for every scrape, under the target's `job` and `instance`
 * (the last three with its extra-scrape-metrics feature). Served by jobmeter, a family of one of
 * these names takes their place — an unlabelled sample is stored as Prometheus' own, so a sender
 * could set the target's `up` to 0 — or answers every `up == 0` alert; so, on the native pull
 * endpoint, they are held as reserved names as jobmeter's own are.
 */
export const PROMETHEUS_SCRAPE_SERIES: ReadonlyMap<string, string> = new Map(
  ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added', 'scrape_timeout_seconds', 'scrape_sample_limit', 'scrape_body_size_bytes'].map(
    (n) => [n, "Prometheus's own per-scrape series"],
  ),
);

/** Why data points were refused: the `reason` attribute of {@link REFUSED_METRIC}. */
export type RefusalReason =
  | 'no_name'
  | 'too_long'
  | 'reserved_name'
  | 'name_clash'
  | 'unsupported_type'
  | 'type_conflict'
  | 'unit_conflict'
  | 'invalid_point'
  | 'invalid_histogram'
  | 'bounds_conflict'
  | 'instrument_cap'
  | 'series_cap'
  | 'memory_budget'
  | 'vocabulary';
/** Longest `partial_success.error_message`; the rest is cut with `…`. */
export const MAX_ERROR_MESSAGE_LENGTH = 1_024;

export interface IngestStoreOptions {
  /**
   * The canonical instruments: their names fix the data type and unit a sender must use, and
   * their attribute specs bound the attributes as an embedded host's views do. Names not listed
   * are accepted as they come, under {@link maxSeriesPerInstrument}.
   * @default the domain catalog and the process instruments (DOMAIN_INSTRUMENTS, PROCESS_INSTRUMENTS)
   */
  instruments?: readonly InstrumentSpec[];
  /**
   * Milliseconds a source series is kept after its last point (the Collector's
   * `metric_expiration`). Must be positive. @default 300000 (5 minutes)
   */
  expiryMillis?: number;
  /**
   * Source series (distinct resource × scope × attribute set) one instrument may hold; points of
   * new ones past it are refused. A canonical instrument may hold more when its attribute specs
   * allow more sets (up to the views' ceiling of 10000, as on an embedded host). A positive
   * integer. @default 2000
   */
  maxSeriesPerInstrument?: number;
  /** Source series across all instruments; points of new ones past it are refused. @default 50000 */
  maxSeries?: number;
  /** Distinct instrument names; metrics under new names past it are refused. @default 1000 */
  maxInstruments?: number;
  /**
   * Estimated bytes of state the store may hold (memory-estimate.ts); points of new series or
   * instruments that would pass it are refused. A positive integer. @default 134217728 (128 MiB)
   */
  maxMemoryBytes?: number;
  /** The clock (Unix milliseconds) used for expiry and point times. @default Date.now */
  now?: () => number;
  /**
   * The names an instrument takes on the pull endpoint (every family and sample name, in either
   * format: the native profile's `nativeClaimedNames`). When given, a new instrument that would
   * take a name another one holds, one of {@link reservedNames} or of {@link PROMETHEUS_SCRAPE_SERIES},
   * is refused (`name_clash`):
   * served side by side, two families under one name break the scrape. @default none (the legacy
   * profiles serve canonical names only, which cannot clash)
   */
  exposedNames?: (name: string, unit: string, kind: ExposedKind) => readonly string[];
  /**
   * Names jobmeter serves itself (its own instruments', `target_info`, its self-metrics'), each
   * with its owner: an instrument name (a sender may feed that instrument, not another) or a
   * description. @default none
   */
  reservedNames?: ReadonlyMap<string, string>;
  /**
   * The profile's closed vocabularies over canonical attributes (naming/types.ts): a point of a
   * canonical instrument with a value outside them — or outside a closed attribute that drops
   * (`outside: 'drop'`) — is refused, as an embedded host drops the record. @default none
   */
  vocabularies?: Readonly<Record<string, readonly string[]>>;
}

/** The instrument kinds the exposition tells apart. */
export type ExposedKind = 'counter' | 'gauge' | 'histogram';

/** What one export request did. */
export interface IngestResult extends OtlpPartialSuccess {
  readonly acceptedDataPoints: number;
}

/** What the listener needs of a store. */
export interface IngestSink {
  ingest(request: OtlpExportRequest): IngestResult;
  /**
   * One request ingested in parts (the listener decodes off the main thread and hands a request
   * over in chunks). Without it the listener decodes on the main thread and calls `ingest`.
   */
  begin?(): IngestBatch;
}

/** The parts of one request: `add` each, then `result` once. */
export interface IngestBatch {
  add(part: OtlpExportRequest): void;
  result(): IngestResult;
}

// ---------------------------------------------------------------------------------------------
// Internal state

/** The five output shapes: what the naming stage sees. */
type Shape = 'monotonicSum' | 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram';

const SHAPE_OF_KIND: Readonly<Record<InstrumentKind, Shape>> = {
  counter: 'monotonicSum',
  observableCounter: 'monotonicSum',
  upDownCounter: 'sum',
  observableUpDownCounter: 'sum',
  gauge: 'gauge',
  observableGauge: 'gauge',
  histogram: 'histogram',
};

const EXPOSED_KIND: Readonly<Record<Shape, ExposedKind>> = {
  monotonicSum: 'counter',
  sum: 'gauge',
  gauge: 'gauge',
  histogram: 'histogram',
  exponentialHistogram: 'histogram',
};

const SHAPE_WORDS: Readonly<Record<Shape, string>> = {
  monotonicSum: 'a monotonic Sum (counter)',
  sum: 'a non-monotonic Sum (up-down counter)',
  gauge: 'a Gauge',
  histogram: 'a Histogram',
  exponentialHistogram: 'an ExponentialHistogram',
};

interface HistogramAcc {
  counts: number[];
  sum: number;
  count: number;
}

interface Instrument {
  readonly name: string;
  readonly shape: Shape;
  readonly descriptor: MetricDescriptor;
  readonly spec: InstrumentSpec | undefined;
  readonly fold: (attributes: Attributes) => Attributes;
  /** Canonical instruments: the value of a point's attributes outside a closed set that drops. */
  readonly closed: VocabularyCheck | undefined;
  /** Source series it may hold. */
  readonly streamCap: number;
  /** Output series by scope key + bounded attribute key. */
  readonly series: Map<string, Series>;
  streamCount: number;
  /** Its charge against the memory budget. */
  readonly bytes: number;
  /** The exposed names it holds (`exposedNames`), released with it. */
  readonly names: readonly string[];
}

interface Series {
  readonly instrument: Instrument;
  /** Its key in `instrument.series`. */
  readonly key: string;
  readonly scopeKey: string;
  readonly scope: { readonly name: string; readonly version: string };
  /** Frozen and reused for every collection: the naming stage caches label strings by identity. */
  readonly attributes: Attributes;
  readonly startTime: HrTime;
  /** Monotonic sums: what reset or expired streams had counted. */
  base: number;
  baseHist: HistogramAcc | undefined;
  /** Exponential histograms: what reset or expired streams had counted. */
  baseExp: ExponentialSum | undefined;
  /** Histograms: the bucket boundaries every stream of the series must share. */
  bounds: readonly number[] | undefined;
  readonly streams: Set<Stream>;
  /** Its charge against the memory budget. */
  readonly bytes: number;
}

interface Stream {
  readonly key: string;
  readonly series: Series;
  start: bigint;
  /** Time of the last point applied; 0n before the first. */
  time: bigint;
  points: number;
  value: number;
  hist: HistogramAcc | undefined;
  exp: ExponentialSum | undefined;
  updatedAt: number;
  /** Its charge against the memory budget. */
  readonly bytes: number;
}

/** Accepted/refused counts and reasons of one request. */
class Report {
  accepted = 0;
  rejected = 0;
  readonly #reasons = new Map<string, number>();
  readonly #warnings = new Set<string>();
  readonly #refused: Map<RefusalReason, number>;

  /** `refused`: the store's running counts by reason, added to as points are refused. */
  constructor(refused: Map<RefusalReason, number>) {
    this.#refused = refused;
  }

  reject(metric: string, count: number, code: RefusalReason, reason: string): void {
    if (count <= 0) return;
    this.rejected += count;
    this.#refused.set(code, (this.#refused.get(code) ?? 0) + count);
    const key = `${cut(metric, 64) || '(unnamed)'}: ${reason}`;
    this.#reasons.set(key, (this.#reasons.get(key) ?? 0) + count);
  }

  warn(metric: string, text: string): void {
    if (this.#warnings.size < 16) this.#warnings.add(`${cut(metric, 64)}: ${text}`);
  }

  result(): IngestResult {
    let message = '';
    if (this.rejected > 0) {
      const reasons = [...this.#reasons].map(([reason, n]) => `${reason} (${n})`).join('; ');
      message = `${this.rejected} data point${this.rejected === 1 ? '' : 's'} rejected: ${reasons}`;
    }
    if (this.#warnings.size > 0) {
      message += `${message === '' ? '' : '. '}Warnings: ${[...this.#warnings].join('; ')}`;
    }
    if (message.length > MAX_ERROR_MESSAGE_LENGTH) message = message.slice(0, MAX_ERROR_MESSAGE_LENGTH - 1) + '…';
    return { acceptedDataPoints: this.accepted, rejectedDataPoints: this.rejected, errorMessage: message };
  }
}

// ---------------------------------------------------------------------------------------------

export class IngestStore implements MetricProducer, IngestSink {
  readonly #specs: ReadonlyMap<string, InstrumentSpec>;
  readonly #expiryMillis: number;
  readonly #maxSeriesPerInstrument: number;
  readonly #maxSeries: number;
  readonly #maxInstruments: number;
  readonly #maxMemoryBytes: number;
  readonly #now: () => number;
  /** Estimated bytes held (memory-estimate.ts). */
  #bytes = 0;
  /** Data points refused since the store was made, by reason. */
  readonly #refused = new Map<RefusalReason, number>();
  readonly #refusedStart: HrTime;
  /** The latest time a sender's `jobmeter.run.finished{outcome="failure"}` went up (derived-runs.ts), in seconds. */
  #lastFailureSeconds: number | undefined;
  readonly #exposedNames: IngestStoreOptions['exposedNames'];
  readonly #reserved: ReadonlyMap<string, string>;
  /** Exposed names held, by the instrument holding them. */
  readonly #claims = new Map<string, string>();
  readonly #vocabularies: Readonly<Record<string, readonly string[]>> | undefined;
  readonly #instruments = new Map<string, Instrument>();
  readonly #streams = new Map<string, Stream>();
  /** The ScopeMetrics this store produced, so composition can tell them from the SDK's own. */
  readonly #produced = new WeakSet<ScopeMetrics>();
  #lastSweep = Number.NEGATIVE_INFINITY;

  /** @throws {ConfigError} naming the option, for a value that cannot be used. */
  constructor(options: IngestStoreOptions = {}) {
    this.#specs = new Map((options.instruments ?? [...DOMAIN_INSTRUMENTS, ...PROCESS_INSTRUMENTS]).map((s) => [s.name, s]));
    this.#expiryMillis = positiveMillis(options.expiryMillis ?? DEFAULT_INGEST_EXPIRY_MILLIS, 'ingest.expiryMillis');
    this.#maxSeriesPerInstrument = positiveInteger(options.maxSeriesPerInstrument ?? DEFAULT_MAX_SERIES_PER_INSTRUMENT, 'ingest.maxSeriesPerInstrument');
    this.#maxSeries = positiveInteger(options.maxSeries ?? DEFAULT_MAX_SERIES, 'ingest.maxSeries');
    this.#maxInstruments = positiveInteger(options.maxInstruments ?? DEFAULT_MAX_INSTRUMENTS, 'ingest.maxInstruments');
    this.#maxMemoryBytes = positiveInteger(options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES, 'ingest.maxMemoryBytes');
    this.#now = options.now ?? Date.now;
    this.#refusedStart = hrTime(this.#now());
    this.#exposedNames = options.exposedNames;
    this.#reserved = new Map([...PROMETHEUS_SCRAPE_SERIES, ...(options.reservedNames ?? [])]);
    this.#vocabularies = options.vocabularies;
  }

  /** Source series held now (for tests and diagnostics). */
  get seriesCount(): number {
    return this.#streams.size;
  }

  /** Estimated bytes held, the figure checked against `maxMemoryBytes` (for tests and diagnostics). */
  get memoryBytes(): number {
    return this.#bytes;
  }

  /** Whether `scopeMetrics` came out of this store's `collect()`. */
  owns(scopeMetrics: ScopeMetrics): boolean {
    return this.#produced.has(scopeMetrics);
  }

  ingest(request: OtlpExportRequest): IngestResult {
    const batch = this.begin();
    batch.add(request);
    return batch.result();
  }

  begin(): IngestBatch {
    const report = new Report(this.#refused);
    return {
      add: (part) => this.#ingestInto(part, report),
      result: () => report.result(),
    };
  }

  #ingestInto(request: OtlpExportRequest, report: Report): void {
    const now = this.#now();
    this.#sweep(now, false);
    for (const rm of request.resourceMetrics) {
      const resourceKey = compactKey(attributesKey(rm.resource));
      for (const sm of rm.scopeMetrics) {
        const scope = { name: cut(sm.scope.name, MAX_SCOPE_LENGTH), version: cut(sm.scope.version, MAX_SCOPE_LENGTH) };
        const scopeKey = compactKey(sm.scope.name + '\0' + sm.scope.version);
        for (const metric of sm.metrics) this.#ingestMetric(metric, resourceKey, scopeKey, scope, now, report);
      }
    }
  }

  collect(): Promise<CollectionResult> {
    const now = this.#now();
    this.#sweep(now, true);
    const endTime = hrTime(now);
    const scopes = new Map<string, ScopeMetrics>();
    for (const instrument of this.#instruments.values()) {
      const byScope = new Map<string, DataPoint<number>[] | DataPoint<Histogram>[] | DataPoint<ExponentialHistogram>[]>();
      for (const series of instrument.series.values()) {
        let points = byScope.get(series.scopeKey);
        if (points === undefined) {
          points = [];
          byScope.set(series.scopeKey, points);
          if (!scopes.has(series.scopeKey)) scopes.set(series.scopeKey, { scope: { ...series.scope }, metrics: [] });
        }
        const attributes = series.attributes;
        const startTime = series.startTime;
        if (instrument.shape === 'histogram') {
          (points as DataPoint<Histogram>[]).push({ startTime, endTime, attributes, value: histogramValue(series) });
        } else if (instrument.shape === 'exponentialHistogram') {
          (points as DataPoint<ExponentialHistogram>[]).push({ startTime, endTime, attributes, value: exponentialValue(series) });
        } else {
          (points as DataPoint<number>[]).push({ startTime, endTime, attributes, value: numberValue(series) });
        }
      }
      for (const [scopeKey, points] of byScope) scopes.get(scopeKey)!.metrics.push(metricData(instrument, points));
    }
    const scopeMetrics = [...scopes.values()];
    const derived = derivedRunMetrics(scopeMetrics, this.#lastFailureSeconds);
    if (derived.length > 0) scopeMetrics.push({ scope: { name: 'jobmeter', version: VERSION }, metrics: derived });
    if (this.#refused.size > 0) scopeMetrics.push(this.#refusedMetrics(endTime));
    for (const sm of scopeMetrics) this.#produced.add(sm);
    return Promise.resolve({ resourceMetrics: { resource: RESOURCE, scopeMetrics }, errors: [] });
  }

  /** The self-metric: refused data points by reason, under jobmeter's own scope. */
  #refusedMetrics(endTime: HrTime): ScopeMetrics {
    const dataPoints: DataPoint<number>[] = [...this.#refused].map(([reason, value]) => ({
      startTime: this.#refusedStart,
      endTime,
      attributes: { reason },
      value,
    }));
    return {
      scope: { name: 'jobmeter', version: VERSION },
      metrics: [
        {
          descriptor: {
            name: REFUSED_METRIC,
            description: 'OTLP data points the ingest refused, by reason (the reasons are in each partial_success).',
            unit: '{data_point}',
            valueType: ValueType.INT,
          },
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.SUM,
          dataPoints,
          isMonotonic: true,
        },
      ],
    };
  }

  /** Whether `bytes` more would stay within the memory budget; refuses the points otherwise. */
  #fits(bytes: number, metric: string, points: number, report: Report): boolean {
    if (this.#bytes + bytes <= this.#maxMemoryBytes) return true;
    report.reject(metric, points, 'memory_budget', `over the memory budget of ${this.#maxMemoryBytes} bytes`);
    return false;
  }

  // -------------------------------------------------------------------------------------------

  #ingestMetric(
    metric: OtlpMetric,
    resourceKey: string,
    scopeKey: string,
    scope: { name: string; version: string },
    now: number,
    report: Report,
  ): void {
    const data = metric.data;
    if (data.type === 'empty') return;
    if (data.type === 'summary') {
      report.reject(metric.name, data.pointCount, 'unsupported_type', 'Summary is not supported (use an explicit-bucket or exponential Histogram)');
      return;
    }
    if (data.points.length === 0) return;
    if (metric.name === '') {
      report.reject(metric.name, data.points.length, 'no_name', 'a metric needs a name');
      return;
    }
    if (metric.name.length > MAX_NAME_LENGTH) {
      report.reject(metric.name, data.points.length, 'too_long', `a metric name longer than ${MAX_NAME_LENGTH} characters`);
      return;
    }
    if (metric.unit.length > MAX_UNIT_LENGTH) {
      report.reject(metric.name, data.points.length, 'too_long', `a unit longer than ${MAX_UNIT_LENGTH} characters`);
      return;
    }
    if (metric.name === REFUSED_METRIC) {
      report.reject(metric.name, data.points.length, 'reserved_name', 'the name of a jobmeter self-metric');
      return;
    }
    if (data.type !== 'gauge' && data.temporality === 'unspecified') {
      report.reject(metric.name, data.points.length, 'unsupported_type', 'AggregationTemporality is unspecified');
      return;
    }
    const incoming: Shape = data.type === 'sum' ? (data.monotonic ? 'monotonicSum' : 'sum') : data.type;
    const instrument = this.#instrumentFor(metric, incoming, data.points.length, report);
    if (instrument === undefined) return;
    const prefix = instrument.name + '\0' + resourceKey + '\0' + scopeKey + '\0';
    if (data.type === 'histogram') {
      const delta = data.temporality === 'delta';
      for (const point of data.points) this.#ingestHistogramPoint(instrument, point, delta, { prefix, scopeKey, scope, now, report });
    } else if (data.type === 'exponentialHistogram') {
      const delta = data.temporality === 'delta';
      for (const point of data.points) this.#ingestExponentialPoint(instrument, point, delta, { prefix, scopeKey, scope, now, report });
    } else {
      const mode: NumberMode = data.type === 'gauge' ? 'level' : data.temporality === 'delta' ? 'delta' : 'cumulative';
      for (const point of data.points) this.#ingestNumberPoint(instrument, point, mode, prefix, scopeKey, scope, now, report);
    }
  }

  /** The instrument `metric` feeds, created on first sight; undefined (points refused) on a conflict or past a cap. */
  #instrumentFor(metric: OtlpMetric, incoming: Shape, points: number, report: Report): Instrument | undefined {
    const existing = this.#instruments.get(metric.name);
    const spec = existing?.spec ?? this.#specs.get(metric.name);
    // A canonical histogram takes the sender's kind of buckets (as a host View may choose either).
    const specShape = spec === undefined ? undefined : SHAPE_OF_KIND[spec.kind] === 'histogram' && incoming === 'exponentialHistogram' ? incoming : SHAPE_OF_KIND[spec.kind];
    const shape = existing?.shape ?? specShape ?? incoming;
    if (!compatible(shape, incoming, spec !== undefined)) {
      report.reject(metric.name, points, 'type_conflict', `type conflict: received ${SHAPE_WORDS[incoming]}, but it is ${SHAPE_WORDS[shape]}`);
      return undefined;
    }
    const unit = existing?.descriptor.unit ?? spec?.unit ?? metric.unit;
    // A canonical instrument may come without a unit (it is the catalog's); anything else must agree.
    if (metric.unit !== unit && !(spec !== undefined && metric.unit === '')) {
      report.reject(metric.name, points, 'unit_conflict', `unit conflict: received "${metric.unit}", expected "${unit}"`);
      return undefined;
    }
    if (existing !== undefined) return existing;
    if (this.#instruments.size >= this.#maxInstruments) {
      report.reject(metric.name, points, 'instrument_cap', `over the cap of ${this.#maxInstruments} instruments`);
      return undefined;
    }
    const names = this.#exposedNames?.(metric.name, unit, EXPOSED_KIND[shape]) ?? [];
    for (const n of names) {
      const owner = this.#reserved.get(n) ?? this.#claims.get(n);
      if (owner !== undefined && owner !== metric.name) {
        report.reject(metric.name, points, 'name_clash', `its exposed name ${n} is taken by ${cut(owner, 64)}`);
        return undefined;
      }
    }
    const description = spec?.description ?? cut(metric.description, MAX_DESCRIPTION_LENGTH);
    const bytes = instrumentBytes(metric.name, description, unit);
    if (!this.#fits(bytes, metric.name, points, report)) return undefined;
    this.#bytes += bytes;
    for (const n of names) this.#claims.set(n, metric.name);
    const instrument: Instrument = {
      name: metric.name,
      shape,
      descriptor: {
        name: metric.name,
        description,
        unit,
        valueType: ValueType.DOUBLE,
      },
      spec,
      fold: spec !== undefined ? boundedFold(spec) : plainFold,
      closed: spec === undefined ? undefined : closedCheck(spec, this.#vocabularies),
      // A canonical instrument may hold as many series as its vocabularies allow, up to the views'
      // ceiling, as on an embedded host (rm's per-host gauges: 5000 hosts).
      streamCap:
        spec === undefined
          ? this.#maxSeriesPerInstrument
          : Math.max(this.#maxSeriesPerInstrument, Math.min(maxAttributeSets(spec.attributes), MAX_SERIES_PER_INSTRUMENT)),
      series: new Map(),
      streamCount: 0,
      bytes,
      names,
    };
    this.#instruments.set(metric.name, instrument);
    return instrument;
  }

  /** The stream a point belongs to, created (with its series) on first sight; undefined when refused. */
  #streamFor(
    instrument: Instrument,
    attributes: Attributes,
    key: string,
    buckets: number,
    scopeKey: string,
    scope: { name: string; version: string },
    now: number,
    report: Report,
  ): Stream | undefined {
    const found = this.#streams.get(key);
    if (found !== undefined) return found;
    if (this.#streams.size >= this.#maxSeries) {
      report.reject(instrument.name, 1, 'series_cap', `over the cap of ${this.#maxSeries} source series in all`);
      return undefined;
    }
    if (instrument.streamCount >= instrument.streamCap) {
      report.reject(instrument.name, 1, 'series_cap', `over the cap of ${instrument.streamCap} source series per instrument`);
      return undefined;
    }
    if (instrument.closed?.(attributes) !== undefined) {
      report.reject(instrument.name, 1, 'vocabulary', "an attribute value outside the closed set the profile's original documents");
      return undefined;
    }
    const dropped: DroppedAttributes = { emptyKeys: 0, longKeys: 0, pastCount: 0 };
    const limited = limitAttributes(attributes, dropped);
    if (dropped.emptyKeys > 0) report.warn(instrument.name, 'an attribute with an empty key was dropped');
    if (dropped.longKeys > 0) report.warn(instrument.name, `${dropped.longKeys} attribute(s) with a key longer than 255 characters dropped`);
    if (dropped.pastCount > 0) report.warn(instrument.name, `${dropped.pastCount} attribute(s) past the first 128 dropped`);
    if (instrument.spec !== undefined) {
      for (const k of Object.keys(limited)) {
        if (!instrument.spec.attributes.some((a) => a.key === k)) report.warn(instrument.name, `attribute "${cut(k, 64)}" is not declared and was dropped`);
      }
    }
    const bounded = instrument.fold(limited);
    const seriesKey = scopeKey + '\0' + compactKey(attributesKey(bounded));
    let series = instrument.series.get(seriesKey);
    const newSeriesBytes = series === undefined ? seriesBytes(seriesKey, bounded, buckets) : 0;
    const bytes = streamBytes(key, buckets);
    if (!this.#fits(bytes + newSeriesBytes, instrument.name, 1, report)) return undefined;
    this.#bytes += bytes + newSeriesBytes;
    if (series === undefined) {
      series = {
        instrument,
        key: seriesKey,
        scopeKey,
        scope,
        attributes: Object.freeze(bounded),
        startTime: hrTime(now),
        base: 0,
        baseHist: undefined,
        baseExp: undefined,
        bounds: undefined,
        streams: new Set(),
        bytes: newSeriesBytes,
      };
      instrument.series.set(seriesKey, series);
    }
    const stream: Stream = { key, series, start: 0n, time: 0n, points: 0, value: 0, hist: undefined, exp: undefined, updatedAt: now, bytes };
    series.streams.add(stream);
    instrument.streamCount++;
    this.#streams.set(key, stream);
    return stream;
  }

  #ingestNumberPoint(
    instrument: Instrument,
    point: OtlpNumberPoint,
    mode: NumberMode,
    prefix: string,
    scopeKey: string,
    scope: { name: string; version: string },
    now: number,
    report: Report,
  ): void {
    const key = prefix + compactKey(attributesKey(point.attributes));
    if (point.noRecordedValue) {
      this.#endStream(key);
      report.accepted++;
      return;
    }
    const v = point.value;
    if (v === undefined) {
      report.reject(instrument.name, 1, 'invalid_point', 'a data point without a value (neither asDouble nor asInt)');
      return;
    }
    const monotonic = instrument.shape === 'monotonicSum';
    if (monotonic && !(v >= 0)) {
      report.reject(instrument.name, 1, 'invalid_point', 'a negative or NaN value on a monotonic Sum');
      return;
    }
    const stream = this.#streamFor(instrument, point.attributes, key, 0, scopeKey, scope, now, report);
    if (stream === undefined) return;
    if (isStale(stream, point, mode === 'cumulative')) {
      report.accepted++;
      return;
    }
    const before = stream.value;
    if (mode === 'delta') {
      stream.value += v;
    } else {
      if (monotonic && mode === 'cumulative' && stream.points > 0 && v < stream.value) {
        // The sender's counter started over: keep what it had counted, count on from there.
        stream.series.base += stream.value;
      }
      stream.value = v;
    }
    if (instrument.name === RUN_FINISHED.name && point.attributes['outcome'] === 'failure' && stream.value > before) {
      const seconds = Number(point.timeUnixNano / 1_000_000n) / 1000;
      if (this.#lastFailureSeconds === undefined || seconds > this.#lastFailureSeconds) this.#lastFailureSeconds = seconds;
    }
    applied(stream, point, now);
    report.accepted++;
  }

  /**
   * The stream of a histogram point of either kind, `buckets` wide; undefined when the point is
   * done with: it ended its stream ("no recorded value"), it is `invalid`, or it was refused.
   */
  #histogramStream(
    instrument: Instrument,
    point: OtlpHistogramPoint | OtlpExponentialHistogramPoint,
    invalid: string | undefined,
    buckets: number,
    at: PointContext,
  ): Stream | undefined {
    const key = at.prefix + compactKey(attributesKey(point.attributes));
    if (point.noRecordedValue) {
      this.#endStream(key);
      at.report.accepted++;
      return undefined;
    }
    if (invalid !== undefined) {
      at.report.reject(instrument.name, 1, 'invalid_histogram', invalid);
      return undefined;
    }
    return this.#streamFor(instrument, point.attributes, key, buckets, at.scopeKey, at.scope, at.now, at.report);
  }

  #ingestHistogramPoint(instrument: Instrument, point: OtlpHistogramPoint, delta: boolean, at: PointContext): void {
    const { now, report } = at;
    const stream = this.#histogramStream(instrument, point, invalidHistogram(point), point.bucketCounts.length, at);
    if (stream === undefined) return;
    const series = stream.series;
    if (series.bounds === undefined || !sameNumbers(series.bounds, point.explicitBounds)) {
      if (series.bounds !== undefined && series.streams.size > 1) {
        report.reject(instrument.name, 1, 'bounds_conflict', `bucket boundaries [${point.explicitBounds.join(', ')}] differ from the series' [${series.bounds.join(', ')}]`);
        // A source series created for this point only holds nothing: do not keep it.
        if (stream.points === 0) this.#dropStream(stream);
        return;
      }
      // First point, or the only sender changed its layout: the series starts over.
      if (series.bounds === undefined && instrument.spec?.buckets !== undefined && !sameNumbers(instrument.spec.buckets, point.explicitBounds)) {
        report.warn(instrument.name, `bucket boundaries differ from the catalog's [${instrument.spec.buckets.join(', ')}]; the sender's are kept`);
      }
      series.bounds = point.explicitBounds.slice();
      series.baseHist = undefined;
      stream.hist = undefined;
      stream.points = 0;
    }
    if (isStale(stream, point, !delta)) {
      report.accepted++;
      return;
    }
    const incoming: HistogramAcc = {
      counts: point.bucketCounts.length === 0 ? [point.count] : point.bucketCounts.slice(),
      sum: point.sum ?? 0,
      count: point.count,
    };
    if (delta) {
      stream.hist = stream.hist === undefined ? incoming : addHistogram(stream.hist, incoming);
    } else {
      if (stream.hist !== undefined && stream.points > 0 && point.count < stream.hist.count) {
        series.baseHist = series.baseHist === undefined ? stream.hist : addHistogram(series.baseHist, stream.hist);
      }
      stream.hist = incoming;
    }
    applied(stream, point, now);
    report.accepted++;
  }

  #ingestExponentialPoint(instrument: Instrument, point: OtlpExponentialHistogramPoint, delta: boolean, at: PointContext): void {
    const { now, report } = at;
    // Charged for the widest a sum of its points may get: both sides full.
    const stream = this.#histogramStream(instrument, point, invalidExponential(point), 2 * MAX_EXPONENTIAL_BUCKETS, at);
    if (stream === undefined) return;
    if (isStale(stream, point, !delta)) {
      report.accepted++;
      return;
    }
    const incoming: ExponentialSum = {
      scale: point.scale,
      zeroCount: point.zeroCount,
      zeroThreshold: point.zeroThreshold,
      positive: { offset: point.positive.offset, counts: point.positive.bucketCounts.slice() },
      negative: { offset: point.negative.offset, counts: point.negative.bucketCounts.slice() },
      sum: point.sum ?? 0,
      count: point.count,
    };
    if (delta) {
      stream.exp = stream.exp === undefined ? incoming : addExponential(stream.exp, incoming);
    } else {
      if (stream.exp !== undefined && stream.points > 0 && point.count < stream.exp.count) {
        stream.series.baseExp = stream.series.baseExp === undefined ? stream.exp : addExponential(stream.series.baseExp, stream.exp);
      }
      stream.exp = incoming;
    }
    applied(stream, point, now);
    report.accepted++;
  }

  // -------------------------------------------------------------------------------------------
  // Expiry

  /** Drops streams idle for the expiry time; at most once a second unless `force`. */
  #sweep(now: number, force: boolean): void {
    if (!force && now - this.#lastSweep < Math.min(1_000, this.#expiryMillis)) return;
    this.#lastSweep = now;
    for (const stream of this.#streams.values()) {
      if (now - stream.updatedAt >= this.#expiryMillis) this.#dropStream(stream);
    }
    // An instrument whose every point was refused holds no series: release its name and bytes.
    for (const instrument of this.#instruments.values()) {
      if (instrument.series.size === 0) this.#dropInstrument(instrument);
    }
  }

  #endStream(key: string): void {
    const stream = this.#streams.get(key);
    if (stream !== undefined) this.#dropStream(stream);
  }

  #dropStream(stream: Stream): void {
    const series = stream.series;
    const instrument = series.instrument;
    // A counter's increments stay counted in the series while other streams keep it alive.
    if (instrument.shape === 'monotonicSum') series.base += stream.value;
    if (instrument.shape === 'histogram' && stream.hist !== undefined) {
      series.baseHist = series.baseHist === undefined ? stream.hist : addHistogram(series.baseHist, stream.hist);
    }
    if (instrument.shape === 'exponentialHistogram' && stream.exp !== undefined) {
      series.baseExp = series.baseExp === undefined ? stream.exp : addExponential(series.baseExp, stream.exp);
    }
    series.streams.delete(stream);
    instrument.streamCount--;
    this.#streams.delete(stream.key);
    this.#bytes -= stream.bytes;
    if (series.streams.size === 0) {
      instrument.series.delete(series.key);
      this.#bytes -= series.bytes;
      if (instrument.series.size === 0) this.#dropInstrument(instrument);
    }
  }

  #dropInstrument(instrument: Instrument): void {
    this.#instruments.delete(instrument.name);
    this.#bytes -= instrument.bytes;
    for (const n of instrument.names) this.#claims.delete(n);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

type NumberMode = 'delta' | 'cumulative' | 'level';

/** Where a point comes from and what it is ingested against. */
interface PointContext {
  readonly prefix: string;
  readonly scopeKey: string;
  readonly scope: { name: string; version: string };
  readonly now: number;
  readonly report: Report;
}

const RESOURCE = emptyResource();

/**
 * Whether an incoming shape may feed an instrument of `shape`. A canonical level (up-down counter
 * or gauge) accepts either, since both render the same; everything else must match.
 */
function compatible(shape: Shape, incoming: Shape, canonical: boolean): boolean {
  if (shape === incoming) return true;
  return canonical && (shape === 'sum' || shape === 'gauge') && (incoming === 'sum' || incoming === 'gauge');
}

/** A point at or before the last one applied (a retried export, or out of order). */
function isStale(stream: Stream, point: { timeUnixNano: bigint; startTimeUnixNano: bigint }, cumulative: boolean): boolean {
  if (stream.points === 0 || point.timeUnixNano === 0n || point.timeUnixNano > stream.time) return false;
  // A cumulative point from a restarted sender may carry an earlier clock; let the reset logic see it.
  return !(cumulative && restarted(stream, point));
}

function restarted(stream: Stream, point: { startTimeUnixNano: bigint }): boolean {
  return point.startTimeUnixNano !== 0n && point.startTimeUnixNano !== stream.start;
}

function applied(stream: Stream, point: { timeUnixNano: bigint; startTimeUnixNano: bigint }, now: number): void {
  if (point.timeUnixNano > stream.time || restarted(stream, point)) stream.time = point.timeUnixNano;
  stream.start = point.startTimeUnixNano;
  stream.points++;
  stream.updatedAt = now;
}

function invalidHistogram(point: OtlpHistogramPoint): string | undefined {
  const bounds = point.explicitBounds;
  const counts = point.bucketCounts;
  if (!(counts.length === 0 && bounds.length === 0) && counts.length !== bounds.length + 1) {
    return 'an invalid Histogram point (bucketCounts must have explicitBounds.length + 1 entries)';
  }
  for (let i = 0; i < bounds.length; i++) {
    if (!Number.isFinite(bounds[i]!) || (i > 0 && !(bounds[i]! > bounds[i - 1]!))) {
      return 'an invalid Histogram point (explicitBounds must be finite and strictly increasing)';
    }
  }
  if (point.sum !== undefined && Number.isNaN(point.sum)) return 'an invalid Histogram point (sum is NaN)';
  // Served as is, these break the exposition: a bucket above +Inf (= count), a negative _sum
  // (OpenMetrics forbids it beside buckets, and a sender with negative observations must omit it).
  if (point.sum !== undefined && point.sum < 0) return 'an invalid Histogram point (negative sum)';
  if (counts.length > 0) {
    let total = 0;
    for (const c of counts) total += c;
    if (total !== point.count) return `an invalid Histogram point (bucketCounts add up to ${total}, count is ${point.count})`;
  }
  return undefined;
}

/**
 * What makes an exponential point unusable: a scale outside the data model's (or too coarse for a
 * Prometheus native histogram), a side wider than {@link MAX_EXPONENTIAL_BUCKETS}, counts that do
 * not add up, a NaN or negative sum (as for explicit buckets).
 */
function invalidExponential(point: OtlpExponentialHistogramPoint): string | undefined {
  if (!Number.isInteger(point.scale) || point.scale < -4 || point.scale > 20) return `an invalid ExponentialHistogram point (scale ${point.scale}: -4 to 20 are served)`;
  for (const side of [point.positive, point.negative]) {
    if (side.bucketCounts.length > MAX_EXPONENTIAL_BUCKETS) return `an invalid ExponentialHistogram point (more than ${MAX_EXPONENTIAL_BUCKETS} buckets a side)`;
  }
  if (!(point.zeroThreshold >= 0) || !Number.isFinite(point.zeroThreshold)) return 'an invalid ExponentialHistogram point (zeroThreshold must be finite and not negative)';
  if (point.sum !== undefined && Number.isNaN(point.sum)) return 'an invalid ExponentialHistogram point (sum is NaN)';
  if (point.sum !== undefined && point.sum < 0) return 'an invalid ExponentialHistogram point (negative sum)';
  let total = point.zeroCount;
  for (const c of point.positive.bucketCounts) total += c;
  for (const c of point.negative.bucketCounts) total += c;
  if (total !== point.count) return `an invalid ExponentialHistogram point (buckets add up to ${total}, count is ${point.count})`;
  return undefined;
}

function addHistogram(a: HistogramAcc, b: HistogramAcc): HistogramAcc {
  return { counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)), sum: a.sum + b.sum, count: a.count + b.count };
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function numberValue(series: Series): number {
  let v = series.base;
  for (const s of series.streams) v += s.value;
  return v;
}

function histogramValue(series: Series): Histogram {
  let acc = series.baseHist;
  for (const s of series.streams) if (s.hist !== undefined) acc = acc === undefined ? s.hist : addHistogram(acc, s.hist);
  const bounds = series.bounds ?? [];
  return {
    buckets: { boundaries: bounds.slice(), counts: acc?.counts.slice() ?? new Array<number>(bounds.length + 1).fill(0) },
    sum: acc?.sum ?? 0,
    count: acc?.count ?? 0,
  };
}

/** The sum of a series' exponential streams, as the SDK shapes it (its zero threshold is not carried). */
function exponentialValue(series: Series): ExponentialHistogram {
  let acc = series.baseExp;
  for (const s of series.streams) if (s.exp !== undefined) acc = acc === undefined ? s.exp : addExponential(acc, s.exp);
  if (acc === undefined) return { count: 0, sum: 0, scale: 0, zeroCount: 0, positive: { offset: 0, bucketCounts: [] }, negative: { offset: 0, bucketCounts: [] } };
  return {
    count: acc.count,
    sum: acc.sum,
    scale: acc.scale,
    zeroCount: acc.zeroCount,
    positive: { offset: acc.positive.offset, bucketCounts: acc.positive.counts.slice() },
    negative: { offset: acc.negative.offset, bucketCounts: acc.negative.counts.slice() },
  };
}

function metricData(instrument: Instrument, points: DataPoint<number>[] | DataPoint<Histogram>[] | DataPoint<ExponentialHistogram>[]): MetricData {
  const descriptor = instrument.descriptor;
  const aggregationTemporality = AggregationTemporality.CUMULATIVE;
  switch (instrument.shape) {
    case 'exponentialHistogram':
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM, dataPoints: points as DataPoint<ExponentialHistogram>[] };
    case 'histogram':
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: points as DataPoint<Histogram>[] };
    case 'gauge':
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints: points as DataPoint<number>[] };
    default:
      return {
        descriptor,
        aggregationTemporality,
        dataPointType: DataPointType.SUM,
        dataPoints: points as DataPoint<number>[],
        isMonotonic: instrument.shape === 'monotonicSum',
      };
  }
}

/** The closed sets a canonical instrument's points must keep to: the profile's over its attributes, and its own that drop. */
function closedCheck(spec: InstrumentSpec, vocabularies: Readonly<Record<string, readonly string[]>> | undefined): VocabularyCheck | undefined {
  const keys = new Set(spec.attributes.map((a) => a.key));
  const profile = vocabularies === undefined ? undefined : vocabularyCheck(Object.fromEntries(Object.entries(vocabularies).filter(([k]) => keys.has(k))));
  const own = dropOutsideCheck(spec.attributes);
  if (profile === undefined || own === undefined) return profile ?? own;
  return (attributes) => profile(attributes) ?? own(attributes);
}

function boundedFold(spec: InstrumentSpec): (attributes: Attributes) => Attributes {
  const processor = createBoundedAttributesProcessor(spec.attributes);
  return (attributes) => processor.process(attributes);
}

/** Non-canonical attributes: all kept, in key order, long strings cut as the bounded processor cuts them. */
function plainFold(attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const key of Object.keys(attributes).sort()) {
    const v: AttributeValue | undefined = attributes[key];
    if (v === undefined || v === null) continue;
    // A long array becomes its cut JSON text, as the naming stage would render it anyway.
    out[key] = typeof v === 'string' ? cut(v, MAX_VALUE_LENGTH) : Array.isArray(v) && JSON.stringify(v).length > MAX_VALUE_LENGTH ? toLabelString(v) : v;
  }
  return out;
}

/** A key identifying an attribute set whatever its key order. */
function attributesKey(attributes: Attributes): string {
  const keys = Object.keys(attributes);
  if (keys.length === 0) return '';
  keys.sort();
  return JSON.stringify(keys.map((k) => [k, attributes[k]]));
}

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}
