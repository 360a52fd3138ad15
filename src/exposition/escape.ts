/**
 * Escaping for the two text formats.
 *
 * Label values are escaped identically in text 0.0.4 and OpenMetrics 1.0.0 (`\\`, `\"`, `\n`), so
 * the naming layer renders each series' label string once (naming/attribute-labels.ts `labelsText`)
 * and both renderers reuse it. HELP differs: text 0.0.4 escapes only `\` and newline, OpenMetrics also `"`.
 *
 * Both formats require valid UTF-8. A JS string holding a lone surrogate (half of a UTF-16 pair)
 * has no UTF-8 encoding: Node would write U+FFFD for it anyway, but silently and per write; doing
 * it here keeps the rendered string equal to the bytes on the wire (and testable).
 */

const LABEL_VALUE_SPECIAL = /[\\"\n]/g;
const HELP_TEXT_SPECIAL = /[\\\n]/g;

function escapeChar(c: string): string {
  // Only the three characters matched by the regexes above reach here.
  return c === '\n' ? '\\n' : c === '"' ? '\\"' : '\\\\';
}

/** `s` well-formed (lone surrogates U+FFFD) with `special`'s characters escaped; `s` itself when nothing changes. */
function escaped(s: string, special: RegExp): string {
  const v = s.isWellFormed() ? s : s.toWellFormed();
  return v.search(special) === -1 ? v : v.replace(special, escapeChar);
}

/**
 * Escapes a label value for both text formats: `\` -> `\\`, `"` -> `\"`, newline -> `\n`; lone
 * surrogates become U+FFFD. Returns the input itself when nothing needs changing.
 */
export const escapeLabelValue = (s: string): string => escaped(s, LABEL_VALUE_SPECIAL);

/** Escapes a HELP text for text 0.0.4: `\` -> `\\`, newline -> `\n` (quotes stay as they are). */
export const escapeHelpText = (s: string): string => escaped(s, HELP_TEXT_SPECIAL);

/**
 * The pairs of a label string (`a="x",b="y"`, values escaped), names and values unescaped:
 * `a="x",b="y\"z"` -> `[['a', 'x'], ['b', 'y"z']]`; a quoted (UTF-8) name, `"a.b"="x"`, as
 * {@link labelNameText} writes it, -> `['a.b', 'x']`. For renderers that need pairs, not text
 * (protobuf).
 * @throws Error on a string that is no label string.
 */
export function parseLabelPairs(labels: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  PAIR.lastIndex = 0;
  while (PAIR.lastIndex < labels.length) {
    const m = PAIR.exec(labels);
    if (m === null) throw new Error(`malformed label string: ${JSON.stringify(labels)}`);
    out.push([m[1] === undefined ? m[2]! : unescaped(m[1]), unescaped(m[3]!)]);
  }
  return out;
}

/**
 * One pair: a quoted name (escaped as a value) or all up to the first `="`, its quoted value, then
 * one character (the comma).
 */
const PAIR =
  /(?:"((?:[^"\\]|\\[\s\S])*)"|(?!")((?:(?!=")[\s\S])*))="((?:[^"\\]|\\[\s\S])*)"[\s\S]?/y;

/** A quoted text's escapes undone: `\n` a newline, a backslash and any other character that character. */
const unescaped = (s: string): string =>
  s.replace(/\\([\s\S])/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** Prometheus' classic metric and label name character sets (`naming/check-rules.ts` holds a profile rule's names to them). */
export const CLASSIC_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const CLASSIC_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether a metric name is in the classic character set (written bare in every format). */
export function isClassicMetricName(name: string): boolean {
  return CLASSIC_METRIC_NAME.test(name);
}

/**
 * A label name as a label string holds it: bare when classic, else quoted and escaped like a
 * value (`"http.method"`), the UTF-8 syntax of text 1.0.0 and OpenMetrics with `allow-utf-8`.
 */
export function labelNameText(name: string): string {
  return CLASSIC_LABEL_NAME.test(name) ? name : '"' + escapeLabelValue(name) + '"';
}
