/**
 * The rule compiler of a legacy profile's table (naming/types.ts FamilyRule): every family named,
 * labelled and worded as the original does.
 */
import type { Attributes } from '@opentelemetry/api';
import { setAttribute } from '../common/set-attribute.ts';
import { bucketLinePrefix } from '../exposition/render-model.ts';
import { labelsText } from './attribute-labels.ts';
import type { CompiledRule } from './compiled-rule.ts';
import { SeriesCache } from './series-cache.ts';
import type { FamilyRule } from './types.ts';

/** The attribute the SDK puts on the series that absorbs attribute sets past the cardinality limit. */
const OVERFLOW_ATTRIBUTE = 'otel.metric.overflow';

/**
 * `rule` compiled; `constLabels` (label name → value: crewshipd's `hostname`) end every series'
 * labels.
 */
export function compileTableRule(
  rule: FamilyRule,
  constLabels: Attributes,
  starts: boolean,
): CompiledRule {
  const pairs = rule.labels ?? [];
  const attrKeys = pairs.map(([attr]) => attr);
  const valueMaps = attrKeys.map((k) => rule.values?.[k]);
  const scale = rule.scale ?? 1;
  const from = rule.from ?? 'value';
  const labelNames = pairs.map(([, label]) => label);
  /** A series' labels: each label's word for its attribute, in label order (the SDK's overflow series reads `other` in each), then the table's own. */
  const named = (attributes: Attributes): Attributes => {
    const out: Attributes = {};
    const overflow = attributes[OVERFLOW_ATTRIBUTE] === true;
    for (let i = 0; i < attrKeys.length; i++) {
      const raw = overflow ? 'other' : attributes[attrKeys[i]!];
      if (raw === undefined || raw === null) continue;
      const word = String(raw);
      setAttribute(out, labelNames[i]!, valueMaps[i]?.[word] ?? word);
    }
    for (const key in constLabels) setAttribute(out, key, constLabels[key]);
    return out;
  };
  const render = (attributes: Attributes): string => labelsText(named(attributes), false);
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
    from,
    scale,
    starts,
    keyed: false,
    cache,
  };
}
