import { PROFILE_NAMES, type ProfileName } from '../../options.ts';
import type { FamilyRule, Profile, TableProfile } from '../types.ts';
import { crewshipdProfile } from './crewshipd.ts';
import { otelProfile } from './otel.ts';
import { rmProfile } from './rm.ts';
import { runwispProfile } from './runwisp.ts';
import { soltiProfile } from './solti.ts';
import { wasmrunProfile } from './wasmrun.ts';

export { PROFILE_NAMES };

export const LEGACY_PROFILES: Readonly<Record<Exclude<ProfileName, 'otel'>, TableProfile>> = {
  runwisp: runwispProfile,
  wasmrun: wasmrunProfile,
  crewshipd: crewshipdProfile,
  rm: rmProfile,
  solti: soltiProfile,
};

/**
 * The profile `name`, extended with the host's own `rules` (check-rules.ts validates them): after
 * a legacy table's rules, their families after its own; on the native profile, they name the
 * instruments they select instead of the native naming.
 */
export function resolveProfile(name: ProfileName, scopeInfo: boolean, rules: readonly FamilyRule[] = []): Profile {
  if (name === 'otel') return rules.length === 0 ? otelProfile(scopeInfo) : { ...otelProfile(scopeInfo), rules };
  const table = LEGACY_PROFILES[name];
  return rules.length === 0 ? table : { ...table, rules: [...table.rules, ...rules] };
}
