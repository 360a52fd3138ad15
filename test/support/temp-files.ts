/**
 * A temporary folder for one test file's config files: created before its tests, removed after
 * them. Call it at the top level of the test file (it registers `before`/`after` hooks).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

export interface TempFiles {
  /** The folder (only valid once the file's tests run). */
  readonly dir: string;
  /** Writes `text` to `name` in the folder and returns its path. */
  file(name: string, text: string): Promise<string>;
}

export function tempFiles(prefix: string): TempFiles {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    async file(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
  };
}
