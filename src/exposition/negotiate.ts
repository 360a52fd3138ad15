/**
 * Content negotiation for the pull endpoint: which format, with which `escaping`, and which
 * compression -- as prometheus/docs `content_negotiation.md` says and client_golang's
 * `expfmt.NegotiateIncludingOpenMetrics` does.
 *
 * Media ranges are taken in order of decreasing q (more specific ranges first on a tie, then
 * header order); the first one we can serve decides: `application/openmetrics-text` with `version`
 * 1.0.0, 0.0.1 or none -> OpenMetrics 1.0.0, with `version` 2.0.0 -> OpenMetrics 2.0.0
 * (openmetrics2.ts; only when named: a range without a version stays 1.0.0, the spec's "MUST
 * default to the oldest version"); `text/plain` with `version` 1.0.0 -> text 1.0.0; with
 * 0.0.4 or none -> text 0.0.4; `application/vnd.google.protobuf` with
 * `proto=io.prometheus.client.MetricFamily` and `encoding=delimited` -> protobuf (protobuf.ts).
 * Ranges we cannot serve (`*`/`*`, other versions or encodings, an `escaping` we do not write)
 * are passed over; nothing usable -> text 0.0.4, the format every scraper understands.
 *
 * The 1.0.0 formats and OpenMetrics 2.0.0 carry an `escaping` in the response's Content-Type: the
 * one asked for, or `underscores` (client_golang's default) when the range names none. Every name jobmeter writes is
 * in the classic character set, which `allow-utf-8`, `underscores` and `values` all leave as it is,
 * so the body is the same for the three; `dots` would rewrite every `_` and is not served. Text
 * 1.0.0 differs from 0.0.4 only in how it may quote UTF-8 names, so for these names its body is the
 * 0.0.4 body.
 *
 * Departures from client_golang, both from RFC 9110: `q=0` means "not acceptable", so such a
 * range is skipped (client_golang's parser keeps it), and type, subtype and parameter names are
 * compared case-insensitively, with quoted parameter values unquoted.
 */
import type { ExpositionFormat } from './types.ts';

/** The delimited protobuf exposition's Content-Type (its writer is protobuf.ts, loaded by the first scrape that asks for it). */
export const PROTOBUF_CONTENT_TYPE =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** The `escaping` schemes served (all leave classic names as they are). */
export type Escaping = 'allow-utf-8' | 'underscores' | 'values';
export const DEFAULT_ESCAPING: Escaping = 'underscores';

/** What a scrape is answered in. */
export interface Negotiated {
  readonly format: ExpositionFormat | 'protobuf' | 'openmetrics2';
  /** OpenMetrics is 1.0.0, `openmetrics2` 2.0.0; text is 0.0.4 or 1.0.0; protobuf has none. */
  readonly version?: '1.0.0' | '0.0.4' | '2.0.0';
  /**
   * For the 1.0.0 formats and OpenMetrics 2.0.0, and protobuf when its range names one (echoed in its Content-Type).
   * Names outside the classic set are served only with `allow-utf-8` (escape-names.ts).
   */
  readonly escaping?: Escaping;
}

/**
 * The elements of an `Accept` or `Accept-Encoding` list, in order: each value lowercased, its
 * parameters by their lowercased keys (values as written; the last of a repeated key), its q.
 */
function parseList(header: string) {
  return header.split(',').map((part, position) => {
    const [value, ...rest] = part.split(';');
    const params = new Map<string, string>();
    for (const param of rest) {
      const eq = param.indexOf('=');
      if (eq >= 0) params.set(param.slice(0, eq).trim().toLowerCase(), param.slice(eq + 1));
    }
    // A q-value that does not parse is 0 (as Go's `strconv.ParseFloat` error value in goautoneg).
    const q = params.get('q')?.trim();
    const n = Number(q);
    return {
      value: value!.trim().toLowerCase(),
      params,
      q: q === undefined ? 1 : q !== '' && Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 0,
      position,
    };
  });
}

/** A parameter's value unquoted and lowercased; undefined when absent. */
function lowered(raw: string | undefined): string | undefined {
  return raw
    ?.trim()
    .replace(/^"(.*)"$/s, '$1')
    .toLowerCase();
}

/** The ranges of an `Accept` header that are acceptable (q > 0), most preferred first. */
function acceptable(header: string) {
  return parseList(header)
    .flatMap(({ value: type, params, q, position }) => {
      const slash = type.indexOf('/');
      if (q <= 0 || slash <= 0 || slash === type.length - 1) return [];
      // The parameters lowercased too: every version served is digits and dots.
      const [version, escaping, proto, encoding] = ['version', 'escaping', 'proto', 'encoding'].map(
        (key) => lowered(params.get(key)),
      );
      // Specificity: 0 for `*`/`*`, 1 for `type/*`, 2 for `type/subtype`.
      const specificity = type === '*/*' ? 0 : type.endsWith('/*') ? 1 : 2;
      return [{ type, version, escaping, proto, encoding, q, specificity, position }];
    })
    .sort((a, b) => b.q - a.q || b.specificity - a.specificity || a.position - b.position);
}

