/**
 * Draws bench/pictures/scaling.png and bench/pictures/change-share.png from the tables
 * bench/README.md holds (tables.ts), so the pictures always show the committed run:
 *
 *   npm run bench:pictures          (bench/run.ts runs it too after rewriting either table)
 *
 * - scaling: the full-scrape table's median ms per scrape against the series count, every
 *   contender and format, both axes log (sizes and times span decades).
 * - change-share: the share-of-series-changed table, each contender's median with its min–max,
 *   and the copy floor as a horizontal line; time on a log axis (floor and contenders are decades
 *   apart), shares as categories (0% has no place on a log axis).
 *
 * Drawn with Vega-Lite to SVG in Node and rasterised with resvg, as
 * scripts/dashboards/render-pictures.ts draws the dashboards' pictures.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import {
  readChangesTable,
  readScalingTable,
  type ChangesTable,
  type ScalingTable,
} from './tables.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const README = `${ROOT}bench/README.md`;
export const PICTURES = {
  scaling: `${ROOT}bench/pictures/scaling.png`,
  changeShare: `${ROOT}bench/pictures/change-share.png`,
} as const;

const FONT = 'DejaVu Sans';
const WIDTH = 620;
const HEIGHT = 380;
/** The anchor every ratio in bench/README.md divides by: drawn black so the eye finds it. */
const ANCHOR = '@prometheus-io/client';
/** jobmeter's formats in blues, the others in distinct hues; unknown contenders get the rest. */
const COLORS: Readonly<Record<string, string>> = {
  'jobmeter, text 0.0.4': '#1f78c1',
  'jobmeter, OpenMetrics': '#6ed0e0',
  'jobmeter, protobuf': '#0a437c',
  [ANCHOR]: '#222222',
  'prom-client': '#e24d42',
  'otel PrometheusExporter': '#eab839',
};
const SPARE = ['#7eb26d', '#ba43a9', '#705da0', '#ef843c'];

function colorScale(contenders: readonly string[]): { domain: string[]; range: string[] } {
  let spare = 0;
  return {
    domain: [...contenders],
    range: contenders.map((c) => COLORS[c] ?? SPARE[spare++ % SPARE.length]!),
  };
}

/** The footer as subtitle lines short enough to fit the width. */
function subtitleLines(lead: string, footer: string): string[] {
  const lines = [lead];
  let line = '';
  for (const part of footer.split(', ')) {
    const next = line === '' ? part : `${line}, ${part}`;
    if (next.length > 105 && line !== '') {
      lines.push(`${line},`);
      line = part;
    } else {
      line = next;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

function frame(title: string, subtitle: string[], layer: unknown[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: title,
      subtitle,
      anchor: 'start',
      fontSize: 16,
      subtitleFontSize: 11,
      subtitleColor: '#555',
      offset: 12,
    },
    background: 'white',
    padding: 16,
    width: WIDTH,
    height: HEIGHT,
    layer,
    config: {
      font: FONT,
      view: { stroke: '#ddd' },
      axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
      legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 440, symbolOpacity: 1 },
    },
    // The layers are plain objects; vega-lite's compile() validates the whole.
  } as unknown as TopLevelSpec;
}

const MS_TITLE = 'ms per scrape, median (log scale)';

/**
 * A log axis from the decade below the least value up to the decade above the largest, or to
 * just above the largest when that decade would leave most of the top of the chart empty.
 */
function logDomain(values: readonly number[]): [number, number] {
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const top = Math.max(...values) * 1.5;
  const decade = 10 ** Math.ceil(Math.log10(top));
  return [lo, top < decade / 3 ? top : decade];
}

/**
 * Pixel rows for value labels at one x: each at its point's height on the log axis, moved apart
 * just enough not to overlap (close medians, e.g. jobmeter's three formats, would print over
 * each other).
 */
function labelRows(
  values: readonly number[],
  [lo, hi]: readonly [number, number],
  gap = 13,
): number[] {
  const at = (v: number) =>
    HEIGHT * (1 - (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)));
  const order = values.map((v, i) => ({ i, y: at(v) })).sort((a, b) => a.y - b.y);
  for (let k = 1; k < order.length; k++) order[k]!.y = Math.max(order[k]!.y, order[k - 1]!.y + gap);
  const rows: number[] = [];
  for (const { i, y } of order) rows[i] = y;
  return rows;
}

