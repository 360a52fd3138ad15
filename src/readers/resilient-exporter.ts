/**
 * What lets the push reader (otlp-push.ts) survive a collector outage: the exporter wrapper that
 * applies the transform and bounds exports at shutdown, and the state log that says one line per
 * change of state, never one per failed export: a failure at level warn, the recovery at info,
 * with the collector (`exporter`), the `error` and the failed `attempts` as fields. Lines name the
 * collector by origin and path (printableUrl): never its userinfo or query, which may carry a secret.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type {
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { withinMillis } from '../common/within-millis.ts';
import type { Log } from '../common/log.ts';

/** Rewrites each collection before it is encoded (otlp-push.ts `OtlpPushHooks.transform`). */
export type PushTransform = (
  resourceMetrics: ResourceMetrics,
) => ResourceMetrics | Promise<ResourceMetrics>;
// What an export hook hands back: a callback for the export's result, or nothing (`void` in the
// union: a host's hook that returns nothing is a plain void function).
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type
type ExportAck = ((result: ExportResult) => void) | void;
/** Called with each collection handed to the exporter (otlp-push.ts `OtlpPushHooks.onExport`). */
export type OnExport = (resourceMetrics: ResourceMetrics) => ExportAck;

/** Why an export was given up at shutdown: a later one carries its data, or the budget ran out. */
type Abandoned = 'superseded' | 'deadline';

/**
 * Wraps the OTLP exporter: applies the transform, reports every settled export to the state log,
 * and, once shutdown has begun, settles exports that outlive the budget as failed.
 */
export class ResilientExporter implements PushMetricExporter {
  readonly #inner: PushMetricExporter;
  readonly #transform: PushTransform | undefined;
  readonly #log: StateLog;
  readonly #supersedable: boolean;
  readonly #onExport: OnExport | undefined;
  /** Abandon functions of the exports not yet settled. */
  readonly #pending = new Set<(why: Abandoned) => void>();
  #deadline: number | undefined;
  #expired = false;
  maxInFlight = 0;

  constructor(
    inner: PushMetricExporter,
    transform: PushTransform | undefined,
    log: StateLog,
    supersedable: boolean,
    onExport?: OnExport,
  ) {
    this.#inner = inner;
    this.#transform = transform;
    this.#log = log;
    this.#supersedable = supersedable;
    this.#onExport = onExport;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    let settled = false;
    const settle = (result: ExportResult, abandoned: Abandoned | undefined): void => {
      if (settled) return;
      settled = true;
      this.#pending.delete(abandon);
      this.#log.record(result, abandoned);
      resultCallback(result);
    };
    const fail = (err: unknown, abandoned?: Abandoned): void =>
      settle(
        {
          code: ExportResultCode.FAILED,
          error: err instanceof Error ? err : new Error(String(err)),
        },
        abandoned,
      );
    const abandon = (why: Abandoned): void =>
      fail(new Error(`export abandoned at shutdown (${why})`), why);
    this.#pending.add(abandon);
    this.maxInFlight = Math.max(this.maxInFlight, this.#pending.size);
    if (this.#expired) {
      abandon('deadline');
      return;
    }
    const send = (payload: ResourceMetrics): void => {
      if (settled) return;
      let exported: ExportAck = undefined;
      try {
        exported = this.#onExport?.(payload);
      } catch {
        // Debug output never fails an export.
      }
      this.#inner.export(payload, (result) => {
        settle(result, undefined);
        try {
          exported?.(result);
        } catch {
          // idem
        }
      });
    };
    let payload: ResourceMetrics | Promise<ResourceMetrics> = metrics;
    try {
      if (this.#transform !== undefined) payload = this.#transform(metrics);
    } catch (err) {
      fail(err);
      return;
    }
    if (payload instanceof Promise) payload.then(send, fail);
    else send(payload);
  }

