/**
 * Ingested data wins over the service's own for the same instrument name.
 *
 * `jobmeter serve` records a few instruments of its own (`jobmeter.build.info`, process metrics
 * such as `process.uptime`). When a foreign daemon pushes the same canonical names, its figures
 * are the ones the profile must show — runwisp's `runwisp_daemon_uptime_seconds` is the daemon's
 * uptime, not jobmeter's — and the two must not be added up or shown side by side. So, in a
 * collection, every metric of the SDK's own scopes whose name also arrives from the ingest store
 * is left out.
 */
import type { ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';

/**
 * `resourceMetrics` without the SDK's own metrics that ingested ones shadow. Returns the input
 * itself when nothing is shadowed.
 *
 * @param isIngested tells the ingest store's scopes from the SDK's (`store.owns`).
 */
export function preferIngested(resourceMetrics: ResourceMetrics, isIngested: (scopeMetrics: ScopeMetrics) => boolean): ResourceMetrics {
  const ingestedNames = new Set<string>();
  for (const sm of resourceMetrics.scopeMetrics) {
    if (isIngested(sm)) for (const m of sm.metrics) ingestedNames.add(m.descriptor.name);
  }
  if (ingestedNames.size === 0) return resourceMetrics;
  let changed = false;
  const scopeMetrics: ScopeMetrics[] = [];
  for (const sm of resourceMetrics.scopeMetrics) {
    if (isIngested(sm)) {
      scopeMetrics.push(sm);
      continue;
    }
    const metrics = sm.metrics.filter((m) => !ingestedNames.has(m.descriptor.name));
    if (metrics.length === sm.metrics.length) {
      scopeMetrics.push(sm);
      continue;
    }
    changed = true;
    if (metrics.length > 0) scopeMetrics.push({ scope: sm.scope, metrics });
  }
  return changed ? { resource: resourceMetrics.resource, scopeMetrics } : resourceMetrics;
}
