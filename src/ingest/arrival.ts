/**
 * The per-request context: where and when points arrive. Made once per scope of a request, it
 * carries what every point of that scope is ingested against — the sender's resource and scope,
 * the clock reading, the request's report — so each step a point goes through takes it whole.
 */
import type { Attributes } from '@opentelemetry/api';
import type { IngestReport } from './ingest-report.ts';
import { attributesKey } from './input-bounds.ts';
import type { Scope } from './series-state.ts';

export interface Arrival {
  readonly report: IngestReport;
  /** The clock (Unix milliseconds) when the request, or its part, arrived. */
  readonly now: number;
  /** The sender's resource, as a bounded identity key: resources are merged, not kept. */
  readonly resourceKey: string;
  readonly scopeKey: string;
  /** The scope as it is kept: name and version cut to length. */
  readonly scope: Scope;
}

/** The key of the source series a point of `instrument` with `attributes` feeds. */
export function streamKey(instrument: string, attributes: Attributes, at: Arrival): string {
  return instrument + '\0' + at.resourceKey + '\0' + at.scopeKey + '\0' + attributesKey(attributes);
}
