/**
 * The primary's life: accept members as they say hello, ask them for a report at each collection
 * (a scrape, an OTLP export), merge what arrives within the timeout, and retire a member when its
 * worker or thread leaves. A member that does not answer in time counts with its last report.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { withinMillis } from '../common/within-millis.ts';
import type { Collection } from '../series/collection.ts';
import { readsDelta } from '../series/temporality.ts';
import { ClusterAggregate, type AggregateOptions } from './aggregate.ts';
import { ReportEncoder } from './report-encoder.ts';
import type { PrimarySink } from './transport.ts';
import { WIRE_TAG, type FromMember, type ToMember } from './wire.ts';

/** The primary's own metrics, as one member of the aggregate. */
const SELF = 'self';

export interface PrimaryOptions extends AggregateOptions {
  /** The primary's own cumulative collection. */
  readonly collectOwn: () => Promise<ResourceMetrics>;
  /** `collectOwn`'s histogram min and max are of the values recorded since its previous call (report-encoder.ts `ExtremesOf`). @default false */
  readonly addedExtremes?: boolean;
  /** How long a collection waits for members' reports. */
  readonly timeoutMillis: number;
  /** What members know this aggregate by (lazy-primary.ts tells them before this loads). @default a new UUID */
  readonly id?: string;
}

interface Link {
  instance: string | undefined;
  reply: (message: ToMember) => void;
  /** Resolves the wait of the collection `seq` once this member's report for it has ended. */
  waiting: { seq: number; done: () => void } | undefined;
}

export class ClusterPrimary implements PrimarySink {
  readonly id: string;
  readonly #aggregate: ClusterAggregate;
  readonly #options: PrimaryOptions;
  /** Reports the primary's own collections (a cumulative push's `pushed` has the life's min and max: no delta window reads them). */
  readonly #own: ReportEncoder;
  readonly #links = new Map<string, Link>();
  #seq = 0;
  #active = false;
  /** The primary's own collection merged last (what the aggregate holds of it). */
  #lastOwn: ResourceMetrics | undefined;
  /** Whether a delta push has read the aggregate (it took over from the primary's own reader). */
  #handedOver = false;
  #inflight: Promise<ResourceMetrics | undefined> | undefined;

  constructor(options: PrimaryOptions) {
    this.id = options.id ?? randomUUID();
    this.#options = options;
    this.#aggregate = new ClusterAggregate(options);
    this.#own = new ReportEncoder(SELF, { added: options.addedExtremes });
  }

  /** True once a member has said hello: from then on every collection is the aggregate. */
  get active(): boolean {
    return this.#active;
  }

  received(link: string, message: FromMember, reply: (message: ToMember) => void): void {
    let state = this.#links.get(link);
    if (message.t === 'hello') {
      if (state === undefined)
        this.#links.set(link, (state = { instance: undefined, reply, waiting: undefined }));
      // A new jobmeter on the same worker: the previous one has left.
      if (state.instance !== undefined && state.instance !== message.instance)
        this.#aggregate.retire(memberKey(link, state.instance));
      state.instance = message.instance;
      this.#active = true;
      reply({ tag: WIRE_TAG, t: 'welcome', aggregate: this.id });
      return;
    }
    // Only from the member this link said hello for: a straggler from one already retired (a
    // worker gone, a jobmeter re-created) would stay in the aggregate for good.
    if (state === undefined || message.instance !== state.instance) return;
    this.#aggregate.apply(memberKey(link, message.instance), message);
    if (message.bye === true) state.instance = undefined;
    if (
      message.end &&
      state.waiting !== undefined &&
      (message.seq >= state.waiting.seq || message.bye === true)
    ) {
      state.waiting.done();
      state.waiting = undefined;
    }
  }

  gone(link: string): void {
    const state = this.#links.get(link);
    if (state === undefined) return;
    if (state.instance !== undefined) this.#aggregate.retire(memberKey(link, state.instance));
    state.waiting?.done();
    this.#links.delete(link);
  }

  /**
   * One collection of the aggregate as OpenTelemetry MetricData (a push); concurrent callers share
   * the gathering of reports. `pushed`: the push reader's own collection of the primary's metrics,
   * which the aggregate replaces: cumulative, it is the primary's own collection; delta, the first
   * time, it is what the primary's own reader has not exported yet (the aggregate continues from
   * what it has: temporality.ts).
   */
  async collect(pushed: ResourceMetrics): Promise<ResourceMetrics> {
    if (!this.#delta) await this.#gathered(pushed);
    else if (!this.#handedOver) {
      // The primary's own totals collected after `pushed` (at shutdown: settled before it, once
      // records are refused), never before a record in `pushed`: a record between the two is
      // then missed, not exported twice.
      await this.#inflight;
      const own = await this.#gathered(undefined);
      if (own !== undefined) this.#aggregate.handOver(own, pushed);
      this.#handedOver = true;
    } else await this.#gathered(undefined);
    return this.#aggregate.resourceMetrics();
  }

  /** One collection of the aggregate for the scrape: the series store's columns, no object per point. */
  async scrape(): Promise<Collection> {
    await this.#gathered(undefined);
    return this.#aggregate.collect();
  }

  /** Whether the push reads any instrument type in delta (asked when it collects: it is made after this primary's options). */
  get #delta(): boolean {
    const { temporality } = this.#options;
    return temporality !== undefined && readsDelta(temporality);
  }

  /** Resolves to the primary's own collection the aggregate holds (undefined: none yet). */
  #gathered(own: ResourceMetrics | undefined): Promise<ResourceMetrics | undefined> {
    return (this.#inflight ??= this.#gather(own).finally(() => {
      this.#inflight = undefined;
    }));
  }

  /** Asks every member for a report, merges the primary's own, and waits for the reports (up to the timeout). */
  async #gather(given: ResourceMetrics | undefined): Promise<ResourceMetrics | undefined> {
    const seq = ++this.#seq;
    const answers: Promise<void>[] = [];
    for (const link of this.#links.values()) {
      if (link.instance === undefined) continue;
      answers.push(new Promise<void>((done) => (link.waiting = { seq, done })));
      link.reply({ tag: WIRE_TAG, t: 'collect', seq });
    }
    // The primary's own reader can be closed already (the last push at shutdown): its last
    // report stands, as a silent member's does.
    const own = given ?? (await this.#options.collectOwn().catch(() => undefined));
    if (own !== undefined) await this.#merge(own, seq);
    await withinMillis(Promise.all(answers), this.#options.timeoutMillis);
    return this.#lastOwn;
  }

  /**
   * Merges the primary's own collection one last time, at shutdown once records are refused and
   * before its reader closes: a delta push's last export, made after, can no longer collect it
   * (a cumulative push brings its own).
   */
  async settleOwn(): Promise<void> {
    if (!this.#active || !this.#delta) return;
    await this.#inflight;
    const own = await this.#options.collectOwn().catch(() => undefined);
    if (own !== undefined) await this.#merge(own, ++this.#seq);
  }

  async #merge(own: ResourceMetrics, seq: number): Promise<void> {
    this.#lastOwn = own;
    await this.#own.send(own, seq, (chunk) => this.#aggregate.apply(SELF, chunk));
  }
}

function memberKey(link: string, instance: string): string {
  return `${link}/${instance}`;
}
