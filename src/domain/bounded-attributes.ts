/**
 * An attributes processor that is both the allow-list and the cardinality bound of one
 * instrument: undeclared keys are dropped, declared values outside a closed vocabulary or past an
 * open vocabulary's cap fold into `other`. Memory is bounded by the caps, whatever the churn.
 *
 * The SDK's own `createAllowListAttributesProcessor` only drops keys; it cannot fold values, so
 * this one replaces it rather than being chained after it (one pass instead of two).
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { IAttributesProcessor } from '@opentelemetry/sdk-metrics';
import { OTHER, type AttributeSpec } from './types.ts';

/**
 * Longest label value kept. Prometheus has no limit of its own, but a multi-megabyte value would
 * be copied into every scrape; a longer one is cut and marked with a trailing `…`.
 */
export const MAX_VALUE_LENGTH = 256;

type Fold = (value: string) => string;

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

function toLabelString(value: AttributeValue): string {
  const s = typeof value === 'string' ? value : Array.isArray(value) ? JSON.stringify(value) : String(value);
  return s.length > MAX_VALUE_LENGTH ? s.slice(0, MAX_VALUE_LENGTH - 1) + '…' : s;
}

export function createBoundedAttributesProcessor(specs: readonly AttributeSpec[]): IAttributesProcessor {
  const keys = specs.map((s) => s.key);
  const folds: Fold[] = specs.map((s) => {
    if (s.values !== undefined) return closedVocabulary(s.values);
    if (s.cap !== undefined) return cappedVocabulary(s.cap);
    throw new Error(`attribute ${JSON.stringify(s.key)}: declare either values or cap`);
  });
  return {
    process(incoming: Attributes): Attributes {
      const out: Attributes = {};
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

/** Largest number of distinct attribute sets the specs allow (each vocabulary plus `other`). */
export function maxAttributeSets(specs: readonly AttributeSpec[]): number {
  let n = 1;
  for (const s of specs) n *= (s.values !== undefined ? s.values.length : (s.cap ?? 0)) + 1;
  return n;
}
