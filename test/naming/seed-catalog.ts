/**
 * Reads the seed documents (/work/shared/seeds: the five originals' own metrics pages and source)
 * at test time and extracts their metric catalogs: name, type, label names, and where the seed
 * states them, label vocabularies, zero-fill, histogram buckets and the original's exact HELP.
 *
 * The seeds are scraped pages with tables flattened in different ways, so there is one small,
 * tolerant parse function per seed. Each throws naming the seed file when a piece it relies on is
 * missing, and the catalog tests assert the catalog sizes, so a broken extractor fails loudly
 * rather than silently checking less.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NativeProfileName, ProfileName } from '../../src/common/option-values.ts';

export type LegacyProfileName = Exclude<ProfileName, NativeProfileName>;
export type SeedType = 'counter' | 'gauge' | 'histogram';

export interface SeedMetric {
  readonly name: string;
  readonly type: SeedType;
  /** Label names in the seed's order, without the labels the seed puts on every series. */
  readonly labels: readonly string[];
  /** Per label: its documented vocabulary, in the seed's order (absent: open vocabulary). */
  readonly values: Readonly<Record<string, readonly string[]>>;
  /** Labels whose whole vocabulary is always emitted (0 when nothing was recorded). */
  readonly zeroFilled: readonly string[];
  /** Histogram upper bounds as the seed lists them, ascending, without `+Inf`. */
  readonly buckets?: readonly number[];
  /** The original's exact HELP text, where the seed shows it (an exposition sample, the source). */
  readonly help?: string;
  /** The seed's description of the metric. */
  readonly description: string;
}

export interface SeedCatalog {
  readonly profile: LegacyProfileName;
  /** Absolute path of the seed document. */
  readonly path: string;
  /** Labels the seed says every series carries (crewshipd: `hostname`). */
  readonly everySeries: readonly string[];
  readonly metrics: readonly SeedMetric[];
}

export const SEED_FILES: Readonly<Record<LegacyProfileName, string>> = {
  runwisp: '000_97c533cecbd298f8.txt',
  wasmrun: '001_cbe4f6eda02b64a2.txt',
  crewshipd: '002_3f41d70047843b13.txt',
  rm: '003_21764a6794fd0cf1.txt',
  solti: '004_754bdef0d2977d7f.txt',
};

/** /work/shared/seeds/<file>: the repo root's `../shared/seeds`, resolved from this file. */
export function seedPath(profile: LegacyProfileName): string {
  return fileURLToPath(new URL(`../../../shared/seeds/${SEED_FILES[profile]}`, import.meta.url));
}

export function readSeed(profile: LegacyProfileName): string {
  const path = seedPath(profile);
  if (!existsSync(path)) {
    throw new Error(
      `seed document for profile ${profile} is missing: ${path} (expected the repo root's ../shared/seeds/)`,
    );
  }
  // Scraped pages: normalise line ends and non-breaking spaces so the regexes see plain text.
  return readFileSync(path, 'utf8')
    .replace(/\r\n?/g, '\n')
    .replace(/\u00a0/g, ' ');
}

const PARSERS: Readonly<
  Record<LegacyProfileName, (text: string, file: string) => Omit<SeedCatalog, 'profile' | 'path'>>
> = {
  runwisp: parseRunwisp,
  wasmrun: parseWasmrun,
  crewshipd: parseCrewshipd,
  rm: parseRm,
  solti: parseSolti,
};

export function loadSeedCatalog(profile: LegacyProfileName): SeedCatalog {
  const path = seedPath(profile);
  const parsed = PARSERS[profile](readSeed(profile), path);
  const seen = new Set<string>();
  for (const m of parsed.metrics) {
    if (seen.has(m.name)) throw new Error(`${path}: metric ${m.name} extracted twice`);
    seen.add(m.name);
  }
  return { profile, path, ...parsed };
}

// ---------------------------------------------------------------------------------------------
// Shared helpers.

const IDENT = /^[a-z_][a-z0-9_]*$/;
const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram']);

function fail(file: string, what: string): never {
  throw new Error(`${file}: ${what} (the seed's format changed, or the extractor broke)`);
}

function seedType(word: string, file: string, name: string): SeedType {
  const t = word.trim().toLowerCase();
  if (!TYPES.has(t)) fail(file, `${name}: unknown type ${JSON.stringify(word)}`);
  return t as SeedType;
}

/**
 * A vocabulary written as prose: `a, b or c`, `a / b / c`, `{a, b}`, `x (meaning), y (meaning)`,
 * `a, b (+ other)`. Parenthesised glosses are dropped except a `(+ word)` fold, which is kept.
 */
