/**
 * A small, strict parser for the two text expositions jobmeter writes, and a checker of the
 * format rules, used by the exposition tests to read output back.
 *
 * Strict means: it accepts what the formats allow *and our renderers may write* (no timestamps,
 * no exemplars, no comments, no trailing commas, no blank lines), and throws a `ParseError` naming the
 * line for anything else. `checkExposition` returns human-readable rule violations (`[]` = valid).
 */

export type WireFormat = 'text' | 'openmetrics';

export class ParseError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'ParseError';
    this.line = line;
  }
}

export interface Sample {
  readonly kind: 'sample';
  readonly line: number;
  readonly name: string;
  /** Label pairs in written order, values unescaped. */
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly rawValue: string;
  readonly value: number;
}

export interface Meta {
  readonly kind: 'HELP' | 'TYPE' | 'UNIT';
  readonly line: number;
  readonly name: string;
  /** Unescaped HELP text, type word, or unit. */
  readonly text: string;
}

export interface Eof {
  readonly kind: 'EOF';
  readonly line: number;
}

export type Line = Sample | Meta | Eof;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TEXT_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const OM_TYPES = new Set([
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'stateset',
  'info',
  'summary',
  'unknown',
]);
const TEXT_NUMBER = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const OM_NUMBER = /^(?:[+-]?(?:\d+(?:\.\d*)?|\d*\.\d+)(?:e[+-]?\d+)?|[+-]?inf(?:inity)?|nan)$/i;

/** Parses a number token as Go's strconv.ParseFloat would (for the spellings the regexes allow). */
function parseNumber(raw: string, format: WireFormat, line: number): number {
  const ok = format === 'text' ? TEXT_NUMBER.test(raw) : OM_NUMBER.test(raw);
  if (!ok) throw new ParseError(line, `invalid number ${JSON.stringify(raw)}`);
  const lower = raw.toLowerCase();
  if (lower === 'nan') return NaN;
  if (/^[+-]?inf/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(raw);
}

/** Unescapes `s`; `quote` says whether `\"` is a defined escape (label values, OM HELP). */
function unescape(s: string, quote: boolean, line: number): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = s[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === '"' && quote) out += '"';
    else throw new ParseError(line, `undefined escape \\${next ?? '<end>'}`);
  }
  return out;
}

/** Parses `{a="x",b="y"}` starting at `s[start] === '{'`; returns the pairs and the index after `}`. */
function parseLabels(
  s: string,
  start: number,
  line: number,
): { labels: Array<readonly [string, string]>; end: number } {
  const labels: Array<readonly [string, string]> = [];
  let i = start + 1;
  if (s[i] === '}') return { labels, end: i + 1 };
  for (;;) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new ParseError(line, 'label without =');
    const name = s.slice(i, eq);
    if (!LABEL_NAME.test(name))
      throw new ParseError(line, `invalid label name ${JSON.stringify(name)}`);
    if (s[eq + 1] !== '"') throw new ParseError(line, `label ${name}: value not quoted`);
    let j = eq + 2;
    while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
    if (j >= s.length) throw new ParseError(line, `label ${name}: unterminated value`);
    labels.push([name, unescape(s.slice(eq + 2, j), true, line)]);
    const sep = s[j + 1];
    if (sep === '}') return { labels, end: j + 2 };
    if (sep !== ',') throw new ParseError(line, `label ${name}: expected , or } after value`);
    i = j + 2;
  }
}

function parseMeta(s: string, format: WireFormat, line: number): Meta | Eof {
  if (format === 'openmetrics' && s === '# EOF') return { kind: 'EOF', line };
  const m = /^# (HELP|TYPE|UNIT) ([^ ]+)(?: (.*))?$/s.exec(s);
  if (m === null) throw new ParseError(line, `unexpected # line ${JSON.stringify(s.slice(0, 40))}`);
  const kind = m[1] as Meta['kind'];
  const name = m[2]!;
  const rest = m[3];
  if (!METRIC_NAME.test(name))
    throw new ParseError(line, `invalid metric name ${JSON.stringify(name)}`);
  if (kind === 'UNIT' && format === 'text') throw new ParseError(line, '# UNIT is not text 0.0.4');
  if (rest === undefined) throw new ParseError(line, `# ${kind} without a value`);
  if (kind === 'TYPE') {
    if (!(format === 'text' ? TEXT_TYPES : OM_TYPES).has(rest)) {
      throw new ParseError(line, `invalid ${format} type ${JSON.stringify(rest)}`);
    }
    return { kind, line, name, text: rest };
  }
  if (kind === 'UNIT') {
    if (!/^[a-zA-Z0-9_:]*$/.test(rest))
      throw new ParseError(line, `invalid unit ${JSON.stringify(rest)}`);
    return { kind, line, name, text: rest };
  }
  return { kind, line, name, text: unescape(rest, format === 'openmetrics', line) };
}

