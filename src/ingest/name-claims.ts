/**
 * The names an ingested instrument takes on the pull endpoint. Served side by side, two families
 * under one name break the scrape, so a new instrument whose names another one holds — or that
 * jobmeter or Prometheus serve themselves — is refused (`name_clash`).
 *
 * What must stay true: an instrument's names are released with it, so the claims follow the live
 * instruments and shrink when they expire.
 */
import type { ExposedKind } from '../domain/types.ts';

/** The names an instrument takes on the pull endpoint (the native profile's `nativeClaimedNames`). */
export type ExposedNames = (name: string, unit: string, kind: ExposedKind) => readonly string[];

/**
 * The series Prometheus writes itself for every scrape, under the target's `job` and `instance`
 * (the last three with its extra-scrape-metrics feature). Served by jobmeter, a family of one of
 * these names takes their place — an unlabelled sample is stored as Prometheus' own, so a sender
 * could set the target's `up` to 0 — or answers every `up == 0` alert; so, on the native pull
 * endpoint, they are held as reserved names as jobmeter's own are.
 */
export const PROMETHEUS_SCRAPE_SERIES: ReadonlyMap<string, string> = new Map(
  [
    'up',
    'scrape_duration_seconds',
    'scrape_samples_scraped',
    'scrape_samples_post_metric_relabeling',
    'scrape_series_added',
    'scrape_timeout_seconds',
    'scrape_sample_limit',
    'scrape_body_size_bytes',
  ].map((n) => [n, "Prometheus's own per-scrape series"]),
);

export class NameClaims {
  /** Names served by jobmeter or Prometheus, each with its owner: an instrument name or a description. */
  readonly #reserved: ReadonlyMap<string, string>;
  /** Exposed names held, by the instrument holding them. */
  readonly #claims = new Map<string, string>();

  constructor(reservedNames: ReadonlyMap<string, string> | undefined) {
    this.#reserved = new Map([...PROMETHEUS_SCRAPE_SERIES, ...(reservedNames ?? [])]);
  }

  /** The first of `names` held by someone other than `name`, with its holder; undefined when all are free. */
  clash(
    name: string,
    names: readonly string[],
  ): { readonly name: string; readonly owner: string } | undefined {
    for (const n of names) {
      const owner = this.#reserved.get(n) ?? this.#claims.get(n);
      if (owner !== undefined && owner !== name) return { name: n, owner };
    }
    return undefined;
  }

  claim(names: readonly string[], owner: string): void {
    for (const n of names) this.#claims.set(n, owner);
  }

  release(names: readonly string[]): void {
    for (const n of names) this.#claims.delete(n);
  }
}
