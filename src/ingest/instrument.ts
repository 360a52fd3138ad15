/**
 * An instrument of the ingest: what the store keeps of it (series/streams.ts `InstrumentSeries`:
 * its output series by scope, its counts) and the ingest's policy for it -- the canonical spec it
 * follows, the attribute fold and closed vocabulary its points go through, its cap of streams, its
 * charge against the memory budget and the exposed names it claims.
 */
import type { Attributes } from '@opentelemetry/api';
import type { InstrumentSpec } from '../domain/types.ts';
import type { VocabularyCheck } from '../domain/vocabulary.ts';
import type { InstrumentSeries } from '../series/streams.ts';

/**
 * An instrument the ingest holds. Each of its scopes is charged (memory-estimate.ts `scopeBytes`)
 * with its first series and given back with its last.
 */
export interface Instrument extends InstrumentSeries {
  readonly spec: InstrumentSpec | undefined;
  readonly fold: (attributes: Attributes) => Attributes;
  /** Canonical instruments: the value of a point's attributes outside a closed set that drops. */
  readonly closed: VocabularyCheck | undefined;
  /** Source series it may hold. */
  readonly streamCap: number;
  /** Its charge against the memory budget. */
  readonly bytes: number;
  /** The exposed names it holds (name-claims.ts), released with it. */
  readonly names: readonly string[];
  /** Its dormant series (series-registry.ts): while it has one it stays held (its names claimed), serving nothing. */
  dormant: number;
}
