/**
 * Every TypeScript and JavaScript block of the README and docs/ is a complete program, run here as
 * written — its imports of `jobmeter` resolved as a host's are, through package.json "exports" to
 * the built dist/ (the package's self-reference) — and every output it promises in a
 * `// → series line` comment is served, line for line, on its pull endpoint.
 *
 * - A block whose first line names a file (`// main.ts`) is split at each such line into files
 *   written side by side; the first one is run.
 * - A block whose first line is `// continues the block above` is a fragment: it runs appended to
 *   the program of the block above it.
 * - A block run by the `sh` block right above it (`… node --import jobmeter/instrumentation app.js`)
 *   runs with that command's variables and node flags.
 *
 * Each program runs in a network namespace of its own (`unshare -rn`), so its default ports
 * (9464, 8080) meet no other test's. A program passes when its top-level code finishes without an
 * error and, if it keeps running (a listener), is still running when stopped. Every TOML block is
 * a whole config file `jobmeter serve --config` accepts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { parseConfigText } from '../../src/config/file-parser.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { type Block, blocksOf, DOCS, nodeCommandOf, ROOT } from './blocks.ts';
import type { BlockOutcome, BlockRun } from './run-block.ts';
import { inNamespace } from '../support/own-network.ts';

const DRIVER = fileURLToPath(new URL('./run-block.ts', import.meta.url));
// Inside the package (so `jobmeter` resolves to itself), in the ignored .tmp/ (no type-check, no git).
const WORK = join(ROOT, '.tmp', `docs-blocks-${process.pid}`);
const FILE_LINE = /^\/\/ ([\w.-]+\.(?:ts|js|mjs))$/;
const FRAGMENT_LINE = '// continues the block above';
const SERIES = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+$/;

interface Program {
  name: string;
  files: Map<string, string>;
  entry: string;
  nodeArgs: string[];
  env: Record<string, string>;
  promised: string[];
}

/** The files of a block: split at `// name.ts` lines when its first line is one. */
function filesOf(block: Block): Map<string, string> {
  const files = new Map<string, string>();
  const lines = block.text.split('\n');
  if (!FILE_LINE.test(lines[0]!))
    return new Map([[`block.${block.lang === 'js' ? 'mjs' : 'ts'}`, block.text]]);
  let name = '';
  for (const line of lines) {
    const m = FILE_LINE.exec(line);
    if (m) name = m[1]!;
    files.set(name, `${files.get(name) ?? ''}${line}\n`);
  }
  return files;
}

function programs(): Program[] {
  const out: Program[] = [];
  for (const doc of DOCS) {
    const blocks = blocksOf(doc);
    blocks.forEach((block, i) => {
      if (block.lang !== 'ts' && block.lang !== 'js') return;
      const name = `${block.doc}:${block.line} (${block.heading})`;
      const fragment = block.text.startsWith(`${FRAGMENT_LINE}\n`);
      let files = filesOf(block);
      if (fragment) {
        const previous = out.at(-1);
        assert.ok(
          previous !== undefined && previous.name.startsWith(`${block.doc}:`),
          `${name}: a fragment follows a program block of the same page`,
        );
        files = new Map(previous.files);
        files.set(previous.entry, `${previous.files.get(previous.entry)}${block.text}`);
      }
      const entry = fragment ? out.at(-1)!.entry : [...files.keys()][0]!;
      const above = blocks[i - 1];
      const command = above?.lang === 'sh' ? nodeCommandOf(above, entry) : undefined;
      const promised = [...block.text.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1]!.trim());
      for (const p of promised)
        assert.match(p, SERIES, `${name}: a promised output is one exact series line`);
      out.push({
        name,
        files,
        entry,
        nodeArgs: command?.nodeArgs ?? [],
        env: command?.env ?? {},
        promised: [...(fragment ? out.at(-1)!.promised : []), ...promised],
      });
    });
  }
  return out;
}

const PROGRAMS = programs();

before(async () => {
  assert.ok(
    existsSync(join(ROOT, 'dist/src/index.js')),
    'dist/ is missing: run `npm run build` (npm test builds it first)',
  );
  for (const [n, program] of PROGRAMS.entries()) {
    await mkdir(join(WORK, String(n)), { recursive: true });
    for (const [file, text] of program.files) await writeFile(join(WORK, String(n), file), text);
  }
});
after(async () => {
  await rm(WORK, { recursive: true, force: true });
});

describe('README and docs code blocks', () => {
  it("are found: the README's, docs/host-apps.md's and docs/postures.md's", () => {
    const count = (doc: string): number =>
      PROGRAMS.filter((p) => p.name.startsWith(`${doc}:`)).length;
    assert.ok(count('README.md') >= 2, `README.md: ${count('README.md')} programs`);
    assert.ok(
      count('docs/host-apps.md') >= 8,
      `docs/host-apps.md: ${count('docs/host-apps.md')} programs`,
    );
    assert.ok(
      count('docs/postures.md') >= 3,
      `docs/postures.md: ${count('docs/postures.md')} programs`,
    );
  });

  it("type-check as a host's TypeScript does (strict, nodenext, the package's own declarations)", async () => {
    // Catches what running does not reach: a name used only in a callback that never ran.
    const compilerOptions = {
      strict: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2023',
      noEmit: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules/@types')],
    };
    await writeFile(
      join(WORK, 'tsconfig.json'),
      JSON.stringify({ compilerOptions, include: ['**/*.ts'] }),
    );
    const tsc = join(ROOT, 'node_modules/@typescript/native/bin/tsc');
    const r = await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json'], {
      cwd: WORK,
      maxBuffer: 16 << 20,
    }).catch((err: unknown) => ({ stdout: (err as { stdout?: string }).stdout ?? String(err) }));
    // Errors name the program's folder: N/ is PROGRAMS[N].
    const named = r.stdout.replace(
      /^(\d+)\//gm,
      (_, n: string) => `${PROGRAMS[Number(n)]!.name} → `,
    );
    assert.equal(named, '');
  });

  it('every TOML block is a whole jobmeter config file, valid as written', () => {
    const toml = DOCS.flatMap(blocksOf).filter((b) => b.lang === 'toml');
    assert.ok(toml.length >= 10, `${toml.length} TOML blocks`);
    for (const block of toml) {
      const where = `${block.doc}:${block.line}`;
      assert.doesNotThrow(
        () => parseServiceConfig(parseConfigText(block.text, 'toml', where), where),
        where,
      );
    }
  });

  PROGRAMS.forEach((program, n) => {
    it(`${program.name} runs as written${program.promised.length > 0 ? ' and serves what it promises' : ''}`, async () => {
      const dir = join(WORK, String(n));
      const run: BlockRun = {
        dir,
        entry: program.entry,
        nodeArgs: program.nodeArgs,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '',
          ...program.env,
        },
        promised: program.promised,
        scrapeUrl: 'http://127.0.0.1:9464/metrics',
      };
      const stdout = await inNamespace(process.execPath, [DRIVER, JSON.stringify(run)]);
      const outcome = JSON.parse(stdout) as BlockOutcome;
      const log = `stdout:\n${outcome.stdout}\nstderr:\n${outcome.stderr}`;
      assert.ok(outcome.settled, `its top-level code finished without an error\n${log}`);
      assert.ok(
        outcome.exitedOnItsOwn === undefined || outcome.exitedOnItsOwn === 0,
        `it exited ${outcome.exitedOnItsOwn}\n${log}`,
      );
      assert.deepEqual(
        outcome.served,
        program.promised,
        `every promised line is served\nlast scrape:\n${outcome.lastBody}\n${log}`,
      );
    });
  });
});
