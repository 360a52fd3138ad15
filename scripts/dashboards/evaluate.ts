/**
 * Runs a dashboard panel's queries against a Prometheus the way Grafana's Prometheus data source
 * does: time series panels as range queries (`/api/v1/query_range`, step = `$__interval`), stat
 * and table panels as instant queries at the end of the range; every variable interpolated first
 * (interpolate.ts).
 */
import { interpolate, intervalSeconds, type GrafanaContext } from './interpolate.ts';
import { panelExpr } from './grafana.ts';
import type { DashboardSpec, PanelSpec, TargetSpec } from './spec.ts';

export interface Series {
  readonly metric: Readonly<Record<string, string>>;
  /** `[unix seconds, value]`; NaN and ±Inf kept as numbers. */
  readonly values: ReadonlyArray<readonly [number, number]>;
}

export interface TargetResult {
  readonly target: TargetSpec;
  /** What was sent to Prometheus. */
  readonly expr: string;
  readonly series: readonly Series[];
}

export interface PanelResult {
  readonly panel: PanelSpec;
  readonly targets: readonly TargetResult[];
}

export interface EvaluationContext extends GrafanaContext {
  /** End of the dashboard time range (unix seconds): "now". */
  readonly endSeconds: number;
}

const REQUEST_TIMEOUT_MS = 10_000;

async function api(
  prometheusUrl: string,
  path: string,
  params: Record<string, string>,
): Promise<{ resultType: string; result: unknown }> {
  const res = await fetch(`${prometheusUrl}${path}?${new URLSearchParams(params).toString()}`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = (await res.json()) as {
    status: string;
    data?: { resultType: string; result: unknown };
    errorType?: string;
    error?: string;
  };
  if (body.status !== 'success' || body.data === undefined) {
    throw new Error(
      `${body.errorType ?? res.status}: ${body.error ?? 'no data'} (query: ${params['query']})`,
    );
  }
  return body.data;
}

/** Instant query at `time`; a scalar comes back as one series without labels. */
export async function instantQuery(
  prometheusUrl: string,
  expr: string,
  time: number,
): Promise<Series[]> {
  const data = await api(prometheusUrl, '/api/v1/query', { query: expr, time: String(time) });
  if (data.resultType === 'scalar') {
    const [t, v] = data.result as [number, string];
    return [{ metric: {}, values: [[t, Number(v)]] }];
  }
  return (data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map(
    (s) => ({
      metric: s.metric,
      values: [[s.value[0], Number(s.value[1])]],
    }),
  );
}

export async function rangeQuery(
  prometheusUrl: string,
  expr: string,
  start: number,
  end: number,
  step: number,
): Promise<Series[]> {
  const data = await api(prometheusUrl, '/api/v1/query_range', {
    query: expr,
    start: String(start),
    end: String(end),
    step: String(step),
  });
  return (
    data.result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>
  ).map((s) => ({
    metric: s.metric,
    values: s.values.map(([t, v]) => [t, Number(v)] as const),
  }));
}

export async function evaluatePanel(
  prometheusUrl: string,
  spec: DashboardSpec,
  panel: PanelSpec,
  ctx: EvaluationContext,
): Promise<PanelResult> {
  const names = spec.variables.map((v) => v.name);
  const targets = await Promise.all(
    panel.targets.map(async (target) => {
      const expr = interpolate(panelExpr(spec, target), ctx, names);
      const series =
        panel.kind === 'timeseries'
          ? await rangeQuery(
              prometheusUrl,
              expr,
              ctx.endSeconds - ctx.rangeSeconds,
              ctx.endSeconds,
              intervalSeconds(ctx),
            )
          : await instantQuery(prometheusUrl, expr, ctx.endSeconds);
      return { target, expr, series };
    }),
  );
  return { panel, targets };
}

/** Whether Grafana would draw something: at least one finite value in any target. */
export function hasData(result: PanelResult): boolean {
  return result.targets.some((t) =>
    t.series.some((s) => s.values.some(([, v]) => Number.isFinite(v))),
  );
}

/** `label_values(metric{matchers}, label)` → the values Grafana's variable would list. */
export async function labelValues(
  prometheusUrl: string,
  query: string,
  ctx: GrafanaContext,
  variableNames: readonly string[],
): Promise<string[]> {
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query);
  if (m === null) throw new Error(`not a label_values(metric, label) query: ${query}`);
  const match = interpolate(m[1]!, ctx, variableNames);
  const res = await fetch(
    `${prometheusUrl}/api/v1/series?${new URLSearchParams({ 'match[]': match }).toString()}`,
    { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
  );
  const body = (await res.json()) as {
    status: string;
    data?: Array<Record<string, string>>;
    error?: string;
  };
  if (body.status !== 'success') throw new Error(`${body.error} (match: ${match})`);
  return [
    ...new Set(body.data!.map((s) => s[m[2]!]).filter((v): v is string => v !== undefined)),
  ].sort();
}
