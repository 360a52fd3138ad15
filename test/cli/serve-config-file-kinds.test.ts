/**
 * The config file, and a file it names, is read only when it is a regular file of at most
 * MAX_CONFIG_FILE_BYTES: a FIFO (whose read would block), a link to /dev/zero (whose read fills
 * memory) or an oversized file is refused with a message naming the path — exit 2 at start, and on
 * SIGHUP a refused reload with the running configuration kept, serve still answering.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';

import { MAX_CONFIG_FILE_BYTES } from '../../src/config/file-parser.ts';
import { tempFiles } from '../support/temp-files.ts';
import { EXIT_MS, killChildren, run, start, START_MS } from './harness.ts';

const files = tempFiles('jobmeter-config-kinds-');
afterEach(killChildren);

const NOT_REGULAR = /it is a character device, not a regular file|it is a FIFO, not a regular file/;

function fifo(name: string): string {
  const path = join(files.dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

async function zeroLink(name: string): Promise<string> {
  const path = join(files.dir, name);
  await symlink('/dev/zero', path);
  return path;
}

test(
  'serve, validate, collector-config and views refuse a config that is a FIFO, a link to /dev/zero or larger than the bound: exit 2 naming the path',
  { timeout: 120_000 },
  async () => {
    const cases: [string, string][] = [
      [fifo('fifo.toml'), 'a readable file (it is a FIFO, not a regular file)'],
      [
        await zeroLink('zero.toml'),
        'a readable file (it is a character device, not a regular file)',
      ],
      [
        await files.file('large.toml', `profile = "otel"\n${'#'.repeat(MAX_CONFIG_FILE_BYTES)}\n`),
        'a readable file of at most 1 MiB (it is larger)',
      ],
    ];
    for (const [path, expected] of cases) {
      // collector-config and views read the file as serve does (loadConfigFile): the same checks.
      for (const command of ['serve', 'validate', 'collector-config', 'views']) {
        const { code, stderr } = await run([command, '--config', path]);
        assert.equal(code, 2, `${command} ${path}: ${stderr}`);
        assert.equal(stderr, `jobmeter: invalid --config=${path}: expected ${expected}\n`);
      }
    }
  },
);

test(
  'a token_file that is a FIFO is refused at start, naming the key and the path',
  { timeout: 60_000 },
  async () => {
    const tokenFile = fifo('token');
    const config = await files.file(
      'token.toml',
      ['profile = "otel"', '[metrics]', `token_file = "${tokenFile}"`, ''].join('\n'),
    );
    const { code, stderr } = await run(['serve', '--config', config]);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      new RegExp(
        `invalid metrics\\.token_file=${tokenFile}: expected a readable file \\(it is a FIFO, not a regular file\\)`,
      ),
    );
  },
);

test(
  'SIGHUP with the config turned into a link to /dev/zero or a FIFO is a refused reload: the running one kept, serve answering',
  { timeout: 120_000 },
  async () => {
    const text = ['profile = "otel"', 'process_metrics = false', '[listener]', 'port = 0', ''].join(
      '\n',
    );
    const path = await files.file('live.toml', text);
    const child = start(['serve', '--config', path]);
    const [, url] = await child.stderrMatches(/serving otel metrics on (http:\/\/\S+)\n/, START_MS);
    let seen = 0;
    const hangup = async (): Promise<string> => {
      child.child.kill('SIGHUP');
      seen++;
      await child.stderrMatches(
        new RegExp(`(?:^jobmeter: SIGHUP: .*\\n[^]*?){${seen}}`, 'm'),
        START_MS,
      );
      return child
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('jobmeter: SIGHUP: '))[seen - 1]!;
    };
    for (const replace of [
      () => symlink('/dev/zero', path),
      () => execFileSync('mkfifo', [path]),
    ]) {
      await rm(path);
      await replace();
      const line = await hangup();
      assert.ok(
        line.startsWith(
          `jobmeter: SIGHUP: configuration not reloaded, the running one is kept: invalid --config=${path}: expected a readable file (`,
        ),
        line,
      );
      assert.match(line, NOT_REGULAR);
      assert.equal((await fetch(url!)).status, 200, 'still serving');
    }
    await rm(path);
    await writeFile(path, text);
    assert.equal(await hangup(), 'jobmeter: SIGHUP: configuration re-read: unchanged');
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
