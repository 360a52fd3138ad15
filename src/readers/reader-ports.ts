/**
 * Which port another reader of the same MeterProvider was given, so that jobmeter's pull
 * listener never silently takes it. The standard reader that serves HTTP itself,
 * `@opentelemetry/exporter-prometheus`'s `PrometheusExporter`, binds after a DNS lookup of its
 * host, so a jobmeter listener on an address would otherwise always win the race, whichever was
 * listed first. The rule: a port given to such a reader is its own; jobmeter's listener refuses it
 * (a ConfigError naming the port and the reader) and does not bind. Between jobmeter's own
 * listeners the first to bind keeps the port and the other is refused by the system (EADDRINUSE).
 */
import type { MetricProducer } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../errors.ts';

/** A reader that was given a port of its own to serve on (`PrometheusExporter`: `_port`, after its defaults). */
interface PortReader {
  readonly _port: number;
  readonly constructor: { readonly name: string };
}

function portOf(reader: unknown): PortReader | undefined {
  const port = (reader as { _port?: unknown } | null)?._port;
  return typeof port === 'number' && port > 0 ? (reader as PortReader) : undefined;
}

/**
 * The other readers of the provider whose SDK collector `producer` is (the MetricProducer the SDK
 * binds a reader to knows its provider's readers), or none when `producer` is something else.
 * Complete once the provider's constructor has bound every reader.
 */
export function siblingReaders(producer: MetricProducer, self: object): unknown[] {
  const collectors = (producer as { _sharedState?: { metricCollectors?: unknown } })._sharedState?.metricCollectors;
  if (!Array.isArray(collectors)) return [];
  return collectors.map((c: { _metricReader?: unknown }) => c._metricReader).filter((r) => r !== undefined && r !== self);
}

/**
 * A ConfigError for `key` when one of `readers` was given `port` (jobmeter's own readers keep
 * theirs private: they are never found here); undefined when none was. Port 0 (any free port)
 * clashes with nothing.
 */
export function portGivenToAnother(readers: readonly unknown[], port: number, key: string): ConfigError | undefined {
  if (port === 0) return undefined;
  const other = readers.find((r) => portOf(r)?._port === port);
  if (other === undefined) return undefined;
  return new ConfigError(
    key,
    port,
    `a port no other reader of the same MeterProvider was given: ${portOf(other)!.constructor.name} was given ${port} and keeps it, so jobmeter does not listen there (give one of them another port)`,
  );
}
