/**
 * The profiles: one module of data each (its naming table, and what the docs say of it), read by
 * the naming engine (resolveProfile), by jobmeterViews, createRecorder and the ingest (the
 * buckets, vocabularies and snapshot policy: profileSettings), and by scripts/gen-profile-docs.ts
 * (docs/profiles.md, README's table).
 */
import {
  isNativeProfileName,
  PROFILE_NAMES,
  type LegacyProfileName,
  type ProfileName,
} from '../../common/option-values.ts';
import type { Convention } from '../../domain/convention.ts';
import type { FamilyRule, Profile, TableProfile } from '../types.ts';
import * as crewshipd from './crewshipd.ts';
import * as otel from './otel.ts';
import type { ProfileDoc } from './profile-doc.ts';
import * as rm from './rm.ts';
import * as runwisp from './runwisp.ts';
import * as semconv from './semconv.ts';
import * as solti from './solti.ts';
import * as wasmrun from './wasmrun.ts';

export { PROFILE_NAMES };
export type { AllowedWarning, ProfileDoc } from './profile-doc.ts';

/**
 * Each profile's module, by name (its type makes a profile left out a compile error): each exports
 * what the docs say of it (doc), a legacy one its naming table (profile) too.
 */
const LEGACY = { runwisp, wasmrun, crewshipd, rm, solti };
const MODULES: Record<ProfileName, { doc: ProfileDoc }> = { otel, ...LEGACY, semconv };

export const LEGACY_PROFILES = Object.fromEntries(
  Object.entries(LEGACY).map(([name, m]) => [name, m.profile]),
) as Readonly<Record<LegacyProfileName, TableProfile>>;

/**
 * The profile `name`, extended with the host's own `rules` (check-rules.ts validates them): after
 * a legacy table's rules, their families after its own; on a native profile, they name the
 * instruments they select instead of the native naming.
 */
export function resolveProfile(
  name: ProfileName,
  scopeInfo: boolean,
  rules: readonly FamilyRule[] = [],
): Profile {
  if (isNativeProfileName(name)) {
    const native = otel.otelProfile(scopeInfo, name);
    return rules.length === 0 ? native : { ...native, rules };
  }
  const table = LEGACY_PROFILES[name];
  return rules.length === 0 ? table : { ...table, rules: [...table.rules, ...rules] };
}

/** What the docs say of each profile besides its table. */
export const PROFILE_DOCS = Object.fromEntries(
  Object.entries(MODULES).map(([name, m]) => [name, m.doc]),
) as Readonly<Record<ProfileName, ProfileDoc>>;

/** What a profile sets for jobmeter's own instruments besides their names: empty for the native profile. */
export interface ProfileSettings {
  /** Histogram buckets that differ from the catalog's (instrument -> bounds). */
  readonly buckets: Readonly<Record<string, readonly number[]>>;
  /** Closed sets of canonical attribute values (attribute -> values). */
  readonly vocabularies: Readonly<Record<string, readonly string[]>> | undefined;
  /** The snapshot cache policy the original has. */
  readonly snapshot: TableProfile['snapshot'];
  /**
   * Instrument -> the attributes the profile's rules read (their labels'): the rest never reach its
   * series (a rule sums over them), so a View may drop them. Only the instruments it has rules for.
   */
  readonly attributes: Readonly<Record<string, readonly string[]>>;
  /**
   * The semantic convention whose instruments are recorded in place of the canonical ones it
   * names (domain/convention.ts); the process metrics then follow the conventions too.
   */
  readonly convention: Convention | undefined;
}

/** The buckets, vocabularies, snapshot policy and convention of profile `name`. */
export function profileSettings(name: ProfileName): ProfileSettings {
  if (isNativeProfileName(name))
    return {
      buckets: {},
      vocabularies: undefined,
      snapshot: undefined,
      attributes: {},
      convention: name === 'semconv' ? semconv.semconvConvention : undefined,
    };
  const p = LEGACY_PROFILES[name];
  const attributes: Record<string, string[]> = {};
  for (const rule of p.rules) {
    const read = (attributes[rule.instrument] ??= []);
    for (const [attribute] of rule.labels ?? [])
      if (!read.includes(attribute)) read.push(attribute);
  }
  return {
    buckets: p.buckets ?? {},
    vocabularies: p.vocabularies,
    snapshot: p.snapshot,
    attributes,
    convention: undefined,
  };
}