export function scalingSpec(t: ScalingTable): TopLevelSpec {
  const values = t.points.map((p) => ({
    series: p.series,
    contender: p.contender,
    ms: p.ms.median,
  }));
  const domain = logDomain(values.map((v) => v.ms));
  const color = {
    field: 'contender',
    type: 'nominal',
    title: 'contender, format',
    scale: colorScale(t.contenders),
    legend: { orient: 'right' },
  };
  const x = {
    field: 'series',
    type: 'quantitative',
    title: 'series (label sets) in the exposition (log scale)',
    scale: { type: 'log', domain: [t.sizes[0]! / 1.5, t.sizes.at(-1)! * 1.5] },
    axis: { values: t.sizes, format: ',' },
  };
  const y = {
    field: 'ms',
    type: 'quantitative',
    title: MS_TITLE,
    scale: { type: 'log', domain, nice: false },
    axis: { format: '~g' },
  };
  const last = values.filter((v) => v.series === t.sizes.at(-1));
  const rows = labelRows(
    last.map((v) => v.ms),
    domain,
  );
  return frame(
    'Full scrape: time against series count',
    subtitleLines(
      "From the recorded state to the response body's bytes; medians (min–max in the table above).",
      t.footer,
    ),
    [
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2, point: { size: 50, filled: true } },
        encoding: { x, y, color },
      },
      {
        data: { values: last.map((v, i) => ({ ...v, row: rows[i] })) },
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 8, fontSize: 10 },
        encoding: {
          x,
          y: { field: 'row', type: 'quantitative', scale: null },
          color,
          text: { field: 'ms', type: 'quantitative', format: ',~r' },
        },
      },
    ],
  );
}

export function changeShareSpec(t: ChangesTable): TopLevelSpec {
  const shareLabel = (s: number) => `${s}%`;
  const contenders = [...new Set(t.points.map((p) => p.contender))];
  const floorName = t.floor.label.replace(/^floor:\s*/, 'copy floor: ');
  const values = t.points.map((p) => ({
    share: shareLabel(p.share),
    contender: p.contender,
    ms: p.ms.median,
    min: p.ms.min,
    max: p.ms.max,
  }));
  const floor = t.shares.map((s) => ({
    share: shareLabel(s),
    contender: floorName,
    ms: t.floor.ms.median,
  }));
  const domain = logDomain([t.floor.ms.median, ...values.flatMap((v) => [v.min, v.max])]);
  const color = {
    field: 'contender',
    type: 'nominal',
    title: null,
    scale: {
      domain: [...contenders, floorName],
      range: [...colorScale(contenders).range, '#888888'],
    },
    legend: { orient: 'right' },
  };
  const x = {
    field: 'share',
    type: 'ordinal',
    sort: t.shares.map(shareLabel),
    title: `share of the ${t.series.toLocaleString('en-US')} series recorded since the last scrape`,
    axis: { labelAngle: 0 },
  };
  const scale = { type: 'log', domain, nice: false };
  const y = { field: 'ms', type: 'quantitative', title: MS_TITLE, scale, axis: { format: '~g' } };
  const text = { field: 'ms', type: 'quantitative', format: ',~r' };
  return frame(
    'Scrape time against the share of series changed',
    subtitleLines(
      "Medians, bars from min to max; dashed: the copy floor, one copy of jobmeter's body.",
      t.footer,
    ),
    [
      {
        data: { values },
        mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.45 },
        encoding: {
          x,
          y: { field: 'min', type: 'quantitative', scale },
          y2: { field: 'max' },
          color,
        },
      },
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2, point: { size: 60, filled: true } },
        encoding: { x, y, color },
      },
      {
        data: { values },
        mark: { type: 'text', align: 'left', dx: 8, dy: -9, fontSize: 10 },
        encoding: { x, y, color, text },
      },
      {
        data: { values: floor },
        mark: { type: 'line', strokeWidth: 1.5, strokeDash: [6, 4] },
        encoding: { x, y, color },
      },
      {
        data: { values: floor.slice(-1) },
        mark: { type: 'text', align: 'left', dx: 8, dy: -9, fontSize: 10 },
        encoding: { x, y, color, text },
      },
    ],
  );
}

/** Vega-Lite → SVG (vega, headless) → PNG (resvg, the system's DejaVu Sans). */
export async function toPng(spec: TopLevelSpec): Promise<Buffer> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return new Resvg(svg, {
      font: { loadSystemFonts: true, defaultFontFamily: FONT },
      fitTo: { mode: 'zoom', value: 1.5 },
    })
      .render()
      .asPng();
  } finally {
    view.finalize();
  }
}

/** Reads `readme` and writes both pictures; returns the paths written, relative to the repository. */
export async function writeBenchPictures(readme = README): Promise<string[]> {
  const text = await readFile(readme, 'utf8');
  // Both tables are read before anything is written: a bad table leaves the old pictures whole.
  const specs: Array<[string, TopLevelSpec]> = [
    [PICTURES.scaling, scalingSpec(readScalingTable(text))],
    [PICTURES.changeShare, changeShareSpec(readChangesTable(text))],
  ];
  for (const [path, spec] of specs) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, await toPng(spec));
  }
  return specs.map(([path]) => path.slice(ROOT.length));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeBenchPictures().then(
    (paths) => process.stdout.write(paths.map((p) => `wrote ${p}\n`).join('')),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
