/**
 * Draws docs/profiles/<profile>.png: what each dashboard's main panels (`main: true` in
 * panels.ts) show, from real data. Slow (a few minutes), so not part of `npm test`:
 *
 *   npm run build && node scripts/dashboards/render-pictures.ts [--minutes 4] [--profile rm]
 *
 * It starts what test/dashboards/queries.test.ts starts — for each profile its demo scenario
 * under a steady load (src/demo/live.ts, job `<profile>-demo`) and the example host app
 * (examples/task-daemon, job `<profile>-app`) — plus one real Prometheus scraping them every 5 s,
 * waits, and sends each main panel's queries as Grafana would (interpolate.ts / evaluate.ts: Job
 * = both jobs, Instance = All, the time range = the whole run). The answers are drawn with
 * Vega-Lite (vega + vega-lite, rendered to SVG in Node) and rasterised with resvg (@resvg/resvg-js,
 * a prebuilt binary from npm). Values are scaled to a readable unit the way Grafana's unit
 * formatter would (bytes → MiB/GiB, seconds → ms/s/min/h, ratios → %).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { createJobmeter, type Jobmeter, type ProfileName } from '../../src/index.ts';
import { startPrometheus } from '../../test/support/prometheus.ts';
import { evaluatePanel, type PanelResult } from './evaluate.ts';
import { startExampleApp, type ExampleApp } from './example-app.ts';
import { picturePath } from './generate.ts';
import { startLiveDemo, type LiveDemo } from '../../src/demo/live.ts';
import { DASHBOARD_PROFILES, DASHBOARDS } from './panels.ts';
import type { GrafanaUnit, PanelSpec } from './spec.ts';

const SCRAPE_INTERVAL_SECONDS = 5;
const PANEL_WIDTH = 480;
const PANEL_HEIGHT = 170;
const STAT_WIDTH = 300;
const STAT_HEIGHT = 110;
const TABLE_WIDTH = 1180;
const FONT = 'DejaVu Sans';

// ---------------------------------------------------------------------------------------------
// Units: pick one scale per panel from its largest value, as Grafana's formatter does per value.

interface Scale {
  readonly factor: number;
  /** Axis title suffix / value suffix. */
  readonly suffix: string;
  /** d3-format for the scaled value. */
  readonly format: string;
}

function scaleFor(unit: GrafanaUnit, max: number): Scale {
  const pick = (steps: ReadonlyArray<readonly [number, string]>, format = '~r'): Scale => {
    const [factor, suffix] = [...steps].reverse().find(([f]) => max >= f) ?? steps[0]!;
    return { factor, suffix, format };
  };
  switch (unit) {
    case 'percentunit':
      return { factor: 0.01, suffix: '%', format: '~r' };
    case 'percent':
      return { factor: 1, suffix: '%', format: '~r' };
    case 'bytes':
      return pick(
        [
          [1, 'B'],
          [1024, 'KiB'],
          [1024 ** 2, 'MiB'],
          [1024 ** 3, 'GiB'],
          [1024 ** 4, 'TiB'],
        ],
        '.3~r',
      );
    case 's':
      return pick(
        [
          [0.001, 'ms'],
          [1, 's'],
          [60, 'min'],
          [3600, 'h'],
          [86400, 'd'],
        ],
        '.3~r',
      );
    case 'ms':
      return pick(
        [
          [1, 'ms'],
          [1000, 's'],
          [60_000, 'min'],
        ],
        '.3~r',
      );
    case 'ops':
      return { factor: 1, suffix: 'ops/s', format: '.3~r' };
    case 'reqps':
      return { factor: 1, suffix: 'req/s', format: '.3~r' };
    case 'currencyUSD':
      return { factor: 1, suffix: 'USD', format: '$,.2f' };
    default:
      return { factor: 1, suffix: '', format: '~s' };
  }
}