function parseSample(s: string, format: WireFormat, line: number): Sample {
  let i = 0;
  while (i < s.length && s[i] !== '{' && s[i] !== ' ') i++;
  const name = s.slice(0, i);
  if (!METRIC_NAME.test(name))
    throw new ParseError(line, `invalid metric name ${JSON.stringify(name)}`);
  let labels: Array<readonly [string, string]> = [];
  if (s[i] === '{') {
    const parsed = parseLabels(s, i, line);
    labels = parsed.labels;
    i = parsed.end;
  }
  if (s[i] !== ' ') throw new ParseError(line, 'expected a space before the value');
  const rawValue = s.slice(i + 1);
  if (rawValue.includes(' ')) throw new ParseError(line, 'unexpected timestamp or exemplar');
  return {
    kind: 'sample',
    line,
    name,
    labels,
    rawValue,
    value: parseNumber(rawValue, format, line),
  };
}

/** Parses an exposition into lines; throws ParseError on anything malformed. */
export function parseExposition(text: string, format: WireFormat): Line[] {
  // A raw `\r` is legal inside label values and HELP (the ABNF's normal-char includes it); a CRLF
  // line ending would make the value or the last token invalid, which the line parsers reject.
  if (text !== '' && !text.endsWith('\n'))
    throw new ParseError(0, 'exposition does not end with a newline');
  const raw = text.split('\n');
  raw.pop();
  const lines: Line[] = [];
  for (let n = 0; n < raw.length; n++) {
    const s = raw[n]!;
    if (s === '') throw new ParseError(n + 1, 'empty line');
    lines.push(s.startsWith('#') ? parseMeta(s, format, n + 1) : parseSample(s, format, n + 1));
  }
  return lines;
}

export interface ParsedFamily {
  /** The family name of the metadata (OpenMetrics: without `_total`/`_info`). */
  readonly name: string;
  type: string | undefined;
  help: string | undefined;
  unit: string | undefined;
  readonly metaOrder: Array<Meta['kind']>;
  readonly samples: Sample[];
}

/** Sample-name suffixes allowed per type (OpenMetrics 1.0.0 "Suffixes"; text 0.0.4 likewise). */
function suffixesFor(type: string | undefined, format: WireFormat): readonly string[] {
  switch (type) {
    case 'counter':
      return format === 'openmetrics' ? ['_total', '_created'] : [''];
    case 'histogram':
      return format === 'openmetrics'
        ? ['_bucket', '_sum', '_count', '_created']
        : ['_bucket', '_sum', '_count'];
    case 'summary':
      return ['', '_sum', '_count', '_created'];
    case 'info':
      return format === 'openmetrics' ? ['_info'] : [''];
    case 'gaugehistogram':
      return ['_bucket', '_gsum', '_gcount'];
    default:
      return [''];
  }
}

/** Groups lines into families; reports grouping violations into `problems`. */
export function groupFamilies(
  lines: readonly Line[],
  format: WireFormat,
  problems: string[],
): ParsedFamily[] {
  const families: ParsedFamily[] = [];
  const seen = new Set<string>();
  let current: ParsedFamily | undefined;
  const open = (name: string, line: number): ParsedFamily => {
    if (seen.has(name))
      problems.push(`line ${line}: family ${name} appears again (interleaved or duplicated)`);
    seen.add(name);
    const f: ParsedFamily = {
      name,
      type: undefined,
      help: undefined,
      unit: undefined,
      metaOrder: [],
      samples: [],
    };
    families.push(f);
    return f;
  };
  for (const l of lines) {
    if (l.kind === 'EOF') continue;
    if (l.kind !== 'sample') {
      if (current === undefined || current.name !== l.name || current.samples.length > 0)
        current = open(l.name, l.line);
      if (current.metaOrder.includes(l.kind))
        problems.push(`line ${l.line}: second # ${l.kind} for ${l.name}`);
      current.metaOrder.push(l.kind);
      if (l.kind === 'TYPE') current.type = l.text;
      else if (l.kind === 'HELP') current.help = l.text;
      else current.unit = l.text;
      continue;
    }
    const belongs =
      current !== undefined &&
      suffixesFor(current.type, format).some((suffix) => l.name === current!.name + suffix);
    if (!belongs) {
      problems.push(`line ${l.line}: sample ${l.name} has no # TYPE of its own family before it`);
      current = open(l.name, l.line);
    }
    current!.samples.push(l);
  }
  return families;
}

