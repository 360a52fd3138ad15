/**
 * The exposition options a profile takes on top of its table (`startTimestamps`,
 * `translationStrategy`, `unitSuffixes`), checked and applied in one place for createJobmeter and JobmeterReader.
 */
import { ConfigError } from '../errors.ts';
import { bool, oneOf } from '../common/option-rules.ts';
import { TRANSLATION_STRATEGIES, type TranslationStrategy } from './prometheus-names.ts';
import type { Profile } from './types.ts';

export interface ProfileExpositionOptions {
  /** @default false */
  readonly startTimestamps?: boolean;
  /** The `otel` profile only. @default 'UnderscoreEscapingWithSuffixes' */
  readonly translationStrategy?: TranslationStrategy;
  /** The `otel` profile only. @default true */
  readonly unitSuffixes?: boolean;
}

/**
 * `profile` with the options applied (itself when none is set).
 * @throws ConfigError naming the option: a strategy that is not one of the four, or a naming
 *   option with a legacy profile (whose names never change).
 */
export function withExpositionOptions(
  profile: Profile,
  options: ProfileExpositionOptions,
): Profile {
  const { startTimestamps, translationStrategy, unitSuffixes } = options;
  if (startTimestamps !== undefined) bool(startTimestamps, 'startTimestamps');
  if (translationStrategy !== undefined)
    oneOf(translationStrategy, TRANSLATION_STRATEGIES, 'translationStrategy');
  if (unitSuffixes !== undefined) bool(unitSuffixes, 'unitSuffixes');
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
