/**
 * The package as `npm pack` writes it, for the tests that install it into fresh apps: built first
 * (npm test builds dist/ before the tests), packed without `prepack` (which would build it again).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Packs the checkout into a new temporary folder (`prefix`…): the folder, the tarball's path and name, its files. */
export async function packTarball(
  prefix: string,
): Promise<{ dir: string; tarball: string; filename: string; files: string[] }> {
  assert.ok(
    existsSync(join(ROOT, 'dist/src/cli/bin.js')) && existsSync(join(ROOT, 'dist/src/index.d.ts')),
    'dist/ is missing: run `npm run build` (npm test builds it first)',
  );
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const { stdout } = await promisify(execFile)(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
    { cwd: ROOT, maxBuffer: 16 << 20 },
  );
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  return {
    dir,
    tarball: join(dir, packed!.filename),
    filename: packed!.filename,
    files: packed!.files.map((f) => f.path),
  };
}
