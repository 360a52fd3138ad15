/**
 * Who pushes to the ingest: a bounded record of its senders, what serve's status page lists
 * (http/status-data.ts `StatusSender`) and `jobmeter.ingest.senders` counts. A sender is the
 * resource identity it sends under ({@link senderKey}); of each the record keeps the identifying
 * attributes, where its last request came from, its first and last push, its points accepted and
 * refused by reason, the temporalities it sent, and the resources it sent under, whose source
 * series it is told it holds when it is read ({@link SenderRecord.report}).
 *
 * The ingest store feeds it as it ingests each resource of a request (ingest-store.ts), whether
 * the request was decoded on the main thread or on the decoding thread, so its counts are the
 * store's own. A sender's address is known to the front that received the request alone: the
 * front gives it with the request ({@link SenderRecord.request}).
 *
 * Bounded whatever the senders do: at most `limit` senders, the one whose last push is oldest
 * dropped for a new one (counted); each identifying value cut as it is recorded, at most
 * {@link MAX_RESOURCES} resources per sender.
 */
import type { Attributes } from '@opentelemetry/api';

import type { StatusSender, StatusSenders } from '../http/status-data.ts';
import type { OtlpMetricData, OtlpResourceMetrics } from '../otlp/types.ts';
import { attributesKey } from './input-bounds.ts';
import type { RefusalReason } from './ingest-report.ts';
import type { PackedChunk } from './packed-chunk.ts';

/**
 * The resource attributes that tell one sender from another (OpenTelemetry's service identity, and
 * the host for a service run on many): a sender's key is made of those it sends, and nothing else.
 */
export const SENDER_IDENTITY = [
  'service.namespace',
  'service.name',
  'service.instance.id',
  'host.name',
] as const;

/** Senders held by default; past it the one whose last push is oldest goes. */
export const MAX_SENDERS = 1000;
/** Resources held per sender (their series are the sender's); past it the least recent goes. */
export const MAX_RESOURCES = 4;
/** Longest identifying value kept; a longer one is cut, its length said. */
export const MAX_IDENTITY_LENGTH = 200;

/** The key a resource's sender is held under: its {@link SENDER_IDENTITY} attributes (a bounded key). */
export function senderKey(resource: Attributes): string {
  return attributesKey(identityOf(resource));
}

function identityOf(resource: Attributes): Attributes {
  const identity: Attributes = {};
  for (const name of SENDER_IDENTITY) {
    const value = resource[name];
    if (value !== undefined && value !== null) identity[name] = value;
  }
  return identity;
}

/** A value as the page shows it: cut to {@link MAX_IDENTITY_LENGTH}, its length said when cut. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_IDENTITY_LENGTH
    ? `${text.slice(0, MAX_IDENTITY_LENGTH)}… (cut: ${text.length} characters)`
    : text;
}

/** What the store counts of the resource it is ingesting on its sender (ingest-report.ts `sender`). */
export interface SenderTally {
  accept(points: number): void;
  refuse(code: RefusalReason, points: number): void;
  /** A metric of the resource came with `data` (its temporality, when it has one). */
  sent(data: OtlpMetricData): void;
}

class Sender implements SenderTally {
  readonly identity: Readonly<Record<string, string>>;
  readonly first: number;
  last: number;
  address: string | undefined;
  accepted = 0;
  readonly refused = new Map<RefusalReason, number>();
  /** The temporalities sent. */
  readonly temporality = new Set<'cumulative' | 'delta'>();
  /** Resource keys, the latest last. */
  readonly resources: string[] = [];

  constructor(resource: Attributes, wallMillis: number) {
    this.identity = Object.fromEntries(
      Object.entries(identityOf(resource)).map(([name, value]) => [name, shown(value)]),
    );
    this.first = this.last = wallMillis;
  }

  accept(points: number): void {
    this.accepted += points;
  }

  refuse(code: RefusalReason, points: number): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + points);
  }

  sent(data: OtlpMetricData): void {
    if ('temporality' in data && data.temporality !== 'unspecified')
      this.temporality.add(data.temporality);
  }

  row(series: number): StatusSender {
    return {
      identity: this.identity,
      address: this.address ?? '',
      firstPush: new Date(this.first).toISOString(),
      lastPush: new Date(this.last).toISOString(),
      series,
      acceptedPoints: this.accepted,
      refusedPoints: Object.fromEntries([...this.refused].sort(([a], [b]) => a.localeCompare(b))),
      temporality: (['cumulative', 'delta'] as const).filter((t) => this.temporality.has(t)),
    };
  }
}

/** The senders one request is ingested for, as the store meets its resources. */
export interface RequestSenders {
  /** The sender of `rm`, met at `wallMillis`: the store counts that resource's points and metrics on it. */
  arrive(
    rm: OtlpResourceMetrics | PackedChunk['resourceMetrics'][number],
    resourceKey: string,
    wallMillis: number,
  ): SenderTally;
}

export class SenderRecord {
  /** By key, the least recent push first (each push moves its sender last). */
  readonly #senders = new Map<string, Sender>();
  readonly #limit: number;
  #evicted = 0;

  constructor(limit = MAX_SENDERS) {
    this.#limit = limit;
  }

  /** Senders held now. */
  get size(): number {
    return this.#senders.size;
  }

  /** Senders dropped since start for a newer one past the limit. */
  get evicted(): number {
    return this.#evicted;
  }

  /**
   * A request's senders: each resource it brings is met with `arrive`. `address`: where the request
   * came from (the front's peer address), its senders' address from then on; undefined: not told.
   */
  request(address?: string): RequestSenders {
    return {
      arrive: (rm, resourceKey, wallMillis) => {
        const sender = this.#meet(rm.resource, resourceKey, wallMillis);
        if (address !== undefined) sender.address = address;
        return sender;
      },
    };
  }

  #meet(resource: Attributes, resourceKey: string, wallMillis: number): Sender {
    const key = senderKey(resource);
    let sender = this.#senders.get(key);
    if (sender === undefined) {
      sender = new Sender(resource, wallMillis);
      if (this.#senders.size >= this.#limit) {
        this.#senders.delete(this.#senders.keys().next().value!);
        this.#evicted++;
      }
    } else this.#senders.delete(key);
    this.#senders.set(key, sender);
    sender.last = wallMillis;
    const resources = sender.resources;
    if (resources.at(-1) !== resourceKey) {
      const at = resources.indexOf(resourceKey);
      if (at !== -1) resources.splice(at, 1);
      else if (resources.length >= MAX_RESOURCES) resources.shift();
      resources.push(resourceKey);
    }
    return sender;
  }

  /**
   * The senders, the latest push first, each with the source series held under its resources
   * (`seriesByResource`: the store's, by resource key).
   */
  report(seriesByResource: ReadonlyMap<string, number>): StatusSenders {
    const rows = [...this.#senders.values()]
      .reverse()
      .map((s) => s.row(s.resources.reduce((n, r) => n + (seriesByResource.get(r) ?? 0), 0)));
    return { senders: rows, limit: this.#limit, evicted: this.#evicted };
  }
}
