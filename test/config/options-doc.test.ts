// The option table (src/common/option-table.ts) is the one definition of every option: docs/options.md
// is generated from it, and the options' TypeScript types must name the same keys and document the
// same defaults. This fails when one of them changed without the others.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { OPTIONS_DOC, renderOptionsDoc } from '../../scripts/gen-options-doc.ts';
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

/** The fields of `name`'s interface in `file`, each with its `@default` text (undefined: none). */
function fields(file: string, name: string): Map<string, string | undefined> {
  const text = readFileSync(join(SRC, file), 'utf8');
  // A generic interface (`JobmeterOptions<I …>`) too.
  const start = text.search(new RegExp(`export interface ${name}[ <]`));
  assert.ok(start >= 0, `${file} has no interface ${name}`);
  const body = text.slice(text.indexOf('{', start) + 1, text.indexOf('\n}', start));
  const out = new Map<string, string | undefined>();
  for (const m of body.matchAll(
    /(?:\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*)?^ {2}(?:readonly )?(\w+)\??:/gm,
  )) {
    const tag = /@default ([^\n*]+)/.exec(m[1] ?? '');
    out.set(m[2]!, tag?.[1]!.trim());
  }
  return out;
}

/** Each section and the interface that types it. */
const TYPED: readonly [SectionName, string, string][] = [
  ['jobmeter', 'options.ts', 'JobmeterOptions'],
  ['profileTable', 'options.ts', 'ProfileOptions'],
  ['listener', 'options.ts', 'PullListenerOptions'],
  ['otlp', 'options.ts', 'OtlpPushOptions'],
  ['ingest', 'options.ts', 'IngestOptions'],
  ['cluster', 'options.ts', 'ClusterOptions'],
  ['apiKey', 'http/route-options.ts', 'ApiKey'],
  ['build', 'domain/types.ts', 'BuildInfo'],
  ['snapshot', 'domain/snapshot.ts', 'SnapshotSourceOptions'],
  ['instrumentSpec', 'domain/types.ts', 'InstrumentSpec'],
  ['attributeSpec', 'domain/types.ts', 'AttributeSpec'],
  ['recorder', 'host-recorder.ts', 'HostRecorderOptions'],
  ['views', 'jobmeter-views.ts', 'JobmeterViewsOptions'],
  ['route', 'http/route-options.ts', 'JobmeterMetricsOptions'],
  ['accessLog', 'http/access-log.ts', 'AccessLogOptions'],
];

for (const [section, file, name] of TYPED) {
  test(`the ${section} rows are ${name}'s fields, with the same @default values`, () => {
    const typed = fields(file, name);
    const rows: Readonly<Record<string, OptionRow>> = SECTIONS[section];
    assert.deepEqual(libraryKeys(rows).sort(), [...typed.keys()].sort());
    for (const [key, tag] of typed) {
      const row = rows[key]!;
      if (!('default' in row)) continue;
      const want = typeof row.default === 'string' ? `'${row.default}'` : String(row.default);
      assert.ok(
        tag !== undefined && (tag === want || tag.startsWith(`${want} `)),
        `${name}.${key}: @default ${tag} in ${file}, the table says ${want}`,
      );
    }
  });
}

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
