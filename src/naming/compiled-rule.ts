/**
 * What a rule compiler (native-rules.ts, table-rules.ts) makes for one instrument of one scope,
 * and the naming pass (to-families.ts) keeps and runs at every collection.
 */
import type { Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { RuleSources } from '../series/carry.ts';
import type { CollectedSeries, LabelColumn } from '../series/collection.ts';
import type { FamilyBuilder, FamilyHead } from './family-builder.ts';

export interface CompiledRule {
  readonly family: FamilyHead;
  /** Whether two points of this one instrument can land on the same label set (then they are summed). */
  readonly merges: boolean;
  /**
   * Whether the family's series carry their sources one by one (a legacy table's counter, which
   * merges series that come and go: series/carry.ts `RuleSources`).
   */
  readonly carries: boolean;
  /**
   * Appends one instrument's series to `out`, from its columns (a store's series set, or a
   * producer's points as columns, series/metric-columns.ts), with the label strings the columns
   * hold for this rule: nothing per series is made or kept here but a histogram's series object.
   * `sources`: where each series is carried as a source of its served series (a set whose series
   * expire, when the rule {@link carries}). Returns the label column it read.
   */
  emit(series: CollectedSeries, out: FamilyBuilder, sources?: RuleSources): LabelColumn;
  /** The labels a series of attributes `key` is rendered with, as attributes (what the push sends). */
  readonly named: (key: Attributes) => Attributes;
  /** The scope the push sends the family's series under (the native profile's scope labels); none: its own. */
  readonly scope?: InstrumentationScope;
}