/** A range of an `Accept` header: its parameters as written, lowercased (undefined when absent). */
type MediaRange = ReturnType<typeof acceptable>[number];

/** A range's `escaping` as served: absent -> the default; one we do not write -> undefined. */
function escapingOf(r: MediaRange): Escaping | undefined {
  switch (r.escaping) {
    case undefined:
      return DEFAULT_ESCAPING;
    case 'allow-utf-8':
    case 'allow-utf8': // the spelling content_negotiation.md uses; Prometheus sends allow-utf-8
      return 'allow-utf-8';
    case 'underscores':
    case 'values':
      return r.escaping;
    default:
      return undefined;
  }
}

const TEXT_004: Negotiated = { format: 'text', version: '0.0.4' };

/**
 * What to answer an `Accept` header with. `forced`: the format the listener serves whatever is
 * asked (a legacy profile's own); OpenMetrics then takes the escaping of the OpenMetrics range the
 * client accepts, text is 0.0.4, as the originals write it.
 */
export function negotiate(accept: string | undefined, forced?: ExpositionFormat): Negotiated {
  const ranges = acceptable(accept ?? '');
  if (forced === 'text') return TEXT_004;
  if (forced === 'openmetrics') {
    const om = ranges.find(
      (r) => r.type === 'application/openmetrics-text' && escapingOf(r) !== undefined,
    );
    return {
      format: 'openmetrics',
      version: '1.0.0',
      escaping: om === undefined ? DEFAULT_ESCAPING : escapingOf(om)!,
    };
  }
  return pick(ranges);
}

/** The first of `ranges` we serve; text 0.0.4 when none. */
function pick(ranges: readonly MediaRange[]): Negotiated {
  for (const r of ranges) {
    const v = r.version;
    // Undefined: the range names an escaping not written here; protobuf and text 0.0.4 then escape
    // names as by default, the 1.0.0 and 2.0.0 formats pass the range over.
    const escaping = escapingOf(r);
    if (
      r.type === 'application/vnd.google.protobuf' &&
      r.proto === 'io.prometheus.client.metricfamily' &&
      r.encoding === 'delimited'
    ) {
      // Names are escaped unless the range asks for UTF-8 (client_golang's default for protobuf too).
      return r.escaping === undefined || escaping === undefined
        ? { format: 'protobuf' }
        : { format: 'protobuf', escaping };
    }
    const om = escaping !== undefined && r.type === 'application/openmetrics-text';
    if (om && (v === undefined || v === '1.0.0' || v === '0.0.1'))
      return { format: 'openmetrics', version: '1.0.0', escaping };
    if (om && v === '2.0.0') return { format: 'openmetrics2', version: '2.0.0', escaping };
    if (escaping !== undefined && r.type === 'text/plain' && v === '1.0.0')
      return { format: 'text', version: '1.0.0', escaping };
    if (r.type === 'text/plain' && (v === undefined || v === '0.0.4')) return TEXT_004;
  }
  return TEXT_004;
}

/** The response's Content-Type: media type, version, charset, and for 1.0.0 and 2.0.0 formats the escaping. */
export function contentTypeOf(n: Negotiated): string {
  if (n.format === 'protobuf')
    return n.escaping === undefined
      ? PROTOBUF_CONTENT_TYPE
      : `${PROTOBUF_CONTENT_TYPE}; escaping=${n.escaping}`;
  const type = n.format === 'text' ? 'text/plain' : 'application/openmetrics-text';
  return `${type}; version=${n.version}; charset=utf-8${n.escaping !== undefined ? `; escaping=${n.escaping}` : ''}`;
}

/** The response compressions served. */
export type ResponseEncoding = 'gzip' | 'zstd';

/**
 * The compression an `Accept-Encoding` header asks for: of `zstd` and `gzip` (or `x-gzip`), the
 * one with the higher q > 0 (on a tie, the one named first); a coding not named takes `*`'s q;
 * `;q=0` refuses a coding even if `*` is acceptable. Neither acceptable -> undefined (identity).
 */
export function chooseEncoding(acceptEncoding: string | undefined): ResponseEncoding | undefined {
  // Each coding's q and first position in the header; q -1: not named.
  const q: Record<ResponseEncoding | '*', { q: number; position: number }> = {
    gzip: { q: -1, position: Infinity },
    zstd: { q: -1, position: Infinity },
    '*': { q: -1, position: Infinity },
  };
  for (const { value, q: given, position } of parseList(acceptEncoding ?? '')) {
    const coding = value === 'x-gzip' ? 'gzip' : value;
    if (coding !== 'gzip' && coding !== 'zstd' && coding !== '*') continue;
    if (given > q[coding].q)
      q[coding] = { q: given, position: Math.min(position, q[coding].position) };
  }
  // A coding not named takes `*`'s q and position.
  const gzip = q.gzip.q >= 0 ? q.gzip : q['*'];
  const zstd = q.zstd.q >= 0 ? q.zstd : q['*'];
  if (gzip.q <= 0 && zstd.q <= 0) return undefined;
  if (zstd.q > gzip.q || (zstd.q === gzip.q && zstd.position < gzip.position)) return 'zstd';
  return 'gzip';
}
