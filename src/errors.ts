/**
 * The one error type for unusable configuration, whatever its source: environment variables,
 * config files or programmatic options. Callers catch this type and show `message`, which already
 * names the key to fix and what it accepts.
 *
 * It shows the value it is given. A thrower holding a secret (a header value, a token) passes a
 * redacted stand-in as `value`: the field is printed by `util.inspect`, so whatever is stored here
 * ends up in logs. Which values are secret is the option table's (common/option-table.ts
 * `isSecret`: a row whose rule is secret), and every option's rule redacts its own.
 * @example
 *   try { await createJobmeter({ profile: 'runwsip' }); }
 *   catch (err) { if (err instanceof ConfigError) console.error(err.message); } // names `profile`, and 'runwisp'
 */
export class ConfigError extends Error {
  /** The key as the user wrote it: `OTEL_METRICS_EXPORTER`, `otlp.timeoutMillis`, `listener.port`. */
  readonly key: string;
  /** The rejected value as given (or a redacted stand-in for secrets). */
  readonly value: unknown;
  /** What would have been accepted, worded to follow "expected". */
  readonly expected: string;
  /**
   * The config file the value was read from, when it came from one (set by {@link inFile});
   * undefined for environment variables and flags, whose key already says where they are.
   */
  file: string | undefined = undefined;

  constructor(key: string, value: unknown, expected: string, options?: ErrorOptions) {
    // Besides the rows' own redaction: a key whose name says credential is never shown, whatever
    // table it is in (a resource attribute, a misspelled key), since no row can vouch for it.
    const shown =
      secretKey(key) && typeof value !== 'boolean' && value !== undefined ? REDACTED : value;
    super(`invalid ${key}=${formatValue(shown)}: expected ${expected}`, options);
    this.name = 'ConfigError';
    this.key = key;
    this.value = shown;
    this.expected = expected;
  }
}

/** Marks `err` as read from config file `path` (a ConfigError without a file yet); rethrows anything else as is. */
export function inFile(err: unknown, path: string): unknown {
  if (
    err instanceof ConfigError &&
    err.file === undefined &&
    err.key !== '--config' &&
    err.key !== path
  )
    err.file = path;
  return err;
}

/** `path: invalid key=value: expected ...` when the error came from a file, else the message alone. */
export function describeConfigError(err: ConfigError): string {
  return err.file === undefined ? err.message : `${err.file}: ${err.message}`;
}

/** Placeholder to pass as `value` when the real value must not reach a log. */
export const REDACTED = '<redacted>';

/** Words that make a key's value a credential, whatever table the key is in (`tokne` included: a near miss of one). */
const SECRET_WORDS =
  /tok|secret|passw|pwd|apikey|credential|authoriz|cookie|bearer|header|privatekey|signature|session/;

/**
 * Whether the value at `key` (a dotted key, a flag or an environment variable) may be a secret,
 * judged by the key's last part alone. A `..._file` key holds a path, not the secret, and is shown.
 */
export function secretKey(key: string): boolean {
  const last = (
    key
      .split(/[.[\]]/)
      .filter((part) => part !== '')
      .at(-1) ?? key
  )
    .toLowerCase()
    .replace(/[-_\s"]/g, '');
  if (last.endsWith('file')) return false;
  return SECRET_WORDS.test(last);
}

/**
 * A URL as an error or the printed configuration shows it: its `user:password@` masked, and its
 * query's values (a part without `=`, which may be a token itself, whole). Works on strings that
 * do not parse as URLs too (a scheme mistyped, a stray character), since those are the ones
 * rejected: all from the scheme's `//` to the last `@` is taken for userinfo (a `/`, `?` or `#`
 * mistyped into a password included).
 */
export function maskedUrl(url: string): string {
  const masked = url
    .replace(/^([^/]*\/\/)?.*@/, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`)
    // An authority with no '@' whose text after its host's ':' is no port is most likely
    // `user:password` with its '@' lost: what follows the ':' may be the password.
    .replace(/^([^/]*\/\/(?:\[[^\]/]*\])?[^/?#@:[]*:)(?!\d*(?:[/?#]|$))[^/?#@]*/, `$1***`);
  const q = masked.indexOf('?');
  return q === -1
    ? masked
    : masked.slice(0, q + 1) +
        masked
          .slice(q + 1)
          .replace(/=[^&#]*/g, `=${REDACTED}`)
          .replace(/(^|&)[^&#=]+(?=[&#]|$)/g, `$1${REDACTED}`);
}

// Strings print raw so that environment variables read back the way they were typed
// (`invalid OTEL_EXPORTER_OTLP_PROTOCOL=grpc`); anything else prints as JSON so a config-file
// `"9464"` is told apart from `9464` -- except what JSON cannot spell: a number past the doubles
// (TOML `1e400`) prints `Infinity`, not `null`, and YAML `!!binary` prints as written, not as a
// Buffer's JSON.
function formatValue(value: unknown): string {
  return typeof value === 'string' ? value : show(value, 0);
}

/** Longest base64 text of a `!!binary` value shown; the rest is cut with `...`. */
const MAX_BINARY_SHOWN = 48;

function show(value: unknown, depth: number): string {
  if (typeof value === 'number')
    return Number.isFinite(value) ? JSON.stringify(value) : String(value);
  if (typeof value === 'bigint') return String(value);
  if (value instanceof Uint8Array) {
    const base64 = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    return `!!binary ${base64.length > MAX_BINARY_SHOWN ? base64.slice(0, MAX_BINARY_SHOWN) + '\u2026' : base64}`;
  }
  if (depth > 8 || value === null || typeof value !== 'object' || value instanceof Date) {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  }
  if (Array.isArray(value)) return `[${value.map((v) => show(v, depth + 1)).join(',')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}:${show(v, depth + 1)}`)
    .join(',')}}`;
}
