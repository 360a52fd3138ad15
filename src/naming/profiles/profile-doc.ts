/**
 * What a profile's module says of the profile besides its naming: the data docs/profiles.md is
 * generated from (scripts/gen-profile-docs.ts) with the naming table itself, and the promtool
 * findings test/naming/promtool-profiles.test.ts allows. Plain data (JSON-safe), as the naming is.
 */

/** Findings promtool 2.42 reports about one family's name, and why the name stays. */
export interface AllowedWarning {
  readonly metric: string;
  /** promtool's words after the metric name, e.g. `counter metrics should have "_total" suffix`. */
  readonly problems: readonly string[];
  readonly why: string;
}

export interface ProfileDoc {
  /** The original system, as the docs' tables name it. */
  readonly original: string;
  /**
   * What the original is and what the profile reproduces: the docs section's opening, as
   * markdown lines (a run of lines indented two spaces is a text block).
   */
  readonly about: readonly string[];
  /**
   * What `promtool check metrics` may say about the profile's demo render (text 0.0.4). Only the
   * original's own names may cause a finding; the native profile must be clean.
   */
  readonly promtool: readonly AllowedWarning[];
  /**
   * For a profile serving OpenMetrics by default: what the seed's own lint recipe (`curl … |
   * promtool check metrics`) prints on that body, which promtool 2.42 reads as text 0.0.4.
   */
  readonly openMetricsRecipe?: readonly string[];
}
