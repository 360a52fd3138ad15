/**
 * A profile's closed vocabularies over canonical attributes (naming/types.ts `vocabularies`): the
 * check a domain record passes before it is recorded. A record with a value outside is dropped
 * (record-guard.ts, reason `vocabulary`), so the original's closed sets stay closed.
 */
import type { AttributeSpec } from './types.ts';

/** The value of `attributes` outside its attribute's vocabulary, or undefined when there is none. */
export type VocabularyCheck = (attributes: Readonly<Record<string, unknown>>) => unknown;

/** The check for `vocabularies`; undefined when there are none (the common case costs nothing). */
export function vocabularyCheck(
  vocabularies: Readonly<Record<string, readonly string[]>> | undefined,
): VocabularyCheck | undefined {
  if (vocabularies === undefined) return undefined;
  const sets = Object.entries(vocabularies).map(
    ([key, values]) => [key, new Set<unknown>(values)] as const,
  );
  if (sets.length === 0) return undefined;
  return (attributes) => {
    for (const [key, allowed] of sets) {
      const value = attributes[key];
      if (value !== undefined && !allowed.has(value)) return value;
    }
    return undefined;
  };
}

/**
 * The same for one instrument's closed attributes that drop rather than fold (`outside: 'drop'`
 * in its spec), as an observation is checked before it is folded.
 */
export function dropOutsideCheck(
  attributes: readonly AttributeSpec[],
): VocabularyCheck | undefined {
  const closed = attributes.filter((a) => a.outside === 'drop' && a.values !== undefined);
  return vocabularyCheck(Object.fromEntries(closed.map((a) => [a.key, a.values!])));
}