function vocabulary(list: string): string[] {
  const folds = [...list.matchAll(/\(\+\s*([a-z_][a-z0-9_]*)\s*\)/g)].map((m) => m[1]!);
  const words = list
    .replace(/\([^)]*\)/g, ' ')
    .replace(/[{}`"]/g, ' ')
    .split(/,|\/|\bor\b|\band\b/)
    .map((w) => w.trim())
    .filter((w) => IDENT.test(w));
  return [...words, ...folds.filter((f) => !words.includes(f))];
}

function labelList(cell: string): string[] {
  return cell
    .replace(/[`{}]/g, ' ')
    .split(/[,\s]+/)
    .filter((w) => IDENT.test(w));
}

interface Draft {
  name: string;
  type: SeedType;
  labels: string[];
  values: Record<string, string[]>;
  zeroFilled: string[];
  buckets?: number[];
  help?: string;
  description: string;
}

function draft(name: string, type: SeedType, labels: string[], description: string): Draft {
  return { name, type, labels, values: {}, zeroFilled: [], description };
}

function finish(d: Draft): SeedMetric {
  return {
    name: d.name,
    type: d.type,
    labels: d.labels,
    values: d.values,
    zeroFilled: d.zeroFilled,
    ...(d.buckets ? { buckets: d.buckets } : {}),
    ...(d.help !== undefined ? { help: d.help } : {}),
    description: d.description,
  };
}

/** Parses `1, 5, 30, …, +Inf` (the `+Inf` must be last and is dropped). */
function bucketList(text: string, file: string, requireInf: boolean): number[] {
  const tokens = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (requireInf) {
    if (tokens.at(-1) !== '+Inf')
      fail(file, `bucket list ${JSON.stringify(text)} does not end in +Inf`);
    tokens.pop();
  }
  const bounds = tokens.map(Number);
  if (bounds.length === 0 || bounds.some((b) => !Number.isFinite(b)))
    fail(file, `bucket list ${JSON.stringify(text)} is not numbers`);
  for (let i = 1; i < bounds.length; i++)
    if (!(bounds[i]! > bounds[i - 1]!))
      fail(file, `bucket list ${JSON.stringify(text)} is not ascending`);
  return bounds;
}

// ---------------------------------------------------------------------------------------------
// 000 RunWisp: a markdown table flattened to `name | type | labels | meaning |` lines.

export function parseRunwisp(text: string, file: string): Omit<SeedCatalog, 'profile' | 'path'> {
  const metrics: SeedMetric[] = [];
  for (const line of text.split('\n')) {
    const cells = line
      .trim()
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split('|')
      .map((c) => c.trim());
    if (cells.length < 4 || !/^runwisp_[a-z0-9_]+$/.test(cells[0]!)) continue;
    const [name, type, labelCell, ...rest] = cells as [string, string, string, ...string[]];
    const description = rest.join('|').trim();
    const d = draft(
      name,
      seedType(type, file, name),
      /^(—|-|–)?$/.test(labelCell) ? [] : labelList(labelCell),
      description,
    );
    // "reached a terminal status (success or failed)": the one label's vocabulary.
    const terminal = /terminal (\w+) \(([^)]*)\)/.exec(description);
    if (terminal && d.labels.includes(terminal[1]!))
      d.values[terminal[1]!] = vocabulary(terminal[2]!);
    // "kind is task or service"
    for (const m of description.matchAll(/\b([a-z_]+) is ([a-z_]+(?:, [a-z_]+)*,? or [a-z_]+)/g)) {
      if (d.labels.includes(m[1]!)) d.values[m[1]!] = vocabulary(m[2]!);
    }
    metrics.push(finish(d));
  }
  return { everySeries: [], metrics };
}

// ---------------------------------------------------------------------------------------------
// 001 wasmrun: a glued reference table (`wasmrun_agent_exec_total{result}counterExecutions…`),
// an exposition sample with the original's `# HELP`/`# TYPE` lines, and a JSON sample.

