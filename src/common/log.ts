/**
 * jobmeter's log: one call, `log(level, msg, fields)`, as pino's and the Collector's zap logger
 * take it. `msg` is a constant sentence (what happened), `fields` the details (which exporter,
 * which error, how many), so a JSON or logfmt reader finds each detail under its own key and a
 * query can group by `msg`. `text` is the human line of the `text` format and of a host's
 * `(line: string) => void` writer: the same facts, worded as a sentence (`msg` when there are no
 * fields), so what a line says (and never says: secrets) is the same in every format.
 *
 * One formatter per format, each applying its quoting once: JSON
 * `{"level":"warn","time":"…","msg":"…",<fields>}` and logfmt `level=warn time=… msg="…" <fields>`.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A detail of a log record; `undefined` leaves it out. */
export type LogValue = string | number | boolean | undefined;

/** The details of a log record, by key (snake_case; never `level`, `time` or `msg`). */
export type LogFields = Readonly<Record<string, LogValue>>;

/** The log call every line jobmeter writes goes through. */
export type Log = (level: LogLevel, msg: string, fields?: LogFields, text?: string) => void;

/**
 * A structured sink a host passes as the `log` option: a method per level taking the fields, then
 * the message, as pino's and bunyan's loggers do (`log: pino()` works as it is).
 */
export type LevelLogger = Readonly<Record<LogLevel, (fields: LogFields, msg: string) => void>>;

/** What the `log` option takes: a line writer (each line as the `text` format words it) or a {@link LevelLogger}. */
export type LogSink = ((line: string) => void) | LevelLogger;

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Whether `value` is a {@link LevelLogger}: an object with a function for every level. */
export function isLevelLogger(value: unknown): value is LevelLogger {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    LOG_LEVELS.every((level) => typeof (value as Record<string, unknown>)[level] === 'function')
  );
}

/** The log call writing to `sink`: its text line to a line writer, its fields and msg to a level logger. */
export function logTo(sink: LogSink): Log {
  if (isLevelLogger(sink))
    return (level, msg, fields = {}) => sink[level].call(sink, definedFields(fields), msg);
  return (_level, msg, _fields, text) => sink(text ?? msg);
}

/** A {@link LevelLogger} writing each record as one line of `format` to `write`, stamped with `now`. */
export function lineLogger(
  format: 'json' | 'logfmt',
  write: (line: string) => void,
  now: () => number = Date.now,
): LevelLogger {
  const at =
    (level: LogLevel) =>
    (fields: LogFields, msg: string): void =>
      write(formatRecord(format, level, msg, fields, now()));
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** One record as one line of `format`: `level`, `time`, `msg`, then the fields in their order. */
export function formatRecord(
  format: 'json' | 'logfmt',
  level: LogLevel,
  msg: string,
  fields: LogFields,
  timeMillis: number,
): string {
  const time = new Date(timeMillis).toISOString();
  const defined = definedFields(fields);
  if (format === 'json') return oneLine(JSON.stringify({ level, time, msg, ...defined }));
  let line = `level=${level} time=${time} msg=${quoted(msg)}`;
  for (const [key, value] of Object.entries(defined)) line += ` ${key}=${logfmtValue(value)}`;
  return line;
}

function definedFields(fields: LogFields): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}

/** A logfmt value: bare when it is one token of printable ASCII without `"`, `=` or `\`; else quoted. */
function logfmtValue(value: string | number | boolean): string {
  const text = String(value);
  return /^[\x21\x23-\x3c\x3e-\x5b\x5d-\x7e]+$/.test(text) ? text : quoted(text);
}

/** Quoted and escaped as a JSON string is (`\"`, `\\`, `\n`, `\u0000`): never more than one line. */
function quoted(text: string): string {
  return oneLine(JSON.stringify(text));
}

/** JSON leaves U+2028 and U+2029 raw; some readers break lines at them. */
function oneLine(json: string): string {
  return json.replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
