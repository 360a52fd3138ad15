import { PROFILE_NAMES, type ProfileName } from '../../options.ts';
import type { Profile, TableProfile } from '../types.ts';
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

export function resolveProfile(name: ProfileName, scopeInfo: boolean): Profile {
  return name === 'otel' ? otelProfile(scopeInfo) : LEGACY_PROFILES[name];
}
