/**
 * `GET /health` (liveness: the process answers) and `GET /ready` (readiness: the pipeline is doing
 * its job), answered alike by the main server and serve's telemetry listener
 * ({@link answerHealth}). A metrics route mounted on the main server may not take `/health`
 * (config/metrics-section.ts refuses it, naming the key that asked for it).
 *
 * `/ready` answers 503 with one line per reason while the OTLP push has failed
 * {@link READY_PUSH_FAILURES} exports in a row, the ingest holds
 * {@link READY_INGEST_BUDGET_FRACTION} or more of its memory budget (new series are about to be, or
 * are being, refused), the ingest state's last checkpoint failed (the ingested series are
 * served as of the last one written, state-keeper.ts), or the ingest refuses every point for its
 * time (jobmeter's clock is wrong, or every sender's: ingest/clock-refusals.ts); 200 `ready`
 * otherwise. A reason names counts, budgets, offsets and error codes, never an endpoint or a path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { pathOf, PLAIN_TEXT, sendText } from './http-server.ts';

export const HEALTH_PATH = '/health';
export const READY_PATH = '/ready';

/** Failed exports in a row before `/ready` says 503: one is an outage's first blip, three are an outage. */
export const READY_PUSH_FAILURES = 3;
/** The share of `ingest.max_memory_bytes` held past which `/ready` says 503. */
export const READY_INGEST_BUDGET_FRACTION = 0.95;

/** While the ingest refuses every point for its time: what it refused and the times it accepts. */
export interface ClockRefusing {
  /** Points refused for their time over the last {@link windowMillis}, in which none was accepted. */
  readonly refused: number;
  readonly windowMillis: number;
  /** Those points' times minus jobmeter's clock, in ms: the least and the most. */
  readonly minOffsetMillis: number;
  readonly maxOffsetMillis: number;
  /** How far ahead of jobmeter's clock a point's time may be, and how far behind, in ms. */
  readonly aheadMillis: number;
  readonly maxAgeMillis: number;
}

/** What jobmeter reports of its pipeline (jobmeter.ts `pipeline()`); undefined: that stage is off. */
export interface PipelineState {
  readonly push: { readonly failedExports: number } | undefined;
  readonly ingest: { readonly memoryBytes: number; readonly maxMemoryBytes: number } | undefined;
  /** The ingest state's checkpoints (undefined: none kept); `failing` while the last write failed, with its error code. */
  readonly checkpoint?:
    | { readonly failing: { readonly reason: string; readonly inRow: number } | undefined }
    | undefined;
  /** The ingest's point times (undefined: no ingest); `refusing` while every point is refused for its time. */
  readonly clock?: { readonly refusing: ClockRefusing | undefined } | undefined;
}

/**
 * What `/ready` and the ingest's warning (ingest/clock-refusals.ts) say of `r`; the offsets in
 * whole seconds, signed: `+1800 s`, or `-7300 s to -7200 s` when they differ.
 */
export function clockRefusingWords(r: ClockRefusing): string {
  const words = (millis: number): string => {
    const s = Math.round(millis / 1000);
    return `${s >= 0 ? '+' : ''}${s} s`;
  };
  const min = words(r.minOffsetMillis);
  const max = words(r.maxOffsetMillis);
  const points =
    r.refused === 1 ? '1 point refused for its time' : `${r.refused} points refused for their time`;
  return `ingest refusing every point for its time: none accepted in the last ${r.windowMillis / 1000} s, ${points}; point time minus jobmeter's clock: ${min === max ? min : `${min} to ${max}`}`;
}

/** Why the pipeline is not ready, one reason a line; empty when it is. */
export function notReadyReasons(state: PipelineState): string[] {
  const reasons: string[] = [];
  if (state.push !== undefined && state.push.failedExports >= READY_PUSH_FAILURES) {
    reasons.push(`OTLP push failing: the last ${state.push.failedExports} exports failed`);
  }
  const ingest = state.ingest;
  if (
    ingest !== undefined &&
    ingest.memoryBytes >= ingest.maxMemoryBytes * READY_INGEST_BUDGET_FRACTION
  ) {
    reasons.push(
      `ingest at its memory budget: ${ingest.memoryBytes} of ${ingest.maxMemoryBytes} bytes held, new series are refused`,
    );
  }
  const failing = state.checkpoint?.failing;
  if (failing !== undefined) {
    reasons.push(
      `ingest state not written: the last ${failing.inRow} checkpoints failed (${failing.reason}); the ingested series are served as of the last one written`,
    );
  }
  const clock = state.clock?.refusing;
  if (clock !== undefined) {
    reasons.push(
      `${clockRefusingWords(clock)} (accepted: -${clock.maxAgeMillis / 1000} s to +${clock.aheadMillis / 1000} s)`,
    );
  }
  return reasons;
}

/**
 * Answers `request` when it is a read of `/health` or `/ready` (`pipeline` judges readiness;
 * undefined: always ready); returns whether it did.
 */
export function answerHealth(
  request: IncomingMessage,
  response: ServerResponse,
  pipeline: (() => PipelineState) | undefined,
): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = pathOf(request.url);
  if (path === HEALTH_PATH) {
    sendText(response, 200, PLAIN_TEXT, 'ok\n');
  } else if (path === READY_PATH) {
    const reasons = pipeline === undefined ? [] : notReadyReasons(pipeline());
    if (reasons.length === 0) sendText(response, 200, PLAIN_TEXT, 'ready\n');
    else
      sendText(response, 503, PLAIN_TEXT, reasons.map((r) => `not ready: ${r}\n`).join(''), {
        'cache-control': 'no-store',
      });
  } else {
    return false;
  }
  return true;
}