function formatValue(value: number, unit: GrafanaUnit, scale: Scale): string {
  if (!Number.isFinite(value)) return 'no value';
  if (unit === 'bool_yes_no') return value === 0 ? 'No' : 'Yes';
  if (unit === 'dateTimeFromNow') {
    const ago = (Date.now() - value) / 1000;
    return ago < 3600
      ? `${Math.round(ago / 60)} min ago`
      : ago < 86400
        ? `${Math.round(ago / 3600)} hours ago`
        : `${Math.round(ago / 86400)} days ago`;
  }
  if (unit === 'currencyUSD') return `$${value.toFixed(2)}`;
  const v = value / scale.factor;
  const text =
    Number.isInteger(v) || Math.abs(v) >= 100
      ? v.toFixed(0)
      : Math.abs(v) >= 10
        ? v.toFixed(1)
        : v.toFixed(2);
  return `${text}${scale.suffix === '' ? '' : ` ${scale.suffix}`}`;
}

/** Grafana's legend: `{{label}}` templates filled from the series' labels. */
function legendOf(template: string | undefined, metric: Readonly<Record<string, string>>): string {
  if (template === undefined || template === '') {
    const labels = Object.entries(metric).filter(([k]) => k !== '__name__');
    return labels.length === 0 ? 'value' : labels.map(([k, v]) => `${k}=${v}`).join(', ');
  }
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => metric[name] ?? '').trim();
}

// ---------------------------------------------------------------------------------------------
// One Vega-Lite view per panel.

type View = Record<string, unknown>;

const panelTitle = (panel: PanelSpec, extra = ''): Record<string, unknown> => ({
  text: panel.title + extra,
  anchor: 'start',
  fontSize: 13,
  fontWeight: 'bold',
});

function timeseriesView(result: PanelResult, rangeSeconds: number): View {
  const { panel } = result;
  const timeFormat = rangeSeconds < 900 ? '%H:%M:%S' : '%H:%M';
  const rows = result.targets.flatMap((t) =>
    t.series.flatMap((s) => {
      const name = legendOf(t.target.legend, s.metric);
      return s.values
        .filter(([, v]) => Number.isFinite(v))
        .map(([time, v]) => ({ t: time * 1000, v, s: name }));
    }),
  );
  const max = Math.max(0, ...rows.map((r) => Math.abs(r.v)));
  const scale = scaleFor(panel.unit, max);
  const values = rows.map((r) => ({ ...r, v: r.v / scale.factor }));
  const layers: View[] = [
    {
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x: {
          field: 't',
          type: 'temporal',
          title: null,
          axis: { format: timeFormat, tickCount: 6, grid: false },
        },
        y: {
          field: 'v',
          type: 'quantitative',
          title: scale.suffix === '' ? null : scale.suffix,
          axis: { format: scale.format, tickCount: 4 },
          scale: {
            zero: panel.min === 0,
            ...(panel.unit === 'percentunit' && panel.max === 1 ? { domain: [0, 100] } : {}),
          },
        },
        color: {
          field: 's',
          type: 'nominal',
          title: null,
          legend: { orient: 'right', labelLimit: 230, symbolLimit: 12, columns: 1 },
        },
      },
    },
  ];
  if (panel.threshold !== undefined && panel.kind === 'timeseries') {
    layers.push({
      data: { values: [{ y: panel.threshold / scale.factor }] },
      mark: { type: 'rule', color: '#d44a3a', strokeDash: [4, 4] },
      encoding: { y: { field: 'y', type: 'quantitative' } },
    });
  }
  return {
    title: panelTitle(panel),
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    data: { values },
    layer: values.length === 0 ? [{ mark: { type: 'text', text: 'No data' } }] : layers,
    resolve: { scale: { y: 'shared' } },
  };
}

