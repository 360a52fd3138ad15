/**
 * The fast loop's split (test-sets.ts) stays right: every file `npm test` runs is in exactly one
 * set, every test-side module that starts a process is seen as a peer module by the import scan
 * (so no unit file can reach one), and in `npm run test:unit` starting a process throws.
 */
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { importsOf, peerMark, peerReason, ROOT, testSets } from './test-sets.ts';
import { installUnitGuard, notRefusing, UNIT_GUARD_MESSAGE } from './unit-guard.ts';

const scripts = (
  JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

/** A call that starts a process, in source text. */
const STARTS_A_PROCESS =
  /\b(?:spawn|spawnSync|execFile|execFileSync|execSync|fork)\s*\(|\bexec\s*\(\s*['"`]/;

describe('the unit and peer test sets', () => {
  it('split exactly the files npm test runs, and npm run test:unit runs the unit set', () => {
    assert.match(
      scripts.test!,
      /node --test --test-concurrency=\d+ --test-timeout=\d+ "test\/\*\*\/\*\.test\.ts"$/,
      'npm test runs test/**/*.test.ts (the glob test-sets.ts splits)',
    );
    assert.equal(scripts['test:unit'], 'node test/support/run-unit.ts');
    const all = globSync('test/**/*.test.ts', { cwd: ROOT }).sort();
    const { unit, peer } = testSets();
    assert.deepEqual([...unit, ...peer.keys()].sort(), all);
    assert.equal(unit.filter((f) => peer.has(f)).length, 0);
    assert.ok(unit.includes('test/support/test-sets.test.ts'), 'this file is a unit test');
    assert.ok(
      peer.has('test/support/prometheus.test.ts'),
      'a file that starts Prometheus is a peer test',
    );
  });

  it('sees every test-side module that starts a process as a peer module', () => {
    // The guard and this file call spawn only once the guard makes it refuse.
    const files = globSync('{test,scripts,bench,examples}/**/*.{ts,mts,js,mjs}', {
      cwd: ROOT,
    }).filter((f) => f !== 'test/support/unit-guard.ts' && f !== 'test/support/test-sets.test.ts');
    const starters = files.filter((f) =>
      STARTS_A_PROCESS.test(readFileSync(resolve(ROOT, f), 'utf8')),
    );
    assert.ok(
      starters.includes('test/support/prometheus.ts') &&
        starters.includes('test/support/collector.ts'),
      'the peer helpers are found',
    );
    const unseen = starters.filter((f) => peerReason(resolve(ROOT, f)) === undefined);
    assert.deepEqual(
      unseen,
      [],
      'these start a process without importing node:child_process / node:cluster: teach test-sets.ts how they do',
    );
  });

  it('reads static, re-exported and dynamic imports, and skips type-only ones', () => {
    const source = [
      "import { a } from './a.ts';",
      "import {\n  b,\n  c,\n} from '../b.ts';",
      "import type { T } from './types.ts';",
      "export { d } from './d.ts';",
      "import './side-effect.ts';",
      // Spelled in two pieces: the scan reads text, and this file must stay in the unit set.
      'const e = await im' + "port('node:child_process');",
    ].join('\n');
    assert.deepEqual(importsOf(source), [
      './a.ts',
      '../b.ts',
      './d.ts',
      './side-effect.ts',
      'node:child_process',
    ]);
  });

  it('takes a file marked `// test-sets: peer` as a peer test, and only a line of its own', () => {
    // Spelled in pieces, as above: this file itself is not marked.
    const mark = '// test-sets' + ': peer — starts a cluster from src/';
    assert.equal(peerMark(`import x from './x.ts';\n${mark}\n`), mark);
    assert.equal(peerMark(`const s = '${mark}';\n`), undefined);
  });

  it('in npm run test:unit, starting a process throws, naming what to do', () => {
    installUnitGuard();
    assert.deepEqual(notRefusing(), []);
    const childProcess = process.getBuiltinModule('node:child_process');
    assert.throws(() => childProcess.spawn('true'), {
      message: `child_process.spawn: ${UNIT_GUARD_MESSAGE}`,
    });
    assert.throws(
      () => (process.getBuiltinModule('node:cluster') as unknown as { fork(): unknown }).fork(),
      /cluster\.fork: a test in `npm run test:unit` started a process/,
    );
  });
});
