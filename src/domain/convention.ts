/**
 * A semantic convention's instruments in place of canonical ones. OpenTelemetry's conventions name
 * some of what jobmeter records (a run's duration as `cicd.pipeline.run.duration`) with instruments,
 * attributes and words of their own. A profile that follows one (naming/profiles/semconv.ts) gives
 * its table as data ({@link Convention}); the recorder then records each canonical record under the
 * convention's instruments instead ({@link conventionRecords}), bounded by specs made from the
 * canonical ones ({@link conventionCatalog}), so the OTel instruments themselves carry the
 * convention's names: on any reader, any exporter, and the push.
 */
import type { Attributes } from '@opentelemetry/api';
import type { AttributeSpec, InstrumentKind, InstrumentSpec } from './types.ts';

/**
 * One attribute of a convention's instrument: read from a canonical attribute (`from`, its words
 * mapped by `values`) or the same `value` on every record.
 */
export interface ConventionAttribute {
  readonly key: string;
  /** The canonical attribute it is read from. */
  readonly from?: string;
  /** The constant it carries (the convention's required attribute jobmeter has one value for). */
  readonly value?: string;
  /** Canonical word → the convention's; words not listed pass unchanged. */
  readonly values?: Readonly<Record<string, string>>;
  /** The canonical words it is set for (`error.type` on a failed run only); absent: every word. */
  readonly only?: readonly string[];
  /**
   * A record whose canonical word is outside `only` is not recorded on this instrument at all
   * (`cicd.pipeline.run.errors` counts failed runs only). Otherwise the attribute is left off.
   */
  readonly required?: boolean;
  /**
   * The convention's closed set of values (its well-known ones), which bounds the attribute: what
   * a sender pushing the convention's instrument to the ingest may say too (`pending`, `skip`),
   * not only the words jobmeter's own records map to.
   */
  readonly words?: readonly string[];
  /** An attribute the convention leaves open (`error.type`): its first `cap` values are kept. */
  readonly cap?: number;
}

/** One instrument of a convention and the canonical instrument whose records it is made from. */
export interface ConventionInstrument {
  /** The canonical instrument (catalog.ts) whose records it takes. */
  readonly instrument: string;
  readonly name: string;
  readonly kind: InstrumentKind;
  readonly unit: string;
  readonly description: string;
  /** In the convention's order. Canonical attributes not read by one are not recorded. */
  readonly attributes: readonly ConventionAttribute[];
}

/** A canonical instrument a convention records nothing for, and what says the same instead. */
export interface OmittedInstrument {
  readonly instrument: string;
  readonly why: string;
}

/** A convention's table: plain data (JSON-safe), as a profile's naming is. */
export interface Convention {
  readonly instruments: readonly ConventionInstrument[];
  readonly omitted: readonly OmittedInstrument[];
}

/** The canonical instruments a convention records under its own instruments or not at all. */
export function replacedBy(convention: Convention): ReadonlySet<string> {
  return new Set([
    ...convention.instruments.map((i) => i.instrument),
    ...convention.omitted.map((o) => o.instrument),
  ]);
}

/**
 * The spec of a convention's instrument: each attribute bounded by the convention's closed set or
 * cap where the table gives one, else as the canonical attribute it is read from (a cap stays a
 * cap, a closed set becomes its words mapped; a constant is a set of one), with the canonical
 * instrument's buckets and exemplars.
 */
export function conventionSpec(
  entry: ConventionInstrument,
  canonical: InstrumentSpec,
): InstrumentSpec {
  const attributes: AttributeSpec[] = entry.attributes.map((a) => {
    if (a.words !== undefined) return { key: a.key, values: a.words };
    if (a.cap !== undefined) return { key: a.key, cap: a.cap };
    if (a.from === undefined) return { key: a.key, values: [a.value ?? ''] };
    const source = canonical.attributes.find((s) => s.key === a.from);
    if (source?.values === undefined) return { key: a.key, cap: source?.cap ?? 1 };
    const words = source.values
      .filter((w) => a.only === undefined || a.only.includes(w))
      .map((w) => a.values?.[w] ?? w);
    return { key: a.key, values: [...new Set(words)] };
  });
  return {
    name: entry.name,
    kind: entry.kind,
    unit: entry.unit,
    description: entry.description,
    attributes,
    ...(canonical.buckets !== undefined && { buckets: canonical.buckets }),
    ...(canonical.exemplars === true && { exemplars: true }),
  };
}

/**
 * `specs` as `convention` records them: each canonical instrument it replaces swapped, in place, for
 * its convention's instruments (none for an omitted one); the others unchanged.
 */
export function conventionCatalog(
  convention: Convention,
  specs: readonly InstrumentSpec[],
): InstrumentSpec[] {
  const replaced = replacedBy(convention);
  return specs.flatMap((spec) =>
    replaced.has(spec.name)
      ? convention.instruments
          .filter((i) => i.instrument === spec.name)
          .map((i) => conventionSpec(i, spec))
      : [spec],
  );
}

/**
 * The attributes of a canonical record on `entry`'s instrument; `undefined`: the record is not one
 * it takes (a required attribute has no word for it).
 */
export function conventionAttributes(
  entry: ConventionInstrument,
  canonical: Attributes | undefined,
): Attributes | undefined {
  const out: Attributes = {};
  for (const a of entry.attributes) {
    if (a.from === undefined) {
      out[a.key] = a.value;
      continue;
    }
    const raw = canonical?.[a.from];
    if (raw === undefined || raw === null) continue;
    const word = String(raw);
    if (a.only !== undefined && !a.only.includes(word)) {
      if (a.required === true) return undefined;
      continue;
    }
    out[a.key] = a.values?.[word] ?? word;
  }
  return out;
}

/** A convention's instruments of one canonical instrument, with what each makes of its records. */
export interface ConventionRecord<H> {
  readonly handle: H;
  readonly attributes: (canonical: Attributes | undefined) => Attributes | undefined;
}

/**
 * What the recorder records a canonical instrument's records on under `convention`: the
 * instruments `make` gives for the convention's specs (none for an omitted instrument), or
 * `undefined` when the convention leaves the instrument as it is.
 */
export function conventionRecords<H>(
  convention: Convention,
  spec: InstrumentSpec,
  make: (spec: InstrumentSpec) => H,
): ConventionRecord<H>[] | undefined {
  if (!replacedBy(convention).has(spec.name)) return undefined;
  return convention.instruments
    .filter((i) => i.instrument === spec.name)
    .map((entry) => ({
      handle: make(conventionSpec(entry, spec)),
      attributes: (canonical) => conventionAttributes(entry, canonical),
    }));
}
