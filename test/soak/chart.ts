/**
 * The soak's picture: one SVG, a panel per measure stacked over a shared time axis (minutes since
 * the start). Hand-written SVG: polylines, a few gridlines and labels, no dependencies.
 */

export interface Panel {
  readonly title: string;
  readonly unit: string;
  /** `[minutes, value]`; NaN values are gaps. */
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** A fixed top of the scale (else the data's max, rounded up). */
  readonly max?: number;
  /** Draw as steps (a 0/1 series). */
  readonly steps?: boolean;
  readonly color: string;
}

const WIDTH = 960;
const PANEL_HEIGHT = 150;
const GAP = 46;
const LEFT = 70;
const RIGHT = 20;
const TOP = 40;

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const fmt = (v: number): string =>
  v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : String(Number(v.toFixed(2)));

export function chart(
  title: string,
  subtitle: string,
  minutes: number,
  panels: readonly Panel[],
): string {
  const height = TOP + panels.length * (PANEL_HEIGHT + GAP) + 10;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (m: number): number => LEFT + (m / minutes) * plotWidth;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="16" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<text x="${LEFT}" y="31" fill="#555">${escape(subtitle)}</text>`,
  ];
  const tickEvery = minutes <= 10 ? 1 : minutes <= 60 ? 5 : 15;
  panels.forEach((p, i) => {
    const top = TOP + i * (PANEL_HEIGHT + GAP) + 16;
    const values = p.points.map(([, v]) => v).filter((v) => Number.isFinite(v));
    const max = p.max ?? niceMax(values.length === 0 ? 1 : Math.max(...values));
    const y = (v: number): number => top + PANEL_HEIGHT - (v / max) * PANEL_HEIGHT;
    out.push(
      `<text x="${LEFT}" y="${top - 6}" font-weight="bold">${escape(p.title)} (${escape(p.unit)})</text>`,
    );
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      out.push(
        `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      );
      out.push(
        `<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(v)}</text>`,
      );
    }
    for (let m = 0; m <= minutes; m += tickEvery) {
      out.push(
        `<line x1="${x(m).toFixed(1)}" x2="${x(m).toFixed(1)}" y1="${top}" y2="${top + PANEL_HEIGHT}" stroke="#eee"/>`,
      );
      out.push(
        `<text x="${x(m).toFixed(1)}" y="${top + PANEL_HEIGHT + 13}" text-anchor="middle" fill="#555">${m}${m === 0 ? ' min' : ''}</text>`,
      );
    }
    out.push(
      `<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#999"/>`,
    );
    // One polyline per run of finite values.
    let run: string[] = [];
    let prev: number | undefined;
    const flush = (): void => {
      if (run.length > 0)
        out.push(
          `<polyline fill="none" stroke="${p.color}" stroke-width="1.2" points="${run.join(' ')}"/>`,
        );
      run = [];
      prev = undefined;
    };
    for (const [m, v] of p.points) {
      if (!Number.isFinite(v)) {
        flush();
        continue;
      }
      const cx = x(m).toFixed(1);
      const cy = y(Math.min(v, max)).toFixed(1);
      if (p.steps === true && prev !== undefined) run.push(`${cx},${y(prev).toFixed(1)}`);
      run.push(`${cx},${cy}`);
      prev = Math.min(v, max);
    }
    flush();
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
