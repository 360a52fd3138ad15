/**
 * What a real Prometheus stored from one scrape job, for the tests that hold jobmeter's pull
 * endpoint to `@opentelemetry/exporter-prometheus` (exporter-prometheus-migration.test.ts,
 * native-profile-matches-exporter-prometheus.test.ts): every series but the scrape's own, keyed by
 * its labels without `job` and `instance`, bounds as stored (Prometheus 2 keeps `le` as written).
 */
import type { PrometheusHandle } from '../support/prometheus.ts';

/** Labels but job and instance, as one key → the value, of every series `job` stored but `up`, `scrape_*` and `exclude`. */
export async function storedByJob(
  prom: PrometheusHandle,
  job: string,
  exclude = '',
): Promise<Map<string, string>> {
  const samples = await prom.query(`{job="${job}", __name__!~"up|scrape_.*${exclude}"}`);
  return new Map(
    samples.map((s) => {
      const { job: _job, instance: _instance, ...labels } = s.metric;
      const key = Object.entries(labels)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',');
      return [key, s.value[1]];
    }),
  );
}
