/**
 * The labels a legacy profile takes from the resource rather than from a data point's attributes,
 * each with the resource attribute it is read from. The pull renders such a label from jobmeter's
 * options; a Collector running `jobmeter collector-config` reads the attribute instead
 * (cli/collector-config.ts), so jobmeter's own push carries it, with the value the pull gives the
 * label (jobmeter.ts): both paths then serve the same series.
 */
import type { Profile } from './types.ts';

export interface ResourceLabel {
  /** The profile's label name (crewshipd's `hostname`). */
  readonly label: string;
  /** The OpenTelemetry resource attribute it comes from. */
  readonly attribute: string;
}

/** `profile`'s labels read from the resource: its `hostnameLabel`, from OpenTelemetry's `host.name`. */
export function resourceLabels(profile: Profile): readonly ResourceLabel[] {
  return profile.kind === 'table' && profile.hostnameLabel !== undefined
    ? [{ label: profile.hostnameLabel, attribute: 'host.name' }]
    : [];
}

/**
 * The resource attributes jobmeter's push carries for `profile`'s resource labels, with the values
 * its pull gives them (every such label is the hostname label, valued `hostname`).
 */
export function resourceAttributesFor(profile: Profile, hostname: string): Record<string, string> {
  return Object.fromEntries(resourceLabels(profile).map((r) => [r.attribute, hostname]));
}
