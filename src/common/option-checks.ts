/**
 * Checks on numeric options, one per rule, each throwing the one error type for bad options
 * (ConfigError) with the option's name as the user wrote it and the same words for the same rule.
 */
import { ConfigError } from '../errors.ts';

/** `value` when it is a positive integer. @throws {ConfigError} naming `option` otherwise. */
export function positiveInteger(value: number, option: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(option, value, 'a positive integer');
  return value;
}

/** `value` when it is a positive, finite number of milliseconds. @throws {ConfigError} naming `option` otherwise. */
export function positiveMillis(value: number, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ConfigError(option, value, 'a positive number of milliseconds');
  return value;
}
