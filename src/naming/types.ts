/**
 * A naming profile: how canonical instruments appear as Prometheus series. A legacy profile is a
 * declarative table (one {@link FamilyRule} per emitted family); the native profile derives its
 * rules from the OpenTelemetry compatibility spec instead of listing them.
 */
import type { ExpositionFormat } from '../exposition/types.ts';
import type { TranslationStrategy } from '../common/option-values.ts';

/**
 * One family a legacy profile serves: which canonical instrument it comes from and how its name,
 * type, labels and values read in the original (a profile's table, or `profile.rules` of a host's own).
 * @example
 *   const rule: FamilyRule = { instrument: 'app.emails.sent', name: 'mailer_sent_total', type: 'counter', help: 'Emails sent.', labels: [['queue', 'queue']] };
 */
export interface FamilyRule {
  /** Canonical instrument the family is rendered from. */
  readonly instrument: string;
  /** Exact Prometheus name, as the original stores it (counters with their `_total`, if any). */
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'info';
  readonly help: string;
  /** Prometheus unit word for OpenMetrics `# UNIT` (only written when it is a suffix of the name). */
  readonly unit?: string;
  /**
   * Which figure of the instrument: its value (default), or the `sum` / `count` of a histogram
   * instrument rendered as a plain counter (wasmrun's `exec_duration_ms_sum`).
   */
  readonly from?: 'value' | 'sum' | 'count';
  /** Multiplier applied to values and sums, e.g. 1000 for seconds → milliseconds. */
  readonly scale?: number;
  /**
   * `[attribute, label]` pairs in label order. Attributes not listed are dropped, and series that
   * then coincide are summed.
   */
  readonly labels?: readonly (readonly [attribute: string, label: string])[];
  /** Per attribute: canonical value → the original's word. Unlisted values pass unchanged. */
  readonly values?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * Per label name: values always emitted, as 0 when nothing was recorded (zero-fill), in this
   * order ahead of any other value. Only for families with that one label.
   */
  readonly zeroFill?: Readonly<Record<string, readonly string[]>>;
  /** A label-less family emitted as 0 before anything is recorded (the original always has it). */
  readonly emitZero?: boolean;
}

export interface TableProfile {
  readonly kind: 'table';
  readonly name: string;
  /** The original's series prefix (`rm_`), stripped for the flat JSON keys and shown in docs. */
  readonly prefix: string;
  /** What the original serves when the client leaves a choice. */
  readonly format: 'negotiate' | ExpositionFormat;
  readonly rules: readonly FamilyRule[];
  /** Histogram buckets that differ from the canonical instrument's (instrument → bounds). */
  readonly buckets?: Readonly<Record<string, readonly number[]>>;
  /** As {@link NativeProfile.startTimestamps}; the originals never wrote them. @default false */
  readonly startTimestamps?: boolean;
  /** The original's cache policy for its host-derived block (crewshipd: 15 s). */
  readonly snapshot?: { readonly ttlMillis?: number; readonly timeoutMillis?: number };
  /**
   * `?format=json` shape: `flat` is wasmrun's (family name without the prefix → a number, or an
   * object keyed by its one label's values); default is the generic documented shape.
   */
  readonly json?: 'flat' | 'generic';
  /** A label carrying the machine's host name on every series (crewshipd's `hostname`). */
  readonly hostnameLabel?: string;
  /**
   * The order the table's families and series are written in. `table` (default): the rules'
   * order, series as first recorded (zero-filled words first). `sorted`: as the Rust `prometheus`
   * crate writes them (naming/series-order.ts): families by name, series by label values; the
   * rules then list their labels by name. Host instruments without a rule follow either way.
   */
  readonly order?: 'table' | 'sorted';
  /**
   * Closed sets the original's document gives for canonical attributes that jobmeter keeps open
   * (attribute → its values, before the rules' value words): a domain record with another value
   * is dropped, warned about once and counted in `jobmeter.records.dropped{reason="vocabulary"}`,
   * never passed through or folded into an `other` the original never emits.
   */
  readonly vocabularies?: Readonly<Record<string, readonly string[]>>;
}

export interface NativeProfile {
  readonly kind: 'native';
  /** `semconv` records the semantic conventions' instruments (profiles/semconv.ts); both name them alike. */
  readonly name: 'otel' | 'semconv';
  readonly format: 'negotiate';
  /** Emit `target_info` and the `otel_scope_name`/`otel_scope_version` labels. */
  readonly scopeInfo: boolean;
  /**
   * Counters and histograms carry their start time (`created` in the exposition model): OpenMetrics
   * `_created` samples, protobuf `created_timestamp`. Off by default, as client_golang's
   * `EnableOpenMetricsTextCreatedSamples`: Prometheus 2.x stores an OpenMetrics `_created` sample
   * as a series of its own (one more per counter and histogram series); Prometheus 3 reads both as
   * start times with its `created-timestamp-zero-ingestion` feature. @default false
   */
  readonly startTimestamps?: boolean;
  /**
   * How OTel names become Prometheus names (`[naming] translation_strategy`). UTF-8 names are
   * served to scrapers that negotiate `escaping=allow-utf-8` and escaped for any other. Legacy
   * profiles name every series in their tables and have none. @default 'UnderscoreEscapingWithSuffixes'
   */
  readonly translationStrategy?: TranslationStrategy;
  /** `false`: no unit word in names (`[naming] unit_suffixes`, prometheus-names.ts). @default true */
  readonly unitSuffixes?: boolean;
  /** The host's own rules: the instruments they name are rendered by them instead of natively. */
  readonly rules?: readonly FamilyRule[];
}

export type Profile = TableProfile | NativeProfile;
