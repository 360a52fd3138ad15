/**
 * The series budget of one instrument jobmeter has no spec for (a host's own, made through
 * jobmeter's provider or the global API): at most `limit - 1` distinct attribute sets for the
 * instrument's life, then every new set records into the overflow series (`otel.metric.overflow`),
 * so the total, overflow included, is `limit` -- the SDK's own count.
 *
 * Why here and not the SDK's cardinality limit alone: the SDK counts attribute sets per collection
 * interval, so behind a pull reader (a collection per scrape) a `job_id` attribute still grows the
 * cumulative state by up to `limit` sets a scrape, for ever. Counted over the instrument's life,
 * memory stays flat whatever the churn.
 *
 * Sets are counted as the host's View leaves them (its attribute allow-list applied first), so a
 * View that drops `job_id` also keeps `job_id` values from using up the budget.
 */
import type { Attributes } from '@opentelemetry/api';
import { createBoundedAttributesProcessor, maxAttributeSets } from './bounded-attributes.ts';
import { attributeSetKey } from '../series/attribute-key.ts';
import { OVERFLOW_ATTRIBUTES } from '../series/positions.ts';
import type { AttributeSpec } from './types.ts';

export class AttributeSetCap {
  readonly #admitted = new Set<string>();
  readonly #max: number;
  readonly #process: (attributes: Attributes) => Attributes;

  /**
   * @param limit series the instrument may hold, the overflow series included (>= 1).
   * @param process what the instrument's View does to attributes before aggregation.
   */
  constructor(limit: number, process: (attributes: Attributes) => Attributes = (a) => a) {
    this.#max = Math.max(0, limit - 1);
    this.#process = process;
  }

  /** `attributes` when its set has a series (or may have one), else the overflow attributes. */
  admit(attributes: Attributes | undefined): Attributes | undefined {
    const key = attributeSetKey(this.#process(attributes ?? {}));
    if (this.#admitted.has(key)) return attributes;
    if (this.#admitted.size >= this.#max) return OVERFLOW_ATTRIBUTES;
    this.#admitted.add(key);
    return attributes;
  }
}

/**
 * The record-time bounds of an instrument jobmeter has a spec for, for an engine that does not fold
 * by itself (the SDK): the spec's allow-list and folds, then, past the spec's ceiling, the overflow
 * set -- what a storage does on its own.
 */
export function specAdmit(
  attributes: readonly AttributeSpec[],
): (attributes: Attributes | undefined) => Attributes | undefined {
  const processor = createBoundedAttributesProcessor(attributes);
  const cap = new AttributeSetCap(maxAttributeSets(attributes) + 1);
  return (a) => cap.admit(processor.process(a ?? {}));
}
