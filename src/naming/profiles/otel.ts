/**
 * The native profile, one module of data: its naming (OpenTelemetry names by the compatibility
 * rules: nothing to list) and what the docs say of it; docs/profiles.md is generated from both.
 */
import type { NativeProfile } from '../types.ts';
import type { ProfileDoc } from './profile-doc.ts';

/** The native profile: OpenTelemetry names rendered by the OTel <-> Prometheus compatibility rules. */
export function otelProfile(scopeInfo: boolean): NativeProfile {
  return { kind: 'native', name: 'otel', format: 'negotiate', scopeInfo };
}

/** What docs/profiles.md says of the profile besides its table (scripts/gen-profile-docs.ts). */
export const otelDoc: ProfileDoc = {
  original: 'OpenTelemetry (native)',
  about: [
    'The native profile: OpenTelemetry names rendered by the OTel \u2194 Prometheus compatibility rules.',
  ],
  promtool: [],
};