/** The identity of a series: its name and its labels sorted by name. */
export function seriesKey(name: string, labels: ReadonlyArray<readonly [string, string]>): string {
  const sorted = [...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return JSON.stringify([name, sorted]);
}

/**
 * Whether `le` is an OpenMetrics canonical number: Go's %g rendering of float64 (shortest digits;
 * exponent form, with two or more exponent digits, iff the exponent is < -4 or >= 6), with `.0`
 * appended when there is neither a `.` nor an exponent; `+Inf` for infinity.
 * Written independently of src/exposition/numbers.ts on purpose.
 */
export function isCanonicalOpenMetricsNumber(le: string): boolean {
  if (le === '+Inf') return true;
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-])(\d{2,3})$/.exec(le);
  if (m !== null) {
    const exponent = Number(m[4]! + m[5]!);
    if (!(exponent < -4 || exponent >= 6)) return false;
    if (m[5]!.length === 3 && m[5]!.startsWith('0')) return false;
    const mantissa = m[3] === undefined ? m[2]! : m[2]! + '.' + m[3];
    if (m[3] !== undefined && m[3].endsWith('0')) return false;
    const x = Number(le);
    // Shortest: no shorter mantissa denotes the same double.
    const digits = mantissa.replace('.', '');
    for (let p = 1; p < digits.length; p++) if (Number(x.toPrecision(p)) === x) return false;
    return Number.isFinite(x);
  }
  const f = /^(-?)(\d+)\.(\d+)$/.exec(le);
  if (f === null) return false;
  if (f[2]!.length > 1 && f[2]!.startsWith('0')) return false;
  const x = Number(le);
  const a = Math.abs(x);
  if (x !== 0 && (a < 1e-4 || a >= 1e6)) return false;
  if (f[3] === '0') return Number.isInteger(x);
  if (f[3]!.endsWith('0')) return false;
  // Shortest digits: JS's String is shortest too, and uses fixed notation in this range.
  return String(x) === le;
}

export interface CheckOptions {
  /**
   * For the `# UNIT` rule: family name → the unit the input family carried. A UNIT line must appear
   * exactly when that unit is non-empty and the family name ends in `_<unit>`.
   */
  readonly units?: ReadonlyMap<string, string>;
}

function checkHistogram(f: ParsedFamily, format: WireFormat, problems: string[]): void {
  // Series of a histogram: label set without `le`, in order of first appearance.
  interface Point {
    readonly key: string;
    buckets: Array<{ le: string; bound: number; value: number; line: number }>;
    sum: number | undefined;
    count: number | undefined;
    last: string;
  }
  const points = new Map<string, Point>();
  let previous: Point | undefined;
  for (const s of f.samples) {
    const own = s.labels.filter(([k]) => k !== 'le');
    const key = seriesKey(f.name, own);
    let p = points.get(key);
    if (p === undefined) {
      p = { key, buckets: [], sum: undefined, count: undefined, last: '' };
      points.set(key, p);
    } else if (p !== previous) {
      problems.push(
        `line ${s.line}: histogram ${f.name} series ${key} interleaved with another series`,
      );
    }
    previous = p;
    const suffix = s.name.slice(f.name.length);
    if (suffix === '_bucket') {
      const le = s.labels.find(([k]) => k === 'le');
      if (le === undefined) {
        problems.push(`line ${s.line}: ${s.name} without le`);
        continue;
      }
      if (s.labels[s.labels.length - 1]![0] !== 'le')
        problems.push(`line ${s.line}: le is not the last label`);
      if (p.sum !== undefined || p.count !== undefined)
        problems.push(`line ${s.line}: bucket after _sum/_count`);
      const bound = le[1] === '+Inf' ? Infinity : Number(le[1]);
      if (Number.isNaN(bound) || le[1].trim() === '')
        problems.push(`line ${s.line}: le ${JSON.stringify(le[1])} is not a number`);
      if (format === 'openmetrics' && !isCanonicalOpenMetricsNumber(le[1])) {
        problems.push(`line ${s.line}: le ${JSON.stringify(le[1])} is not canonical`);
      }
      p.buckets.push({ le: le[1], bound, value: s.value, line: s.line });
    } else if (suffix === '_sum') {
      if (p.sum !== undefined) problems.push(`line ${s.line}: second _sum`);
      p.sum = s.value;
    } else if (suffix === '_count') {
      if (p.count !== undefined) problems.push(`line ${s.line}: second _count`);
      p.count = s.value;
    }
  }
  for (const p of points.values()) {
    const b = p.buckets;
    if (b.length === 0 || b[b.length - 1]!.bound !== Infinity) {
      problems.push(`histogram ${f.name} series ${p.key}: no +Inf bucket last`);
      continue;
    }
    for (let i = 1; i < b.length; i++) {
      if (!(b[i]!.bound > b[i - 1]!.bound))
        problems.push(`line ${b[i]!.line}: le not strictly ascending`);
      if (!(b[i]!.value >= b[i - 1]!.value))
        problems.push(`line ${b[i]!.line}: buckets not cumulative`);
    }
    for (const x of b) {
      if (!Number.isInteger(x.value) || x.value < 0)
        problems.push(`line ${x.line}: bucket value not a count`);
    }
    // OpenMetrics: with a negative bucket there is no _sum (no counter then), and no _count without one.
    if (format === 'openmetrics' && b.some((x) => x.bound < 0)) {
      if (p.count !== undefined || p.sum !== undefined)
        problems.push(
          `histogram ${f.name} series ${p.key}: _sum or _count beside a negative bucket`,
        );
    } else if (p.count === undefined || p.sum === undefined)
      problems.push(`histogram ${f.name} series ${p.key}: missing _sum or _count`);
    else if (p.count !== b[b.length - 1]!.value)
      problems.push(`histogram ${f.name} series ${p.key}: +Inf bucket != _count`);
  }
}

