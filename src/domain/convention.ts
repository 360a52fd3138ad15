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
  /** Canonical word -> the convention's; words not listed pass unchanged. */
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
  /**
   * Recorded beside the canonical instrument, which keeps its name (a queue wait is also the
   * pending state's duration). @default false: in its place
   */
  readonly alongside?: boolean;
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

/**
 * The canonical instruments a convention records under its own instruments only, or not at all;
 * none without a convention.
 */
export function replacedBy(convention: Convention | undefined): ReadonlySet<string> {
  return new Set([
    ...(convention?.instruments ?? []).filter((i) => i.alongside !== true).map((i) => i.instrument),
    ...(convention?.omitted ?? []).map((o) => o.instrument),
  ]);
}

/**
 * The spec of a convention's instrument: each attribute bounded by the convention's closed set or
 * cap where the table gives one, else as the canonical attribute it is read from (a cap stays a
 * cap, a closed set becomes its words mapped; a constant is a set of one). Its buckets and
 * exemplars are its sources' ({@link mergedSpec}).
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
  };
}

/**
 * The one spec of the convention's instrument `name`, which several canonical instruments may feed
 * (a run's duration and its queue wait, one state each): each attribute as the first entry that
 * has it bounds it, the buckets every source's (sorted, once each), exemplars if any source keeps them.
 */
function mergedSpec(
  convention: Convention,
  canonical: readonly InstrumentSpec[],
  name: string,
): InstrumentSpec {
  const parts = convention.instruments
    .filter((e) => e.name === name)
    .flatMap((e) => {
      const source = canonical.find((s) => s.name === e.instrument);
      return source === undefined ? [] : [{ source, spec: conventionSpec(e, source) }];
    });
  const [first] = parts;
  if (first === undefined) throw new Error(`convention instrument ${name}: no canonical source`);
  const attributes: AttributeSpec[] = [];
  for (const { spec } of parts)
    for (const a of spec.attributes)
      if (!attributes.some((b) => b.key === a.key)) attributes.push(a);
  const buckets = [...new Set(parts.flatMap(({ source }) => source.buckets ?? []))].sort(
    (a, b) => a - b,
  );
  return {
    ...first.spec,
    attributes,
    ...(buckets.length > 0 && { buckets }),
    ...(parts.some(({ source }) => source.exemplars === true) && { exemplars: true }),
  };
}

/**
 * `specs` as `convention` records them: each convention instrument where its first source was, a
 * canonical instrument it replaces left out (an omitted one too); the others unchanged.
 */
export function conventionCatalog(
  convention: Convention,
  specs: readonly InstrumentSpec[],
): InstrumentSpec[] {
  const replaced = replacedBy(convention);
  const placed = new Set<string>();
  return specs.flatMap((spec) => {
    const own = replaced.has(spec.name) ? [] : [spec];
    const names = convention.instruments
      .filter((e) => e.instrument === spec.name && !placed.has(e.name))
      .map((e) => e.name);
    for (const name of names) placed.add(name);
    return [...own, ...[...new Set(names)].map((name) => mergedSpec(convention, specs, name))];
  });
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
 * instruments `make` gives for the convention's specs (none for an omitted instrument; `canonical`,
 * the catalog, for a convention instrument several of its instruments feed), and whether the
 * canonical instrument is recorded too (`alongside`); `undefined` when the convention leaves the
 * instrument as it is.
 */
export function conventionRecords<H>(
  convention: Convention,
  canonical: readonly InstrumentSpec[],
  spec: InstrumentSpec,
  make: (spec: InstrumentSpec) => H,
): { readonly targets: ConventionRecord<H>[]; readonly alongside: boolean } | undefined {
  const entries = convention.instruments.filter((i) => i.instrument === spec.name);
  const replaced = replacedBy(convention).has(spec.name);
  if (entries.length === 0 && !replaced) return undefined;
  return {
    alongside: !replaced,
    targets: entries.map((entry) => ({
      handle: make(mergedSpec(convention, canonical, entry.name)),
      attributes: (attributes) => conventionAttributes(entry, attributes),
    })),
  };
}