/** Stat panels: Grafana's big numbers (last value), one per series. */
function statView(result: PanelResult): View {
  const { panel } = result;
  const rows = result.targets.flatMap((t) =>
    t.series.map((s) => ({
      name: legendOf(t.target.legend, s.metric),
      v: s.values.at(-1)?.[1] ?? NaN,
    })),
  );
  const scale = scaleFor(
    panel.unit,
    Math.max(0, ...rows.map((r) => Math.abs(r.v)).filter(Number.isFinite)),
  );
  const values = rows.map((r, i) => ({
    i,
    name: rows.length > 1 || r.name !== 'value' ? r.name : '',
    text: formatValue(r.v, panel.unit, scale),
    red:
      panel.threshold !== undefined &&
      Number.isFinite(r.v) &&
      (panel.unit === 's' ? r.v < panel.threshold : r.v >= panel.threshold),
  }));
  const cell = Math.max(1, values.length);
  const width = Math.max(STAT_WIDTH, 220 * cell);
  return {
    title: panelTitle(panel),
    width,
    height: STAT_HEIGHT,
    data: {
      values: values.length === 0 ? [{ i: 0, name: '', text: 'No data', red: false }] : values,
    },
    layer: [
      {
        mark: {
          type: 'text',
          fontSize: cell > 2 ? 26 : 38,
          fontWeight: 'bold',
          baseline: 'middle',
          dy: -8,
        },
        encoding: {
          x: { field: 'i', type: 'ordinal', axis: null },
          text: { field: 'text' },
          color: { condition: { test: 'datum.red', value: '#d44a3a' }, value: '#299c46' },
        },
      },
      {
        mark: { type: 'text', fontSize: 11, dy: 26, color: '#555', limit: width / cell - 10 },
        encoding: { x: { field: 'i', type: 'ordinal', axis: null }, text: { field: 'name' } },
      },
    ],
  };
}

/** Table panels: one row per label set, one column per query (Grafana's merge transformation). */
function tableView(result: PanelResult): View {
  const { panel } = result;
  const rows = new Map<string, Record<string, string>>();
  const columns: string[] = [];
  for (const t of result.targets) {
    const column = t.target.column;
    if (column === undefined) continue;
    columns.push(column.name);
    for (const s of t.series) {
      const key = Object.entries(s.metric)
        .filter(([k]) => k !== '__name__')
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(', ');
      const row = rows.get(key) ?? {
        ...Object.fromEntries(Object.entries(s.metric).filter(([k]) => k !== '__name__')),
      };
      const v = s.values.at(-1)?.[1] ?? NaN;
      row[column.name] = formatValue(v, column.unit, scaleFor(column.unit, Math.abs(v)));
      rows.set(key, row);
    }
  }
  const labelColumns = [
    ...new Set(
      [...rows.values()].flatMap((r) => Object.keys(r)).filter((k) => !columns.includes(k)),
    ),
  ].sort();
  const all = [...labelColumns, ...columns];
  const cells = [...rows.values()].flatMap((r, y) => all.map((c) => ({ c, y, text: r[c] ?? '' })));
  const width = TABLE_WIDTH;
  // Left-aligned at the start of each column's band (Grafana's table look).
  const band = width / Math.max(1, all.length);
  return {
    title: panelTitle(panel),
    width,
    height: Math.max(60, 28 * (rows.size + 1)),
    data: { values: cells },
    mark: { type: 'text', fontSize: 12, align: 'left', dx: -band / 2 + 6, limit: band - 10 },
    encoding: {
      x: {
        field: 'c',
        type: 'ordinal',
        sort: all,
        title: null,
        axis: {
          orient: 'top',
          labelAngle: 0,
          labelAlign: 'left',
          labelPadding: 6,
          labelOffset: -band / 2 + 6,
          labelFontWeight: 'bold',
          ticks: false,
          domain: false,
        },
      },
      y: { field: 'y', type: 'ordinal', title: null, axis: null },
      text: { field: 'text' },
    },
  };
}

function viewFor(result: PanelResult, rangeSeconds: number): View {
  switch (result.panel.kind) {
    case 'timeseries':
      return timeseriesView(result, rangeSeconds);
    case 'stat':
      return statView(result);
    case 'table':
      return tableView(result);
  }
}

