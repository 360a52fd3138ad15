import type { ProfileName } from '../../options.ts';
import type { Profile } from '../types.ts';
import { otelProfile } from './otel.ts';

export const PROFILE_NAMES: readonly ProfileName[] = ['otel', 'runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'];

export function resolveProfile(name: ProfileName, scopeInfo: boolean): Profile {
  switch (name) {
    case 'otel':
      return otelProfile(scopeInfo);
    default:
      // The legacy tables land with their own catalog tests (issue 3); refuse rather than guess.
      throw new Error(`profile ${JSON.stringify(name)} is not available yet: only "otel" is implemented`);
  }
}
