/**
 * Trace-linked exemplars: a record made while a sampled span is active (the host's OpenTelemetry
 * tracing) keeps that span's ids beside the value, the latest per series (counters) or per bucket
 * (histograms), for instruments whose spec asks for them (`exemplars: true`). Memory is one small
 * object per series or bucket at most, replaced, never accumulated.
 *
 * The OpenTelemetry JS SDK keeps no exemplars, so only jobmeter's storages (its own provider's)
 * have them; an instrument recorded through the SDK serves none.
 */
import {
  context as api,
  isSpanContextValid,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';
import type { Exemplar } from '../series/collection.ts';

export type { Exemplar };

/**
 * A context known to hold no sampled span: a caller that has looked once (a run's two records)
 * passes it on so no instrument looks again.
 */
export const NO_EXEMPLAR: Context = api.active().setValue(Symbol('jobmeter.no-exemplar'), true);

/** The sampled span of `ctx`, when it holds one. */
function sampledSpan(ctx: Context): SpanContext | undefined {
  const span = trace.getSpanContext(ctx);
  return span !== undefined &&
    (span.traceFlags & TraceFlags.SAMPLED) !== 0 &&
    isSpanContextValid(span)
    ? span
    : undefined;
}

/** `ctx` (else the active context), or {@link NO_EXEMPLAR} when it holds no sampled span. */
export function exemplarContext(ctx: Context | undefined): Context {
  const c = ctx ?? api.active();
  // No tracing set up (or nothing active): the root context, which holds no span.
  return c === ROOT_CONTEXT || sampledSpan(c) === undefined ? NO_EXEMPLAR : c;
}

/** The exemplar of `value` recorded in `ctx` (else the active context), when a sampled span is in it. */
export function exemplarOf(value: number, ctx: Context | undefined): Exemplar | undefined {
  const span = ctx === NO_EXEMPLAR ? undefined : sampledSpan(ctx ?? api.active());
  return span && { value, timeMillis: Date.now(), traceId: span.traceId, spanId: span.spanId };
}
