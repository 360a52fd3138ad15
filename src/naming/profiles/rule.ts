/**
 * One family of a legacy profile's table, written as its type, canonical instrument and name, then
 * the rest of the rule (help first). It returns the plain object a literal would be, so the tables
 * stay JSON-safe data (test/naming/profile-modules.test.ts).
 */
import type { FamilyRule } from '../types.ts';

export const rule = (
  type: FamilyRule['type'],
  instrument: string,
  name: string,
  rest: Omit<FamilyRule, 'type' | 'instrument' | 'name'>,
): FamilyRule => ({ instrument, name, type, ...rest });

/** Label pairs that serve each attribute under its own name (`asLabels('runner')`: `[['runner', 'runner']]`). */
export const asLabels = (...attributes: string[]): [string, string][] =>
  attributes.map((a) => [a, a]);
