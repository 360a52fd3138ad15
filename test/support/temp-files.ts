/**
 * A temporary folder for one test file's config files: created before its tests (or by the first
 * file written, whichever comes first), removed after them. Call it at the top level of the test
 * file (it registers `before`/`after` hooks).
 *
 * What must stay true: a file is never written before the folder exists. A file's own `before`
 * hook may run alongside this one (node:test starts a file's top-level `before` hooks without
 * waiting for the one before), so `file()` waits for the folder itself; written to `''`, a
 * config would land in the working directory (the repository's root).
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
  let made: Promise<string> | undefined;
  const folder = async (): Promise<string> =>
    (dir = await (made ??= mkdtemp(join(tmpdir(), prefix))));
  before(folder);
  after(async () => {
    if (made !== undefined) await rm(await made, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    async file(name, text) {
      const path = join(await folder(), name);
      await writeFile(path, text);
      return path;
    },
  };
}
