/**
 * Ingested data and the service's own, for the same instrument name.
 *
 * - **Levels and the process's figures: ingested wins.** `jobmeter serve` records a few
 *   instruments of its own (`jobmeter.build.info`, `process.*`/`system.*` figures such as
 *   `process.uptime`). When a foreign daemon pushes the same names, its figures are the ones the
 *   profile must show — runwisp's `runwisp_daemon_uptime_seconds` is the daemon's uptime, not
 *   jobmeter's — and the two must not be added up or shown side by side: such a metric of the
 *   SDK's own scopes is left out. The same for every gauge and up-down sum (a level).
 * - **Events: both count.** A counter or histogram that counts events (`jobmeter.request.rejected`:
 *   the 401s `serve` answers itself and the rejections the daemon pushes) is kept from both sides;
 *   the naming stage adds up the series that land on the same labels. Replacing one with the
 *   other would make a counter on the pull endpoint go backwards.
 */
import { AggregationTemporality, DataPointType } from '../common/otel-sdk.ts';
import type { MetricData, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { metricsCollection, type Collection } from '../series/collection.ts';

/** What {@link shadowed} reads of a metric: a MetricData, or a series set of the store (series/collection.ts). */
export type MetricHead = Pick<
  MetricData,
  'descriptor' | 'dataPointType' | 'aggregationTemporality'
> & { readonly isMonotonic?: boolean };

/** Whether the service's own `m` is left out when a sender pushes its name (see above). */
export function shadowed(m: MetricHead): boolean {
  const name = m.descriptor.name;
  if (name.startsWith('process.') || name.startsWith('system.')) return true;
  const events =
    (m.dataPointType === DataPointType.SUM && m.isMonotonic) ||
    m.dataPointType === DataPointType.HISTOGRAM;
  return !events || m.aggregationTemporality !== AggregationTemporality.CUMULATIVE;
}

/**
 * `resourceMetrics` (the ingest's scopes, `isIngested`, last) without the SDK's own metrics that
 * ingested ones replace, as {@link preferIngestedIn} leaves them out. Returns the input itself when
 * nothing is shadowed.
 */
export function preferIngested(
  resourceMetrics: ResourceMetrics,
  isIngested: (scopeMetrics: ScopeMetrics) => boolean,
): ResourceMetrics {
  const { resource, scopeMetrics } = resourceMetrics;
  const own = scopeMetrics.filter((sm) => !isIngested(sm));
  const ingested = scopeMetrics.filter(isIngested);
  const kept = preferIngestedIn({
    ...metricsCollection({ resource, scopeMetrics: own }),
    ingested: ingested.map((sm) => ({ scope: sm.scope, series: sm.metrics })),
  }).metrics;
  return kept === own ? resourceMetrics : { resource, scopeMetrics: [...kept, ...ingested] };
}

/** `scopeMetrics` without the metrics that ingested ones named `ingestedNames` replace; the same array when nothing is left out. */
function withoutShadowed(
  scopeMetrics: readonly ScopeMetrics[],
  ingestedNames: ReadonlySet<string>,
): readonly ScopeMetrics[] {
  let changed = false;
  const out: ScopeMetrics[] = [];
  for (const sm of scopeMetrics) {
    const metrics = sm.metrics.filter(
      (m) => !(ingestedNames.has(m.descriptor.name) && shadowed(m)),
    );
    if (metrics.length === sm.metrics.length) {
      out.push(sm);
      continue;
    }
    changed = true;
    if (metrics.length > 0) out.push({ scope: sm.scope, metrics });
  }
  return changed ? out : scopeMetrics;
}

/**
 * `c` without the service's own metrics and store series that the ingest's (`c.ingested`: its
 * series sets, their derived metrics) replace. Returns `c` itself when nothing is ingested.
 */
export function preferIngestedIn(c: Collection): Collection {
  const ingested = new Set<string>();
  for (const group of c.ingested)
    for (const entry of group.series) ingested.add(entry.descriptor.name);
  if (ingested.size === 0) return c;
  const metrics = withoutShadowed(c.metrics, ingested);
  const series = c.series
    .map((s) => ({
      scope: s.scope,
      series: s.series.filter((set) => !(ingested.has(set.descriptor.name) && shadowed(set))),
    }))
    .filter((s) => s.series.length > 0);
  return { ...c, series, metrics, done: () => c.done() };
}
