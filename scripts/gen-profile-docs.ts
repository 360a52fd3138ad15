/**
 * Generates docs/profiles.md from the profile modules in src/naming/profiles/ (their naming tables
 * and their docs data are the only source: nothing here restates a metric or a profile), and the compact "Profiles" table of README.md
 * between `<!-- profiles:start -->` and `<!-- profiles:end -->` when those markers exist.
 *
 *   node scripts/gen-profile-docs.ts           rewrite docs/profiles.md (+ the README block)
 *   node scripts/gen-profile-docs.ts --check   exit 1 if either is out of date; write nothing
 *
 * It also gathers the promtool allow-list (PROMTOOL_ALLOWLIST, from each module's `promtool`): the
 * exact `promtool check metrics` lines each profile's demo render may print, each with why.
 * test/naming/promtool-profiles.test.ts asserts against it and the docs print it. Importing this module has no
 * side effects; only running it as a script writes files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DOMAIN_INSTRUMENTS } from '../src/domain/catalog.ts';
import {
  conventionCatalog,
  conventionSpec,
  type ConventionAttribute,
} from '../src/domain/convention.ts';
import {
  CONVENTION_PROCESS_INSTRUMENTS,
  PROCESS_INSTRUMENTS,
} from '../src/domain/process-metrics.ts';
import {
  EXPOSED_KIND,
  SHAPE_OF_KIND,
  type InstrumentKind,
  type InstrumentSpec,
} from '../src/domain/types.ts';
import { prometheusName } from '../src/naming/prometheus-names.ts';
import { semconvConvention } from '../src/naming/profiles/semconv.ts';
import { OPTION_DEFAULTS } from '../src/common/option-defaults.ts';
import {
  LEGACY_PROFILES,
  PROFILE_DOCS,
  PROFILE_NAMES,
  type AllowedWarning,
} from '../src/naming/profiles/index.ts';
import type { FamilyRule, TableProfile } from '../src/naming/types.ts';
import type { ProfileName } from '../src/options.ts';

const ROOT = new URL('../', import.meta.url);
export const PROFILES_DOC = fileURLToPath(new URL('docs/profiles.md', ROOT));
export const README = fileURLToPath(new URL('README.md', ROOT));
export const README_START = '<!-- profiles:start -->';
export const README_END = '<!-- profiles:end -->';
const REGENERATE = 'node scripts/gen-profile-docs.ts';

// ---------------------------------------------------------------------------------------------
// promtool allow-list: each profile module's own (ProfileDoc `promtool`, `openMetricsRecipe`)

/**
 * What `promtool check metrics` may say about each profile's demo render (text 0.0.4). Any line
 * not listed fails test/naming/promtool-profiles.test.ts.
 */
export const PROMTOOL_ALLOWLIST: Readonly<Record<ProfileName, readonly AllowedWarning[]>> =
  Object.fromEntries(PROFILE_NAMES.map((name) => [name, PROFILE_DOCS[name].promtool])) as Record<
    ProfileName,
    readonly AllowedWarning[]
  >;

/**
 * What the seed's own lint recipe (`curl … | promtool check metrics`) prints on the body a profile
 * serves by default when that body is OpenMetrics (runwisp): promtool 2.42 reads it as text 0.0.4,
 * where a counter's `# HELP` names the family without `_total`, so its `_total` samples have no
 * help text. The original's own body reads the same. test/naming/promtool-profiles.test.ts runs it.
 */
export const OPENMETRICS_RECIPE_FINDINGS: Readonly<
  Partial<Record<ProfileName, readonly string[]>>
> = Object.fromEntries(
  PROFILE_NAMES.flatMap((name) => {
    const findings = PROFILE_DOCS[name].openMetricsRecipe;
    return findings === undefined ? [] : [[name, findings]];
  }),
);

/** The exact lines promtool may print for `profile`, sorted. */

export function allowedWarningLines(profile: ProfileName): string[] {
  return PROMTOOL_ALLOWLIST[profile]
    .flatMap((w) => w.problems.map((p) => `${w.metric} ${p}`))
    .sort();
}

// ---------------------------------------------------------------------------------------------
// Facts read from the profile modules: their tables and docs

