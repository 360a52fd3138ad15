/**
 * The ingest as a part of a jobmeter, loaded only where it is configured. Opened before the meter
 * provider: its store (`settings` beside the listener's options), its state file loaded before the
 * listener takes a request (state-keeper.ts), a watch for a wrong clock (clock-refusals.ts).
 * Started after the pull listener: its checkpoints, then its listener, so the listener stops first
 * and the last checkpoint holds everything received (a SIGTERM restart loses nothing).
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

import type { Parts } from '../common/parts.ts';
import { answerHealth, type PipelineState } from '../http/health-route.ts';
import type { Gate } from '../http/gate.ts';
import type { SelfTelemetry } from '../http/self-telemetry.ts';
import type { IngestGateKey, IngestOptions } from '../options.ts';
import type { SourceTotals } from '../series/carry.ts';
import { ClockRefusals } from './clock-refusals.ts';
import { GRPC_CODES, HTTP_CODES } from './ingest-errors.ts';
import { startIngestListener, type IngestListenerOptions } from './ingest-listener.ts';
import type { IngestResult } from './ingest-report.ts';
import { ingestedScope, ingestProducer, IngestStore } from './ingest-store.ts';
import { preferIngested, preferIngestedIn } from './prefer-ingested.ts';
import { StateKeeper, stateDirOf } from './state-keeper.ts';
import type { IngestStoreOptions } from './store-options.ts';
import type { Log } from '../common/log.ts';

/** `sources`: what a profile's series carry of the ingested sources, kept in its checkpoint. */
export function openIngest(
  options: Required<Omit<IngestOptions, IngestGateKey | 'grpcPort'>> &
    Pick<IngestOptions, 'grpcPort'> & { readonly gate: Gate },
  settings: IngestStoreOptions,
  log: Log,
  sources: SourceTotals,
) {
  const newStore = () => new IngestStore({ ...options, ...settings, sources });
  const store = newStore();
  // The state is kept in `stateDir`, loaded into `store`; none when it is off or the port is 0.
  const dir = stateDirOf(options);
  if (dir === undefined && options.stateDir !== false)
    log(
      'info',
      'ingest state not kept: the ingest port is 0 (a new port each start, so no sender finds the same service again)',
    );
  const keeper =
    dir === undefined
      ? undefined
      : StateKeeper.open(store, {
          dir,
          host: options.host,
          port: options.port,
          maxBytes: options.maxMemoryBytes,
          log,
          emptyStore: newStore,
          carry: sources,
        });
  const clock = new ClockRefusals({ maxAgeMillis: store.maxAgeMillis, log });
  // What a scrape reads (series sets), and the push and the primary's report (the same as
  // MetricData): the state keeper's, which writes the state file first.
  const series = keeper?.series() ?? store;
  return {
    producer: ingestProducer(series),
    series,
    /** What was written: moves with every request ingested and every series expired. */
    changes: () => store.changes,
    /** A name a sender pushes replaces jobmeter's own (its process.uptime, its build info). */
    shadow: (rm: ResourceMetrics) => preferIngested(rm, ingestedScope),
    preferIngestedIn,
    /** What `/ready` judges of the ingest. */
    state: (): Pick<PipelineState, 'ingest' | 'checkpoint' | 'clock'> => ({
      ingest: { memoryBytes: store.memoryBytes, maxMemoryBytes: options.maxMemoryBytes },
      checkpoint: keeper === undefined ? undefined : { failing: keeper.health().failing },
      clock: { refusing: clock.refusing() },
    }),
    /** Starts the checkpoints, then the listener, as `parts`, counted in `telemetry` (serve's); `onRequest`: the debug printer's. */
    start(
      parts: Parts,
      telemetry: SelfTelemetry | undefined,
      pipeline: () => PipelineState,
      onRequest: IngestListenerOptions['onRequest'],
    ) {
      const { maxSeries, maxMemoryBytes } = options;
      const counts = telemetry?.ingestFrom({
        store,
        senders: () => store.senders.report(store.seriesByResource()),
        maxSeries,
        maxMemoryBytes,
        answers: {
          http: HTTP_CODES,
          ...(options.grpcPort !== undefined && { grpc: GRPC_CODES }),
        },
        checkpoints: keeper && (() => keeper.health()),
      });
      // Each request's points counted, and watched for a wrong clock.
      const counted = (result: IngestResult): IngestResult => {
        counts?.accepted.add(result.acceptedDataPoints);
        clock.record(result);
        return result;
      };
      if (keeper !== undefined) {
        keeper.start((seconds) => counts?.checkpointed?.record(seconds));
        parts.add(() => keeper.close());
      }
      return parts.start(
        () =>
          startIngestListener({
            ...options,
            sink: {
              ingest: (request, peer) => counted(store.ingest(request, peer)),
              begin: (peer) => {
                const batch = store.begin(peer);
                return { add: (part) => batch.add(part), result: () => counted(batch.result()) };
              },
            },
            // jobmeter's own count: a profile's rejection series is its original's API's alone.
            ...(counts && {
              onAnswered: counts.answered,
              onShed: (reason) => counts.shed[reason].add(1),
            }),
            health: (request, response) => answerHealth(request, response, pipeline),
            log,
            ...(onRequest && { onRequest }),
          }),
        (started) => started.close(),
      );
    },
  };
}
