/**
 * The exposition options a profile takes on top of its table (`startTimestamps`,
 * `translationStrategy`, `unitSuffixes`), applied in one place for createJobmeter and
 * JobmeterReader, as given (set or not); their rows' rules checked them (resolveSection).
 */
import { ConfigError } from '../errors.ts';
import type { JOBMETER_OPTIONS, OptionsOf } from '../common/option-table.ts';
import type { Profile } from './types.ts';

/** The rows' options (their types and docs are the option table's). */
export type ProfileExpositionOptions = Pick<
  OptionsOf<typeof JOBMETER_OPTIONS>,
  'startTimestamps' | 'translationStrategy' | 'unitSuffixes'
>;

/**
 * `profile` with the options applied (itself when none is set).
 * @throws ConfigError naming the option: a naming option with a legacy profile (whose names
 *   never change).
 */
export function withExpositionOptions(
  profile: Profile,
  options: ProfileExpositionOptions,
): Profile {
  const { startTimestamps, translationStrategy, unitSuffixes } = options;
  for (const [key, value] of [
    ['translationStrategy', translationStrategy],
    ['unitSuffixes', unitSuffixes],
  ] as const) {
    if (value !== undefined && profile.kind !== 'native')
      throw new ConfigError(
        key,
        value,
        `unset: the ${profile.name} profile keeps its original's names`,
      );
  }
  if (startTimestamps !== true && translationStrategy === undefined && unitSuffixes !== false)
    return profile;
  return {
    ...profile,
    ...(startTimestamps === true && { startTimestamps: true }),
    ...(translationStrategy !== undefined && profile.kind === 'native' && { translationStrategy }),
    ...(unitSuffixes === false && profile.kind === 'native' && { unitSuffixes: false }),
  };
}
