/**
 * OpenTelemetry attributes as Prometheus labels, as the OTel compatibility spec names them (the
 * native naming's labels, target_info's), and any series' labels as its label string.
 */
import type { AnyValue, Attributes } from '@opentelemetry/api';
import { escapeLabelValue, labelNameText } from '../exposition/escape.ts';
import { setAttribute } from '../common/set-attribute.ts';
import { sanitizeName } from './prometheus-names.ts';

/**
 * Label names by attribute key. A pass names each key of every series new to it (a first scrape,
 * label churn, a producer's points with new attribute objects), where the sanitizing regexes cost
 * about as much as the rest of the label string's making together. Past 10,000 keys, each is
 * sanitized every time.
 */
const labelNameCache = new Map<string, string>();
function labelName(key: string): string {
  let name = labelNameCache.get(key);
  if (name === undefined) {
    name = sanitizeName(key, true);
    if (labelNameCache.size < 10_000) labelNameCache.set(key, name);
  }
  return name;
}

/**
 * The labels of an attribute set (label name → value), as the OTel compatibility spec names them:
 * keys sanitised; a key that sanitises to nothing dropped; a name in `reserved` (what the
 * exposition itself writes on this family: `le` on a histogram, the scope labels, `quantile`)
 * prefixed with `exported_`, as Prometheus renames a target's labels that clash with its own; keys
 * that end up with the same name merged into one label, their values joined with `;` in the
 * lexicographic order of the original keys. So no attribute set can give a duplicate or invalid
 * label name. What the profile-named push sends, and what {@link labelsText} writes.
 */
export function labelAttributes(
  attributes: Attributes,
  reserved: ReadonlySet<string>,
  utf8: boolean,
): Attributes {
  // The usual case, in one pass: no two keys with one name.
  const out: Attributes = {};
  for (const key in attributes) {
    const v = attributes[key];
    if (v === undefined || v === null) continue;
    const name = exposedName(key, reserved, utf8);
    if (name === '') continue;
    if (Object.hasOwn(out, name)) return mergedLabels(attributes, reserved, utf8);
    setAttribute(out, name, labelValue(v));
  }
  return out;
}

/** {@link labelAttributes} when keys collide: one label per name, values joined with `;` in key order. */
function mergedLabels(
  attributes: Attributes,
  reserved: ReadonlySet<string>,
  utf8: boolean,
): Attributes {
  const pairs = Object.keys(attributes).flatMap((key) => {
    const v = attributes[key];
    const name = v === undefined || v === null ? '' : exposedName(key, reserved, utf8);
    return name === '' ? [] : [{ key, name, value: labelValue(v) }];
  });
  const out: Attributes = {};
  for (const [name, list] of Map.groupBy(pairs, (p) => p.name)) {
    list.sort((a, b) => (a.key < b.key ? -1 : 1));
    setAttribute(out, name, list.map((p) => p.value).join(';'));
  }
  return out;
}

/**
 * The label string of a series whose labels are `labels` (label name → value, as a rule names a
 * series' attributes): the pairs in their order, then `suffix` (label pairs already written, the
 * native scope labels). With `utf8`, a name outside the classic set is quoted. Every label string
 * of a naming pass is written here, so a series' labels and its label string say the same.
 */
export function labelsText(labels: Attributes, utf8: boolean, suffix = ''): string {
  const parts: string[] = [];
  for (const name in labels) {
    if (parts.length > 0) parts.push(',');
    parts.push(
      utf8 ? labelNameText(name) : name,
      '="',
      escapeLabelValue(String(labels[name])),
      '"',
    );
  }
  if (suffix !== '') {
    if (parts.length > 0) parts.push(',');
    parts.push(suffix);
  }
  return parts.join('');
}

/**
 * The label name of an attribute key: sanitised, `exported_` before a reserved name, `''` to drop
 * it. With `utf8` (a translation strategy that keeps OTel's names) the key itself, quoted in the
 * label string when it is not a classic name (exposition/escape.ts `labelNameText`); a key that
 * starts with `__` gets `exported_` too, since Prometheus keeps such names for itself (`__name__`
 * would name the series a second time). Sanitising already collapses a leading `__`.
 */
function exposedName(key: string, reserved: ReadonlySet<string>, utf8: boolean): string {
  const name = utf8 ? key : labelName(key);
  return reserved.has(name) || (utf8 && name.startsWith('__')) ? 'exported_' + name : name;
}

function labelValue(v: AnyValue): string {
  return typeof v === 'string' ? v : Array.isArray(v) ? JSON.stringify(v) : String(v);
}
