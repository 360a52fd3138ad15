/**
 * `JobmeterReader`: jobmeter's pull endpoint as a MetricReader of the host's own MeterProvider,
 * shaped like `@opentelemetry/exporter-prometheus`'s `PrometheusExporter`:
 *
 *   const reader = new JobmeterReader({ profile: 'solti', listener: { port: 9464 } });
 *   new MeterProvider({ resource, views, readers: [reader] });   // or NodeSDK's metricReaders
 *   await reader.ready;                                          // the listener is bound
 *
 * Every scrape collects the host's provider (its instruments, its Views, its resource as
 * `target_info`) and renders it under the profile — negotiation, gzip, `?format=json`, the
 * profile's own format — on jobmeter's dedicated loopback listener. Under a legacy profile the
 * host's instruments follow the same rules as in `createJobmeter` (the table's, the host's own
 * `rules`, the rest under native names unless `hostInstruments: 'drop'`). Bounds and value checks
 * are the host provider's: its Views and cardinality limits apply, not jobmeter's.
 */
import { type MetricProducer } from '@opentelemetry/sdk-metrics';
import type { RenderFamily } from './exposition/render-model.ts';
import { startMetricsListener, type MetricsListener } from './http/metrics-listener.ts';
import { checkOptionKeys } from './common/option-keys.ts';
import { resolveListener, resolveProfileChoice } from './resolve-options.ts';
import { buildProfile, coalescedScrape, jsonView, profileNamer } from './scrape-pipeline.ts';
import { withExpositionOptions } from './naming/profile-options.ts';
import type { Profile } from './naming/types.ts';
import type { JobmeterOptions } from './options.ts';
import { PullMetricReader } from './readers/pull-reader.ts';

/** The `createJobmeter` options that make sense for a reader of someone else's provider. */
export type JobmeterReaderOptions = Pick<JobmeterOptions, 'profile' | 'listener' | 'otelScopeInfo' | 'hostname' | 'hostInstruments' | 'startTimestamps' | 'translationStrategy'> & {
  /** Producers whose metrics join every collection, after the provider's own. @default [] */
  metricProducers?: MetricProducer[];
};

export class JobmeterReader extends PullMetricReader {
  readonly profile: Profile;
  /** Resolves once the listener is bound (rejects if it cannot be: a port in use, a non-loopback host). */
  readonly ready: Promise<void>;
  /** One scrape's families (concurrent calls share a collection and a naming pass). */
  readonly scrape: () => Promise<RenderFamily[]>;
  #listener: MetricsListener | undefined;

  /** @throws ConfigError on a bad profile, rule or option (as createJobmeter). */
  constructor(options: JobmeterReaderOptions = {}) {
    super(options.metricProducers ?? []);
    checkOptionKeys(options, 'reader');
    const choice = resolveProfileChoice(options.profile, options.hostInstruments);
    const profile = withExpositionOptions(buildProfile(choice, options.otelScopeInfo ?? true), options);
    this.profile = profile;
    const namer = profileNamer(profile, choice.hostInstruments, options.hostname);
    this.scrape = coalescedScrape(() => this.collect().then((r) => r.resourceMetrics), namer);
    const listener = resolveListener(options.listener);
    this.ready =
      listener === false
        ? Promise.resolve()
        : startMetricsListener({ ...listener, format: listener.format ?? profile.format, json: jsonView(profile), scrape: this.scrape }).then((l) => {
            this.#listener = l;
          });
    // Observed through `ready`; without a listener to wait on, an unhandled rejection would end the process.
    this.ready.catch(() => {});
  }

  /** Where the listener is bound, once `ready`; undefined before, and when it is disabled. */
  get pullAddress(): { readonly host: string; readonly port: number } | undefined {
    return this.#listener?.address;
  }

  /** The provider's shutdown closes the listener. */
  protected override async onShutdown(): Promise<void> {
    await this.ready.catch(() => {});
    await this.#listener?.close();
  }
}
