/**
 * Content negotiation for the pull endpoint: which format, and whether to gzip.
 *
 * Format follows client_golang's `expfmt.NegotiateIncludingOpenMetrics`: media ranges are taken in
 * order of decreasing q (more specific ranges first on a tie, then header order); the first one we
 * can serve decides: `application/openmetrics-text` with `version` 1.0.0, 0.0.1 or none →
 * OpenMetrics 1.0.0; `text/plain` with `version` 0.0.4 or none → text 0.0.4. Ranges we cannot
 * serve (`*`/`*`, protobuf, other versions) are passed over; nothing usable → text, the format
 * every scraper understands.
 *
 * Departures from client_golang, both from RFC 9110: `q=0` means "not acceptable", so such a
 * range is skipped (client_golang's parser keeps it), and type, subtype and parameter names are
 * compared case-insensitively, with quoted parameter values unquoted.
 */
import type { ExpositionFormat } from './types.ts';

interface MediaRange {
  readonly type: string;
  readonly version: string | undefined;
  readonly q: number;
  /** 0 for `*`/`*`, 1 for `type/*`, 2 for `type/subtype`. */
  readonly specificity: number;
  readonly position: number;
}

/** Parses a q-value; invalid → 0 (as Go's `strconv.ParseFloat` error value in goautoneg). */
function parseQ(raw: string): number {
  const q = Number(raw.trim());
  return Number.isFinite(q) && raw.trim() !== '' ? Math.min(Math.max(q, 0), 1) : 0;
}

function unquote(v: string): string {
  const t = v.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  const parts = header.split(',');
  for (let position = 0; position < parts.length; position++) {
    const params = parts[position].split(';');
    const type = params[0].trim().toLowerCase();
    const slash = type.indexOf('/');
    if (slash <= 0 || slash === type.length - 1) continue;
    let version: string | undefined;
    let q = 1;
    for (let p = 1; p < params.length; p++) {
      const eq = params[p].indexOf('=');
      if (eq < 0) continue;
      const key = params[p].slice(0, eq).trim().toLowerCase();
      if (key === 'q') q = parseQ(params[p].slice(eq + 1));
      else if (key === 'version') version = unquote(params[p].slice(eq + 1));
    }
    const specificity = type === '*/*' ? 0 : type.endsWith('/*') ? 1 : 2;
    ranges.push({ type, version, q, specificity, position });
  }
  return ranges.sort(
    (a, b) => b.q - a.q || b.specificity - a.specificity || a.position - b.position,
  );
}

/**
 * Picks the exposition format for an `Accept` header: `openmetrics` when OpenMetrics 1.0.0 is the
 * most preferred format we serve, else `text` (also for an absent or unusable header).
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept === '') return 'text';
  for (const r of parseAccept(accept)) {
    if (r.q <= 0) continue;
    const v = r.version;
    if (r.type === 'application/openmetrics-text' && (v === undefined || v === '1.0.0' || v === '0.0.1')) {
      return 'openmetrics';
    }
    if (r.type === 'text/plain' && (v === undefined || v === '0.0.4')) return 'text';
  }
  return 'text';
}

/**
 * Whether an `Accept-Encoding` header allows gzip: `gzip` (or `x-gzip`) with q > 0, or, when
 * gzip is not named, `*` with q > 0. `gzip;q=0` refuses gzip even if `*` is acceptable.
 */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false;
  let gzip = -1;
  let star = -1;
  for (const part of acceptEncoding.split(',')) {
    const params = part.split(';');
    const coding = params[0].trim().toLowerCase();
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') continue;
    let q = 1;
    for (let p = 1; p < params.length; p++) {
      const eq = params[p].indexOf('=');
      if (eq >= 0 && params[p].slice(0, eq).trim().toLowerCase() === 'q') {
        q = parseQ(params[p].slice(eq + 1));
      }
    }
    if (coding === '*') star = Math.max(star, q);
    else gzip = Math.max(gzip, q);
  }
  return gzip >= 0 ? gzip > 0 : star > 0;
}
