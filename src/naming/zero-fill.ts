/**
 * A legacy table's zero-filled families (FamilyRule `emitZero`, `zeroFill`): emitted even when
 * nothing was recorded yet, that is their point. Their vocabulary comes first, in order, so the
 * output reads like the original's.
 */
import type { ServedTotals } from '../series/carry.ts';
import { escapeLabelValue } from '../exposition/escape.ts';
import { isAscii } from '../exposition/samples.ts';
import type { ExpositionExemplar } from '../exposition/types.ts';
import { addNumber, indexOf, ownValues, type FamilyBuilder } from './family-builder.ts';
import type { FamilyRule } from './types.ts';

/**
 * Zero-fills the families whose rules say so, pass after pass of one namer. A zero-filled counter
 * series is served on every scrape, so Prometheus reads it as one series, which must never go
 * down: an ingested source that expires stays in it (the store's SourceTotals, applied while the
 * pass emits), and when any other source goes away it keeps the last value it was served rather
 * than 0, its sources' values counting on from there (the store's {@link ServedTotals}, per family
 * and label string; bounded by the rules' vocabularies). Gauges fill with 0, a level.
 */
export class ZeroFill {
  readonly #rules: readonly FamilyRule[];
  readonly #constLabels: string;
  readonly #totals: ServedTotals;
  /** When a zero-filled series with no source yet started: when this namer did. */
  readonly #born = Date.now();
  /** The label strings each family is filled with. */
  readonly #filled = new Map<string, Set<string>>();

  /**
   * `rules`: the table's; `constLabels` end every label string, as the rules' compiled ones;
   * `totals`: the store's memory of what its counters served.
   */
  constructor(rules: readonly FamilyRule[], constLabels: string, totals: ServedTotals) {
    this.#rules = rules;
    this.#constLabels = constLabels;
    this.#totals = totals;
    for (const rule of rules) {
      let set = this.#filled.get(rule.name);
      if (set === undefined) this.#filled.set(rule.name, (set = new Set()));
      if (rule.emitZero === true) set.add(constLabels);
      for (const [label, words] of Object.entries(rule.zeroFill ?? {}))
        for (const word of words) set.add(this.#labelsOf(label, word));
    }
  }

  /** Whether `family` is filled with the series `labels` (served even with no source). */
  fills(family: string, labels: string): boolean {
    return this.#filled.get(family)?.has(labels) === true;
  }

  /** The label string of the filled series `label="word"`. */
  #labelsOf(label: string, word: string): string {
    const l = label + '="' + escapeLabelValue(word) + '"';
    return this.#constLabels === '' ? l : l + ',' + this.#constLabels;
  }

  /**
   * Fills this pass's families. Each rule's family is in `builders`, seeded by the pass with an
   * index (the table's families merge), which the fill keeps up to date.
   */
  fill(builders: Map<string, FamilyBuilder>): void {
    const totals = this.#totals;
    const born = this.#born;
    const constLabels = this.#constLabels;
    for (const rule of this.#rules) {
      const builder = builders.get(rule.name)!;
      // Zero-filling is for counters and gauges: a histogram has no single value to zero.
      if (builder.type === 'histogram') continue;
      const counter = builder.type === 'counter';
      /** The value to serve for series `l`, whose source has `current` (undefined: none now). */
      const served = (l: string, current: number | undefined): number =>
        counter ? totals.serve(rule.name + '\0' + l, current) : (current ?? 0);
      // A zero-filled counter counts on from what it last served, across its sources: it started
      // when this namer did.
      if (rule.emitZero && builder.labels.length === 0)
        addNumber(builder, constLabels, served(constLabels, undefined), born);
      else if (
        rule.emitZero &&
        counter &&
        builder.labels.length === 1 &&
        builder.labels[0] === constLabels
      ) {
        const values = ownValues(builder);
        values[0] = served(constLabels, values[0]);
        if (builder.created !== undefined) builder.created[0] = born;
      }
      if (builder.ascii && !isAscii(constLabels)) builder.ascii = false;
      if (rule.zeroFill === undefined) continue;
      for (const [label, words] of Object.entries(rule.zeroFill)) {
        const labels: string[] = [];
        const values: number[] = [];
        const created: number[] = [];
        // A counter's exemplars follow its series to their new positions.
        const exemplars: (ExpositionExemplar | undefined)[] = [];
        const had = builder.exemplars;
        const taken = new Set<number>();
        for (const word of words) {
          const l = this.#labelsOf(label, word);
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
}
