/**
 * OpenTelemetry attributes as a Prometheus label string, as the OTel compatibility spec renders
 * them (the native naming's labels, target_info's).
 */
import type { AnyValue, Attributes } from '@opentelemetry/api';
import { escapeLabelValue, labelNameText } from '../exposition/escape.ts';
import { sanitizeLabelName } from './prometheus-names.ts';

const labelNameCache = new Map<string, string>();
function labelName(key: string): string {
  let name = labelNameCache.get(key);
  if (name === undefined) {
    name = sanitizeLabelName(key);
    if (labelNameCache.size < 10_000) labelNameCache.set(key, name);
  }
  return name;
}

/**
 * The label pairs of an attribute set, as the OTel compatibility spec renders them: keys
 * sanitised; a key that sanitises to nothing dropped; a name in `reserved` (what the exposition
 * itself writes on this family: `le` on a histogram, the scope labels, `quantile`) prefixed with
 * `exported_`, as Prometheus renames a target's labels that clash with its own; keys that end up
 * with the same name merged into one label, their values joined with `;` in the lexicographic
 * order of the original keys. So no attribute set can give a duplicate or invalid label name.
 */
export function renderAttributes(
  attributes: Attributes,
  suffix: string,
  reserved: ReadonlySet<string>,
  utf8 = false,
): string {
  // The usual case, in one pass as fast as plain rendering: no two keys with one name.
  const parts: string[] = [];
  const names: string[] = [];
  for (const key in attributes) {
    const v = attributes[key];
    if (v === undefined || v === null) continue;
    const name = exposedName(key, reserved, utf8);
    if (name === '') continue;
    if (names.length > 0) {
      if (names.includes(name)) return renderMerged(attributes, suffix, reserved, utf8);
      parts.push(',');
    }
    names.push(name);
    parts.push(utf8 ? labelNameText(name) : name, '="', escapeLabelValue(labelValue(v)), '"');
  }
  if (suffix !== '') {
    if (parts.length > 0) parts.push(',');
    parts.push(suffix);
  }
  return parts.join('');
}

/** {@link renderAttributes} when keys collide: one label per name, values joined with `;` in key order. */
function renderMerged(
  attributes: Attributes,
  suffix: string,
  reserved: ReadonlySet<string>,
  utf8: boolean,
): string {
  const parts: string[] = [];
  for (const [name, value] of labelPairs(attributes, reserved, utf8)) {
    if (parts.length > 0) parts.push(',');
    parts.push(utf8 ? labelNameText(name) : name, '="', escapeLabelValue(value), '"');
  }
  if (suffix !== '') {
    if (parts.length > 0) parts.push(',');
    parts.push(suffix);
  }
  return parts.join('');
}

/**
 * The labels {@link renderAttributes} writes, as attributes (label name → value, unescaped): what
 * the profile-named push sends for the series.
 */
export function labelAttributes(
  attributes: Attributes,
  reserved: ReadonlySet<string>,
  utf8: boolean,
): Attributes {
  return Object.fromEntries(labelPairs(attributes, reserved, utf8));
}

/** Label name → value of an attribute set: one per name, the values of keys with one name joined with `;` in key order. */
function labelPairs(
  attributes: Attributes,
  reserved: ReadonlySet<string>,
  utf8: boolean,
): Map<string, string> {
  const byName = new Map<string, Array<[string, string]>>();
  for (const key in attributes) {
    const v = attributes[key];
    if (v === undefined || v === null) continue;
    const name = exposedName(key, reserved, utf8);
    if (name === '') continue;
    const list = byName.get(name);
    if (list === undefined) byName.set(name, [[key, labelValue(v)]]);
    else list.push([key, labelValue(v)]);
  }
  const out = new Map<string, string>();
  for (const [name, list] of byName) {
    list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    out.set(name, list.map(([, value]) => value).join(';'));
  }
  return out;
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
