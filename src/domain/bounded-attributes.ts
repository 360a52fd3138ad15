/**
 * An attributes processor that is both the allow-list and the cardinality bound of one
 * instrument: undeclared keys are dropped, declared values outside a closed vocabulary or past an
 * open vocabulary's cap fold into `other`. Memory is bounded by the caps, whatever the churn.
 *
 * The SDK's own `createAllowListAttributesProcessor` only drops keys; it cannot fold values, so
 * this one replaces it rather than being chained after it (one pass instead of two).
 *
 * The same folds bound jobmeter's synchronous storages (storage/spec-index.ts), which apply them
 * once per new attribute set instead of on every record.
 */
import type { AnyValue, Attributes } from '@opentelemetry/api';
import type { IAttributesProcessor } from '@opentelemetry/sdk-metrics';
import { attributesTemplate } from '../common/set-attribute.ts';
import { OVERFLOW_ATTRIBUTES } from '../series/positions.ts';
import { OTHER, type AttributeSpec } from './types.ts';

/**
 * Longest label value kept. Prometheus has no limit of its own, but a multi-megabyte value would
 * be copied into every scrape; a longer one is cut and marked with a trailing `...` ({@link cutString}).
 * Also the default attribute value length limit of a host's values (`attributeValueLengthLimit`),
 * so that a host's labels and jobmeter's own are bounded alike.
 */
export const MAX_VALUE_LENGTH = 256;

/**
 * Ceiling on series per instrument, whatever the vocabularies multiply to. Past it new attribute
 * sets fold into a single overflow series (`otel.metric.overflow=true`: the SDK's for its own
 * instruments, the storages' for the domain's), which the naming stage renders with every label
 * set to `other`.
 */
export const MAX_SERIES_PER_INSTRUMENT = 10_000;

/** Maps one attribute's (stringified, cut) value to the label value kept. */
export type Fold = (value: string) => string;

function closedVocabulary(values: readonly string[]): Fold {
  const allowed = new Set(values);
  return (v) => (allowed.has(v) ? v : OTHER);
}

function cappedVocabulary(cap: number): Fold {
  const seen = new Set<string>();
  return (v) => {
    if (seen.has(v)) return v;
    if (seen.size >= cap) return OTHER;
    seen.add(v);
    return v;
  };
}

/**
 * The fold of one attribute: a closed vocabulary is a fixed set; a capped one remembers the first
 * `cap` values it is given (so each call to this function starts a new, empty vocabulary).
 */
export function createFold(spec: AttributeSpec): Fold {
  if (spec.values !== undefined) return closedVocabulary(spec.values);
  if (spec.cap !== undefined) return cappedVocabulary(spec.cap);
  throw new Error(`attribute ${JSON.stringify(spec.key)}: declare either values or cap`);
}

/** `s` when at most `limit` characters long, else its first `limit - 1` and `...`: `limit` characters, the cut said. */
export function cutString(s: string, limit: number): string {
  return s.length > limit ? s.slice(0, limit - 1) + '\u2026' : s;
}

/** An attribute value as a label value: strings as they are, arrays as JSON, the rest `String`ed; cut past {@link MAX_VALUE_LENGTH}. */
export function toLabelString(value: AnyValue): string {
  return cutString(
    typeof value === 'string'
      ? value
      : Array.isArray(value)
        ? JSON.stringify(value)
        : String(value),
    MAX_VALUE_LENGTH,
  );
}

/**
 * Whether every value of `attributes` is within OpenTelemetry's attribute value length limit
 * (`AttributeValueLengthLimit`): a string at most `limit` characters, and so each string of an
 * array; other values have no length. The check of every record, so one pass and nothing made.
 */
export function withinLength(attributes: Attributes, limit: number): boolean {
  for (const k in attributes) {
    const v = attributes[k];
    if (typeof v === 'string') {
      if (v.length > limit) return false;
    } else if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'string' && x.length > limit) return false;
    }
  }
  return true;
}

/**
 * `attributes` under the attribute value length limit, as OpenTelemetry's SDKs apply it: each
 * string longer than `limit` cut ({@link cutString}), each such string of an array too, any other
 * value as it is. A new object; `cut` is told each value (an attribute's, an array's once) cut.
 */
export function limitLengths(
  attributes: Attributes,
  limit: number,
  cut: (key: string) => void,
): Attributes {
  const out: Attributes = {};
  for (const k in attributes) {
    const v = attributes[k];
    if (typeof v === 'string' && v.length > limit) {
      out[k] = cutString(v, limit);
      cut(k);
    } else if (Array.isArray(v) && v.some((x) => typeof x === 'string' && x.length > limit)) {
      out[k] = (v as unknown[]).map((x) => (typeof x === 'string' ? cutString(x, limit) : x));
      cut(k);
    } else {
      out[k] = v;
    }
  }
  return out;
}

export function createBoundedAttributesProcessor(
  specs: readonly AttributeSpec[],
): IAttributesProcessor {
  const keys = specs.map((s) => s.key);
  const folds: Fold[] = specs.map(createFold);
  const template = attributesTemplate(keys);
  return {
    process(incoming: Attributes): Attributes {
      // The overflow set a record was given past its spec's ceiling (attribute-set-cap.ts
      // `specAdmit`, createRecorder's bound) stays one: with its key dropped it would add to the set
      // of no attributes.
      if (incoming === OVERFLOW_ATTRIBUTES) return incoming;
      let all = true;
      for (let i = 0; i < keys.length; i++) {
        const raw = incoming[keys[i]!];
        if (raw === undefined || raw === null) {
          all = false;
          break;
        }
      }
      const out: Attributes = all ? { ...template } : {};
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const raw = incoming[key];
        if (raw === undefined || raw === null) continue;
        out[key] = folds[i]!(toLabelString(raw));
      }
      return out;
    },
  };
}

/**
 * Series an instrument of these attributes holds before its overflow series: the distinct
 * attribute sets the specs allow (each attribute one of its vocabulary, `other`, or left out, a set
 * of its own for the SDK as for the storages), at most {@link MAX_SERIES_PER_INSTRUMENT}.
 */
export function maxAttributeSets(specs: readonly AttributeSpec[]): number {
  let n = 1;
  for (const s of specs) n *= (s.values !== undefined ? s.values.length : (s.cap ?? 0)) + 2;
  return Math.min(n, MAX_SERIES_PER_INSTRUMENT);
}
