/**
 * The ingest state directory, checked by `validate` and `serve` alike and in bounded time: a path
 * no directory can be made at (under /proc, under a regular file) or a regular file is a
 * configuration error, the same message and exit 2 from both, and `serve` exits at once instead
 * of spinning in mkdir. A directory that can be made is made by `validate` as `serve` makes it.
 */
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, it } from 'node:test';

import { killChildren, run } from './harness.ts';
import { freePort } from '../support/free-port.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-validate-state-');
afterEach(killChildren);

const withoutVersion = (stderr: string): string => stderr.replace(/^jobmeter: version .*\n/, '');

async function configWith(stateDir: string): Promise<string> {
  const port = await freePort();
  return files.file(
    `state-${port}.toml`,
    `process_metrics = false\n[listener]\nport = 0\n[ingest]\nenabled = true\nport = ${port}\nstate_dir = "${stateDir}"\n`,
  );
}

it(
  'a state_dir that cannot be made is exit 2 with the same message from validate and serve, at once',
  { timeout: 120_000 },
  async () => {
    const file = join(files.dir, 'a-file');
    writeFileSync(file, '');
    const cases: [string, RegExp][] = [
      [
        '/proc/jobmeter-nope',
        /\(ENOENT: no such file or directory, mkdir '\/proc\/jobmeter-nope'\)\n$/,
      ],
      [file, /\(ENOTDIR: not a directory, .*a-file\)\n$/],
      [join(file, 'sub'), /\(ENOTDIR: not a directory, stat '.*a-file\/sub'\)\n$/],
    ];
    for (const [dir, reason] of cases) {
      const config = await configWith(dir);
      const validated = await run(['validate', '--config', config]);
      // run() gives up after START_MS: a serve spinning in mkdir fails here.
      const served = await run(['serve', '--config', config]);
      assert.equal(validated.code, 2, `${dir}: ${validated.stdout}${validated.stderr}`);
      assert.equal(served.code, 2, `${dir}: ${served.stderr}`);
      assert.equal(validated.stderr, withoutVersion(served.stderr), dir);
      assert.match(
        validated.stderr,
        new RegExp(
          `^jobmeter: invalid ingest\\.stateDir=${dir.replaceAll('/', '\\/')}: expected a directory jobmeter can create or use, or false to keep no state file `,
        ),
      );
      assert.match(validated.stderr, reason);
    }
  },
);

it('validate makes a missing state_dir as serve would, private to the user', async () => {
  const dir = join(files.dir, 'new', 'state');
  const validated = await run(['validate', '--config', await configWith(dir)]);
  assert.equal(validated.code, 0, validated.stderr);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, '..')).mode & 0o777, 0o700);
});
