/**
 * Meters whose every synchronous instrument checks a record before its engine sees it: the value
 * checks of record-guard.ts (a NaN never reaches a cumulative sum), and the attribute bounds -- an
 * own instrument's spec folds (attribute-set-cap.ts `specAdmit`) or, for an instrument jobmeter
 * has no spec for, the host's series budget (`AttributeSetCap`). An instrument a local storage
 * records (an own one, or a host's no View selects) is the storage itself, which checks and bounds
 * its records as it takes them. jobmeter's provider (meter-provider.ts) hands out only such
 * meters, so an instrument made anywhere on it is checked and bounded alike.
 *
 * Observable instruments are checked as they observe: each callback (one instrument's, or a batch
 * callback's) sees a result that drops a bad value through the same guard before the SDK's result
 * sees it; the SDK keeps seeing only its own instruments (GuardedObservable). Their attribute
 * sets pass as they are: the SDK reads them once per collection and already bounds them over
 * their life; jobmeter's own observables fold in their callbacks. An own observable no host View
 * selects is the store's (storage/observed.ts), checked the same way, and never the SDK's.
 *
 * A host instrument's attribute values, recorded or observed, on whichever engine, are cut to the
 * guard's attribute value length limit before anything sees them (record-guard.ts `cut`), so
 * values that differ only past it share a series, as the SDK's attribute limits would have them.
 *
 * A host histogram that chose no buckets gets them here, once for both engines (host-buckets.ts).
 */
import type {
  Attributes,
  BatchObservableCallback,
  Context,
  Counter,
  Gauge,
  Histogram,
  Meter,
  MetricOptions,
  Observable,
  ObservableCallback,
  UpDownCounter,
} from '@opentelemetry/api';
import { specAdmit, type AttributeSetCap } from './attribute-set-cap.ts';
import { withinLength } from './bounded-attributes.ts';
import { isRecordable, type RecordGuard } from './record-guard.ts';
import { withHostBuckets } from './host-buckets.ts';
import { CREATE, specOptions } from './observed-instruments.ts';
import { ObservedStorage } from './storage/observed.ts';
import type { StorageRegistry } from './storage/registry.ts';
import {
  isObserved,
  type InstrumentKind,
  type InstrumentSpec,
  type ObservedKind,
} from './types.ts';

/** What identifies an instrument to a View: its name, kind, unit and meter. */
export interface InstrumentIdentity {
  readonly name: string;
  readonly kind: InstrumentKind;
  readonly unit: string;
  readonly meter: {
    readonly name: string;
    readonly version: string;
    readonly schemaUrl: string | undefined;
  };
}

/**
 * The meter a host's own Meter is guarded as (host-guard.ts, host-recorder.ts): nothing reads its
 * identity there, since no View selection and no host storage is given.
 */
export const HOST_METER = { name: '', version: '', schemaUrl: undefined };

/** The series budget of a host instrument (from the host's Views). */
export type CapFor = (instrument: InstrumentIdentity) => AttributeSetCap | undefined;

/** What a record's attributes become before the engine sees them: folded, or the overflow set. */
export type Admit = (attributes: Attributes | undefined) => Attributes | undefined;

/** The spec-given options (unit, description, buckets as advice) and bounds of an own instrument the SDK records. */
export type OwnSdk = (
  name: string,
) => { readonly options: MetricOptions; readonly admit: Admit } | undefined;

/**
 * The SDK's side of each of `specs`' synchronous instruments: its spec's unit, description and
 * buckets (as advice, so a View still overrides them), and its spec's bounds, made once per
 * instrument and shared by every handle on it (a capped fold remembers its values).
 */
export function ownSdkFor(specs: readonly InstrumentSpec[]): OwnSdk {
  const made = new Map<string, ReturnType<OwnSdk>>();
  return (name) => {
    if (made.has(name)) return made.get(name);
    const spec = specs.find((s) => s.name === name && !isObserved(s.kind));
    const sdk = spec && { options: specOptions(spec), admit: specAdmit(spec.attributes) };
    made.set(name, sdk);
    return sdk;
  };
}

