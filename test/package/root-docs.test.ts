/**
 * Every value the package root exports shows its documentation on hover: its declaration in the
 * built declarations (dist/, as a host's editor reads them) has a doc comment with an @example.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../dist/src/', import.meta.url));

test("every value of the package root is declared with a doc comment that has an @example", () => {
  assert.ok(existsSync(join(DIST, 'index.d.ts')), 'dist/ is missing: run `npm run build` (npm test builds it first)');
  const index = readFileSync(join(DIST, 'index.d.ts'), 'utf8');
  const undocumented: string[] = [];
  let values = 0;
  for (const [, names, from] of index.matchAll(/^export \{([^}]*)\} from '([^']+)'/gm)) {
    const text = readFileSync(join(DIST, from!.replace(/\.[jt]s$/, '.d.ts')), 'utf8');
    for (const name of names!.split(',').map((n) => n.trim()).filter(Boolean)) {
      values++;
      // The doc comment is the block comment right before the declaration.
      const doc = new RegExp(`(/\\*\\*(?:(?!\\*/)[\\s\\S])*\\*/)\\s*export declare (?:abstract )?(?:function|class|const) ${name}\\b`).exec(text)?.[1];
      if (doc === undefined || !doc.includes('@example')) undocumented.push(`${name} (${from})`);
    }
  }
  assert.ok(values >= 7, `the root's values were found (${values})`);
  assert.deepEqual(undocumented, []);
});
