/**
 * The Prometheus protobuf exposition: `application/vnd.google.protobuf;
 * proto=io.prometheus.client.MetricFamily; encoding=delimited` — client_model's `MetricFamily`
 * messages (io/prometheus/client/metrics.proto), each prefixed by its varint length, as
 * client_golang's expfmt writes them. Prometheus 3 asks for it first when it scrapes native
 * histograms.
 *
 * The same families as the text renderers, type for type: a counter is a COUNTER whatever its name
 * (protobuf carries no suffix rules, so the stored name is the family's, as in text 0.0.4); `info`
 * is a GAUGE, as text 0.0.4 writes it; `unknown` is UNTYPED. A histogram's buckets are cumulative
 * and omit `+Inf`, which Prometheus takes from `sample_count` (as client_golang writes them).
 *
 * The schema below is the subset of metrics.proto written here, transcribed; the tests decode the
 * output with the official file.
 */
import protobuf from 'protobufjs/light.js';
import { parseLabelPairs } from './escape.ts';
import { numberColumns } from './samples.ts';
import type { Family, NumberColumns } from './types.ts';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

const SCHEMA = {
  nested: {
    io: {
      nested: {
        prometheus: {
          nested: {
            client: {
              nested: {
                LabelPair: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
                MetricType: { values: { COUNTER: 0, GAUGE: 1, SUMMARY: 2, UNTYPED: 3, HISTOGRAM: 4, GAUGE_HISTOGRAM: 5 } },
                Gauge: { fields: { value: { type: 'double', id: 1 } } },
                Counter: { fields: { value: { type: 'double', id: 1 } } },
                Untyped: { fields: { value: { type: 'double', id: 1 } } },
                Bucket: { fields: { cumulativeCount: { type: 'uint64', id: 1 }, upperBound: { type: 'double', id: 2 } } },
                Histogram: {
                  fields: {
                    sampleCount: { type: 'uint64', id: 1 },
                    sampleSum: { type: 'double', id: 2 },
                    bucket: { rule: 'repeated', type: 'Bucket', id: 3 },
                  },
                },
                Metric: {
                  fields: {
                    label: { rule: 'repeated', type: 'LabelPair', id: 1 },
                    gauge: { type: 'Gauge', id: 2 },
                    counter: { type: 'Counter', id: 3 },
                    untyped: { type: 'Untyped', id: 5 },
                    histogram: { type: 'Histogram', id: 7 },
                  },
                },
                MetricFamily: {
                  fields: {
                    name: { type: 'string', id: 1 },
                    help: { type: 'string', id: 2 },
                    type: { type: 'MetricType', id: 3 },
                    metric: { rule: 'repeated', type: 'Metric', id: 4 },
                    unit: { type: 'string', id: 5 },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

let metricFamily: protobuf.Type | undefined;

/**
 * proto2, as metrics.proto is, so that a field set to its default (a COUNTER type, a 0 value) is
 * written anyway (explicit presence), as client_golang writes it. protobufjs reads the edition of
 * each message, not of the root.
 */
function proto2(node: object): object {
  const n = node as { fields?: unknown; nested?: Record<string, object> };
  return {
    ...n,
    ...(n.fields !== undefined && { edition: 'proto2' }),
    ...(n.nested !== undefined && { nested: Object.fromEntries(Object.entries(n.nested).map(([k, v]) => [k, proto2(v)])) }),
  };
}

function metricFamilyType(): protobuf.Type {
  metricFamily ??= protobuf.Root.fromJSON(proto2(SCHEMA) as protobuf.INamespace).lookupType('io.prometheus.client.MetricFamily');
  return metricFamily;
}

const TYPE = { counter: 0, gauge: 1, info: 1, unknown: 3, histogram: 4 } as const;
const VALUE_FIELD = { counter: 'counter', gauge: 'gauge', info: 'gauge', unknown: 'untyped' } as const;

const labelsOf = (labels: string): Array<{ name: string; value: string }> =>
  parseLabelPairs(labels).map(([name, value]) => ({ name, value }));

/** Series encoded between two chances for the caller to give the event loop back. */
export const SERIES_PER_PIECE = 1000;
/** `metric` (field 4, length-delimited) of MetricFamily. */
const METRIC_TAG = (4 << 3) | 2;

function metricOf(family: Family, columns: NumberColumns | undefined, i: number): object {
  if (family.type === 'histogram') {
    const s = family.series[i]!;
    let cumulative = 0;
    const bucket = s.bounds.map((upperBound, b) => ({ upperBound, cumulativeCount: (cumulative += s.counts[b]!) }));
    return { label: labelsOf(s.labels), histogram: { sampleCount: s.count, sampleSum: s.sum, bucket } };
  }
  // An info sample is always 1, as the text renderers write it.
  return { label: labelsOf(columns!.labels[i]!), [VALUE_FIELD[family.type]]: { value: family.type === 'info' ? 1 : columns!.values[i]! } };
}

/**
 * One family as a length-delimited `MetricFamily`, in pieces: its series are encoded
 * {@link SERIES_PER_PIECE} at a time, with an empty Buffer after each batch as a point where the
 * caller may yield; the length prefix and the family's own fields come once the size is known.
 * Protobuf takes fields in any order, so `metric` after `unit` is as valid as before it.
 */
export function* familyPieces(family: Family): Generator<Buffer, void, undefined> {
  const columns = family.type === 'histogram' ? undefined : numberColumns(family);
  const n = columns === undefined ? family.series.length : columns.labels.length;
  const metricType = metricFamilyType().lookupType('Metric');
  const batches: Buffer[] = [];
  let size = 0;
  for (let from = 0; from < n; from += SERIES_PER_PIECE) {
    const w = protobuf.Writer.create();
    for (let i = from; i < Math.min(n, from + SERIES_PER_PIECE); i++) {
      metricType.encode(metricOf(family, columns, i), w.uint32(METRIC_TAG).fork()).ldelim();
    }
    const bytes = w.finish();
    batches.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    size += bytes.byteLength;
    yield EMPTY;
  }
  const head = metricFamilyType().encode({ name: family.name, help: family.help, type: TYPE[family.type], ...(family.unit !== '' && { unit: family.unit }) }).finish();
  const prefix = protobuf.Writer.create().uint32(head.byteLength + size).finish();
  yield Buffer.concat([prefix, head]);
  yield* batches;
}

const EMPTY = Buffer.alloc(0);

/** One family as a `MetricFamily` message, length-delimited, in one piece. */
export function encodeFamily(family: Family): Uint8Array {
  return Buffer.concat([...familyPieces(family)]);
}

/**
 * The exposition: each family's pieces (empty ones mark where a caller may yield). Families with no
 * series are left out, as in text.
 */
export function* protobufBuffers(families: readonly Family[]): Generator<Buffer, void, undefined> {
  for (const family of families) {
    if ((family.type === 'histogram' ? family.series.length : numberColumns(family).labels.length) === 0) continue;
    yield* familyPieces(family);
  }
}
