/**
 * An OTLP metrics request as the Collector's `debug` exporter prints it at `verbosity: normal`:
 * one line per resource, one per scope, one per data point.
 *
 *   ResourceMetrics #0 service.name=go-daemon host.name=ci-7
 *   ScopeMetrics #0 daemon@1.4.2
 *   jobmeter.run.finished{task=backup,outcome=success} 2
 *   jobmeter.run.duration{task=backup} count=2 sum=0.75 min=0.25 max=0.5 le0.25=1 le0.5=1 le1=0 0
 *
 * Mirrors open-telemetry/opentelemetry-collector `exporter/debugexporter/internal/normal/metrics.go`
 * (commit 90ed7dd8c351776efa46d49cbdf5db711a597e5f) and `normal/common.go`, with pdata's
 * `pcommon.Value.AsString` for attribute values. Go's formats are reproduced:
 *
 * - a double data point value, bound, sum, min or max is `%v`, i.e. `strconv.FormatFloat(f, 'g', -1)`:
 *   shortest digits, exponent form below 1e-4 and from 1e6 on (`1.234567e+06`, `1e-05`), `+Inf`;
 * - an integer value (`as_int`, counts) is printed exactly, from its decimal text;
 * - a double attribute is `float64AsString` (encoding/json's ES6 form: `1e+21`, `1e-7`), an array or
 *   map attribute is its JSON (map keys sorted, `<>&` left unescaped as pdata does since it stopped
 *   using json.Marshal's HTML escaping; older Collectors write `\u003c`), bytes are base64;
 * - `ScopeMetrics #N` numbers scopes with the *resource's* index, as the original does (it passes
 *   `i`, not `j`): a Collector prints `ScopeMetrics #0` for every scope of the first resource, so
 *   this does too, or the two outputs would not diff clean.
 *
 * The input is the request in its wire shape — protobufjs `toObject` output, which debug/wire.ts
 * makes of either encoding (lowerCamelCase keys, 64-bit integers as strings) — not the
 * ingest's decoded model (src/otlp/types.ts), which keeps one `number` per value and drops what
 * the ingest does not use: whether a value was `as_int` or `as_double` (which changes how
 * `1234567` prints), histogram min/max, scope attributes, schema URLs. Printing the wire shape is
 * what lets this output match a Collector's line for line.
 *
 * Exponential histograms print `count= sum= min= max=` without buckets, as that commit does (some
 * releases also print `le…` lower bounds); summaries print `count= sum=%f q…=`. jobmeter refuses
 * both on ingest and never pushes them, so they appear only on the received side.
 */
import { formatGoFloat } from '../exposition/numbers.ts';

type Obj = Readonly<Record<string, unknown>>;

const DATA_FIELDS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;

type DataKind = (typeof DATA_FIELDS)[number];

/**
 * The text of `request` (an ExportMetricsServiceRequest in wire shape), one string per line, and
 * its counts as the exporter's summary line gives them (a metric without data counted, no line).
 */
export function normalText(request: unknown) {
  const lines: string[] = [];
  let metrics = 0;
  let dataPoints = 0;
  const resourceMetrics = array(asObj(request)['resourceMetrics']);
  for (let i = 0; i < resourceMetrics.length; i++) {
    const rm = asObj(resourceMetrics[i]);
    const resource = asObj(rm['resource']);
    const schemaUrl = str(rm['schemaUrl']);
    lines.push(
      `ResourceMetrics #${i}${schemaUrl === '' ? '' : ` [${schemaUrl}]`}${attributesString(resource['attributes'])}`,
    );
    for (const rawScope of array(rm['scopeMetrics'])) {
      const sm = asObj(rawScope);
      const scope = asObj(sm['scope']);
      const details = scopeDetails(str(scope['name']), str(scope['version']), str(sm['schemaUrl']));
      // `i`, not the scope's own index: see the file comment.
      lines.push(`ScopeMetrics #${i}${details}${attributesString(scope['attributes'])}`);
      for (const rawMetric of array(sm['metrics'])) {
        metrics++;
        const metric = asObj(rawMetric);
        const name = str(metric['name']);
        const found = dataOf(metric);
        if (found === undefined) continue;
        const [kind, data] = found;
        for (const rawPoint of array(data['dataPoints'])) {
          dataPoints++;
          const point = asObj(rawPoint);
          lines.push(
            `${name}{${attributeList(point['attributes']).join(',')}} ${pointValue(kind, point)}`,
          );
        }
      }
    }
  }
  return { lines, counts: { resourceMetrics: resourceMetrics.length, metrics, dataPoints } };
}

// ---------------------------------------------------------------------------------------------
// Lines (metrics.go, common.go)

function scopeDetails(name: string, version: string, schemaUrl: string): string {
  let details = name;
  if (version !== '') details += `@${version}`;
  if (schemaUrl !== '') details += `${details === '' ? '' : ' '}[${schemaUrl}]`;
  return details === '' ? '' : ` ${details}`;
}

/** `writeAttributesString`: ` k=v k2=v2`, or nothing. */
function attributesString(raw: unknown): string {
  const attributes = attributeList(raw);
  return attributes.length === 0 ? '' : ` ${attributes.join(' ')}`;
}

/** `writeAttributes`: `k=v` per attribute, in the order sent. */
function attributeList(raw: unknown): string[] {
  return array(raw).map((kv) => {
    const o = asObj(kv);
    return `${str(o['key'])}=${anyText(o['value'], false) ?? ''}`;
  });
}

