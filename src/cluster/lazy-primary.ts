/**
 * The primary as a process that aggregates nobody holds it: an id the members can be told and
 * their messages, no more. The primary's code (primary.ts, the aggregate, the report encoder and
 * the store's source tables) loads with the first message a member sends, which most processes
 * never get; every process that imports jobmeter would otherwise pay for loading it.
 *
 * What must stay true: messages reach the primary in the order they arrived (each waits on the
 * one load, and a promise's reactions run in the order they were added, all of them before the
 * next event brings a message; once it is loaded they go straight through), and nothing but a
 * member's hello makes the primary active, so until one has said hello every collection is the
 * process's own, as it is with the primary loaded.
 */
import type { Log } from '../common/log.ts';
import { messageOf } from '../common/message-of.ts';
import { mergePolicies } from '../domain/merge-rules.ts';
import type { ClusterPrimary, PrimaryOptions } from './primary.ts';
import type { PrimarySink } from './transport.ts';
import type { FromMember, ToMember } from './wire.ts';

export class LazyPrimary implements PrimarySink {
  #id: string | undefined;
  readonly #options: () => PrimaryOptions;
  readonly #failed: (err: unknown) => void;
  readonly #load: () => Promise<typeof import('./primary.ts')>;
  #primary: ClusterPrimary | undefined;
  /** The one load, from the first message on; its primary undefined: the code could not load. */
  #loaded: Promise<ClusterPrimary | undefined> | undefined;

  /**
   * `options` is read when the primary loads; `failed` hears once why it could not (the messages
   * waiting for it, and every later one, are then dropped, as a primary that is not there would
   * drop them). `load`: where the primary's code comes from.
   */
  constructor(
    options: () => PrimaryOptions,
    failed: (err: unknown) => void,
    load: () => Promise<typeof import('./primary.ts')> = () => import('./primary.ts'),
  ) {
    this.#options = options;
    this.#failed = failed;
    this.#load = load;
  }

  /**
   * Told to members before the primary is loaded: the primary is made with it. Drawn when first
   * asked (a member's hello), so a host no member joins never loads node:crypto: every host makes
   * this object (test/package/pull-host-modules.test.ts).
   */
  get id(): string {
    return (this.#id ??= process.getBuiltinModule('node:crypto').randomUUID());
  }

  /**
   * The primary once a member has said hello (loaded by then): its aggregate is what a push
   * (ClusterPrimary `collect`) and a scrape (`scrape`) read; undefined before.
   */
  get active(): ClusterPrimary | undefined {
    return this.#primary?.active === true ? this.#primary : undefined;
  }

  received(link: string, message: FromMember, reply: (message: ToMember) => void): void {
    if (this.#primary !== undefined) this.#primary.received(link, message, reply);
    else void (this.#loaded ??= this.#start()).then((p) => p?.received(link, message, reply));
  }

  gone(link: string): void {
    if (this.#primary !== undefined) this.#primary.gone(link);
    // A link that leaves before the primary loaded said something first: it waits in line.
    else void this.#loaded?.then((p) => p?.gone(link));
  }

  #start(): Promise<ClusterPrimary | undefined> {
    return this.#load().then(
      ({ ClusterPrimary }) =>
        (this.#primary = new ClusterPrimary({ ...this.#options(), id: this.id })),
      (err: unknown) => {
        this.#failed(err);
        return undefined;
      },
    );
  }
}

/** The primary: its code loads with a member's first message, made with `options` then. */
export function clusterPrimary(
  cluster: { readonly timeoutMillis: number; readonly merge: Parameters<typeof mergePolicies>[0] },
  log: Log,
  options: () => Omit<PrimaryOptions, 'policyFor' | 'timeoutMillis'>,
): LazyPrimary {
  return new LazyPrimary(
    () => ({
      ...options(),
      policyFor: mergePolicies(cluster.merge),
      timeoutMillis: cluster.timeoutMillis,
    }),
    (err) =>
      log(
        'warn',
        "the cluster's aggregate could not load: this process serves its own metrics only, and its members' reports are dropped",
        { error: messageOf(err) },
        `the cluster's aggregate could not load (${messageOf(err)}): this process serves its own metrics only, and its members' reports are dropped`,
      ),
  );
}
