/**
 * Every name an entry point of the package exports shows its documentation on hover: its
 * declaration in the built declarations (dist/, as a host's editor reads them) has a doc comment,
 * and every value among them (functions, classes, constants) one with an @example. Each example
 * is written out in doc-examples.ts, which `tsc` type-checks with the rest of test/.
 *
 * The declarations are read as text, bounded to the shapes `tsc` emits for this package: a
 * declaration (`export declare function|class|const|let|enum`, `export interface`, `export type X`),
 * a re-export (`export [type] { a, b as c } [from '…']`) followed to the file or import it names.
 * A shape outside these fails the test (the name is "not found"), it is never skipped.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, { types: string }>;
};

interface Found {
  readonly kind: string;
  readonly doc: string | undefined;
  readonly where: string;
}

const texts = new Map<string, string>();
function text(file: string): string {
  let t = texts.get(file);
  if (t === undefined) texts.set(file, (t = readFileSync(file, 'utf8')));
  return t;
}

/** The declaration file a relative specifier in `from` names. */
function target(from: string, specifier: string): string {
  return join(dirname(from), specifier.replace(/\.[jt]s$/, '.d.ts'));
}

/** The names an export or import list binds: `a`, `type a`, `a as b` → [local, exported]. */
function bindings(list: string): [string, string][] {
  return list
    .split(',')
    .map((n) => n.trim().replace(/^type\s+/, ''))
    .filter(Boolean)
    .map((n) => {
      const [local, exported = local] = n.split(/\s+as\s+/);
      return [local!, exported!];
    });
}

/** Where `name`, exported by `file`, is declared, and the doc comment right before it. */
function resolve(file: string, name: string, depth = 0): Found | undefined {
  if (depth > 8) return undefined;
  const t = text(file);
  const declared = new RegExp(
    `(/\\*\\*(?:(?!\\*/)[\\s\\S])*\\*/)?\\s*export (?:declare )?(?:abstract )?(function|class|const|let|enum|interface|type) ${name}\\b(?!\\s*\\})`,
  ).exec(t);
  if (declared !== null)
    return { kind: declared[2]!, doc: declared[1], where: relative(ROOT, file) };
  for (const [, list, from] of t.matchAll(/^export (?:type )?\{([^}]*)\}(?: from '([^']+)')?;/gm)) {
    const hit = bindings(list!).find(([, exported]) => exported === name);
    if (hit === undefined) continue;
    if (from !== undefined) return resolve(target(file, from), hit[0], depth + 1);
    // A local re-export of an imported name: follow the import.
    for (const [, imports, source] of t.matchAll(
      /^import (?:type )?\{([^}]*)\} from '(\.[^']+)';/gm,
    )) {
      const imported = bindings(imports!).find(([, local]) => local === hit[0]);
      if (imported !== undefined) return resolve(target(file, source!), imported[0], depth + 1);
    }
  }
  return undefined;
}

/** Every name an entry's declaration file exports. */
function exportedNames(file: string): string[] {
  const t = text(file);
  const names = [...t.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap((m) =>
    bindings(m[1]!).map(([, exported]) => exported),
  );
  names.push(
    ...[
      ...t.matchAll(
        /^export (?:declare )?(?:abstract )?(?:function|class|const|let|enum|interface|type) (\w+)/gm,
      ),
    ].map((m) => m[1]!),
  );
  return [...new Set(names)];
}

/** The examples of a doc comment: each `@example`'s text up to the next tag, its ` * ` margins and line breaks folded to single spaces. */
function examplesOf(doc: string): string[] {
  const lines = doc
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''));
  return lines
    .join('\n')
    .split(/(?:^|\n)\s*(?=@\w)|(?=@example\b)/)
    .filter((part) => part.startsWith('@example'))
    .map((part) => folded(part.slice('@example'.length)));
}

const folded = (text: string) => text.replace(/\s+/g, ' ').trim();

test('every name each entry point exports is declared with a doc comment, every value with an @example, and each example type-checks', () => {
  const undocumented: string[] = [];
  const uncompiled: string[] = [];
  const compiled = folded(readFileSync(join(ROOT, 'test/package/doc-examples.ts'), 'utf8'));
  let names = 0;
  let examples = 0;
  for (const [subpath, { types }] of Object.entries(PKG.exports)) {
    const entry = join(ROOT, types);
    assert.ok(
      existsSync(entry),
      `${types} is missing: run \`npm run build\` (npm test builds it first)`,
    );
    for (const name of exportedNames(entry)) {
      names++;
      const found = resolve(entry, name);
      if (found === undefined) {
        undocumented.push(`${subpath} ${name}: declaration not found`);
        continue;
      }
      const value = found.kind !== 'interface' && found.kind !== 'type';
      if (found.doc === undefined)
        undocumented.push(`${subpath} ${name} (${found.where}): no doc comment`);
      else if (value && !found.doc.includes('@example'))
        undocumented.push(`${subpath} ${name} (${found.where}): no @example`);
      for (const example of examplesOf(found.doc ?? '')) {
        examples++;
        if (!compiled.includes(example)) uncompiled.push(`${subpath} ${name}: ${example}`);
      }
    }
  }
  assert.ok(names >= 90, `the entry points' names were found (${names})`);
  assert.deepEqual(undocumented, []);
  assert.ok(examples >= names / 3, `the examples were found (${examples})`);
  assert.deepEqual(
    uncompiled,
    [],
    'each example is written out in test/package/doc-examples.ts, which tsc type-checks',
  );
});
