/**
 * Which port another reader of the same MeterProvider was given, so that jobmeter's pull
 * listener never silently takes it. The standard reader that serves HTTP itself,
 * `@opentelemetry/exporter-prometheus`'s `PrometheusExporter`, binds after a DNS lookup of its
 * host, so a jobmeter listener on an address would otherwise always win the race, whichever was
 * listed first. The rules: a port given to such a reader is its own; of two `JobmeterReader`s
 * given one port, the one listed first keeps it. The other jobmeter listener refuses the port (a
 * ConfigError naming it and the reader that keeps it) and does not bind. A port something outside
 * the provider holds is refused by the system (EADDRINUSE).
 */
import type { MetricProducer } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../errors.ts';

/** Ports given to `JobmeterReader`s (jobmeter-reader.ts), whose own field is private. */
const listenerPorts = new WeakMap<object, number>();

/** `reader` (a JobmeterReader) was given `port` for its listener. */
export function givenListenerPort(reader: object, port: number): void {
  listenerPorts.set(reader, port);
}

/** The port a reader was given to serve on (`PrometheusExporter`: `_port`, after its defaults); 0 or undefined: none. */
function portOf(reader: unknown): number | undefined {
  if (typeof reader !== 'object' || reader === null) return undefined;
  const port = (reader as { _port?: unknown })._port;
  return typeof port === 'number' ? port : listenerPorts.get(reader);
}

/**
 * The other readers of the provider whose SDK collector `producer` is (the MetricProducer the SDK
 * binds a reader to knows its provider's readers) that keep a port they share with `self`: every
 * standard reader, and the JobmeterReaders listed before `self`. None when `producer` is something
 * else. Complete once the provider's constructor has bound every reader.
 */
export function siblingReaders(producer: MetricProducer, self: object): unknown[] {
  const collectors = (producer as { _sharedState?: { metricCollectors?: unknown } })._sharedState
    ?.metricCollectors;
  if (!Array.isArray(collectors)) return [];
  const readers = collectors.map((c: { _metricReader?: unknown }) => c._metricReader);
  const at = readers.indexOf(self);
  return readers.filter(
    (r, i) => r !== undefined && r !== self && (i < at || !listenerPorts.has(r as object)),
  );
}

/**
 * A ConfigError for `listener.port` when one of `readers` was given `port` (createJobmeter's own reader keeps
 * its port private: it is never found here); undefined when none was. Port 0 (any free port)
 * clashes with nothing.
 */
export function portGivenToAnother(
  readers: readonly unknown[],
  port: number,
): ConfigError | undefined {
  if (port === 0) return undefined;
  const other = readers.find((r) => portOf(r) === port) as
    { constructor: { name: string } } | undefined;
  if (other === undefined) return undefined;
  const which = listenerPorts.has(other) ? 'another JobmeterReader' : other.constructor.name;
  return new ConfigError(
    'listener.port',
    port,
    `a port no other reader of the same MeterProvider was given: ${which} was given ${port} and keeps it, so jobmeter does not listen there (give one of them another port)`,
  );
}
