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
import { labelsText } from './attribute-labels.ts';
import { addNumber, ownValues, type Feed, type FamilyBuilder } from './family-builder.ts';
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
 * Zero-fills the families whose rules say so, pass after pass of one namer: {@link seed} puts each
 * filled series in its family before anything is emitted (so its words come first, in order, and
 * what is emitted for them merges in), {@link fill} gives each its value once the pass has emitted.
 * A zero-filled counter series is served on every scrape, so Prometheus reads it as one series,
 * which must never go down: an ingested source that expires stays in it (the store's SourceTotals,
 * applied while the pass emits), and when any other source goes away it keeps the last value it
 * was served rather than 0, its sources' values counting on from there (the store's
 * {@link ServedTotals}, per family and label string; bounded by the rules' vocabularies). Gauges
 * fill with 0, a level.
 */
export class ZeroFill {
  readonly #totals: ServedTotals;
  /** When a zero-filled series with no source yet started: when this namer did. */
  readonly #born = Date.now();
  /**
   * Per family: its filled series as the push's feed (a filled series' attributes are already its
   * label and word), their label strings in order.
   */
  readonly #filled = new Map<
    string,
    { column: { strings: string[]; keys: Attributes[] } } & Feed
  >();

  /**
   * `rules`: the table's; `constLabels` (label name → value) end every series' labels, as the
   * rules' compiled ones; `totals`: the store's memory of what its counters served.
   */
  constructor(rules: readonly FamilyRule[], constLabels: Attributes, totals: ServedTotals) {
    this.#totals = totals;
    for (const { rule, label } of zeroSeries(rules)) {
      let feed = this.#filled.get(rule.name);
      if (feed === undefined)
        this.#filled.set(
          rule.name,
          (feed = { column: { strings: [], keys: [] }, named: (a: Attributes) => a }),
        );
      const key = label === undefined ? constLabels : { [label.name]: label.word, ...constLabels };
      const labels = labelsText(key, false);
      if (feed.column.strings.includes(labels)) continue;
      feed.column.strings.push(labels);
      feed.column.keys.push(key);
    }
  }

  /**
   * Puts the filled series in this pass's families, none emitted yet (each rule's family is in
   * `builders`, seeded by the pass with an index: the table's families merge). A series' value is
   * -0 until something is added to it: -0 plus any number, 0 included, is that number, so
   * {@link fill} tells a series with no source from one whose sources sum to 0.
   */
  seed(builders: Map<string, FamilyBuilder>): void {
    for (const [family, feed] of this.#filled) {
      const builder = builders.get(family);
      if (builder === undefined) continue;
      builder.feeds.push(feed);
      for (const labels of feed.column.strings) {
        addNumber(builder, labels, -0, this.#born);
        if (builder.ascii && !isAscii(labels)) builder.ascii = false;
      }
    }
  }

  /** Gives the filled series of this pass's families their values, once everything is emitted. */
  fill(builders: Map<string, FamilyBuilder>): void {
    for (const [family, feed] of this.#filled) {
      const builder = builders.get(family);
      if (builder === undefined) continue;
      const values = ownValues(builder);
      const counter = builder.type === 'counter';
      for (const labels of feed.column.strings) {
        const at = builder.index!.get(labels)!;
        const current = Object.is(values[at], -0) ? undefined : values[at]!;
        values[at] = counter ? this.#totals.serve(family + '\0' + labels, current) : (current ?? 0);
        // A zero-filled counter counts on from what it last served, across its sources: it
        // started when this namer did.
        if (builder.created !== undefined) builder.created[at] = this.#born;
      }
    }
  }
}
