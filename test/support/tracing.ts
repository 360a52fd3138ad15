/**
 * Real OpenTelemetry tracing for tests: the SDK's TracerProvider behind the global API, with the
 * AsyncLocalStorage context manager a Node host registers, so `tracer.startActiveSpan` makes a
 * span active the way a host's tracing does.
 */
import { context, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOffSampler, AlwaysOnSampler, TracerProvider } from '@opentelemetry/sdk-trace';

export interface Tracing {
  readonly tracer: Tracer;
  stop(): Promise<void>;
}

/** Starts tracing; `sampled: false` makes every span unsampled (AlwaysOffSampler). */
export function startTracing(options: { sampled?: boolean } = {}): Tracing {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  const provider = new TracerProvider({
    sampler: options.sampled === false ? new AlwaysOffSampler() : new AlwaysOnSampler(),
  });
  return {
    tracer: provider.getTracer('jobmeter-test'),
    async stop() {
      await provider.shutdown();
      manager.disable();
      context.disable();
      trace.disable();
    },
  };
}
