/**
 * The vocabulary of the declarative dashboard lists (panels.ts): what a panel says, not how
 * Grafana spells it. grafana.ts turns a {@link DashboardSpec} into dashboard JSON; the tests and
 * the picture renderer read the same specs, so a query exists in one place only.
 */
import type { ProfileName } from '../../src/options.ts';

/**
 * Grafana unit ids used here (Grafana's `valueFormats` registry). The tests check every panel
 * uses one of these, so a typo cannot become an unformatted axis.
 */
export const GRAFANA_UNITS = [
  'short', // plain count, SI-abbreviated (1.2K)
  'none', // a label-bag value or an identifier (versions, schema numbers)
  'percentunit', // 0–1 shown as 0–100 %
  'percent', // 0–100 shown as %
  'ops', // per second
  'reqps', // requests per second
  's', // seconds
  'ms', // milliseconds
  'bytes', // IEC bytes
  'currencyUSD', // $
  'dateTimeFromNow', // a Unix time in milliseconds, shown as "3 hours ago"
  'bool_yes_no', // 1/0 shown as Yes/No
] as const;
export type GrafanaUnit = (typeof GRAFANA_UNITS)[number];

/** Where the dashboard tests look for data: the profile's demo scenario, or the example host app. */
export type DataSource = 'demo' | 'app';

export interface TargetSpec {
  /**
   * PromQL with Grafana variables: `$sel` is replaced by the dashboard's label matchers
   * (`job=~"$job", instance=~"$instance"`, plus `hostname=~"$hostname"` for crewshipd) before the
   * JSON is written; `$__rate_interval` / `$__range` stay for Grafana to fill in.
   */
  readonly expr: string;
  /** Legend (`{{label}}` templates). @default '' (Grafana's default: the series labels) */
  readonly legend?: string;
  /** Table panels: the column this query's value becomes, and its unit. */
  readonly column?: { readonly name: string; readonly unit: GrafanaUnit };
  /**
   * Ask Prometheus for the exemplars of the query's series too (Grafana's "Exemplars" toggle): the
   * run-duration histograms carry trace-linked exemplars when runs are traced. @default false
   */
  readonly exemplar?: boolean;
}

export type PanelKind = 'timeseries' | 'stat' | 'table';

export interface PanelSpec {
  readonly title: string;
  /** Shown as the panel's (i) tooltip: what it means and what to do about it. */
  readonly description: string;
  readonly kind: PanelKind;
  readonly unit: GrafanaUnit;
  readonly targets: readonly TargetSpec[];
  /** Grid width in Grafana's 24 columns. @default 12 */
  readonly w?: number;
  /** Grid height in rows of 30 px. @default 8 */
  readonly h?: number;
  readonly min?: number;
  readonly max?: number;
  /** A red threshold (drawn as a dashed line on time series): the matching alert's threshold. */
  readonly threshold?: number;
  /** Drawn in docs/profiles/<profile>.png. */
  readonly main?: boolean;
  /**
   * Sources whose run is not expected to fill this panel (e.g. the example host app keeps no LLM
   * ledger). The query must still be valid there. @default [] (data expected from both)
   */
  readonly emptyFor?: readonly DataSource[];
}

export interface VariableSpec {
  readonly name: string;
  readonly label: string;
  /** `label_values(...)` query; may use earlier variables. */
  readonly query: string;
}

/** A profile's dashboard, or `serve`: jobmeter serve's own (serve-panels.ts). */
export type DashboardName = ProfileName | 'serve';

export interface DashboardSpec {
  readonly profile: DashboardName;
  readonly title: string;
  /** One paragraph: what the dashboard is for; also the top of docs/profiles/<profile>.md. */
  readonly description: string;
  /** Query variables after `datasource`, each multi-value with an All of `.+`. */
  readonly variables: readonly VariableSpec[];
  readonly panels: readonly PanelSpec[];
}
