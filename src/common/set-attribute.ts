/**
 * The one way an attribute is set on an attribute set held as a plain object, wherever a set is
 * built or copied (the OTLP decoders, the ingest, the series store, the state file): a key is an
 * attribute's name whatever it is, and a plain assignment of `__proto__` would set the object's
 * prototype instead (or be ignored), dropping the attribute. Other prototype names (`constructor`,
 * `hasOwnProperty`) are ordinary own keys once assigned; only `__proto__` needs defining.
 */
export function setAttribute<V>(out: { [key: string]: V }, key: string, value: V): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else out[key] = value;
}
