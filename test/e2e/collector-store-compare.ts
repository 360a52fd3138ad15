/**
 * Reading two Prometheus stores the same way, for the gateway tests (collector-gateway*.test.ts,
 * collector-daemon-gateway.test.ts): a job's stored series, and an expression's result at one
 * moment, each keyed without the origin labels (`job`, `instance`) that differ between a scrape
 * and a push by construction.
 */
import assert from 'node:assert/strict';
import type { PrometheusHandle } from '../support/prometheus.ts';
import { canonicalBound } from '../support/series-diff.ts';

const ORIGIN_LABELS = new Set(['job', 'instance']);
/** Prometheus' own series for a scrape, and the resource's `target_info`. */
const SCRAPE_SERIES = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
  'target_info',
]);

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** `name{labels}` → value of every series a store holds for `job`, origin labels left out, `le` as a number. */
export async function storedSeries(
  prom: PrometheusHandle,
  job: string,
  dropFamilies: ReadonlySet<string> = new Set(),
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of await prom.query(`{job="${job}"}`)) {
    const { __name__: name, ...labels } = s.metric;
    if (SCRAPE_SERIES.has(name!) || dropFamilies.has(name!.replace(/_(bucket|sum|count)$/, '')))
      continue;
    const kept = Object.entries(labels)
      .filter(([k]) => !ORIGIN_LABELS.has(k))
      .sort(([a], [b]) => a.localeCompare(b));
    out.set(
      `${name}{${kept.map(([k, v]) => `${k}=${JSON.stringify(k === 'le' ? canonicalBound(v) : v)}`).join(',')}}`,
      s.value[1],
    );
  }
  return out;
}

/** An instant query at `time` (Unix seconds): both stores are asked about the same moment (`time()` included). */
export async function queryAt(
  prom: PrometheusHandle,
  expr: string,
  time: string,
): Promise<Sample[]> {
  const res = await fetch(
    `${prom.url}/api/v1/query?${new URLSearchParams({ query: expr, time }).toString()}`,
    { signal: AbortSignal.timeout(10_000) },
  );
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data: { resultType: string; result: Sample[] | [number, string] };
  };
  assert.equal(body.status, 'success', `${expr}: ${body.error}`);
  // A scalar (e.g. `vector(0)` folded) is one sample with no labels.
  return body.data.resultType === 'scalar'
    ? [{ metric: {}, value: body.data.result as [number, string] }]
    : (body.data.result as Sample[]);
}

/** An expression's result as labels (origin labels left out) → value. */
export function resultTable(samples: readonly Sample[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of samples) {
    const labels = Object.entries(s.metric)
      .filter(([k]) => !ORIGIN_LABELS.has(k))
      .sort(([a], [b]) => a.localeCompare(b));
    out.set(JSON.stringify(labels), s.value[1]);
  }
  return out;
}
