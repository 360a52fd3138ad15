/**
 * Generates docs/options.md from the option table (src/common/option-table.ts: the only source;
 * nothing here restates an option): each row's values, and its doc comment (read with the
 * TypeScript checker, as an editor shows it on the options' types).
 *
 *   node scripts/gen-options-doc.ts           rewrite docs/options.md
 *   node scripts/gen-options-doc.ts --check   exit 1 if it is out of date; write nothing
 *
 * Importing this module has no side effects; only running it as a script writes the file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { millis } from '../src/common/option-rules.ts';
import { SECTIONS, type OptionRow, type SectionName } from '../src/common/option-table.ts';

export const OPTIONS_DOC = fileURLToPath(new URL('../docs/options.md', import.meta.url));
const TABLE = fileURLToPath(new URL('../src/common/option-table.ts', import.meta.url));
const REGENERATE = 'node scripts/gen-options-doc.ts';

/** A row's doc comment: its text on one line (`{@link x}` as `x` in code), and its `@default` tag's. */
export interface RowDoc {
  readonly text: string;
  readonly defaultTag: string | undefined;
}

/** The doc comment of the property `symbol` (a row, or an options type's field), read by `checker`. */
export function docOf(symbol: ts.Symbol, checker: ts.TypeChecker): RowDoc {
  const parts = (ps: readonly ts.SymbolDisplayPart[] = []): string =>
    ps
      .map((p) => (p.kind === 'link' ? '\u0001' : p.text))
      .join('')
      .replace(/\u0001\s*([^\u0001]*?)\s*\u0001/g, '`$1`')
      .replace(/\s+/g, ' ')
      .trim();
  const tag = symbol.getJsDocTags(checker).find((t) => t.name === 'default');
  return {
    text: parts(symbol.getDocumentationComment(checker)),
    defaultTag: tag === undefined ? undefined : parts(tag.text),
  };
}

/** Every row's doc comment, by section and key, as the option table's source has them. */
export function rowDocs(): ReadonlyMap<SectionName, ReadonlyMap<string, RowDoc>> {
  const program = ts.createProgram([TABLE], { noEmit: true, strict: true, types: [] });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(TABLE)!;
  const sections = checker
    .getExportsOfModule(checker.getSymbolAtLocation(file)!)
    .find((s) => s.name === 'SECTIONS')!;
  const out = new Map<SectionName, Map<string, RowDoc>>();
  for (const section of checker.getTypeOfSymbol(sections).getProperties()) {
    const rows = new Map<string, RowDoc>();
    for (const row of checker.getTypeOfSymbol(section).getProperties())
      rows.set(row.name, docOf(row, checker));
    out.set(section.name as SectionName, rows);
  }
  return out;
}

/** Each section's heading, in the document's order. */
const HEADINGS: Readonly<Record<SectionName, string>> = {
  jobmeter: "`createJobmeter(options)` — the config file's top level",
  profileTable: '`profile: { name, rules }` — `[profile]`',
  listener: '`listener` — `[listener]`',
  otlp: '`otlp` — `[otlp]`',
  ingest: '`ingest` — `[ingest]`',
  apiKey: '`ingest.apiKeys[]`, `apiKeys[]` — `[[ingest.api_keys]]`, `[[metrics.api_keys]]`',
  cluster: '`cluster` — `[cluster]`',
  build: '`build` — `[build]`',
  metrics: "`[metrics]` — `jobmeter serve`'s metrics route",
  daemon: "`[daemon]` — runwisp.toml's spelling of `[metrics]`",
  snapshot: '`snapshot`',
  instrumentSpec: '`instruments[]`: an instrument the host declares',
  attributeSpec: '`instruments[].attributes[]`',
  reader: '`new JobmeterReader(options)`',
  recorder: '`createRecorder(meter, options)`',
  views: '`jobmeterViews(profile, options)`',
  route:
    'The metrics route: `createMetricsHandler`, `createMetricsMiddleware`, the fastify plugin `jobmeterMetrics`',
  accessLog: "The metrics route's `accessLog`",
  telemetry: "`[telemetry]` — `jobmeter serve`'s own telemetry listener",
  integration:
    'The job-library integrations: `instrumentWorker`, `instrumentBoss`, `instrumentRunner`, `instrumentTask`',
};

function defaultOf(row: OptionRow, doc: RowDoc): string {
  if ('default' in row) return `\`${JSON.stringify(row.default)}\``;
  return doc.defaultTag ?? '—';
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** docs/options.md as it should be. */
export function renderOptionsDoc(): string {
  const docs = rowDocs();
  const out: string[] = [
    '# Options',
    '',
    `<!-- Generated from src/common/option-table.ts by \`${REGENERATE}\`; do not edit by hand. -->`,
    '',
    "Every option of the library and of `jobmeter serve`'s config file, from the one table that",
    'defines them (its default, its check, its config key). A key in no table below is refused: an',
    'unknown key of an options object is a `ConfigError` worded as the config file\'s (with "did you',
    'mean"); the maps whose keys are yours (resource attributes, headers, merge policies) take any.',
    "A row without an option is the config file's only; one without a config key is the library's.",
    `A duration (an option ending in \`Millis\`, a key ending in \`_ms\`) is ${millis.expected}, from code as from the file: what a Node timer waits as given, so a fraction or a longer wait is refused rather than silently changed.`,
    '',
  ];
  for (const [name, heading] of Object.entries(HEADINGS) as [SectionName, string][]) {
    out.push(
      `## ${heading}`,
      '',
      '| option | config file, `serve` flag, variable | default | what |',
      '| :-- | :-- | :-- | :-- |',
    );
    for (const [key, row] of Object.entries(SECTIONS[name]) as [string, OptionRow][]) {
      const option = row.library === false ? '—' : `\`${key}\``;
      const file =
        [row.file, row.flag, row.short && `-${row.short}`, row.env]
          .filter((k) => k !== undefined)
          .map((k) => `\`${k}\``)
          .join(', ') || '—';
      const doc = docs.get(name)!.get(key)!;
      out.push(`| ${option} | ${file} | ${cell(defaultOf(row, doc))} | ${cell(doc.text)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const want = renderOptionsDoc();
  if (process.argv.includes('--check')) {
    const have = readFileSync(OPTIONS_DOC, 'utf8');
    if (have !== want) {
      process.stderr.write(`docs/options.md is out of date: run ${REGENERATE}\n`);
      process.exit(1);
    }
  } else writeFileSync(OPTIONS_DOC, want);
}
