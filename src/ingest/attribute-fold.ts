/**
 * How a sender's attributes become an output series' attributes. Canonical instruments (the
 * catalog's names) have them bounded exactly as an embedded host's views bound them
 * (`createBoundedAttributesProcessor`: undeclared keys dropped, values folded into `other`), and
 * their closed sets refuse a point outside them as the host drops the record; other instruments
 * keep every attribute, cut to length. What is dropped is said to the sender as a warning.
 */
import type { AnyValue, Attributes } from '@opentelemetry/api';
import {
  createBoundedAttributesProcessor,
  cutString,
  MAX_VALUE_LENGTH,
  toLabelString,
} from '../domain/bounded-attributes.ts';
import type { InstrumentSpec } from '../domain/types.ts';
import { dropOutsideCheck, vocabularyCheck, type VocabularyCheck } from '../domain/vocabulary.ts';
import type { IngestReport } from './ingest-report.ts';
import {
  limitAttributes,
  MAX_ATTRIBUTE_KEY_LENGTH,
  MAX_ATTRIBUTES,
  type DroppedAttributes,
} from './input-bounds.ts';
import { setAttribute } from '../common/set-attribute.ts';
import type { Instrument } from './instrument.ts';

/** The fold of an instrument: its spec's bounds when it is canonical, else {@link plainFold}. */
export function foldFor(spec: InstrumentSpec | undefined): (attributes: Attributes) => Attributes {
  if (spec === undefined) return plainFold;
  const processor = createBoundedAttributesProcessor(spec.attributes);
  return (attributes) => processor.process(attributes);
}

/** The closed sets a canonical instrument's points must keep to: the profile's over its attributes, and its own that drop. */
export function closedCheck(
  spec: InstrumentSpec,
  vocabularies: Readonly<Record<string, readonly string[]>> | undefined,
): VocabularyCheck | undefined {
  const keys = new Set(spec.attributes.map((a) => a.key));
  const profile =
    vocabularies === undefined
      ? undefined
      : vocabularyCheck(
          Object.fromEntries(Object.entries(vocabularies).filter(([k]) => keys.has(k))),
        );
  const own = dropOutsideCheck(spec.attributes);
  if (profile === undefined || own === undefined) return profile ?? own;
  return (attributes) => profile(attributes) ?? own(attributes);
}

/** The attributes of the output series a point with `attributes` feeds; what is dropped is warned of in `report`. */
export function seriesAttributes(
  instrument: Instrument,
  attributes: Attributes,
  report: IngestReport,
): Attributes {
  const dropped: DroppedAttributes = { emptyKeys: 0, longKeys: 0, pastCount: 0 };
  const limited = limitAttributes(attributes, dropped);
  if (dropped.emptyKeys > 0)
    report.warn(instrument.name, 'an attribute with an empty key was dropped');
  if (dropped.longKeys > 0)
    report.warn(
      instrument.name,
      `${dropped.longKeys} attribute(s) with a key longer than ${MAX_ATTRIBUTE_KEY_LENGTH} characters dropped`,
    );
  if (dropped.pastCount > 0)
    report.warn(
      instrument.name,
      `${dropped.pastCount} attribute(s) past the first ${MAX_ATTRIBUTES} dropped`,
    );
  if (instrument.spec !== undefined) {
    for (const k of Object.keys(limited)) {
      if (!instrument.spec.attributes.some((a) => a.key === k))
        report.warn(
          instrument.name,
          `attribute "${cutString(k, 64)}" is not declared and was dropped`,
        );
    }
  }
  return instrument.fold(limited);
}

/** Non-canonical attributes: all kept, in key order, long strings cut as the bounded processor cuts them. */
function plainFold(attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const key of Object.keys(attributes).sort()) {
    const v: AnyValue = attributes[key];
    if (v === undefined || v === null) continue;
    // A long array becomes its cut JSON text, as the naming stage would render it anyway.
    setAttribute(
      out,
      key,
      typeof v === 'string'
        ? sharedValue(cutString(v, MAX_VALUE_LENGTH))
        : Array.isArray(v) && JSON.stringify(v).length > MAX_VALUE_LENGTH
          ? toLabelString(v)
          : v,
    );
  }
  return out;
}

/** Values {@link sharedValue} keeps at most, and the longest it keeps. */
const SHARED_VALUES = 8_192;
const SHARED_VALUE_LENGTH = 128;
const shared = new Map<string, string>();

/**
 * `value`, as the string already held for an equal value when there is one. A point's attributes
 * are rebuilt from their JSON (packed-chunk.ts), a fresh string per value, and an output series
 * keeps them: the same route or pod sent by many senders, or under many instruments, would be one
 * string per series. Bounded (at most {@link SHARED_VALUES} values of up to
 * {@link SHARED_VALUE_LENGTH} characters, emptied when full), so values that never repeat cost
 * a lookup when their series is made and nothing after; applied when a series is made, never per
 * point.
 */
function sharedValue(value: string): string {
  if (value.length > SHARED_VALUE_LENGTH) return value;
  const held = shared.get(value);
  if (held !== undefined) return held;
  if (shared.size >= SHARED_VALUES) shared.clear();
  shared.set(value, value);
  return value;
}