export function parseWasmrun(text: string, file: string): Omit<SeedCatalog, 'profile' | 'path'> {
  const lines = text.split('\n').map((l) => l.trim());
  const help = new Map<string, string>();
  const sampleType = new Map<string, string>();
  for (const l of lines) {
    const h = /^# HELP (wasmrun_agent_[a-z0-9_]+) (.*)$/.exec(l);
    if (h) help.set(h[1]!, h[2]!);
    const t = /^# TYPE (wasmrun_agent_[a-z0-9_]+) (\w+)$/.exec(l);
    if (t) sampleType.set(t[1]!, t[2]!);
  }
  // JSON sample: `"exec_total": { "success": 12, "error": 1, "timeout": 0 },` — every key shown.
  const jsonKeys = new Map<string, string[]>();
  for (const l of lines) {
    const j = /^"([a-z0-9_]+)":\s*\{([^}]*)\}/.exec(l);
    if (j)
      jsonKeys.set(
        j[1]!,
        [...j[2]!.matchAll(/"([a-z0-9_]+)"\s*:/g)].map((m) => m[1]!),
      );
  }
  const metrics: SeedMetric[] = [];
  for (const l of lines) {
    const m = /^(wasmrun_agent_[a-z0-9_]+?)(?:\{([^}]*)\})?(counter|gauge|histogram)(.+)$/.exec(l);
    if (!m) continue;
    const [, name, labelCell, type, description] = m as unknown as [
      string,
      string,
      string | undefined,
      string,
      string,
    ];
    const d = draft(
      name,
      seedType(type, file, name),
      labelCell ? labelList(labelCell) : [],
      description.trim(),
    );
    const shown = sampleType.get(name);
    if (shown !== undefined && shown !== d.type)
      fail(file, `${name}: the table says ${d.type}, the sample's # TYPE says ${shown}`);
    if (help.has(name)) d.help = help.get(name)!;
    // "by terminal result: success (ran to completion), error (failed to run), timeout"
    const by = /\bby (?:terminal )?([a-z_]+): (.*)$/.exec(d.description);
    if (by && d.labels.includes(by[1]!)) {
      const label = by[1]!;
      d.values[label] = vocabulary(by[2]!);
      const keys = jsonKeys.get(name.replace(/^wasmrun_agent_/, ''));
      if (keys !== undefined && d.values[label].every((v) => keys.includes(v)))
        d.zeroFilled.push(label);
    }
    metrics.push(finish(d));
  }
  for (const name of help.keys()) {
    if (!metrics.some((m) => m.name === name))
      fail(file, `${name} has a # HELP in the sample but no row in the reference table`);
  }
  return { everySeries: [], metrics };
}

// ---------------------------------------------------------------------------------------------
// 002 crewshipd: tables glued into lines under `MetricTypeDescription` or
// `MetricTypeLabelsDescription` headers (`crewshipd_assignmentsgaugestatusAssignments …`).

export function parseCrewshipd(text: string, file: string): Omit<SeedCatalog, 'profile' | 'path'> {
  const every = /Every series carries an? `?([a-z_][a-z0-9_]*)`? label/.exec(text);
  if (!every) fail(file, 'no "Every series carries a … label" sentence');
  const metrics: SeedMetric[] = [];
  let withLabels: boolean | undefined;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    const header = /^Metric\s*Type\s*(Labels)?\s*Description$/.exec(l);
    if (header) {
      withLabels = header[1] !== undefined;
      continue;
    }
    const m = /^(crewshipd_[a-z0-9_]+?)(counter|gauge|histogram)(.+)$/.exec(l);
    if (!m) continue;
    if (withLabels === undefined) fail(file, `${m[1]} appears before any table header`);
    const [, name, type, rest] = m as unknown as [string, string, string, string];
    let labels: string[] = [];
    let description = rest;
    if (withLabels) {
      // The labels cell is lower-case identifiers; every description starts with a capital.
      const split = /^([a-z_][a-z0-9_]*(?:,\s*[a-z_][a-z0-9_]*)*)?([A-Z].*)$/.exec(rest);
      if (!split) fail(file, `${name}: cannot split the labels cell from ${JSON.stringify(rest)}`);
      labels = split[1] ? labelList(split[1]) : [];
      description = split[2]!;
    }
    const d = draft(name, seedType(type, file, name), labels, description.trim());
    if (d.labels.length === 1) {
      const label = d.labels[0]!;
      // "Statuses: pending, …, cancelled; anything unrecognized folds into other."
      // "by status: queued, …, interrupted (+ other), zero-filled"
      // "(live + archived rows): started, completed, failed, cancelled, timeout"
      const list =
        /Statuses: ([^;.]*)/.exec(d.description)?.[1] ?? /:\s*([^:]*)$/.exec(d.description)?.[1];
      if (list !== undefined) {
        const words = vocabulary(list.replace(/,?\s*zero-filled.*$/i, ''));
        const fold = /folds into ([a-z_]+)/.exec(d.description)?.[1];
        if (fold !== undefined && !words.includes(fold)) words.push(fold);
        d.values[label] = words;
      }
      if (/zero-filled/i.test(d.description)) d.zeroFilled.push(label);
    }
    metrics.push(finish(d));
  }
  return { everySeries: [every[1]!], metrics };
}

