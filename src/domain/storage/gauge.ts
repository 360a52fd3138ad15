/** A synchronous gauge's storage: records into a gauge's series (series/sum.ts, read as a gauge). */
import type { Attributes } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { isRecordable, type RecordGuard } from '../record-guard.ts';
import type { MakeIndex } from '../../series/positions.ts';
import { SumSet } from '../../series/sum.ts';
import type { BoundGauge, DeclaredGauge } from './handles.ts';

export class GaugeStorage extends SumSet implements DeclaredGauge {
  /** Where bad records and records after shutdown are reported. */
  readonly guard: RecordGuard;

  constructor(descriptor: MetricDescriptor, guard: RecordGuard, index: MakeIndex) {
    super(descriptor, index, { monotonic: false, exemplars: false, gauge: true, recorded: true });
    this.guard = guard;
  }

  record(value: number, attributes?: Attributes): void {
    if (!isRecordable(value, false) || this.guard.closed)
      return this.guard.refuse(this.descriptor.name, value, false);
    // The series first: a new one may move the figures to larger storage.
    const at = this.seriesOf(attributes);
    this.values.data[at] = value;
    if (this.records !== undefined) this.records.data[at]!++;
  }

  bind(attributes?: Attributes): BoundGauge {
    const at = this.seriesOf(attributes);
    const values = this.values;
    const guard = this.guard;
    const name = this.descriptor.name;
    return {
      record: (value: number): void => {
        if (!isRecordable(value, false) || guard.closed) return guard.refuse(name, value, false);
        values.data[at] = value;
        if (this.records !== undefined) this.records.data[at]!++;
      },
    };
  }
}
