/**
 * jobmeter's own observable instruments (the domain's snapshot, run history and build info, the
 * process and runtime metrics, those declared in `options.instruments`) that no host View
 * selects: series sets of the store (series/), written by their callbacks at the store's
 * instant instead of through the SDK's asynchronous storage. The SDK builds hash maps, merges
 * them with a report history and makes an array per instrument at every collection, for every one
 * of these instruments, most of which observe nothing.
 *
 * What stays the SDK's, per OpenTelemetry: callbacks run once per collection of each reader, before
 * the figures are read; a callback's observations count only once it has returned (or its promise
 * resolved), a callback that throws or rejects observes nothing and the others still run; a batch
 * callback observes only the instruments it was registered with; an attribute set observed once
 * is served with its last value until observed again; at most `limit - 1` sets, then the overflow
 * set (series/open-index.ts); a value the instrument cannot take is dropped through the guard.
 */
import type {
  Attributes,
  BatchObservableCallback,
  BatchObservableResult,
  Observable,
  ObservableCallback,
} from '@opentelemetry/api';
import { warn } from '../../common/warn.ts';
import type { RecordGuard } from '../record-guard.ts';
import { OpenSeriesIndex } from '../../series/open-index.ts';
import { SumSet } from '../../series/sum.ts';
import type { InstrumentSpec, ObservedKind } from '../types.ts';
import { descriptorOf } from './sync-storage.ts';

/** One observable instrument: its series set, and the API face its callbacks are added through. */
export class ObservedStorage implements Observable {
  /** The set the store reads: a sum (counters, up-down counters) or a gauge. */
  readonly set: SumSet;
  readonly #callbacks: ObservedCallbacks;
  /** An observable counter's values are running totals: never negative. */
  readonly #nonNegative: boolean;

  constructor(
    spec: InstrumentSpec & { kind: ObservedKind },
    limit: number,
    callbacks: ObservedCallbacks,
  ) {
    const descriptor = descriptorOf(spec.name, spec.kind, spec);
    const index = (grow: () => void) => new OpenSeriesIndex(limit, grow);
    this.set = new SumSet(descriptor, index, {
      monotonic: spec.kind === 'observableCounter',
      exemplars: false,
      gauge: spec.kind === 'observableGauge',
      recorded: true,
    });
    this.#callbacks = callbacks;
    this.#nonNegative = spec.kind === 'observableCounter';
  }

  /** Whether `value` may be observed; otherwise it is dropped through the guard. */
  admits(value: unknown, guard: RecordGuard): value is number {
    return guard.admits(this.set.descriptor.name, value, this.#nonNegative);
  }

  /** Writes one observation (a callback's, once it has returned). */
  write(value: number, attributes: Attributes | undefined): void {
    // The series first: a new one may move the figures to larger storage.
    const at = this.set.seriesOf(attributes);
    this.set.values.data[at] = value;
    if (this.set.records !== undefined) this.set.records.data[at]!++;
  }

  addCallback(callback: ObservableCallback): void {
    this.#callbacks.add(callback, [this], false);
  }

  removeCallback(callback: ObservableCallback): void {
    this.#callbacks.remove(callback, [this], false);
  }
}

/** A callback: one instrument's, or a batch callback over several. */
type Callback = ObservableCallback | BatchObservableCallback;

/** A registered callback and the instruments it observes. */
interface Registered {
  readonly callback: Callback;
  readonly instruments: ReadonlySet<ObservedStorage>;
  readonly batch: boolean;
}

/** Observations of one callback run, applied once it has returned. */
type Pending = [ObservedStorage, number, Attributes | undefined][];

function sameSet(a: ReadonlySet<ObservedStorage>, b: readonly ObservedStorage[]): boolean {
  return a.size === b.length && b.every((x) => a.has(x));
}

/** The callbacks of every observed storage of one store, run at each of its instants. */
export class ObservedCallbacks {
  readonly #registered: Registered[] = [];
  readonly #guard: RecordGuard;

  constructor(guard: RecordGuard) {
    this.#guard = guard;
  }

  /** Registers `callback` for `instruments` (one, or a batch callback's); the same one again is ignored. */
  add(callback: Callback, instruments: readonly ObservedStorage[], batch: boolean): void {
    if (this.#find(callback, instruments, batch) >= 0) return;
    this.#registered.push({ callback, instruments: new Set(instruments), batch });
  }

  remove(callback: Callback, instruments: readonly ObservedStorage[], batch: boolean): void {
    const at = this.#find(callback, instruments, batch);
    if (at >= 0) this.#registered.splice(at, 1);
  }

  #find(callback: Callback, instruments: readonly ObservedStorage[], batch: boolean): number {
    return this.#registered.findIndex(
      (r) => r.callback === callback && r.batch === batch && sameSet(r.instruments, instruments),
    );
  }

  /**
   * Runs every callback and writes what each observed once it has returned; a promise when one of
   * them is asynchronous (settled when all are), else undefined. A failed callback is reported
   * through common/warn.ts and observes nothing.
   */
  run(): PromiseLike<unknown> | undefined {
    let waits: PromiseLike<unknown>[] | undefined;
    // A copy: a callback may add or remove callbacks.
    for (const r of this.#registered.slice()) {
      const pending: Pending = [];
      const guard = this.#guard;
      // What a callback observes of its own instruments, the guard's checks passed, waits in `pending`.
      const batch: BatchObservableResult = {
        observe(o: Observable, value: number, attributes?: Attributes) {
          if (!(o instanceof ObservedStorage) || !r.instruments.has(o)) return;
          if (o.admits(value, guard)) pending.push([o, value, attributes]);
        },
      };
      const [only] = r.instruments;
      let returned: unknown;
      try {
        returned = r.batch
          ? (r.callback as BatchObservableCallback)(batch)
          : (r.callback as ObservableCallback)({ observe: (v, a) => batch.observe(only!, v, a) });
      } catch (err) {
        failed(err);
        continue;
      }
      if (isThenable(returned))
        (waits ??= []).push(Promise.resolve(returned).then(() => apply(pending), failed));
      else apply(pending);
    }
    return waits === undefined ? undefined : Promise.all(waits);
  }
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof (x as PromiseLike<unknown> | undefined)?.then === 'function';
}

function apply(pending: Pending): void {
  for (const [instrument, value, attributes] of pending) instrument.write(value, attributes);
}

function failed(err: unknown): void {
  warn(
    'jobmeter: an observable callback failed; its observations are not served in this collection',
    err,
    'error',
  );
}