/** A local storage for a host instrument no View selects (meter-provider.ts), or undefined: the SDK records it. */
export type HostStorageFor = (
  instrument: InstrumentIdentity,
  options: MetricOptions | undefined,
) => Counter | UpDownCounter | Histogram | Gauge | undefined;

export interface GuardOptions {
  readonly guard: RecordGuard;
  readonly capFor?: CapFor;
  /**
   * jobmeter's own instruments no host View selects, on the meter they belong to: its storages.
   * @default none
   */
  readonly own?: StorageRegistry;
  /** Those a host View selects, recorded by the SDK. @default none */
  readonly ownSdk?: OwnSdk;
  /** Storages for host instruments. @default none (every host instrument is the SDK's) */
  readonly hostStorage?: HostStorageFor;
}

type Observe = (value: number, attributes?: Attributes) => void;
type SyncKind = Exclude<InstrumentKind, ObservedKind>;
type Sync = Counter | UpDownCounter | Histogram | Gauge;
type Recording = (value: number, attributes?: Attributes, context?: Context) => void;

/**
 * `inner` whose `add` / `record` (a sum's, or any other kind's) checks the value, a counter's or a
 * histogram's never negative, and, with `admit`, passes the bounded attribute set; its `bind` is a
 * closure over the attributes (the API has no bound handles).
 */
function guardInstrument(
  inner: Sync,
  kind: SyncKind,
  name: string,
  guard: RecordGuard,
  admit: Admit | undefined,
): Sync {
  const method = kind === 'counter' || kind === 'upDownCounter' ? 'add' : 'record';
  const nonNegative = kind === 'counter' || kind === 'histogram';
  const record = (inner as unknown as { [m: string]: Recording })[method]!.bind(inner);
  const check: Recording = (value, attributes, context) => {
    if (!isRecordable(value, nonNegative) || guard.closed)
      return guard.refuse(name, value, nonNegative);
    record(value, admit === undefined ? attributes : admit(attributes), context);
  };
  const bind = (attributes?: Attributes) => ({
    [method]: (value: number) => check(value, attributes),
  });
  return { [method]: check, bind } as unknown as Sync;
}

/**
 * What a host record's attributes become under the guard's attribute value length limit: the same
 * object when every value fits, else a cut copy; undefined when the guard has no limit.
 */
function lengthLimit(name: string, guard: RecordGuard): Admit | undefined {
  const limit = guard.valueLengthLimit;
  if (limit === undefined) return undefined;
  return (a) => (a === undefined || withinLength(a, limit) ? a : guard.cut(name, a));
}

/** One wrapper per callback, so that removing a callback removes what was added for it. */
function wrapperOf<C extends object>(
  wrappers: WeakMap<C, C>,
  callback: C,
  wrap: (callback: C) => C,
): C {
  let w = wrappers.get(callback);
  if (w === undefined) wrappers.set(callback, (w = wrap(callback)));
  return w;
}

/**
 * An observable of a guarded meter: its callbacks observe through the guard. The SDK only ever
 * sees `inner` (a batch callback's list and its observations are mapped back to it), so its own
 * instruments, shapes and checks stay as they are; a host holds this one.
 */
class GuardedObservable {
  readonly inner: Observable;
  /** Observes `value` through `observe` when the guard admits it, its attributes cut to the limit. */
  readonly pass: (value: number, attributes: Attributes | undefined, observe: Observe) => void;
  readonly #wrappers = new WeakMap<ObservableCallback, ObservableCallback>();

  /** `nonNegative`: an observable counter's values are running totals, never negative. */
  constructor(inner: Observable, name: string, nonNegative: boolean, guard: RecordGuard) {
    this.inner = inner;
    const cut = lengthLimit(name, guard) ?? ((a) => a);
    this.pass = (value, attributes, observe) => {
      if (guard.admits(name, value, nonNegative)) observe(value, cut(attributes));
    };
  }

  readonly #wrap =
    (callback: ObservableCallback): ObservableCallback =>
    (result) =>
      callback({
        observe: (value, attributes) =>
          this.pass(value, attributes, (v, a) => result.observe(v, a)),
      });