/**
 * Parses `text` and checks every rule the renderers promise. Returns the violations, `[]` when the
 * exposition is valid. A syntax error is returned as a single violation.
 */
export function checkExposition(
  text: string,
  format: WireFormat,
  options: CheckOptions = {},
): string[] {
  let lines: Line[];
  try {
    lines = parseExposition(text, format);
  } catch (e) {
    return [(e as Error).message];
  }
  const problems: string[] = [];
  const eofs = lines.filter((l) => l.kind === 'EOF');
  if (format === 'openmetrics') {
    if (eofs.length !== 1 || lines[lines.length - 1]?.kind !== 'EOF')
      problems.push('# EOF is not the single last line');
  }
  const families = groupFamilies(lines, format, problems);
  const series = new Set<string>();
  const sampleNames = new Map<string, string>();
  for (const f of families) {
    if (f.type === undefined) problems.push(`family ${f.name}: no # TYPE`);
    if (f.samples.length === 0)
      problems.push(`family ${f.name}: no samples (empty families are omitted)`);
    if (f.help === '') problems.push(`family ${f.name}: empty # HELP line`);
    if (format === 'openmetrics') {
      const order = f.metaOrder.join(',');
      const expected = ['TYPE', 'UNIT', 'HELP']
        .filter((k) => f.metaOrder.includes(k as Meta['kind']))
        .join(',');
      if (order !== expected)
        problems.push(`family ${f.name}: metadata order ${order}, expected ${expected}`);
      if (f.unit !== undefined) {
        if (f.unit === '' || !f.name.endsWith('_' + f.unit))
          problems.push(`family ${f.name}: # UNIT ${f.unit} is not its suffix`);
        if (f.type === 'info' || f.type === 'stateset')
          problems.push(`family ${f.name}: ${f.type} must not have a unit`);
      }
    } else if (f.metaOrder.join(',') !== (f.help === undefined ? 'TYPE' : 'HELP,TYPE')) {
      problems.push(
        `family ${f.name}: metadata order ${f.metaOrder.join(',')}, expected HELP,TYPE`,
      );
    }
    if (options.units !== undefined) {
      const unit = options.units.get(f.name);
      const wanted = unit !== undefined && unit !== '' && f.name.endsWith('_' + unit);
      if (wanted !== (f.unit !== undefined))
        problems.push(`family ${f.name}: # UNIT ${wanted ? 'missing' : 'unexpected'}`);
    }
    for (const s of f.samples) {
      const names = s.labels.map(([k]) => k);
      if (new Set(names).size !== names.length)
        problems.push(`line ${s.line}: duplicate label name`);
      const key = seriesKey(s.name, s.labels);
      if (series.has(key)) problems.push(`line ${s.line}: duplicate series ${key}`);
      series.add(key);
      const owner = sampleNames.get(s.name);
      if (owner !== undefined && owner !== f.name)
        problems.push(
          `line ${s.line}: sample name ${s.name} used by families ${owner} and ${f.name}`,
        );
      sampleNames.set(s.name, f.name);
      if (format === 'openmetrics' && f.type === 'counter' && !s.name.endsWith('_total')) {
        problems.push(`line ${s.line}: OpenMetrics counter sample ${s.name} lacks _total`);
      }
      if (f.type === 'info' && s.value !== 1) problems.push(`line ${s.line}: info value is not 1`);
    }
    if (f.type === 'histogram') checkHistogram(f, format, problems);
  }
  return problems;
}