function dataOf(metric: Obj): [DataKind, Obj] | undefined {
  for (const kind of DATA_FIELDS) {
    const data = metric[kind];
    if (data !== undefined && data !== null) return [kind, asObj(data)];
  }
  return undefined;
}

function pointValue(kind: DataKind, p: Obj): string {
  switch (kind) {
    case 'gauge':
    case 'sum': {
      if (p['asInt'] != null) return String(p['asInt']);
      return p['asDouble'] != null ? goFloat(Number(p['asDouble'])) : '';
    }
    case 'histogram': {
      let value = `count=${String(p['count'] ?? 0)}${sumMinMax(p)}`;
      const bounds = array(p['explicitBounds']);
      const counts = array(p['bucketCounts']);
      for (let b = 0; b < counts.length; b++) {
        value += ` ${b < bounds.length ? `le${goFloat(Number(bounds[b]))}=` : ''}${String(counts[b])}`;
      }
      return value;
    }
    case 'exponentialHistogram':
      return `count=${String(p['count'] ?? 0)}${sumMinMax(p)}`;
    case 'summary': {
      let value = `count=${String(p['count'] ?? 0)} sum=${goFixed6(Number(p['sum'] ?? 0))}`;
      for (const q of array(p['quantileValues'])) {
        const o = asObj(q);
        value += ` q${goFloat(Number(o['quantile'] ?? 0))}=${goFloat(Number(o['value'] ?? 0))}`;
      }
      return value;
    }
  }
}

/** ` sum=… min=… max=…`, each only when present (`HasSum()`, `HasMin()`, `HasMax()`). */
function sumMinMax(p: Obj): string {
  let out = '';
  for (const field of ['sum', 'min', 'max'] as const) {
    const v = p[field];
    if (v !== undefined && v !== null) out += ` ${field}=${goFloat(Number(v))}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Attribute values: pcommon.Value.AsString

/** An AnyValue's fields, in the order they are read; int64 as decimal text, bytes as base64. */
const ANY_FIELDS = [
  'stringValue',
  'boolValue',
  'intValue',
  'doubleValue',
  'arrayValue',
  'kvlistValue',
  'bytesValue',
] as const;

/**
 * `AsString()` of an AnyValue, or with `json` the encoding/json of its `AsRaw()`: undefined where
 * json.Marshal fails (NaN, ±Inf anywhere inside), which `AsString()` of a slice or map gives as "".
 */
function anyText(raw: unknown, json: boolean): string | undefined {
  const o = asObj(raw);
  const field = ANY_FIELDS.find((f) => o[f] !== undefined && o[f] !== null);
  const v = field === undefined ? undefined : o[field];
  const all = (parts: readonly (string | undefined)[], open: string, close: string) =>
    parts.includes(undefined) ? (json ? undefined : '') : open + parts.join(',') + close;
  switch (field) {
    case 'stringValue':
    case 'bytesValue':
      return json ? goJsonString(String(v)) : String(v);
    case 'boolValue':
      return v === true ? 'true' : 'false';
    case 'intValue':
      return String(v);
    case 'doubleValue': {
      const d = Number(v);
      if (Number.isFinite(d)) return jsonFloat(d);
      return json ? undefined : `json: unsupported value: ${goFloat(d)}`;
    }
    case 'arrayValue':
      return all(
        array(asObj(v)['values']).map((item) => anyText(item, true)),
        '[',
        ']',
      );
    case 'kvlistValue': {
      // A Go map: the last value of a repeated key wins, and json.Marshal sorts the keys.
      const byKey = new Map(
        array(asObj(v)['values']).map((e) => [str(asObj(e)['key']), asObj(e)['value']]),
      );
      const parts = [...byKey.keys()].sort().map((key) => {
        const text = anyText(byKey.get(key), true);
        return text === undefined ? undefined : `${goJsonString(key)}:${text}`;
      });
      return all(parts, '{', '}');
    }
    case undefined:
      return json ? 'null' : '';
  }
}

/** A JSON string as encoding/json writes it without HTML escaping: JSON.stringify's, plus U+2028/U+2029 escaped. */
function goJsonString(s: string): string {
  return JSON.stringify(s)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

// ---------------------------------------------------------------------------------------------
// Go number formats

/**
 * Go's `%v` for a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): the exposition's formatGoFloat,
 * with the sign of -0 kept (Go writes `-0`; the exposition's bucket bounds drop it).
 */
export function goFloat(f: number): string {
  return Object.is(f, -0) ? '-0' : formatGoFloat(f);
}

/**
 * encoding/json's float64 (pdata's `float64AsString`): ES6 number-to-string, i.e. JavaScript's
 * `String(f)` for finite values, except that Go keeps the sign of -0.
 */
export function jsonFloat(f: number): string {
  return Object.is(f, -0) ? '-0' : String(f);
}

/** Go's `%f` (six decimals). Ties on exact binary halves round away from zero here, to even in Go. */
function goFixed6(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  // Past 1e21 toFixed switches to exponent form; such doubles are integers.
  if (Math.abs(f) >= 1e21) return `${BigInt(f).toString()}.000000`;
  return f.toFixed(6);
}

// ---------------------------------------------------------------------------------------------
// Reading the wire shape. Only requests that decoded are printed, so this is lenient: a missing
// or odd field reads as its default.

function asObj(raw: unknown): Obj {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Obj) : {};
}

function array(raw: unknown): readonly unknown[] {
  return Array.isArray(raw) ? raw : [];
}

function str(raw: unknown): string {
  return typeof raw === 'string' ? raw : '';
}
