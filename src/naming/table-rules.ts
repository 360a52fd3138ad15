/**
 * The rule compiler of a legacy profile's table (naming/types.ts FamilyRule): every family named,
 * labelled and worded as the original does.
 */
import { DataPointType } from '../common/otel-sdk.ts';
import type { Attributes } from '@opentelemetry/api';
import { setAttribute } from '../common/set-attribute.ts';
import { escapeLabelValue } from '../exposition/escape.ts';
import { bucketLinePrefix } from '../exposition/render-model.ts';
import { boundsOf } from '../series/collection.ts';
import { exemplarsAt } from '../series/histogram.ts';
import type { CompiledRule } from './compiled-rule.ts';
import { scaled, seriesExemplar, seriesStartMillis } from './data-points.ts';
import { addHistogram, addNumber } from './family-builder.ts';
import { SeriesCache } from './series-cache.ts';
import type { FamilyRule } from './types.ts';

/** The attribute the SDK puts on the series that absorbs attribute sets past the cardinality limit. */
const OVERFLOW_ATTRIBUTE = 'otel.metric.overflow';

/** The labels every series of a table ends with (crewshipd's `hostname`): rendered, and as attributes. */
export interface ConstLabels {
  readonly text: string;
  readonly attributes: Attributes;
}

/** `rule` compiled; `constLabels` end every series' labels. */
export function compileTableRule(
  rule: FamilyRule,
  constLabels: ConstLabels,
  starts: boolean,
): CompiledRule {
  const pairs = rule.labels ?? [];
  const attrKeys = pairs.map(([attr]) => attr);
  const valueMaps = attrKeys.map((k) => rule.values?.[k]);
  const scale = rule.scale ?? 1;
  const from = rule.from ?? 'value';
  const labelNames = pairs.map(([, label]) => label);
  /** Label `i`'s word for `attributes` (undefined: the series has no such label); `overflow`: the SDK's overflow series, whose every label reads `other`. */
  const wordAt = (attributes: Attributes, i: number, overflow: boolean): string | undefined => {
    const raw = overflow ? 'other' : attributes[attrKeys[i]!];
    if (raw === undefined || raw === null) return undefined;
    const word = String(raw);
    return valueMaps[i]?.[word] ?? word;
  };
  const render = (attributes: Attributes): string => {
    const parts: string[] = [];
    const overflow = attributes[OVERFLOW_ATTRIBUTE] === true;
    for (let i = 0; i < attrKeys.length; i++) {
      const word = wordAt(attributes, i, overflow);
      if (word === undefined) continue;
      if (parts.length > 0) parts.push(',');
      parts.push(labelNames[i]!, '="', escapeLabelValue(word), '"');
    }
    if (constLabels.text !== '') {
      if (parts.length > 0) parts.push(',');
      parts.push(constLabels.text);
    }
    return parts.join('');
  };
  const named = (attributes: Attributes): Attributes => {
    const out: Attributes = {};
    const overflow = attributes[OVERFLOW_ATTRIBUTE] === true;
    for (let i = 0; i < attrKeys.length; i++) {
      const word = wordAt(attributes, i, overflow);
      if (word !== undefined) setAttribute(out, labelNames[i]!, word);
    }
    for (const key in constLabels.attributes) setAttribute(out, key, constLabels.attributes[key]);
    return out;
  };
  const histogramShaped = rule.type === 'histogram' && from === 'value';
  const cache = new SeriesCache(
    render,
    histogramShaped ? (labels) => bucketLinePrefix(rule.name, labels) : undefined,
  );
  // Dropped attributes or many-to-one value words can make two points share a label set.
  const merges = true;
  // A counter's or histogram's sources are carried one by one when a set's series can leave
  // (carry.ts): the series merges them, and must not go down when one leaves.
  const carries = rule.type === 'counter' || rule.type === 'histogram';
  return {
    family: { name: rule.name, type: rule.type, help: rule.help, unit: rule.unit ?? '' },
    merges,
    carries,
    named,
    emit(series, out, sources) {
      const n = series.n;
      const labels = series.labels(cache.labelRender);
      const strings = labels.strings;
      const keys = labels.keys;
      /** Series i's `value` as its part of the served series (carried when sources are). */
      const part = (i: number, value: number, created: number): number =>
        sources === undefined ? value : sources.report(keys[i]!, strings[i]!, value, created);
      cache.trim(n);
      const kind = series.dataPointType;
      if (kind === DataPointType.HISTOGRAM || kind === DataPointType.EXPONENTIAL_HISTOGRAM) {
        for (let i = 0; i < n; i++) {
          const created = starts ? seriesStartMillis(series, i) : 0;
          if (from === 'sum')
            addNumber(out, strings[i]!, part(i, scaled(series.sums[i]!, scale), created), created);
          else if (from === 'count')
            addNumber(out, strings[i]!, part(i, series.counts[i]!, created), created);
          else if (kind === DataPointType.EXPONENTIAL_HISTOGRAM)
            // A host View gave the instrument base-2 exponential buckets: the family keeps its name
            // and type, its buckets are the exponential ones (native in protobuf when unscaled).
            addHistogram(
              out,
              cache.exponential(
                i,
                strings[i]!,
                series.exponentials![i]!,
                scale,
                true,
                starts ? created : undefined,
              ),
            );
          else {
            const row = sources?.reportHistogram(
              keys[i]!,
              strings[i]!,
              boundsOf(series, i),
              series.values,
              i * series.stride,
              scaled(series.sums[i]!, scale),
              series.counts[i]!,
              created,
            );
            addHistogram(
              out,
              cache.histogramAt(
                i,
                series,
                strings[i]!,
                scale,
                starts ? created : undefined,
                exemplarsAt(series.exemplars, i, series.stride),
                row,
              ),
            );
          }
        }
      } else {
        for (let i = 0; i < n; i++) {
          const created = starts ? seriesStartMillis(series, i) : 0;
          addNumber(
            out,
            strings[i]!,
            rule.type === 'info' ? 1 : part(i, scaled(series.values[i]!, scale), created),
            created,
            seriesExemplar(series.exemplars?.[i], rule.type, scale),
          );
        }
      }
      if (labels.nonAscii > 0) out.ascii = false;
      return labels;
    },
  };
}
