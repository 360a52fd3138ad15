/**
 * Grafana's variable interpolation for Prometheus queries, as far as these dashboards use it, so
 * the tests and the picture renderer send Prometheus exactly what Grafana would.
 *
 * - `$__interval`: time range / max data points, rounded the way Grafana rounds it
 *   (`rangeutil.roundInterval`), floored at the data source's scrape interval (Grafana uses the
 *   Prometheus data source's "Scrape interval" setting as the minimum interval).
 * - `$__rate_interval`: max(`$__interval` + scrape interval, 4 × scrape interval) — Grafana's
 *   documented definition. With 1 s scrapes and a short range that is 4 s.
 * - `$__range`: the time range in whole seconds (`3600s`); `$__range_s`: the number.
 * - Query variables: one value is regex-escaped; several become `(a|b)`; All becomes the
 *   variable's `allValue` (`.+`).
 */
import { ALL_VALUE } from './grafana.ts';

export interface GrafanaContext {
  /** The Prometheus data source's scrape interval setting, in seconds (Grafana's default: 15). */
  readonly scrapeIntervalSeconds: number;
  /** The dashboard time range, in seconds. */
  readonly rangeSeconds: number;
  /** Points Grafana asks for (about the panel's width in pixels). @default 1000 */
  readonly maxDataPoints?: number;
  /** Variable values; `'$__all'` (or a missing name) means All. */
  readonly variables?: Readonly<Record<string, string | readonly string[]>>;
}

/** Grafana's `roundInterval`: to the nearest "nice" step, in milliseconds. */
export function roundIntervalMs(ms: number): number {
  const steps: ReadonlyArray<readonly [number, number]> = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1_500, 1_000],
    [3_500, 2_000],
    [7_500, 5_000],
    [12_500, 10_000],
    [17_500, 15_000],
    [25_000, 20_000],
    [45_000, 30_000],
    [90_000, 60_000],
    [210_000, 120_000],
    [450_000, 300_000],
    [1_050_000, 600_000],
    [2_100_000, 900_000],
    [4_500_000, 1_800_000],
    [9_000_000, 3_600_000],
    [21_600_000, 7_200_000],
    [64_800_000, 21_600_000],
    [129_600_000, 43_200_000],
  ];
  if (ms < 10) return 1;
  for (const [below, nice] of steps) if (ms < below) return nice;
  return 86_400_000;
}

export function intervalSeconds(ctx: GrafanaContext): number {
  const calculated =
    roundIntervalMs((ctx.rangeSeconds * 1000) / (ctx.maxDataPoints ?? 1000)) / 1000;
  return Math.max(calculated, ctx.scrapeIntervalSeconds);
}

export function rateIntervalSeconds(ctx: GrafanaContext): number {
  return Math.max(intervalSeconds(ctx) + ctx.scrapeIntervalSeconds, 4 * ctx.scrapeIntervalSeconds);
}

/** Grafana's Prometheus regex escaping of a variable value used with `=~`. */
const escapeRegex = (value: string): string => value.replace(/[\\^$*+?.()|[\]{}]/g, '\\\\$&');

function formatVariable(value: string | readonly string[] | undefined): string {
  if (value === undefined || value === '$__all') return ALL_VALUE;
  if (typeof value === 'string') return escapeRegex(value);
  if (value.length === 1) return escapeRegex(value[0]!);
  return `(${value.map(escapeRegex).join('|')})`;
}

const seconds = (s: number): string => `${Number.isInteger(s) ? s : Number(s.toFixed(3))}s`;

/** `expr` with every Grafana variable replaced. Throws on a `$name` it does not know. */
export function interpolate(
  expr: string,
  ctx: GrafanaContext,
  variableNames: readonly string[],
): string {
  const builtins: Record<string, string> = {
    __rate_interval: seconds(rateIntervalSeconds(ctx)),
    __interval: seconds(intervalSeconds(ctx)),
    __range: seconds(Math.round(ctx.rangeSeconds)),
    __range_s: String(Math.round(ctx.rangeSeconds)),
  };
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare)!;
      if (name in builtins) return builtins[name]!;
      if (variableNames.includes(name)) return formatVariable(ctx.variables?.[name]);
      throw new Error(`interpolate: unknown variable ${whole} in ${expr}`);
    },
  );
}
