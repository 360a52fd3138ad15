/**
 * docs/ARCHITECTURE.md stays one screen and true: at most 60 lines, every folder of src/ named,
 * and every file it names there (`recorder.ts`, `domain/storage/`, `test/model/model.ts`).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) yield* files(join(dir, e.name));
    else yield join(dir, e.name);
}

test('docs/ARCHITECTURE.md is one screen: at most 60 lines', () => {
  const lines = DOC.trimEnd().split('\n').length;
  assert.ok(lines <= 60, `${lines} lines`);
});

test('docs/ARCHITECTURE.md names every folder of src/', () => {
  const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `${e.name}/`);
  assert.deepEqual(
    folders.filter((f) => !DOC.includes(f)),
    [],
  );
});

test('every file and folder docs/ARCHITECTURE.md names exists', () => {
  const names = new Set(readdirSync(join(ROOT, 'src'), { recursive: true }).map(String));
  const bases = new Set([...files(join(ROOT, 'src'))].map((f) => basename(f)));
  const missing = [...DOC.matchAll(/\b[\w-]+(?:\/[\w.-]+)*(?:\.ts|\/)(?=[\s),.:;`]|$)/gm)]
    .map((m) => m[0])
    .filter((path) => {
      const bare = path.replace(/\/$/, '');
      if (!bare.includes('/'))
        return !bases.has(bare) && !names.has(bare) && !existsSync(join(ROOT, bare));
      return (
        !names.has(bare) && !existsSync(join(ROOT, bare)) && !existsSync(join(ROOT, 'src', bare))
      );
    });
  assert.deepEqual(missing, []);
});
