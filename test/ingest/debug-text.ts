/**
 * Renders an OTLP metrics request the way the Collector's `debug` exporter prints it at
 * `verbosity: detailed` (its otlptext marshaler: exporter/debugexporter/internal/otlptext,
 * metrics.go and databuffer.go), for docs/collector.md's expected output. Only the parts jobmeter
 * sends are covered: gauges, sums and explicit-bucket histograms, no exemplars, no entity refs.
 *
 * Go's formats are mirrored: `%f` is six decimals, `%d` an integer, a pcommon.Timestamp prints as
 * `time.Time.String()` in UTC (`2025-01-01 12:00:00.5 +0000 UTC`, fraction without trailing zeros),
 * a value as `Type(text)` (`Str(subprocess)`, `Int(3)`).
 */
/** The OTLP/JSON shape read here (protobufjs `toObject` output has it too). */
interface KeyValue {
  key: string;
  value?: Record<string, unknown>;
}
interface Point {
  attributes?: KeyValue[];
  startTimeUnixNano?: string | number;
  timeUnixNano?: string | number;
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
  sum?: number;
  min?: number;
  max?: number;
  explicitBounds?: number[];
  bucketCounts?: Array<string | number>;
}
interface Data {
  dataPoints?: Point[];
  aggregationTemporality?: number | string;
  isMonotonic?: boolean;
}
export interface DebugRequest {
  resourceMetrics?: Array<{
    schemaUrl?: string;
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: Array<{
      schemaUrl?: string;
      scope?: { name?: string; version?: string };
      metrics?: Array<{ name?: string; description?: string; unit?: string; gauge?: Data; sum?: Data; histogram?: Data }>;
    }>;
  }>;
}

export function renderDebugDetailed(request: DebugRequest): string {
  const out: string[] = [];
  const line = (s: string): number => out.push(s);
  (request.resourceMetrics ?? []).forEach((rm, i) => {
    line(`ResourceMetrics #${i}`);
    line(`Resource SchemaURL: ${rm.schemaUrl ?? ''}`);
    attributes('Resource attributes', rm.resource?.attributes, line);
    (rm.scopeMetrics ?? []).forEach((sm, j) => {
      line(`ScopeMetrics #${j}`);
      line(`ScopeMetrics SchemaURL: ${sm.schemaUrl ?? ''}`);
      line(`InstrumentationScope ${sm.scope?.name ?? ''} ${sm.scope?.version ?? ''}`);
      (sm.metrics ?? []).forEach((m, k) => {
        line(`Metric #${k}`);
        line('Descriptor:');
        line(`     -> Name: ${m.name ?? ''}`);
        line(`     -> Description: ${m.description ?? ''}`);
        line(`     -> Unit: ${m.unit ?? ''}`);
        if (m.gauge !== undefined) {
          line('     -> DataType: Gauge');
          numberPoints(m.gauge.dataPoints ?? [], line);
        } else if (m.sum !== undefined) {
          line('     -> DataType: Sum');
          line(`     -> IsMonotonic: ${m.sum.isMonotonic === true}`);
          line(`     -> AggregationTemporality: ${temporality(m.sum.aggregationTemporality)}`);
          numberPoints(m.sum.dataPoints ?? [], line);
        } else if (m.histogram !== undefined) {
          line('     -> DataType: Histogram');
          line(`     -> AggregationTemporality: ${temporality(m.histogram.aggregationTemporality)}`);
          (m.histogram.dataPoints ?? []).forEach((p, n) => {
            line(`HistogramDataPoints #${n}`);
            attributes('Data point attributes', p.attributes, line);
            line(`StartTimestamp: ${timestamp(p.startTimeUnixNano)}`);
            line(`Timestamp: ${timestamp(p.timeUnixNano)}`);
            line(`Count: ${String(p.count ?? 0)}`);
            if (p.sum !== undefined) line(`Sum: ${f(p.sum)}`);
            if (p.min !== undefined) line(`Min: ${f(p.min)}`);
            if (p.max !== undefined) line(`Max: ${f(p.max)}`);
            (p.explicitBounds ?? []).forEach((b, x) => line(`ExplicitBounds #${x}: ${f(b)}`));
            (p.bucketCounts ?? []).forEach((c, x) => line(`Buckets #${x}, Count: ${String(c)}`));
          });
        }
      });
    });
  });
  return out.join('\n') + '\n';
}

type Line = (s: string) => number;

function numberPoints(points: Point[], line: Line): void {
  points.forEach((p, n) => {
    line(`NumberDataPoints #${n}`);
    attributes('Data point attributes', p.attributes, line);
    line(`StartTimestamp: ${timestamp(p.startTimeUnixNano)}`);
    line(`Timestamp: ${timestamp(p.timeUnixNano)}`);
    if (p.asInt !== undefined) line(`Value: ${String(p.asInt)}`);
    else if (p.asDouble !== undefined) line(`Value: ${f(p.asDouble)}`);
  });
}

function attributes(header: string, list: KeyValue[] | undefined, line: Line): void {
  if (list === undefined || list.length === 0) return;
  line(`${header}:`);
  for (const { key, value } of list) line(`     -> ${key}: ${anyValue(value)}`);
}

function anyValue(v: Record<string, unknown> | undefined): string {
  if (v === undefined) return 'Empty()';
  if (v['stringValue'] !== undefined) return `Str(${String(v['stringValue'])})`;
  if (v['intValue'] !== undefined) return `Int(${String(v['intValue'])})`;
  if (v['doubleValue'] !== undefined) return `Double(${String(v['doubleValue'])})`;
  if (v['boolValue'] !== undefined) return `Bool(${String(v['boolValue'])})`;
  return `Str(${JSON.stringify(v)})`;
}

function temporality(v: unknown): string {
  return v === 1 || v === 'AGGREGATION_TEMPORALITY_DELTA' ? 'Delta' : v === 2 || v === 'AGGREGATION_TEMPORALITY_CUMULATIVE' ? 'Cumulative' : 'Unspecified';
}

function f(v: unknown): string {
  return Number(v).toFixed(6);
}

/** Go's `time.Unix(0, ns).UTC().String()`. */
function timestamp(ns: unknown): string {
  const n = BigInt(String(ns ?? 0));
  const seconds = n / 1_000_000_000n;
  const frac = (n % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const iso = new Date(Number(seconds) * 1000).toISOString(); // 2025-01-01T12:00:00.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac === '' ? '' : `.${frac}`} +0000 UTC`;
}
