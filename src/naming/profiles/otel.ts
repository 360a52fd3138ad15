import type { NativeProfile } from '../types.ts';

/** The native profile: OpenTelemetry names rendered by the OTel ↔ Prometheus compatibility rules. */
export function otelProfile(scopeInfo: boolean): NativeProfile {
  return { kind: 'native', name: 'otel', format: 'negotiate', scopeInfo };
}
