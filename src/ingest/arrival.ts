/**
 * The per-request context: where and when points arrive. Made once per scope of a request, it
 * carries what every point of that scope is ingested against — the sender's resource and scope,
 * the clocks' readings and the point times they accept, the request's report — so each step a point
 * goes through takes it whole.
 */
import type { IngestReport, Refusal } from './ingest-report.ts';
import { cutString } from '../domain/bounded-attributes.ts';
import { compactKey, MAX_SCOPE_LENGTH } from './input-bounds.ts';
import type { Scope } from '../series/streams.ts';

/** The point times accepted at one arrival, in Unix nanoseconds, and the words for a refusal (stream-rules.ts `timeWindow`). */
export interface TimeWindow {
  /** jobmeter's clock: a refused time's offset is taken from it. */
  readonly now: bigint;
  readonly earliest: bigint;
  readonly latest: bigint;
  readonly tooOld: Refusal;
}

export interface Arrival {
  readonly report: IngestReport;
  /** The point clock (series/clock.ts `pointMillis`, Unix ms) when the request, or its part, arrived: a new series' start. */
  readonly stamp: number;
  /** The monotonic clock then (series/clock.ts): a stream's last update, its expiry's start. */
  readonly monotonic: number;
  /** The point times accepted then, judged against the wall clock (stream-rules.ts `timeWindow`). */
  readonly window: TimeWindow;
  readonly scopeKey: string;
  /** The scope as it is kept: name and version cut to length. */
  readonly scope: Scope;
  /** The resource and scope part of its streams' group keys (series-registry.ts). */
  readonly origin: string;
}

/**
 * The context of the points of `scope` sent under the resource keyed `resourceKey` (a bounded
 * identity key: resources are merged, they only tell source series apart).
 */
export function arrival(
  report: IngestReport,
  stamp: number,
  monotonic: number,
  window: TimeWindow,
  resourceKey: string,
  scope: Scope,
): Arrival {
  const scopeKey = compactKey(scope.name + '\0' + scope.version);
  return {
    report,
    stamp,
    monotonic,
    window,
    scopeKey,
    scope: {
      name: cutString(scope.name, MAX_SCOPE_LENGTH),
      version: cutString(scope.version, MAX_SCOPE_LENGTH),
    },
    origin: '\0' + resourceKey + '\0' + scopeKey + '\0',
  };
}
