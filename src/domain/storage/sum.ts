/** A counter's or up-down counter's storage: records into a sum's series (series/sum.ts). */
import type { Attributes, Context } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { exemplarOf } from '../exemplars.ts';
import { isRecordable, type RecordGuard } from '../record-guard.ts';
import type { MakeIndex } from '../../series/positions.ts';
import { SumSet } from '../../series/sum.ts';
import type { BoundCounter, DeclaredCounter } from './handles.ts';

export class SumStorage extends SumSet implements DeclaredCounter {
  /** Where bad records and records after shutdown are reported. */
  readonly guard: RecordGuard;

  constructor(
    descriptor: MetricDescriptor,
    guard: RecordGuard,
    index: MakeIndex,
    options: { monotonic: boolean; exemplars: boolean },
  ) {
    // Its values are recorded here: a delta reader exports the series recorded in its window.
    super(descriptor, index, { ...options, recorded: true });
    this.guard = guard;
  }

  add(value: number, attributes?: Attributes, context?: Context): void {
    if (!isRecordable(value, this.monotonic) || this.guard.closed)
      return this.guard.refuse(this.descriptor.name, value, this.monotonic);
    // The series first: a new one may move the figures to larger storage.
    const at = this.seriesOf(attributes);
    this.values.data[at]! += value;
    if (this.records !== undefined) this.records.data[at]!++;
    if (this.exemplars === undefined) return;
    const e = exemplarOf(value, context);
    if (e !== undefined) this.exemplars[at] = e;
  }

  bind(attributes?: Attributes): BoundCounter {
    const at = this.seriesOf(attributes);
    const values = this.values;
    const monotonic = this.monotonic;
    const guard = this.guard;
    const exemplars = this.exemplars;
    const name = this.descriptor.name;
    return {
      add: (value: number): void => {
        if (!isRecordable(value, monotonic) || guard.closed)
          return guard.refuse(name, value, monotonic);
        values.data[at]! += value;
        if (this.records !== undefined) this.records.data[at]!++;
        if (exemplars === undefined) return;
        const e = exemplarOf(value, undefined);
        if (e !== undefined) exemplars[at] = e;
      },
    };
  }
}