  addCallback(callback: ObservableCallback): void {
    this.inner.addCallback(wrapperOf(this.#wrappers, callback, this.#wrap));
  }

  removeCallback(callback: ObservableCallback): void {
    this.inner.removeCallback(wrapperOf(this.#wrappers, callback, this.#wrap));
  }
}

const BATCH_WRAPPERS = new WeakMap<BatchObservableCallback, BatchObservableCallback>();
const wrapBatch =
  (callback: BatchObservableCallback): BatchObservableCallback =>
  (result) =>
    callback({
      observe: (o: Observable, value: number, attributes?: Attributes) => {
        if (!(o instanceof GuardedObservable)) return result.observe(o, value, attributes);
        o.pass(value, attributes, (v, a) => result.observe(o.inner, v, a));
      },
    });

/** `meter` with every instrument checked (see the file comment). */
export function guardMeter(
  meter: Meter,
  scope: InstrumentIdentity['meter'],
  options: GuardOptions,
): Meter {
  const { guard, capFor, own, ownSdk: sdkOf, hostStorage } = options;
  /** The instrument `name` of `kind`: a storage, or the SDK's checked (see the file comment). */
  function make(name: string, kind: SyncKind, o: MetricOptions | undefined): Sync {
    const storage = own?.storage(name, kind);
    if (storage !== undefined) return storage;
    const create = (x: MetricOptions | undefined): Sync => meter[CREATE[kind]](name, x);
    const ownSdk = sdkOf?.(name);
    if (ownSdk !== undefined)
      return guardInstrument(create(ownSdk.options), kind, name, guard, ownSdk.admit);
    const identity = { name, kind, unit: o?.unit ?? '', meter: scope };
    const limit = lengthLimit(name, guard);
    const local = hostStorage?.(identity, o);
    // The storage checks values itself: wrapped only to cut attribute values first.
    if (local !== undefined)
      return limit === undefined ? local : guardInstrument(local, kind, name, guard, limit);
    const cap = capFor?.(identity);
    // Cut first: the series budget counts sets as they are recorded.
    const admit: Admit | undefined =
      cap === undefined
        ? limit
        : limit === undefined
          ? (a) => cap.admit(a)
          : (a) => cap.admit(limit(a));
    return guardInstrument(create(o), kind, name, guard, admit);
  }
  /** An observable of `kind`: the store's, or the SDK's observing through the guard. */
  const observable =
    (kind: ObservedKind) =>
    (name: string, o?: MetricOptions): Observable =>
      own?.observedOf(name, kind) ??
      new GuardedObservable(
        meter[CREATE[kind]](name, o),
        name,
        kind === 'observableCounter',
        guard,
      );
  /**
   * A batch callback added or removed on each engine its instruments are of: the store's
   * observables, and the SDK's (a guarded one's inner instrument, or the instrument itself). A
   * callback over both is registered with both, each running it for its own instruments.
   */
  const batch =
    (op: 'add' | 'remove') =>
    (callback: BatchObservableCallback, observables: Observable[]): void => {
      const store = observables.filter((o) => o instanceof ObservedStorage);
      const sdk = observables
        .filter((o) => !(o instanceof ObservedStorage))
        .map((o) => (o instanceof GuardedObservable ? o.inner : o));
      if (store.length > 0) own!.callbacks[op](callback, store, true);
      if (sdk.length > 0 || store.length === 0)
        meter[`${op}BatchObservableCallback`](wrapperOf(BATCH_WRAPPERS, callback, wrapBatch), sdk);
    };
  return {
    createCounter: (name, o) => make(name, 'counter', o) as Counter,
    createUpDownCounter: (name, o) => make(name, 'upDownCounter', o) as UpDownCounter,
    createHistogram: (name, o) => make(name, 'histogram', withHostBuckets(o)) as Histogram,
    createGauge: (name, o) => make(name, 'gauge', o) as Gauge,
    createObservableGauge: observable('observableGauge'),
    createObservableCounter: observable('observableCounter'),
    createObservableUpDownCounter: observable('observableUpDownCounter'),
    addBatchObservableCallback: batch('add'),
    removeBatchObservableCallback: batch('remove'),
  };
}