// ---------------------------------------------------------------------------------------------
// 003 restic-manager: `Name Labels Description` rows separated by spaces, a per-host section whose
// labels are stated once in prose, and the job duration histogram's sample names, vocabularies
// (`kind ∈ {…}`) and bucket line.

export function parseRm(text: string, file: string): Omit<SeedCatalog, 'profile' | 'path'> {
  const perHost =
    /Per-host metrics carry an? `?([a-z_]+)`? label.*?and an? `?([a-z_]+)`? label/.exec(
      text.replace(/\n/g, ' '),
    );
  if (!perHost) fail(file, 'no "Per-host metrics carry a … label … and a … label" sentence');
  const hostLabels = [perHost[1]!, perHost[2]!];
  const lines = text.split('\n').map((l) => l.trim());
  const metrics: SeedMetric[] = [];
  let section: 'server' | 'host' | 'histogram' | undefined;
  let withLabels = false;
  let histogram: Draft | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^Server gauges$/i.test(l)) section = 'server';
    else if (/^Per-host gauges$/i.test(l)) section = 'host';
    else if (/^Job duration histogram$/i.test(l)) section = 'histogram';
    else if (/^(Grafana dashboard|Cardinality)$/i.test(l)) section = undefined;
    if (/^Name\s+(Labels\s+)?Description$/.test(l)) {
      withLabels = /Labels/.test(l);
      continue;
    }
    if (section === 'server' || section === 'host') {
      const row = /^(rm_[a-z0-9_]+)\s+(.*)$/.exec(l);
      if (!row) continue;
      const [, name, rest] = row as unknown as [string, string, string];
      let labels: string[] = [];
      let description = rest;
      const values: Record<string, string[]> = {};
      if (withLabels) {
        // `severity ∈ {info, warning, critical} Open alerts…` or `version, commit, go_version Always 1;…`
        const member = /^([a-z_]+)\s*\u2208\s*\{([^}]*)\}\s+(.*)$/.exec(rest);
        const list = /^([a-z_][a-z0-9_]*(?:,\s*[a-z_][a-z0-9_]*)+)\s+(.*)$/.exec(rest);
        if (member) {
          labels = [member[1]!];
          values[member[1]!] = vocabulary(member[2]!);
          description = member[3]!;
        } else if (list) {
          labels = labelList(list[1]!);
          description = list[2]!;
        }
      }
      if (section === 'host') {
        labels = [...hostLabels];
        // "Always 1; the status label carries unknown / ready / init_failed."
        const carries = /the ([a-z_]+) label carries ([a-z_ /,]+?)\.?$/.exec(description);
        if (carries) {
          labels.push(carries[1]!);
          values[carries[1]!] = vocabulary(carries[2]!);
        }
      }
      const d = draft(name, 'gauge', labels, description.trim());
      d.values = values;
      metrics.push(finish(d));
    } else if (section === 'histogram') {
      const sample = /^(rm_[a-z0-9_]+)_(bucket|sum|count)\{([^}]*)\}$/.exec(l);
      if (sample) {
        const name = sample[1]!;
        const labels = labelList(sample[3]!).filter((x) => x !== 'le');
        if (histogram === undefined) histogram = draft(name, 'histogram', labels, '');
        else if (histogram.name !== name || histogram.labels.join() !== labels.join())
          fail(file, `histogram samples disagree: ${l}`);
        continue;
      }
      if (histogram !== undefined) {
        for (const m of l.matchAll(/\b([a-z_]+)\s*\u2208\s*\{([^}]*)\}/g)) {
          if (histogram.labels.includes(m[1]!)) histogram.values[m[1]!] = vocabulary(m[2]!);
        }
        if (/^Buckets\b/i.test(l)) {
          const next = lines.slice(i + 1).find((x) => x !== '');
          if (next === undefined) fail(file, 'no bucket line after "Buckets (seconds):"');
          histogram.buckets = bucketList(next, file, true);
        }
        if (histogram.description === '' && /^The histogram is/.test(l)) histogram.description = l;
      }
    }
  }
  if (histogram === undefined) fail(file, 'no job duration histogram samples');
  if (histogram.buckets === undefined) fail(file, `${histogram.name}: no bucket list`);
  metrics.push(finish(histogram));
  return { everySeries: [], metrics };
}

