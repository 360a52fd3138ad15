/**
 * `npm run test:unit`: the in-process test files (test-sets.ts), each in its own process as
 * `npm test` runs them, with unit-guard.ts preloaded so none can start a process. Arguments narrow
 * the set to files under the given paths (`npm run test:unit -- test/domain test/naming`).
 */
import { availableParallelism } from 'node:os';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';
import { ROOT, testSets } from './test-sets.ts';

const GUARD = fileURLToPath(new URL('./unit-guard.ts', import.meta.url));
const prefixes = process.argv.slice(2);
const files = testSets().unit.filter(
  (f) => prefixes.length === 0 || prefixes.some((p) => f.startsWith(p.replace(/^\.\//, ''))),
);
if (files.length === 0)
  throw new Error(
    `no unit test file under ${prefixes.join(', ')} (the unit set: node test/support/test-sets.ts unit)`,
  );

process.chdir(ROOT);
const stream = run({
  files,
  execArgv: ['--import', GUARD],
  // What `node --test` does by default, and `npm test`'s timeout.
  concurrency: Math.max(1, availableParallelism() - 1),
  timeout: 180_000,
});
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(spec).pipe(process.stdout);
