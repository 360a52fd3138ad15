/**
 * The per-request context: where and when points arrive. Made once per scope of a request, it
 * carries what every point of that scope is ingested against — the sender's resource and scope,
 * the clock reading, the request's report — so each step a point goes through takes it whole.
 */
import type { Attributes } from '@opentelemetry/api';
import type { IngestReport } from './ingest-report.ts';
import { attributesKey, compactKey, cut, MAX_SCOPE_LENGTH } from './input-bounds.ts';
import type { Scope } from './series-state.ts';

export interface Arrival {
  readonly report: IngestReport;
  /** The clock (Unix milliseconds) when the request, or its part, arrived. */
  readonly now: number;
  readonly scopeKey: string;
  /** The scope as it is kept: name and version cut to length. */
  readonly scope: Scope;
  /** The resource and scope part of its stream keys. */
  readonly origin: string;
  /** The last stream key made, by instrument name and attributes object (see {@link streamKey}). */
  readonly lastKey: { instrument: string; attributes: Attributes | undefined; key: string };
}

/**
 * The context of the points of `scope` sent under the resource keyed `resourceKey` (a bounded
 * identity key: resources are merged, they only tell source series apart).
 */
export function arrival(report: IngestReport, now: number, resourceKey: string, scope: Scope): Arrival {
  const scopeKey = compactKey(scope.name + '\0' + scope.version);
  return {
    report,
    now,
    scopeKey,
    scope: { name: cut(scope.name, MAX_SCOPE_LENGTH), version: cut(scope.version, MAX_SCOPE_LENGTH) },
    origin: '\0' + resourceKey + '\0' + scopeKey + '\0',
    lastKey: { instrument: '', attributes: undefined, key: '' },
  };
}

/**
 * The key of the source series a point of `instrument` with `attributes` feeds. Consecutive points
 * that share their attributes object (a series' points; points without attributes from the
 * decoding thread, packed-points.ts) reuse the key made for the first: building it anew would be
 * garbage for every point of a million-point request. Decoded attributes are never changed.
 */
export function streamKey(instrument: string, attributes: Attributes, at: Arrival): string {
  const last = at.lastKey;
  if (last.attributes === attributes && last.instrument === instrument) return last.key;
  last.instrument = instrument;
  last.attributes = attributes;
  last.key = instrument + at.origin + attributesKey(attributes);
  return last.key;
}
