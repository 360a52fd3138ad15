/**
 * Which family has which name, in one native naming pass. Native names come from whatever a sender
 * or host chose, and a family also takes the names of its own series (a histogram's `_bucket`, a
 * counter's `_created`, prometheus-names.ts `claimedNames`): a family that would take a name
 * another family already has is dropped, first come first served.
 */
import type { FamilyType } from '../exposition/types.ts';
import { claimedNames } from './prometheus-names.ts';

/**
 * Names the scrape handler's self-metric takes (http/scrape-handler.ts appends it after the
 * families where it is served; naming is upstream of http, so the name is spelled here too and a
 * test keeps the two equal): no native family may take them.
 */
export const SCRAPE_ERRORS_FAMILY = 'jobmeter_scrape_errors_total';
const SELF_METRIC_CLAIMS: ReadonlyArray<readonly [string, string]> = claimedNames(
  SCRAPE_ERRORS_FAMILY,
  'counter',
).map((n) => [n, 'self-metric']);

/**
 * Takes every name `family` claims, unless one is another family's -- another name, or the same
 * name with another type (then nothing is taken). Owners are `name type`.
 */
export function claim(
  claims: Map<string, string>,
  family: { readonly name: string; readonly type: FamilyType },
): boolean {
  const names = claimedNames(family.name, family.type);
  const self = family.name + ' ' + family.type;
  for (const n of names) {
    const owner = claims.get(n);
    if (owner !== undefined && owner !== self) return false;
  }
  for (const n of names) claims.set(n, self);
  return true;
}

/** A pass's claims, with jobmeter's self-metric's names already taken. */
export function newClaims(): Map<string, string> {
  return new Map(SELF_METRIC_CLAIMS);
}
