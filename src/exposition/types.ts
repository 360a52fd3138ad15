/**
 * The exposition model: families in Prometheus terms (final metric names, pre-rendered label
 * strings), what a host may build and hand to the renderers, so a renderer only concatenates and
 * formats numbers. Nothing here refers back to OpenTelemetry. The naming stage's families carry
 * more, fields that make rendering faster (render-model.ts).
 */

/** Prometheus family type. `info` renders as OpenMetrics `info` and as a text 0.0.4 `gauge`. */
export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'info' | 'unknown';

/**
 * A trace-linked exemplar, ready to write: OpenMetrics `# {labels} value timestamp` after its
 * sample, protobuf's `Exemplar` message. Text 0.0.4 has no exemplars.
 */
export interface ExpositionExemplar {
  /** Its label pairs, escaped and joined as {@link NumberSeries.labels}: `trace_id="…",span_id="…"`. */
  readonly labels: string;
  readonly value: number;
  /** Unix time in seconds (fractional). */
  readonly timestamp: number;
}

/** One counter/gauge/info/unknown sample. */
export interface NumberSeries {
  /**
   * Label pairs already escaped and joined, without braces: `task="a",kind="task"`.
   * `''` when the series has no labels. Label values are escaped the same way in both
   * formats (`\\`, `"`, newline), so one string serves both renderers.
   */
  readonly labels: string;
  readonly value: number;
  /** Counters: the latest exemplar of the series. */
  readonly exemplar?: ExpositionExemplar;
  /**
   * Optional, counters only: when the series started counting (its OTel start time), Unix
   * milliseconds. Written as OpenMetrics `_created` and protobuf `created_timestamp`.
   */
  readonly created?: number;
}

/** One histogram series (one label set). */
export interface HistogramSeries {
  /** As {@link NumberSeries.labels}; never contains `le`. */
  readonly labels: string;
  /** Upper bounds, ascending, finite, without `+Inf`. Series of one family usually share the array. */
  readonly bounds: readonly number[];
  /** Per-bucket (non-cumulative) counts, `bounds.length + 1` long; the last is the `+Inf` overflow bucket. */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
  /** Optional: the latest exemplar of each bucket, by the index of {@link counts} (sparse). */
  readonly exemplars?: readonly (ExpositionExemplar | undefined)[];
  /**
   * Optional: the same distribution as a native (base-2 exponential) histogram, when its source is
   * an OpenTelemetry ExponentialHistogram. The protobuf renderer writes it beside the classic
   * buckets above (which the naming stage derives from it, one `le` per exponential bucket); the
   * text renderers, which have no native form, write the classic buckets only.
   */
  readonly native?: NativeBuckets;
  /** Optional: when the series started (its OTel start time), Unix milliseconds; as {@link NumberSeries.created}. */
  readonly created?: number;
}

/**
 * Native histogram buckets in Prometheus' terms (client_model `Histogram` fields 5–14): bucket
 * `i` of schema `s` covers `(b^(i-1), b^i]` with `b = 2^(2^-s)` (negative buckets the same range
 * below zero), the zero bucket `[-zeroThreshold, zeroThreshold]`. Counts are per bucket (not
 * cumulative, not delta-encoded), from `offset` on, zeros kept.
 */
export interface NativeBuckets {
  /** -4..8. */
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  readonly positiveOffset: number;
  readonly positiveCounts: readonly number[];
  readonly negativeOffset: number;
  readonly negativeCounts: readonly number[];
}

export interface NumberFamily {
  /**
   * The metric name Prometheus stores. Counters carry their `_total` when the profile wants one;
   * a counter whose name does not end in `_total` is rendered as `unknown` in OpenMetrics so the
   * stored name stays exact (OpenMetrics would otherwise force a `_total` suffix on it).
   */
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'info' | 'unknown';
  readonly help: string;
  /** Prometheus unit word (`seconds`, `bytes`, `ratio`), `''` when none. */
  readonly unit: string;
  readonly series: readonly NumberSeries[];
}

export interface HistogramFamily {
  readonly name: string;
  readonly type: 'histogram';
  readonly help: string;
  readonly unit: string;
  readonly series: readonly HistogramSeries[];
}

/** One metric family of the exposition model: its name, type, help and series (`jm.scrape()` gives them). */
export type Family = NumberFamily | HistogramFamily;

/** The two wire formats the pull endpoint speaks. */
export type ExpositionFormat = 'openmetrics' | 'text';
