/**
 * A {@link DashboardSpec} as Grafana dashboard JSON (schema 39, the version restic-manager's
 * sample dashboard uses; Grafana 10.4+/11 import it as-is and newer releases migrate it).
 *
 * Import-as-is rules this follows (test/dashboards/dashboards.test.ts checks them):
 * - one `datasource` variable (type `datasource`, query `prometheus`); every panel, target and
 *   query variable refers to it as `{ type: 'prometheus', uid: '${datasource}' }`, so no data-source
 *   uid of anyone's Grafana is baked in and the importer just picks one;
 * - no `id` (Grafana assigns one on import), a stable `uid` (`jobmeter-<profile>`) so a re-import
 *   replaces rather than duplicates;
 * - panel ids 1..n, unique; grid positions computed by flowing panels left to right in 24 columns;
 * - a unit on every panel (`fieldConfig.defaults.unit`), and per column on tables.
 */
import type { DashboardSpec, PanelSpec, TargetSpec } from './spec.ts';

export const SCHEMA_VERSION = 39;
export const DATASOURCE_REF = { type: 'prometheus', uid: '${datasource}' } as const;
/** What a multi-value variable's "All" becomes in a query (instead of a long alternation). */
export const ALL_VALUE = '.+';
const GRID_COLUMNS = 24;
const DEFAULT_W = 12;
const DEFAULT_H = 8;

/** The label matchers `$sel` stands for in panels.ts. */
export function selectorFor(spec: DashboardSpec): string {
  return spec.variables.map((v) => `${v.name}=~"$${v.name}"`).join(', ');
}

/** A target's PromQL as it is written into the dashboard (`$sel` expanded, Grafana variables kept). */
export function panelExpr(spec: DashboardSpec, target: TargetSpec): string {
  return target.expr.replaceAll('$sel', selectorFor(spec));
}

const refId = (i: number): string => String.fromCharCode(65 + i);

export function dashboardJson(spec: DashboardSpec): Record<string, unknown> {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = spec.panels.map((panel, i) => {
    const w = panel.w ?? DEFAULT_W;
    const h = panel.h ?? DEFAULT_H;
    if (x + w > GRID_COLUMNS) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { h, w, x, y };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return panelJson(spec, panel, i + 1, gridPos);
  });

  return {
    title: spec.title,
    uid: `jobmeter-${spec.profile}`,
    description: spec.description,
    tags: ['jobmeter', spec.profile],
    editable: true,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: '',
    refresh: '1m',
    links: [],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          includeAll: false,
          multi: false,
          options: [],
          refresh: 1,
          regex: '',
        },
        ...spec.variables.map((v) => ({
          name: v.name,
          label: v.label,
          type: 'query',
          datasource: DATASOURCE_REF,
          definition: v.query,
          query: { query: v.query, refId: `PrometheusVariableQueryEditor-VariableQuery` },
          current: {},
          hide: 0,
          includeAll: true,
          allValue: ALL_VALUE,
          multi: true,
          options: [],
          refresh: 2, // on time range change
          regex: '',
          sort: 1,
        })),
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

function panelJson(
  spec: DashboardSpec,
  panel: PanelSpec,
  id: number,
  gridPos: Record<string, number>,
): Record<string, unknown> {
  const table = panel.kind === 'table';
  const targets = panel.targets.map((t, i) => ({
    datasource: DATASOURCE_REF,
    refId: refId(i),
    expr: panelExpr(spec, t),
    legendFormat: t.legend ?? '',
    editorMode: 'code',
    // Stat and table panels show the value now; time series the range.
    range: panel.kind === 'timeseries',
    instant: panel.kind !== 'timeseries',
    ...(table ? { format: 'table' } : {}),
    ...(t.exemplar === true ? { exemplar: true } : {}),
  }));

  const thresholds = {
    mode: 'absolute',
    steps: [
      { color: 'green', value: null },
      ...(panel.threshold !== undefined ? [{ color: 'red', value: panel.threshold }] : []),
    ],
  };
  const defaults: Record<string, unknown> = {
    unit: panel.unit,
    ...(panel.min !== undefined ? { min: panel.min } : {}),
    ...(panel.max !== undefined ? { max: panel.max } : {}),
    thresholds,
    color: { mode: panel.kind === 'timeseries' ? 'palette-classic' : 'thresholds' },
  };
  if (panel.kind === 'timeseries') {
    defaults['custom'] = {
      drawStyle: 'line',
      lineWidth: 1,
      fillOpacity: 10,
      showPoints: 'never',
      spanNulls: false,
      thresholdsStyle: { mode: panel.threshold !== undefined ? 'dashed' : 'off' },
    };
  }

  const columns = panel.targets.flatMap((t, i) =>
    t.column ? [{ ...t.column, field: `Value #${refId(i)}` }] : [],
  );
  const overrides = columns.map((c) => ({
    matcher: { id: 'byName', options: c.name },
    properties: [{ id: 'unit', value: c.unit }],
  }));

  return {
    id,
    type: panel.kind,
    title: panel.title,
    description: panel.description,
    datasource: DATASOURCE_REF,
    gridPos,
    fieldConfig: { defaults, overrides },
    options: optionsFor(panel),
    targets,
    ...(table
      ? {
          transformations: [
            // One row per label set across the queries, then readable column names.
            { id: 'merge', options: {} },
            {
              id: 'organize',
              options: {
                excludeByName: { Time: true, job: true, instance: true, __name__: true },
                renameByName: Object.fromEntries(columns.map((c) => [c.field, c.name])),
              },
            },
          ],
        }
      : {}),
  };
}

function optionsFor(panel: PanelSpec): Record<string, unknown> {
  switch (panel.kind) {
    case 'timeseries':
      return {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
        tooltip: { mode: 'multi', sort: 'desc' },
      };
    case 'stat':
      return {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'area',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'auto',
      };
    case 'table':
      return {
        showHeader: true,
        cellHeight: 'sm',
        footer: { show: false, reducer: ['sum'], fields: '' },
      };
  }
}

/** The committed file's exact text: 2-space JSON and a final newline. */
export function dashboardFileText(spec: DashboardSpec): string {
  return JSON.stringify(dashboardJson(spec), null, 2) + '\n';
}
