/**
 * The native profile, one module of data: its naming (OpenTelemetry names by the compatibility
 * rules: nothing to list) and what the docs say of it; docs/profiles.md is generated from both.
 */
import type { NativeProfile } from '../types.ts';
import type { ProfileDoc } from './profile-doc.ts';

/**
 * The native profile: OpenTelemetry names rendered by the OTel <-> Prometheus compatibility rules;
 * `semconv` names its instruments by the same rules (profiles/semconv.ts).
 */
export function otelProfile(
  scopeInfo: boolean,
  name: NativeProfile['name'] = 'otel',
): NativeProfile {
  return { kind: 'native', name, format: 'negotiate', scopeInfo };
}

/** What docs/profiles.md says of the profile besides its table (scripts/gen-profile-docs.ts). */
export const doc: ProfileDoc = {
  original: 'OpenTelemetry (native)',
  about: [
    'The native profile: OpenTelemetry names rendered by the OTel \u2194 Prometheus compatibility rules.',
  ],
  promtool: [],
};
