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
import type { Temporality } from '../common/option-values.ts';

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

/** What the push does with each collection it exports (otlp-push.ts `OtlpPushHooks`). */
type ExportHooks = { readonly transform?: PushTransform; readonly onExport?: OnExport };

/** Why an export was given up at shutdown: a later one carries its data, or the budget ran out. */
type Abandoned = 'superseded' | 'deadline';

/**
 * Wraps the OTLP exporter: applies the transform, reports every settled export to the state log,
 * and, once shutdown has begun, settles exports that outlive the budget as failed.
 */
export class ResilientExporter implements PushMetricExporter {
  readonly #inner: PushMetricExporter;
  readonly log: StateLog;
  readonly #hooks: ExportHooks;
  /** Abandon functions of the exports not yet settled. */
  readonly #pending = new Set<(why: Abandoned) => void>();
  #deadline: number | undefined;
  #expired = false;
  maxInFlight = 0;

  constructor(inner: PushMetricExporter, log: StateLog, hooks: ExportHooks) {
    this.#inner = inner;
    this.log = log;
    this.#hooks = hooks;
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
      this.log.record(result, abandoned);
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
        exported = this.#hooks.onExport?.(payload);
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
      if (this.#hooks.transform !== undefined) payload = this.#hooks.transform(metrics);
    } catch (err) {
      fail(err);
      return;
    }
    if (payload instanceof Promise) payload.then(send, fail);
    else send(payload);
  }

  /**
   * From now on nothing waits past the log's shutdown budget; with cumulative data (the last export
   * carries all of it), in-flight exports are dropped at once.
   */
  beginShutdown(): void {
    if (this.#deadline !== undefined) return;
    const { shutdownMillis, temporality } = this.log.settings;
    this.#deadline = performance.now() + shutdownMillis;
    if (temporality === 'cumulative')
      for (const abandon of [...this.#pending]) abandon('superseded');
    setTimeout(() => {
      this.#expired = true;
      for (const abandon of [...this.#pending]) abandon('deadline');
    }, shutdownMillis).unref();
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

/** What the push's log lines say of it: the collector, its interval, temporality and shutdown budget. */
export interface PushSettings {
  readonly target: string;
  readonly intervalMillis: number;
  readonly temporality: Temporality;
  readonly shutdownMillis: number;
}

/** The push state and its log lines: one per change, never one per failed export. */
export class StateLog {
  state: 'unknown' | 'ok' | 'failing' = 'unknown';
  failed = 0;
  #abandonLogged = false;
  readonly settings: PushSettings;
  readonly #write: Log;

  constructor(settings: PushSettings, write: Log) {
    this.settings = settings;
    this.#write = write;
  }

  record(result: ExportResult, abandoned: Abandoned | undefined): void {
    const { target, intervalMillis, temporality, shutdownMillis } = this.settings;
    // A superseded export is no failure: the last export carries its data.
    if (abandoned === 'superseded') return;
    if (abandoned === 'deadline') {
      if (!this.#abandonLogged) {
        this.#abandonLogged = true;
        this.#write(
          'warn',
          'OTLP push: the last export did not complete within the shutdown budget; exiting without it',
          { exporter: target, timeout_ms: shutdownMillis },
          `OTLP push to ${target}: the last export did not complete within ${formatMillis(shutdownMillis)} of shutdown; exiting without it`,
        );
      }
      return;
    }
    if (result.code === ExportResultCode.SUCCESS) {
      if (this.state === 'failing') {
        const lost =
          temporality === 'cumulative'
            ? 'this export carried the full cumulative totals, no increment was lost'
            : 'the delta points of the failed exports were dropped';
        this.#write(
          'info',
          'OTLP push recovered',
          { exporter: target, attempts: this.failed, temporality: temporality },
          `OTLP push to ${target} recovered after ${this.failed} failed export${this.failed === 1 ? '' : 's'}; ${lost}`,
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
        { exporter: target, error, attempts: this.failed, interval_ms: intervalMillis },
        `OTLP push to ${target} failing (${error}); ` +
          `retrying every ${formatMillis(intervalMillis)}, nothing is queued, the pull endpoint is unaffected`,
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
