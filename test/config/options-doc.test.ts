// The option table (src/common/option-table.ts) is the one declaration of every option: docs/options.md
// is generated from it, the options' public TypeScript types are its rows mapped, so an editor shows
// what the docs say. This fails when one of them changed without the others.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import ts from 'typescript';

import { docOf, OPTIONS_DOC, renderOptionsDoc, rowDocs } from '../../scripts/gen-options-doc.ts';
import {
  libraryKeys,
  SECTIONS,
  type OptionRow,
  type SectionName,
} from '../../src/common/option-table.ts';
import { CONFIG_SCHEMA } from '../../src/config/json-schema.ts';

const SRC = join(import.meta.dirname, '..', '..', 'src');

test('docs/options.md is the option table (run: node scripts/gen-options-doc.ts)', () => {
  assert.equal(readFileSync(OPTIONS_DOC, 'utf8'), renderOptionsDoc());
});

/** The options types the rows map, each by the section whose rows it maps and its file in src/. */
const PUBLIC: readonly [SectionName, string, string][] = [
  ['jobmeter', 'options.ts', 'JobmeterOptions'],
  ['profileTable', 'options.ts', 'ProfileOptions'],
  ['listener', 'options.ts', 'PullListenerOptions'],
  ['otlp', 'options.ts', 'OtlpPushOptions'],
  ['ingest', 'options.ts', 'IngestOptions'],
  ['cluster', 'options.ts', 'ClusterOptions'],
  ['apiKey', 'http/route-options.ts', 'ApiKey'],
  ['build', 'domain/types.ts', 'BuildInfo'],
  ['instrumentSpec', 'domain/types.ts', 'DeclaredInstrumentSpec'],
  ['attributeSpec', 'domain/types.ts', 'AttributeSpec'],
  ['snapshot', 'domain/snapshot.ts', 'SnapshotSourceOptions'],
  ['recorder', 'host-recorder.ts', 'HostRecorderOptions'],
  ['reader', 'jobmeter-reader.ts', 'JobmeterReaderOptions'],
  ['views', 'jobmeter-views.ts', 'JobmeterViewsOptions'],
  ['route', 'http/route-options.ts', 'JobmeterMetricsOptions'],
  ['accessLog', 'options.ts', 'AccessLogOptions'],
  ['integration', 'integrations/job-runs.ts', 'IntegrationOptions'],
];

/** The "what" cell of each row of docs/options.md, by its heading's section and its option. */
function docsCells(): Map<string, string> {
  const out = new Map<string, string>();
  let heading = '';
  for (const line of readFileSync(OPTIONS_DOC, 'utf8').split('\n')) {
    if (line.startsWith('## ')) heading = line;
    const m = /^\| `(\w+)` \| .*? \| .*? \| (.*) \|$/.exec(line);
    if (m !== null) out.set(`${heading} ${m[1]}`, m[2]!.replace(/\\\|/g, '|'));
  }
  return out;
}

test("an editor shows each public option's doc as docs/options.md says it, and its @default", () => {
  const files = [...new Set(PUBLIC.map(([, file]) => join(SRC, file)))];
  const program = ts.createProgram(files, { noEmit: true, strict: true, types: [] });
  const checker = program.getTypeChecker();
  const cells = docsCells();
  const headings = [...cells.keys()].map((k) => k.slice(0, k.lastIndexOf(' ')));
  const rows = rowDocs();
  for (const [section, file, name] of PUBLIC) {
    const exports = checker.getExportsOfModule(
      checker.getSymbolAtLocation(program.getSourceFile(join(SRC, file))!)!,
    );
    const type = checker.getDeclaredTypeOfSymbol(exports.find((s) => s.name === name)!);
    const fields = checker.getPropertiesOfType(type);
    assert.deepEqual(fields.map((f) => f.name).sort(), libraryKeys(SECTIONS[section]).sort());
    // The heading whose rows are this section's (its first field's row is in it).
    for (const field of fields) {
      const shown = docOf(field, checker);
      const heading = headings.find(
        (h) => cells.get(`${h} ${field.name}`) === rows.get(section)!.get(field.name)!.text,
      );
      assert.ok(heading !== undefined, `${name}.${field.name}: no docs/options.md row says it`);
      assert.equal(shown.text, cells.get(`${heading} ${field.name}`), `${name}.${field.name}`);
      assert.equal(shown.defaultTag, rows.get(section)!.get(field.name)!.defaultTag);
    }
  }
});

test("every row's @default tag starts with its default, and a public option's row has one", () => {
  const docs = rowDocs();
  const typed = new Set([
    'jobmeter',
    'profileTable',
    'listener',
    'otlp',
    'ingest',
    'cluster',
    'accessLog',
  ]);
  for (const [section, rows] of Object.entries(SECTIONS) as [
    SectionName,
    Readonly<Record<string, OptionRow>>,
  ][]) {
    for (const [key, row] of Object.entries(rows)) {
      const tag = docs.get(section)!.get(key)!.defaultTag;
      assert.ok(docs.get(section)!.get(key)!.text !== '', `${section}.${key} has a doc comment`);
      if (!('default' in row)) continue;
      const want =
        typeof row.default === 'string' ? `'${row.default}'` : JSON.stringify(row.default);
      if (tag === undefined && !typed.has(section)) continue;
      assert.ok(
        tag !== undefined && (tag === want || tag.startsWith(`${want} `)),
        `${section}.${key}: @default ${tag}, the row's default is ${want}`,
      );
    }
  }
});

test("every row's config file value is checked by a definition of the schema", () => {
  const definitions = new Set(Object.keys(CONFIG_SCHEMA.definitions));
  for (const [section, rows] of Object.entries(SECTIONS)) {
    for (const [key, row] of Object.entries(rows as Readonly<Record<string, OptionRow>>)) {
      if (row.file !== undefined)
        assert.ok(
          row.schema !== undefined && definitions.has(row.schema),
          `${section}.${key}: schema ${row.schema}`,
        );
    }
  }
});