// ---------------------------------------------------------------------------------------------
// 004 solti: Rust source with line numbers glued to each line; the doc comment has a metric
// table (`/// | \`solti_runner_tasks_started_total\` | Counter | \`runner\` | …`), a label
// vocabulary table and the bucket list; the constructor has the HELP strings and the buckets again.

export function parseSolti(text: string, file: string): Omit<SeedCatalog, 'profile' | 'path'> {
  const lines = text.split('\n').map((l) => l.replace(/^\d+/, ''));
  const cellsOf = (l: string): string[] | undefined => {
    const doc = /^\s*\/\/\/\s*\|(.*)\|\s*$/.exec(l);
    return doc ? doc[1]!.split('|').map((c) => c.trim()) : undefined;
  };
  const drafts: Draft[] = [];
  const vocab = new Map<string, string[]>();
  let docSection = '';
  let docBuckets: number[] | undefined;
  for (const l of lines) {
    const heading = /^\s*\/\/\/\s*##\s*(.*)$/.exec(l);
    if (heading) docSection = heading[1]!.trim().toLowerCase();
    const bucketsLine = /^\s*\/\/\/.*Buckets \(seconds\):\s*`([^`]*)`/.exec(l);
    if (bucketsLine) docBuckets = bucketList(bucketsLine[1]!, file, false);
    const cells = cellsOf(l);
    if (!cells) continue;
    const name = /^`(solti_[a-z0-9_]+)`$/.exec(cells[0]!)?.[1];
    if (docSection === 'metrics' && name !== undefined && cells.length >= 4) {
      drafts.push(draft(name, seedType(cells[1]!, file, name), labelList(cells[2]!), cells[3]!));
    }
    const label = /^`([a-z_][a-z0-9_]*)`$/.exec(cells[0]!)?.[1];
    if (docSection === 'labels' && label !== undefined && cells.length >= 2) {
      // "`cgroup_prepare_failed`, …, `module_load_failed` (from [`RunnerErrorKind`])"
      const list = cells[1]!.replace(/\([^)]*\)/g, ' ');
      vocab.set(
        label,
        [...list.matchAll(/`([a-z_][a-z0-9_]*)`/g)].map((m) => m[1]!),
      );
    }
  }
  if (docBuckets === undefined) fail(file, 'no "Buckets (seconds): `…`" doc line');
  // The constructor: r.counter_vec("tasks_started_total", "HELP", &["runner"]) and
  // r.histogram_vec("task_duration_seconds", "HELP", vec![…], &["runner", "outcome"]).
  const source = lines.join('\n');
  const ctor = [
    ...source.matchAll(
      /\.(counter_vec|histogram_vec)\(\s*"([a-z0-9_]+)",\s*"([^"]*)",\s*(?:vec!\[([^\]]*)\],\s*)?&\[([^\]]*)\]/g,
    ),
  ];
  if (ctor.length === 0) fail(file, 'no counter_vec/histogram_vec registrations in the source');
  for (const [, kind, suffix, help, vec, labelsRaw] of ctor as unknown as Array<
    [string, string, string, string, string | undefined, string]
  >) {
    const matches = drafts.filter((d) => d.name.endsWith(`_${suffix}`));
    if (matches.length !== 1)
      fail(file, `registration ${suffix} matches ${matches.length} documented metrics`);
    const d = matches[0]!;
    d.help = help;
    const codeLabels = [...labelsRaw.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]!);
    if (codeLabels.join() !== d.labels.join())
      fail(file, `${d.name}: doc labels ${d.labels.join()} ≠ source labels ${codeLabels.join()}`);
    if ((kind === 'histogram_vec') !== (d.type === 'histogram'))
      fail(file, `${d.name}: doc type ${d.type} ≠ source ${kind}`);
    if (vec !== undefined) {
      const codeBuckets = bucketList(vec, file, false);
      if (codeBuckets.join() !== docBuckets.join())
        fail(
          file,
          `${d.name}: doc buckets ${docBuckets.join()} ≠ source buckets ${codeBuckets.join()}`,
        );
      d.buckets = codeBuckets;
    }
  }
  for (const d of drafts) {
    for (const label of d.labels) {
      const words = vocab.get(label);
      if (words !== undefined) d.values[label] = words;
    }
    if (d.type === 'histogram' && d.buckets === undefined) fail(file, `${d.name}: no buckets`);
  }
  return { everySeries: [], metrics: drafts.map(finish) };
}
