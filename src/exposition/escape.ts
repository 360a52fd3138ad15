/**
 * Escaping for the two text formats.
 *
 * Label values are escaped identically in text 0.0.4 and OpenMetrics 1.0.0 (`\\`, `\"`, `\n`), so
 * the naming layer renders each series' label string once with {@link renderLabelPairs} and both
 * renderers reuse it. HELP differs: text 0.0.4 escapes only `\` and newline, OpenMetrics also `"`.
 *
 * Both formats require valid UTF-8. A JS string holding a lone surrogate (half of a UTF-16 pair)
 * has no UTF-8 encoding: Node would write U+FFFD for it anyway, but silently and per write; doing
 * it here keeps the rendered string equal to the bytes on the wire (and testable).
 */

/** `String.prototype.isWellFormed` / `toWellFormed` (ES2024); the project's `lib` is ES2023. */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

function wellFormed(s: string): string {
  const w = s as unknown as WellFormedString;
  return w.isWellFormed() ? s : w.toWellFormed();
}

const LABEL_VALUE_SPECIAL = /[\\"\n]/;
const LABEL_VALUE_SPECIAL_ALL = /[\\"\n]/g;
const HELP_TEXT_SPECIAL = /[\\\n]/;
const HELP_TEXT_SPECIAL_ALL = /[\\\n]/g;

function escapeChar(c: string): string {
  // Only the three characters matched by the regexes above reach here.
  return c === '\n' ? '\\n' : c === '"' ? '\\"' : '\\\\';
}

/**
 * Escapes a label value for both text formats: `\` → `\\`, `"` → `\"`, newline → `\n`; lone
 * surrogates become U+FFFD. Returns the input itself when nothing needs changing.
 */
export function escapeLabelValue(s: string): string {
  const v = wellFormed(s);
  return LABEL_VALUE_SPECIAL.test(v) ? v.replace(LABEL_VALUE_SPECIAL_ALL, escapeChar) : v;
}

/** Escapes a HELP text for text 0.0.4: `\` → `\\`, newline → `\n` (quotes stay as they are). */
export function escapeHelpText(s: string): string {
  const v = wellFormed(s);
  return HELP_TEXT_SPECIAL.test(v) ? v.replace(HELP_TEXT_SPECIAL_ALL, escapeChar) : v;
}

/** Escapes a HELP text for OpenMetrics 1.0.0: `\`, newline and `"`, like a label value. */
export function escapeHelpOpenMetrics(s: string): string {
  return escapeLabelValue(s);
}

/**
 * Renders label pairs without braces: `a="x",b="y"`, `''` for none. Values are escaped; names are
 * written as given (the naming layer has validated them). Pairs keep the given order.
 */
export function renderLabelPairs(names: readonly string[], values: readonly string[]): string {
  if (names.length !== values.length) {
    throw new RangeError(
      `renderLabelPairs: ${names.length} label names but ${values.length} values`,
    );
  }
  let out = '';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out += ',';
    out += names[i] + '="' + escapeLabelValue(values[i]) + '"';
  }
  return out;
}

/**
 * The pairs of a label string {@link renderLabelPairs} wrote, values unescaped: `a="x",b="y\"z"`
 * → `[['a', 'x'], ['b', 'y"z']]`. For renderers that need pairs, not text (protobuf).
 * @throws Error on a string renderLabelPairs cannot have written.
 */
export function parseLabelPairs(labels: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < labels.length) {
    const eq = labels.indexOf('="', i);
    if (eq === -1) throw new Error(`malformed label string: ${JSON.stringify(labels)}`);
    const name = labels.slice(i, eq);
    let j = eq + 2;
    let value = '';
    while (j < labels.length && labels[j] !== '"') {
      if (labels[j] === '\\' && j + 1 < labels.length) {
        const next = labels[j + 1]!;
        value += next === 'n' ? '\n' : next;
        j += 2;
      } else {
        value += labels[j]!;
        j++;
      }
    }
    if (j >= labels.length) throw new Error(`malformed label string: ${JSON.stringify(labels)}`);
    out.push([name, value]);
    // Past the closing quote and the comma.
    i = j + 2;
  }
  return out;
}
