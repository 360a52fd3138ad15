/**
 * Generates docs/options.md from the option table (src/common/option-table.ts: the only source;
 * nothing here restates an option).
 *
 *   node scripts/gen-options-doc.ts           rewrite docs/options.md
 *   node scripts/gen-options-doc.ts --check   exit 1 if it is out of date; write nothing
 *
 * Importing this module has no side effects; only running it as a script writes the file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { millis } from '../src/common/option-rules.ts';
import { SECTIONS, type OptionRow, type SectionName } from '../src/common/option-table.ts';

export const OPTIONS_DOC = fileURLToPath(new URL('../docs/options.md', import.meta.url));
const REGENERATE = 'node scripts/gen-options-doc.ts';

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
};

function defaultOf(row: OptionRow): string {
  if (row.defaultText !== undefined) return row.defaultText;
  if (!('default' in row)) return '—';
  return `\`${JSON.stringify(row.default)}\``;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** docs/options.md as it should be. */
export function renderOptionsDoc(): string {
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
      '| option | config file | default | what |',
      '| :-- | :-- | :-- | :-- |',
    );
    for (const [key, row] of Object.entries(SECTIONS[name]) as [string, OptionRow][]) {
      const option = row.library === false ? '—' : `\`${key}\``;
      const file = row.file === undefined ? '—' : `\`${row.file}\``;
      out.push(`| ${option} | ${file} | ${cell(defaultOf(row))} | ${cell(row.doc)} |`);
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