  /** From now on nothing waits past `budgetMillis`; with cumulative data, in-flight exports are dropped at once. */
  beginShutdown(budgetMillis: number): void {
    if (this.#deadline !== undefined) return;
    this.#deadline = performance.now() + budgetMillis;
    if (this.#supersedable) for (const abandon of [...this.#pending]) abandon('superseded');
    setTimeout(() => {
      this.#expired = true;
      for (const abandon of [...this.#pending]) abandon('deadline');
    }, budgetMillis).unref();
  }

  forceFlush(): Promise<void> {
    return this.#withinDeadline(this.#inner.forceFlush());
  }

  shutdown(): Promise<void> {
    return this.#withinDeadline(this.#inner.shutdown());
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return this.#inner.selectAggregationTemporality!(instrumentType);
  }

  /** `work`, but no longer than the shutdown deadline once shutdown has begun. */
  async #withinDeadline(work: Promise<void>): Promise<void> {
    if (this.#deadline === undefined) return work;
    const remaining = Math.max(0, this.#deadline - performance.now());
    const settled = work.catch(() => {});
    return withinMillis(settled, remaining);
  }
}

/** The push state and its log lines: one per change, never one per failed export. */
export class StateLog {
  state: 'unknown' | 'ok' | 'failing' = 'unknown';
  failed = 0;
  #abandonLogged = false;
  readonly #target: string;
  readonly #intervalMillis: number;
  readonly #temporality: 'cumulative' | 'delta';
  readonly #shutdownMillis: number;
  readonly #write: Log;

  constructor(
    target: string,
    intervalMillis: number,
    temporality: 'cumulative' | 'delta',
    shutdownMillis: number,
    write: Log,
  ) {
    this.#target = target;
    this.#intervalMillis = intervalMillis;
    this.#temporality = temporality;
    this.#shutdownMillis = shutdownMillis;
    this.#write = write;
  }

  record(result: ExportResult, abandoned: Abandoned | undefined): void {
    // A superseded export is no failure: the last export carries its data.
    if (abandoned === 'superseded') return;
    if (abandoned === 'deadline') {
      if (!this.#abandonLogged) {
        this.#abandonLogged = true;
        this.#write(
          'warn',
          'OTLP push: the last export did not complete within the shutdown budget; exiting without it',
          { exporter: this.#target, timeout_ms: this.#shutdownMillis },
          `OTLP push to ${this.#target}: the last export did not complete within ${formatMillis(this.#shutdownMillis)} of shutdown; exiting without it`,
        );
      }
      return;
    }
    if (result.code === ExportResultCode.SUCCESS) {
      if (this.state === 'failing') {
        const lost =
          this.#temporality === 'cumulative'
            ? 'this export carried the full cumulative totals, no increment was lost'
            : 'the delta points of the failed exports were dropped';
        this.#write(
          'info',
          'OTLP push recovered',
          { exporter: this.#target, attempts: this.failed, temporality: this.#temporality },
          `OTLP push to ${this.#target} recovered after ${this.failed} failed export${this.failed === 1 ? '' : 's'}; ${lost}`,
        );
      }
      this.state = 'ok';
      this.failed = 0;
      return;
    }
    this.failed++;
    if (this.state !== 'failing') {
      this.state = 'failing';
      const error = describeError(result.error);
      this.#write(
        'warn',
        'OTLP push failing: retrying, nothing is queued, the pull endpoint is unaffected',
        { exporter: this.#target, error, attempts: this.failed, interval_ms: this.#intervalMillis },
        `OTLP push to ${this.#target} failing (${error}); ` +
          `retrying every ${formatMillis(this.#intervalMillis)}, nothing is queued, the pull endpoint is unaffected`,
      );
    }
  }
}

/** Why an export failed, from what is safe to print: a status code or an error code, never a message body. */
export function describeError(error: unknown): string {
  if (error === null || typeof error !== 'object') return 'unknown error';
  const { code, message, name } = error as { code?: unknown; message?: unknown; name?: unknown };
  if (typeof code === 'number') return `HTTP ${code}`;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
  if (message === 'Request timed out') return 'request timed out';
  if (message === 'Export failed with retryable status')
    return 'HTTP 429/502/503/504 until the export timeout';
  if (message === 'Concurrent export limit reached') return 'too many exports in flight';
  return typeof name === 'string' && name !== '' ? name : 'unknown error';
}

function formatMillis(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
