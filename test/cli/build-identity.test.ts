/**
 * Builds can be told apart: the packed tarball carries the commit it was built from, wherever it
 * is installed (outside git, or inside another git repository, whose commit is not its own), and
 * `jobmeter --version`, serve's first line and `jobmeter_build_info` give it beside the version;
 * the sources run from the checkout read it from git, and a copy outside git says `unknown`.
 * Needs dist/ (`node scripts/build.ts`; npm test builds it first).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

import { packTarball } from '../package/pack.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const HEAD = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
const NODE_VERSION = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim();
const LINE = `${pkg.version} (commit ${HEAD}, Node.js ${NODE_VERSION})`;
const exec = promisify(execFile);
const CLEAN_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

let app: string;
let bin: string;

before(async () => {
  // The tarball unpacked as an app's dependency, its own dependencies the checkout's; the app is a
  // git repository of its own, so a build that asked git at run time would name the app's commit.
  const packed = await packTarball('jobmeter-identity-');
  app = packed.dir;
  const installed = join(app, 'node_modules/jobmeter');
  mkdirSync(installed, { recursive: true });
  await exec('tar', ['-xzf', packed.tarball, '-C', installed, '--strip-components=1']);
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
    mkdirSync(dirname(join(app, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(app, 'node_modules', dep));
  }
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: app });
  git('init', '-q');
  git('commit', '-q', '--allow-empty', '-m', 'app');
  bin = join(installed, 'dist/src/cli/bin.js');
});
after(() => rm(app, { recursive: true, force: true }));

describe('build identity', () => {
  it('the packed tarball: --version names the version, the commit it was packed from and Node', async () => {
    const { stdout } = await exec(NODE, [bin, '--version'], { cwd: app, env: CLEAN_ENV });
    assert.equal(stdout, `jobmeter ${LINE}\n`);
  });

  it("the packed tarball's serve: first line and jobmeter_build_info{version,commit} carry it", async () => {
    const child = spawn(NODE, [bin, 'serve', '--listen', '127.0.0.1:0', '--profile', 'otel'], {
      cwd: app,
      env: {
        ...CLEAN_ENV,
        XDG_STATE_HOME: join(app, 'state'),
        JOBMETER_TELEMETRY_LISTEN: '127.0.0.1:0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let err = '';
      const telemetry = await new Promise<string>((resolve, reject) => {
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          err += d;
          const m = /^jobmeter: serving jobmeter's own telemetry on (\S+)$/m.exec(err);
          if (m !== null) resolve(m[1]!);
        });
        child.once('close', () => reject(new Error(`serve exited:\n${err}`)));
      });
      assert.equal(err.split('\n')[0], `jobmeter: version ${LINE}`);
      const body = await (await fetch(telemetry)).text();
      const info = /^jobmeter_build_info\{(.*)\} 1$/m.exec(body)?.[1];
      assert.ok(info !== undefined, body);
      assert.match(info, new RegExp(`(^|,)version="${pkg.version}"(,|$)`));
      assert.match(info, new RegExp(`(^|,)commit="${HEAD}"(,|$)`));
      assert.match(info, new RegExp(`(^|,)runtime_version="${NODE_VERSION}"(,|$)`));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('the sources in the checkout read the commit from git', async () => {
    const { stdout } = await exec(NODE, [join(ROOT, 'src/cli/bin.ts'), '--version'], {
      cwd: app,
      env: CLEAN_ENV,
    });
    assert.equal(stdout, `jobmeter ${LINE}\n`);
  });

  it('the sources outside git (no build): the commit is unknown, not an error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobmeter-identity-src-'));
    try {
      copyFileSync(join(ROOT, 'src/version.ts'), join(dir, 'version.ts'));
      const { stdout } = await exec(
        NODE,
        [
          '--input-type=module',
          '-e',
          `import('${join(dir, 'version.ts')}').then((v) => console.log(v.buildCommit()))`,
        ],
        { cwd: dir, env: CLEAN_ENV },
      );
      assert.equal(stdout, 'unknown\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
