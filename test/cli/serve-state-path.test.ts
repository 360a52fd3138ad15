/**
 * `jobmeter serve` reads its state path only when it is a regular file of bounded size: a FIFO
 * (which would wait for a writer) or a link to /dev/zero (which never ends) in its place is an
 * unusable state file — moved aside, one line, a fresh start — and serve is up and stops on
 * SIGTERM as ever.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, start, START_MS } from './harness.ts';
import { freePort } from '../support/free-port.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-state-path-');
afterEach(killChildren);

const cases: [string, (path: string) => void, string][] = [
  ['a FIFO', (path) => execFileSync('mkfifo', [path]), 'a FIFO'],
  ['a link to /dev/zero', (path) => symlinkSync('/dev/zero', path), 'a character device'],
];

for (const [what, make, kind] of cases) {
  it(
    `${what} as the state file is unusable, moved aside, and serve starts afresh`,
    { timeout: 60_000 },
    async () => {
      const port = await freePort();
      const dir = join(files.dir, `${port}`);
      mkdirSync(dir);
      const name = `ingest-127.0.0.1-${port}.state`;
      make(join(dir, name));
      const config = await files.file(
        `${port}.toml`,
        `process_metrics = false\n[listener]\nport = 0\n[ingest]\nenabled = true\nport = ${port}\nstate_dir = "${dir}"\n`,
      );
      const serve = start(['serve', '--config', config]);
      await serve.stderrMatches(/receiving OTLP/, START_MS);
      assert.match(
        serve.stderr(),
        new RegExp(
          `is unusable: not a regular file \\(${kind}\\); moved to \\S+\\.corrupt-\\S+ \\(kept\\), starting afresh`,
        ),
      );
      serve.child.kill('SIGTERM');
      assert.equal(await serve.exited(EXIT_MS), 0, serve.stderr());
      const aside = readdirSync(dir).filter((f) => f.startsWith(`${name}.corrupt-`));
      assert.equal(aside.length, 1);
      assert.ok(
        what === 'a FIFO'
          ? lstatSync(join(dir, aside[0]!)).isFIFO()
          : lstatSync(join(dir, aside[0]!)).isSymbolicLink(),
        'moved as it was',
      );
      assert.ok(lstatSync(join(dir, name)).isFile(), 'a fresh state file in its place');
    },
  );
}