/** The profile's `about` lines as markdown (indented runs become a text block). */
function profileComment(name: ProfileName): string {
  const lines = PROFILE_DOCS[name].about;
  const out: string[] = [];
  let inBlock = false;
  for (const l of lines) {
    const indented = /^ {2,}\S/.test(l);
    if (indented && !inBlock) out.push('', '```text');
    if (!indented && inBlock) out.push('```', '');
    inBlock = indented;
    out.push(indented ? l.slice(2) : l);
  }
  if (inBlock) out.push('```');
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

function originalName(name: ProfileName): string {
  return PROFILE_DOCS[name].original;
}

function formatLong(format: TableProfile['format']): string {
  switch (format) {
    case 'negotiate':
      return 'OpenMetrics 1.0 or text 0.0.4, negotiated from `Accept` (text when the header names neither)';
    case 'openmetrics':
      return 'OpenMetrics 1.0 (`application/openmetrics-text; version=1.0.0`, ends in `# EOF`), whatever the `Accept` header';
    case 'text':
      return 'text 0.0.4 (`text/plain; version=0.0.4`), whatever the `Accept` header';
  }
}

function formatShort(format: TableProfile['format']): string {
  return format === 'negotiate'
    ? 'negotiated'
    : format === 'openmetrics'
      ? 'OpenMetrics 1.0'
      : 'text 0.0.4';
}

const DEFAULT_SNAPSHOT_TIMEOUT_MILLIS = OPTION_DEFAULTS.snapshot.timeoutMillis;

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function cacheShort(profile: TableProfile | undefined): string {
  const ttl = profile?.snapshot?.ttlMillis ?? 0;
  return ttl > 0 ? seconds(ttl) : 'none';
}

function cacheLong(profile: TableProfile | undefined): string {
  const ttl = profile?.snapshot?.ttlMillis;
  const timeout = profile?.snapshot?.timeoutMillis ?? DEFAULT_SNAPSHOT_TIMEOUT_MILLIS;
  const policy =
    ttl === undefined
      ? 'no cache (the default): the snapshot callback runs on every scrape'
      : ttl === 0
        ? 'none, on purpose: the snapshot callback runs on every scrape (host-derived series are always fresh)'
        : `host-derived series are reused for ${seconds(ttl)} (scrapes within that window get the same snapshot)`;
  return `${policy}; a call slower than ${seconds(timeout)} serves the last good snapshot`;
}

function bucketsOf(profile: TableProfile, rule: FamilyRule): readonly number[] | undefined {
  return (
    profile.buckets?.[rule.instrument] ??
    DOMAIN_INSTRUMENTS.find((s) => s.name === rule.instrument)?.buckets
  );
}

// ---------------------------------------------------------------------------------------------
// Markdown

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(s: string): string {
  return '`' + s + '`';
}

function labelsCell(profile: TableProfile, rule: FamilyRule): string {
  const parts = (rule.labels ?? []).map(([attr, label]) =>
    attr === label ? code(label) : `${code(label)} ← ${code(attr)}`,
  );
  if (profile.hostnameLabel !== undefined) parts.push(`${code(profile.hostnameLabel)} (host name)`);
  return parts.length === 0 ? '—' : parts.join(', ');
}

function valuesCell(rule: FamilyRule): string {
  const parts: string[] = [];
  for (const [label, values] of Object.entries(rule.zeroFill ?? {})) {
    parts.push(`${code(label)}: ${values.map(code).join(', ')} (all always emitted, 0 when none)`);
  }
  for (const [attr, map] of Object.entries(rule.values ?? {})) {
    const label = rule.labels?.find(([a]) => a === attr)?.[1] ?? attr;
    const words = Object.entries(map).map(([from, to]) => `${from} → ${code(to)}`);
    const source = label === attr ? code(label) : `${code(label)} from ${code(attr)}`;
    parts.push(`${source}: ${words.join(', ')}; other values unchanged`);
  }
  return parts.join('; ');
}

function fromCell(rule: FamilyRule): string {
  const from = rule.from ?? 'value';
  return from === 'value' ? code(rule.instrument) : `${code(rule.instrument)} (its ${from})`;
}

function notesCell(profile: TableProfile, rule: FamilyRule): string {
  const notes: string[] = [];
  if (rule.unit !== undefined) notes.push(`unit ${code(rule.unit)}`);
  if (rule.scale !== undefined && rule.scale !== 1) {
    notes.push(
      rule.scale === 1000
        ? '×1000 (seconds → milliseconds)'
        : rule.scale === 100
          ? '×100 (fraction → percent)'
          : `×${rule.scale}`,
    );
  }
  if (rule.emitZero) notes.push('present from the start (0 before anything is recorded)');
  if (rule.type === 'histogram') {
    const b = bucketsOf(profile, rule);
    if (b !== undefined) notes.push(`buckets ${[...b.map(String), '+Inf'].join(', ')}`);
  }
  if (rule.type === 'counter' && !rule.name.endsWith('_total'))
    notes.push('counter without `_total` (OpenMetrics: typed `unknown` to keep the name)');
  return notes.join('; ');
}

function slug(name: ProfileName): string {
  return `#${name}`;
}

/** The compact "Profiles" table for README.md (also at the top of docs/profiles.md). */
export function profilesTable(linkBase = 'docs/profiles.md'): string {
  const rows = [
    '| profile | original | series prefix | serves | families | host snapshot cache |',
    '|---|---|---|---|---|---|',
  ];
  for (const name of PROFILE_NAMES) {
    const link = `[${code(name)}](${linkBase}${slug(name)})`;
    if (name === 'otel') {
      rows.push(
        `| ${link} (default) | ${originalName(name)} | — (OTel names) | ${formatShort('negotiate')} | every instrument | none |`,
      );
      continue;
    }
    if (name === 'semconv') {
      rows.push(
        `| ${link} | ${originalName(name)} | — (OTel names) | ${formatShort('negotiate')} | every instrument | none |`,
      );
      continue;
    }
    const p = LEGACY_PROFILES[name];
    rows.push(
      `| ${link} | ${cell(originalName(name))} | ${code(p.prefix)} | ${formatShort(p.format)} | ${p.rules.length} | ${cacheShort(p)} |`,
    );
  }
  return rows.join('\n');
}

function allowListSection(name: ProfileName): string {
  const entries = PROMTOOL_ALLOWLIST[name];
  const head = '### `promtool check metrics`\n\n';
  if (entries.length === 0) {
    return (
      head +
      'Clean: no output, exit 0, on the demo render in text 0.0.4 (asserted by `test/naming/promtool-profiles.test.ts`).\n' +
      recipeNote(name)
    );
  }
  const rows = ['| metric | promtool says | why the name stays |', '|---|---|---|'];
  for (const w of entries)
    rows.push(
      `| ${code(w.metric)} | ${w.problems.map((p) => cell(p)).join('<br>')} | ${cell(w.why)} |`,
    );
  return (
    head +
    "Exit 3 with exactly these findings on the demo render in text 0.0.4, all caused by the original's own names; " +
    'any other line fails `test/naming/promtool-profiles.test.ts`.\n\n' +
    rows.join('\n') +
    '\n'
  );
}

/** For a profile serving OpenMetrics by default: what the seed's own promtool recipe says on that body. */
function recipeNote(name: ProfileName): string {
  const findings = OPENMETRICS_RECIPE_FINDINGS[name];
  if (findings === undefined) return '';
  return (
    '\nThat is the text render, which this profile serves only with `[listener] format = "text"`. By ' +
    "default it serves OpenMetrics, as its original does, and the seed's own recipe " +
    '(`curl -s …/metrics | promtool check metrics`) reads that body as text 0.0.4: exit 3, with ' +
    findings.map((f) => code(f)).join(', ') +
    " (an OpenMetrics counter's `# HELP` names the family without `_total`), as it would on the " +
    "original's own body. Prometheus itself scrapes the OpenMetrics body without complaint.\n"
  );
}

function otelSection(): string {
  return [
    '## otel',
    '',
    profileComment('otel'),
    '',
    '- **Series prefix:** none; names follow the OpenTelemetry → Prometheus compatibility rules (`.` → `_`, unit suffixes, `_total` on monotonic sums).',
    `- **Serves:** ${formatLong('negotiate')}.`,
    '- **Extras:** `target_info` and the `otel_scope_name` / `otel_scope_version` labels unless `otelScopeInfo: false`.',
    `- **Host snapshot cache:** ${cacheLong(undefined)}.`,
    '',
    allowListSection('otel'),
  ].join('\n');
}

/** The OTel → Prometheus name the native naming gives an instrument (default strategy, unit words). */
function nativeName(spec: InstrumentSpec): string {
  return prometheusName(spec.name, spec.unit, EXPOSED_KIND[SHAPE_OF_KIND[spec.kind]]).name;
}

/** The OpenTelemetry instrument type, as the conventions' tables write it. */
function instrumentType(kind: InstrumentKind): string {
  return (
    kind.replace(/^observable/, '').replace(/^./, (c) => c.toUpperCase()) +
    (kind.startsWith('observable') ? ' (async)' : '')
  );
}

function conventionAttributeCell(a: ConventionAttribute): string {
  if (a.from === undefined) return `${code(a.key)} = ${code(a.value ?? '')}${boundCell(a)}`;
  const words = Object.entries(a.values ?? {}).map(([from, to]) => `${from} → ${code(to)}`);
  const only =
    a.only === undefined
      ? ''
      : ` (${a.required === true ? 'only records' : 'only'} with ${code(a.from)} ${a.only.map(code).join(' or ')})`;
  return `${code(a.key)} ← ${code(a.from)}${words.length === 0 ? '' : ': ' + words.join(', ')}${only}${boundCell(a)}`;
}

/** What bounds the attribute beyond jobmeter's own words: what a sender to the ingest may push. */
function boundCell(a: ConventionAttribute): string {
  if (a.words !== undefined) return `; the convention's set: ${a.words.map(code).join(', ')}`;
  if (a.cap !== undefined) return `; open, the first ${a.cap} values kept`;
  return '';
}

function semconvSection(): string {
  const rows = [
    '| instrument | type | unit | attributes | from (canonical instrument) | Prometheus name | description |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const entry of semconvConvention.instruments) {
    const canonical = DOMAIN_INSTRUMENTS.find((s) => s.name === entry.instrument)!;
    const spec = conventionSpec(entry, canonical);
    rows.push(
      `| ${code(entry.name)} | ${instrumentType(entry.kind)} | ${code(entry.unit)} | ${entry.attributes.map((a) => cell(conventionAttributeCell(a))).join('<br>')} | ${code(entry.instrument)}${entry.alongside === true ? ' (which keeps its own name too)' : ''} | ${code(nativeName(spec))} | ${cell(entry.description)} |`,
    );
  }
  const omitted = semconvConvention.omitted.map((o) => `${code(o.instrument)} (${o.why})`);
  // By content: the conventions' list is derived from jobmeter's, so an unchanged spec is an equal copy.
  const same = (a: InstrumentSpec, b: InstrumentSpec): boolean =>
    JSON.stringify(a) === JSON.stringify(b);
  const changed = CONVENTION_PROCESS_INSTRUMENTS.filter(
    (s) => !PROCESS_INSTRUMENTS.some((p) => same(p, s)),
  );
  const dropped = PROCESS_INSTRUMENTS.filter(
    (s) => !CONVENTION_PROCESS_INSTRUMENTS.some((c) => c.name === s.name),
  );
  const processRows = [
    '| instrument | type | unit | attributes | Prometheus name |',
    '|---|---|---|---|---|',
    ...changed.map(
      (s) =>
        `| ${code(s.name)} | ${instrumentType(s.kind)} | ${code(s.unit)} | ${s.attributes.map((a) => code(a.key) + (a.values?.length === 1 ? ` = ${code(a.values[0]!)}` : '')).join(', ') || '—'} | ${code(nativeName(s))} |`,
    ),
  ];
  const kept = conventionCatalog(semconvConvention, DOMAIN_INSTRUMENTS)
    .filter((s) => s.name.startsWith('jobmeter.'))
    .map((s) => code(s.name));
  return [
    '## semconv',
    '',
    profileComment('semconv'),
    '',
    '- **Series prefix:** none; the pull endpoint names the instruments as `otel` does (the OTel → Prometheus compatibility rules).',
    `- **Serves:** ${formatLong('negotiate')}.`,
    '- **OTLP push:** with `[otlp] naming = "canonical"` (this profile\'s default), the instruments themselves: the conventions\' names, units, attributes and words exactly.',
    `- **Host snapshot cache:** ${cacheLong(undefined)}.`,
    '',
    "### The CI/CD conventions' instruments",
    '',
    rows.join('\n'),
    '',
    `Not recorded: ${omitted.join('; ')}. A run's ${code('kind')} and ${code('runner')} are not attributes of the conventions' run instruments: runs of one task are one pipeline.`,
    '',
    '### Process and runtime instruments',
    '',
    `As \`otel\` serves them, with these under the conventions' definitions (${dropped.map((s) => code(s.name)).join(' and ')} are not recorded: ${code('v8js.resource.active')} counts the active resources by type, ${code('v8js.gc.duration')}'s count is the collections):`,
    '',
    processRows.join('\n'),
    '',
    '### jobmeter names kept',
    '',
    `No convention defines these yet; they keep jobmeter's documented names and attributes (docs/host-apps.md): ${kept.join(', ')}.`,
    '',
    allowListSection('semconv'),
  ].join('\n');
}

function tableSection(name: Exclude<ProfileName, 'otel' | 'semconv'>): string {
  const p = LEGACY_PROFILES[name];
  const rows = [
    '| metric | type | labels | label values | from (canonical instrument) | unit / scale / notes | HELP |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of p.rules) {
    rows.push(
      `| ${code(r.name)} | ${r.type} | ${labelsCell(p, r)} | ${cell(valuesCell(r))} | ${fromCell(r)} | ${cell(notesCell(p, r))} | ${cell(r.help)} |`,
    );
  }
  const facts = [
    `- **Series prefix:** ${code(p.prefix)}`,
    `- **Serves:** ${formatLong(p.format)}.`,
    `- **\`?format=json\`:** ${p.json === 'flat' ? "the original's flat shape (family name without the prefix → a number, or an object keyed by its one label)" : 'the generic documented shape'}.`,
    `- **Host snapshot cache:** ${cacheLong(p)}.`,
  ];
  if (p.hostnameLabel !== undefined)
    facts.push(`- **Every series** carries ${code(p.hostnameLabel)}: the machine's host name.`);
  return [
    `## ${name}`,
    '',
    profileComment(name),
    '',
    ...facts,
    '',
    rows.join('\n'),
    '',
    allowListSection(name),
  ].join('\n');
}

/** docs/profiles.md, whole. */
export function generateProfilesDoc(): string {
  const sections = PROFILE_NAMES.map((n) =>
    n === 'otel' ? otelSection() : n === 'semconv' ? semconvSection() : tableSection(n),
  );
  return (
    [
      '# Naming profiles',
      '',
      `<!-- Generated from src/naming/profiles/*.ts by scripts/gen-profile-docs.ts. Do not edit; run: ${REGENERATE} -->`,
      '',
      "A profile decides how jobmeter's canonical instruments appear as Prometheus series. `otel` derives names from the",
      "OpenTelemetry compatibility rules; `semconv` records the OpenTelemetry semantic conventions' instruments where one",
      "defines the measure, named as `otel` names them; every other profile is a table reproducing one existing system's exact series",
      'names, label names, label words, buckets and omission rules. Select one with `profile = "NAME"` /',
      '`--profile NAME` / `createJobmeter({ profile })`; `jobmeter serve --profile NAME --demo` serves every series.',
      '',
      profilesTable(''),
      '',
      ...sections,
    ]
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}

/** README.md with the block between the markers regenerated; undefined when the markers are absent. */
export function updateReadme(readme: string): string | undefined {
  const i = readme.indexOf(README_START);
  const j = readme.indexOf(README_END);
  if (i === -1 || j === -1 || j < i) return undefined;
  return readme.slice(0, i + README_START.length) + '\n' + profilesTable() + '\n' + readme.slice(j);
}

function main(args: readonly string[]): number {
  const check = args.includes('--check');
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(
      `gen-profile-docs: unknown argument(s) ${unknown.join(' ')}; usage: ${REGENERATE} [--check]`,
    );
    return 2;
  }
  let stale = 0;
  const doc = generateProfilesDoc();
  let current: string | undefined;
  try {
    current = readFileSync(PROFILES_DOC, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== doc) {
    stale++;
    if (check) console.error(`docs/profiles.md is out of date; run: ${REGENERATE}`);
    else writeFileSync(PROFILES_DOC, doc);
  }
  const readme = readFileSync(README, 'utf8');
  const updated = updateReadme(readme);
  if (updated === undefined) {
    console.error(`README.md has no ${README_START} … ${README_END} markers: README left alone`);
  } else if (updated !== readme) {
    stale++;
    if (check) console.error(`README.md's profiles table is out of date; run: ${REGENERATE}`);
    else writeFileSync(README, updated);
  }
  if (!check)
    console.log(
      stale === 0
        ? 'docs/profiles.md and the README table were up to date'
        : `updated ${stale} file(s)`,
    );
  return check && stale > 0 ? 1 : 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
