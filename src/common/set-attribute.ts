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

/**
 * An object with exactly `keys` as its properties, in that order, all `''`. Spreading it
 * (`{ ...template }`) gives an object of exactly that shape and size. An object built from `{}`
 * keeps room for four properties whatever it holds, and so do its spread copies: 16 to 24 B more
 * per attribute set of one to three attributes, and the SDK and jobmeter's storages keep one per
 * series. `JSON.parse` sizes the objects it makes to their properties, and makes `__proto__` an own
 * key like any other.
 */
export function attributesTemplate(keys: readonly string[]): Record<string, string> {
  return JSON.parse(JSON.stringify(Object.fromEntries(keys.map((k) => [k, ''])))) as Record<
    string,
    string
  >;
}