export async function renderPng(
  profile: ProfileName,
  results: readonly PanelResult[],
  subtitle: string,
  rangeSeconds: number,
): Promise<Buffer> {
  const spec = DASHBOARDS[profile];
  const view = (r: PanelResult): View => viewFor(r, rangeSeconds);
  // Each panel keeps its own legend and axes.
  const independent = {
    scale: { color: 'independent', x: 'independent', y: 'independent' },
    legend: { color: 'independent' },
  };
  // Stats side by side on top, then tables, then time series two by two, as on the dashboard.
  const stats = results.filter((r) => r.panel.kind === 'stat').map(view);
  const tables = results.filter((r) => r.panel.kind === 'table').map(view);
  const series = results.filter((r) => r.panel.kind === 'timeseries').map(view);
  const pairs: View[] = [];
  for (let i = 0; i < series.length; i += 2)
    pairs.push({ hconcat: series.slice(i, i + 2), resolve: independent, spacing: 30 });
  const statRow: View[] =
    stats.length === 0 ? [] : [{ hconcat: stats, resolve: independent, spacing: 20 }];
  const top: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: spec.title,
      subtitle,
      anchor: 'start',
      fontSize: 18,
      subtitleFontSize: 12,
      subtitleColor: '#555',
      offset: 14,
    },
    background: 'white',
    padding: 16,
    vconcat: [...statRow, ...tables, ...pairs],
    resolve: independent,
    spacing: 26,
    config: {
      font: FONT,
      view: { stroke: '#ddd' },
      axis: { labelFontSize: 11, titleFontSize: 11, gridColor: '#eee' },
      legend: { labelFontSize: 11 },
      range: {
        category: [
          '#7eb26d',
          '#eab839',
          '#6ed0e0',
          '#ef843c',
          '#e24d42',
          '#1f78c1',
          '#ba43a9',
          '#705da0',
          '#508642',
          '#cca300',
        ],
      },
    },
    // The panel views are built as plain objects above; vega-lite's compile() validates the whole.
  } as unknown as TopLevelSpec;
  const vegaView = new vega.View(vega.parse(compile(top).spec), { renderer: 'none' });
  const svg = await vegaView.toSVG();
  vegaView.finalize();
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: FONT },
    fitTo: { mode: 'zoom', value: 1.25 },
  });
  return resvg.render().asPng();
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '4' },
      profile: { type: 'string', multiple: true },
    },
  });
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
  const profiles = (values.profile ?? [...DASHBOARD_PROFILES]) as ProfileName[];
  for (const p of profiles)
    if (!DASHBOARD_PROFILES.includes(p)) throw new Error(`--profile ${p}: not a profile`);

  const meters: Jobmeter[] = [];
  const demos: LiveDemo[] = [];
  const apps: ExampleApp[] = [];
  const jobs: Array<{ name: string; target: string }> = [];
  try {
    for (const profile of profiles) {
      const app = await startExampleApp({ profile });
      apps.push(app);
      const jm = await createJobmeter({ profile, listener: { port: 0 }, hostname: 'demo-host' });
      meters.push(jm);
      demos.push(startLiveDemo(jm, profile, { tickMs: 250 }));
      jobs.push(
        { name: `${profile}-demo`, target: `127.0.0.1:${jm.pullAddress!.port}` },
        { name: `${profile}-app`, target: app.target },
      );
    }
    const prom = await startPrometheus({ jobs, scrapeInterval: `${SCRAPE_INTERVAL_SECONDS}s` });
    try {
      await prom.waitForTargetsUp(60_000);
      const started = Date.now() / 1000;
      process.stdout.write(`scraping ${jobs.length} targets for ${minutes} min…\n`);
      await new Promise((resolve) => setTimeout(resolve, minutes * 60_000));
      const end = Date.now() / 1000;
      const rangeSeconds = Math.floor(end - started);
      for (const profile of profiles) {
        const spec = DASHBOARDS[profile];
        const ctx = {
          scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
          rangeSeconds,
          endSeconds: end,
          variables: { job: [`${profile}-demo`, `${profile}-app`] },
        };
        const results = await Promise.all(
          spec.panels
            .filter((p) => p.main)
            .map((panel) => evaluatePanel(prom.url, spec, panel, ctx)),
        );
        const subtitle = `Main panels for Job = ${profile}-demo + ${profile}-app, Instance = All, the last ${Math.round(rangeSeconds / 60)} minutes: real Prometheus query results (scrape every ${SCRAPE_INTERVAL_SECONDS} s).`;
        const png = await renderPng(profile, results, subtitle, rangeSeconds);
        writeFileSync(picturePath(profile), png);
        process.stdout.write(
          `wrote docs/profiles/${profile}.png (${Math.round(png.length / 1024)} KiB)\n`,
        );
      }
    } finally {
      await prom.stop();
    }
  } finally {
    for (const d of demos) d.stop();
    await Promise.allSettled([...meters.map((m) => m.shutdown()), ...apps.map((a) => a.stop())]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
