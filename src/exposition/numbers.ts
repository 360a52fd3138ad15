/**
 * Number formatting for both text formats.
 *
 * Sample values: `NaN`, `+Inf`, `-Inf`, otherwise JS's shortest round-trip rendering (`String(v)`,
 * e.g. `0.1`, `42`, `1e+21`, `1e-7`). Prometheus parses both formats' values with Go's
 * `strconv.ParseFloat`, which accepts all of these, and OpenMetrics allows integers without a
 * decimal point, so one function serves both formats.
 *
 * `le` values are label values, i.e. opaque strings to Prometheus, so their spelling matters:
 * - text 0.0.4: `String(v)` (`le="1"`, `le="0.025"`), exactly what prom-client writes, so series
 *   stored by a Prometheus scraping a prom-client exporter keep their identity;
 * - OpenMetrics: the spec's canonical numbers, "the default Go rendering of float64 values (%g),
 *   with a .0 appended in case there is no decimal point or exponent" (`le="1.0"`, `le="0.025"`,
 *   `le="100000.0"`, `le="1e+06"`, `le="1e-05"`), as client_golang writes them.
 */

/** Formats a sample value for text 0.0.4 and OpenMetrics 1.0.0. */
export function formatSampleValue(v: number): string {
  // `v - v` is 0 only for finite numbers (NaN and +/-Infinity give NaN).
  if (v - v === 0) return '' + v;
  return v !== v ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

/**
 * Go's `strconv.FormatFloat(v, 'g', -1, 64)`: the shortest round-trip digits, in exponent form when
 * the decimal exponent is < -4 or >= 6 (JS's `String` switches only at < -6 / >= 21), with at least
 * two exponent digits: `100000`, `1e+06`, `1.5e-07`, `0.0001`, `1e-05`. Non-finite values give
 * `NaN` / `+Inf` / `-Inf`. `-0` renders as `0` (Go writes `-0`; a `-0` bucket bound means nothing).
 */
export function formatGoFloat(v: number): string {
  if (v - v !== 0) return formatSampleValue(v);
  if (v === 0) return '0';
  const a = v < 0 ? -v : v;
  // In [1e-4, 1e6) Go and JS both use fixed notation with the shortest digits.
  if (a >= 1e-4 && a < 1e6) return '' + v;
  // `toExponential()` without an argument gives the shortest round-trip digits: `d.ddde+/-x`.
  const e = v.toExponential();
  const at = e.indexOf('e');
  const sign = e.charCodeAt(at + 1) === 45 /* - */ ? '-' : '+';
  const digits = e.slice(at + 2);
  return e.slice(0, at) + 'e' + sign + (digits.length === 1 ? '0' + digits : digits);
}

/** Formats a bucket bound as an OpenMetrics canonical `le` value: `1.0`, `0.025`, `1e+06`, `+Inf`. */
export function formatLeOpenMetrics(bound: number): string {
  const s = formatGoFloat(bound);
  if (bound - bound !== 0) return s;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */ || c === 101 /* e */) return s;
  }
  return s + '.0';
}

/**
 * The `le` part of every bucket line of a histogram, rendered once per `bounds` array.
 *
 * `suffixes[k]` is `<le>"} ` for the k-th bucket in ascending bound order (the caller writes
 * `name_bucket{labels,le="` before it and the cumulative count after it; OpenMetrics 2.0's is
 * `<le>:`, an entry of its bucket list). The `+Inf` bucket is not
 * included: it is always written last, with the series' `count`.
 *
 * The model promises ascending, unique, finite bounds. If a `bounds` array breaks that promise the
 * layout still yields a valid exposition: `order` lists the bucket indexes in ascending bound
 * order, and a bucket whose line must not be written (NaN or infinite bound, or a bound equal to
 * the next one) gets the suffix `''`; its count still flows into the next written bucket, so
 * buckets stay cumulative. `order` is `null` when the bounds are already clean (the fast path).
 */
export interface LeLayout {
  readonly suffixes: readonly string[];
  readonly order: readonly number[] | null;
}

type LeFormatter = (bound: number) => string;

/** `tail` follows each written `le`: `"} ` on a bucket line, `:` in an OpenMetrics 2.0 bucket list. */
function buildLayout(bounds: readonly number[], format: LeFormatter, tail: string): LeLayout {
  const n = bounds.length;
  let clean = true;
  for (let i = 0; i < n; i++) {
    const b = bounds[i]!;
    if (b - b !== 0 || (i > 0 && !(b > bounds[i - 1]!))) {
      clean = false;
      break;
    }
  }
  const suffixes: string[] = new Array<string>(n);
  if (clean) {
    for (let i = 0; i < n; i++) suffixes[i] = format(bounds[i]!) + tail;
    return { suffixes, order: null };
  }
  // Finite bounds ascending, then the non-finite ones (never written).
  const order = Array.from(bounds.keys()).sort((x, y) => {
    const bx = bounds[x]!;
    const by = bounds[y]!;
    const fx = bx - bx === 0;
    const fy = by - by === 0;
    if (fx !== fy) return fx ? -1 : 1;
    return fx && bx !== by ? (bx < by ? -1 : 1) : x - y;
  });
  for (let k = 0; k < n; k++) {
    const b = bounds[order[k]!]!;
    const finite = b - b === 0;
    const next = k + 1 < n ? bounds[order[k + 1]!]! : NaN;
    suffixes[k] = finite && b !== next ? format(b) + tail : '';
  }
  return { suffixes, order };
}

/** The layouts of `format` and `tail`, each built on first use and kept by its `bounds` array's identity. */
function cachedLayouts(format: LeFormatter, tail: string): (bounds: readonly number[]) => LeLayout {
  const layouts = new WeakMap<readonly number[], LeLayout>();
  return (bounds) => {
    let layout = layouts.get(bounds);
    if (layout === undefined) layouts.set(bounds, (layout = buildLayout(bounds, format, tail)));
    return layout;
  };
}

/** The cached text 0.0.4 `le` layout of `bounds`: a bound spelled as a sample value. */
export const leLayoutText = cachedLayouts(formatSampleValue, '"} ');

/** The cached OpenMetrics `le` layout of `bounds`. */
export const leLayoutOpenMetrics = cachedLayouts(formatLeOpenMetrics, '"} ');

/**
 * The cached OpenMetrics 2.0 layout of `bounds`: each suffix is `<le>:`, an entry of a classic
 * bucket list (`bucket:[0.1:3,1.0:5,+Inf:7]`), the `le` spelled as OpenMetrics 1.0 spells it.
 */
export const leLayoutOpenMetrics2 = cachedLayouts(formatLeOpenMetrics, ':');
