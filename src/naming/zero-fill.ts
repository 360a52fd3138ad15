/**
 * A legacy table's zero-filled series (FamilyRule `emitZero`, `zeroFill`): emitted even when
 * nothing was recorded yet, that is their point. {@link zeroSeries} says which they are, once:
 * the pull writes them as label strings here, the canonical push as points of the canonical
 * instruments (zero-fill-push.ts). Their vocabulary comes first, in order, so the output reads
 * like the original's.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ServedTotals } from '../series/carry.ts';
import { isAscii } from '../exposition/samples.ts';
import type { ExpositionExemplar } from '../exposition/types.ts';
import { labelsText } from './attribute-labels.ts';
import { addNumber, indexOf, ownValues, type Feed, type FamilyBuilder } from './family-builder.ts';
import type { FamilyRule } from './types.ts';

/** One series a table serves as 0 before anything is recorded: its rule, and its one label's word (none: `emitZero`'s label-less series). */
export interface ZeroSeries {
  readonly rule: FamilyRule;
  readonly label?: { readonly name: string; readonly word: string };
}

/**
 * The table's zero series, rule by rule: the label-less one (`emitZero`), then each `zeroFill`
 * word in order. A histogram has none: it has no single value to zero.
 */
export function zeroSeries(rules: readonly FamilyRule[]): ZeroSeries[] {
  const out: ZeroSeries[] = [];
  for (const rule of rules) {
    if (rule.type === 'histogram') continue;
    if (rule.emitZero === true) out.push({ rule });
    for (const [name, words] of Object.entries(rule.zeroFill ?? {}))
      for (const word of words) out.push({ rule, label: { name, word } });
  }
  return out;
}

/**
 * Zero-fills the families whose rules say so, pass after pass of one namer. A zero-filled counter
 * series is served on every scrape, so Prometheus reads it as one series, which must never go
 * down: an ingested source that expires stays in it (the store's SourceTotals, applied while the
 * pass emits), and when any other source goes away it keeps the last value it was served rather
 * than 0, its sources' values counting on from there (the store's {@link ServedTotals}, per family
 * and label string; bounded by the rules' vocabularies). Gauges fill with 0, a level.
 */
export class ZeroFill {
  readonly #constLabels: string;
  readonly #totals: ServedTotals;
  /** When a zero-filled series with no source yet started: when this namer did. */
  readonly #born = Date.now();
  /**
   * Per family: whether it has the label-less series, its words' label strings in order, and every
   * zero series as the push's feed (a filled series' attributes are already its label and word).
   */
  readonly #filled = new Map<
    string,
    {
      zero: boolean;
      readonly words: string[];
      readonly feed: { column: { strings: string[]; keys: Attributes[] }; n: number } & Feed;
    }
  >();

  /**
   * `rules`: the table's; `constLabels` (label name → value) end every series' labels, as the
   * rules' compiled ones;
   * `totals`: the store's memory of what its counters served.
   */
  constructor(rules: readonly FamilyRule[], constLabels: Attributes, totals: ServedTotals) {
    this.#constLabels = labelsText(constLabels, false);
    this.#totals = totals;
    for (const { rule, label } of zeroSeries(rules)) {
      let filled = this.#filled.get(rule.name);
      if (filled === undefined) {
        const feed = { column: { strings: [], keys: [] }, n: 0, named: (a: Attributes) => a };
        this.#filled.set(rule.name, (filled = { zero: false, words: [], feed }));
      }
      const key = label === undefined ? constLabels : { [label.name]: label.word, ...constLabels };
      const labels = labelsText(key, false);
      const { column } = filled.feed;
      if (column.strings.includes(labels)) continue;
      if (label === undefined) filled.zero = true;
      else filled.words.push(labels);
      column.strings.push(labels);
      column.keys.push(key);
      filled.feed.n++;
    }
  }

  /** Whether `family` is filled with the series `labels` (served even with no source). */
  fills(family: string, labels: string): boolean {
    return this.#filled.get(family)?.feed.column.strings.includes(labels) === true;
  }

  /**
   * Fills this pass's families. Each rule's family is in `builders`, seeded by the pass with an
   * index (the table's families merge), which the fill keeps up to date.
   */
  fill(builders: Map<string, FamilyBuilder>): void {
    const totals = this.#totals;
    const born = this.#born;
    const constLabels = this.#constLabels;
    for (const [family, { zero, words, feed }] of this.#filled) {
      const builder = builders.get(family)!;
      builder.feeds.push(feed);
      const counter = builder.type === 'counter';
      /** The value to serve for series `l`, whose source has `current` (undefined: none now). */
      const served = (l: string, current: number | undefined): number =>
        counter ? totals.serve(family + '\0' + l, current) : (current ?? 0);
      // A zero-filled counter counts on from what it last served, across its sources: it started
      // when this namer did.
      if (zero && builder.labels.length === 0)
        addNumber(builder, constLabels, served(constLabels, undefined), born);
      else if (
        zero &&
        counter &&
        builder.labels.length === 1 &&
        builder.labels[0] === constLabels
      ) {
        const values = ownValues(builder);
        values[0] = served(constLabels, values[0]);
        if (builder.created !== undefined) builder.created[0] = born;
      }
      if (builder.ascii && !isAscii(constLabels)) builder.ascii = false;
      if (words.length === 0) continue;
      const labels: string[] = [];
      const values: number[] = [];
      const created: number[] = [];
      // A counter's exemplars follow its series to their new positions.
      const exemplars: (ExpositionExemplar | undefined)[] = [];
      const had = builder.exemplars;
      const taken = new Set<number>();
      for (const l of words) {
        if (builder.ascii && !isAscii(l)) builder.ascii = false;
        const at = builder.index!.get(l);
        labels.push(l);
        created.push(born);
        exemplars.push(at === undefined ? undefined : had?.[at]);
        if (at === undefined) values.push(served(l, undefined));
        else {
          values.push(served(l, builder.values[at]));
          taken.add(at);
        }
      }
      for (let i = 0; i < builder.labels.length; i++) {
        if (taken.has(i)) continue;
        labels.push(builder.labels[i]!);
        values.push(builder.values[i]!);
        created.push(builder.created?.[i] ?? born);
        exemplars.push(had?.[i]);
      }
      const own = ownValues(builder);
      builder.labels.length = 0;
      own.length = 0;
      if (builder.created !== undefined) builder.created.length = 0;
      for (let i = 0; i < labels.length; i++) {
        builder.labels.push(labels[i]!);
        own.push(values[i]!);
        builder.created?.push(created[i]!);
      }
      if (had !== undefined) builder.exemplars = exemplars;
      builder.index = indexOf(builder);
    }
  }
}
