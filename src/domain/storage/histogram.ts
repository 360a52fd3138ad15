/** A histogram's storage: records into a histogram's series (series/histogram.ts). */
import type { Attributes, Context } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { exemplarOf } from '../exemplars.ts';
import { isRecordable, type RecordGuard } from '../record-guard.ts';
import { HistogramSet } from '../../series/histogram.ts';
import type { MakeIndex } from '../../series/positions.ts';
import type { BoundHistogram, DeclaredHistogram } from './handles.ts';

export class HistogramStorage extends HistogramSet implements DeclaredHistogram {
  /** Where bad records and records after shutdown are reported. */
  readonly guard: RecordGuard;

  constructor(
    descriptor: MetricDescriptor,
    guard: RecordGuard,
    index: MakeIndex,
    options: { bounds: readonly number[]; exemplars: boolean; minMax: boolean },
  ) {
    // Its min and max are of the values recorded here: a delta reader's window has its own.
    super(descriptor, index, { ...options, windows: true });
    this.guard = guard;
  }

  record(value: number, attributes?: Attributes, context?: Context): void {
    if (!isRecordable(value, true) || this.guard.closed)
      return this.guard.refuse(this.descriptor.name, value, true);
    const bucket = this.observe(this.seriesOf(attributes), value);
    if (this.exemplars === undefined) return;
    const e = exemplarOf(value, context);
    if (e !== undefined) this.exemplars[bucket] = e;
  }

  bind(attributes?: Attributes): BoundHistogram {
    const at = this.seriesOf(attributes);
    const guard = this.guard;
    const name = this.descriptor.name;
    return {
      record: (value: number): void => {
        if (!isRecordable(value, true) || guard.closed) return guard.refuse(name, value, true);
        const bucket = this.observe(at, value);
        if (this.exemplars === undefined) return;
        const e = exemplarOf(value, undefined);
        if (e !== undefined) this.exemplars[bucket] = e;
      },
    };
  }
}
