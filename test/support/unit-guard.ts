/**
 * Preloaded by `npm run test:unit` (`--import`): in the fast loop no test may start a process.
 * Every way to start one (`node:child_process`'s spawn/exec/fork families, `cluster.fork`) throws,
 * naming what to do, so a file test-sets.ts put in the unit set by mistake (a process started from
 * src/, where the import scan does not look) fails loudly instead of slowing the loop or needing a
 * peer. `npm test` does not load this: there every file may start its peers.
 */
import childProcess, * as childProcessEsm from 'node:child_process';
import cluster from 'node:cluster';
import { syncBuiltinESMExports } from 'node:module';

export const UNIT_GUARD_MESSAGE =
  'a test in `npm run test:unit` started a process; the unit set is for in-process tests. ' +
  'put a line `// test-sets: peer — <why>` in the test file, so test/support/test-sets.ts puts it in the peer set, run by `npm test`';

const SPAWNERS = [
  'spawn',
  'spawnSync',
  'exec',
  'execSync',
  'execFile',
  'execFileSync',
  'fork',
] as const;
/** The functions the guard put in place. */
const REFUSERS = new WeakSet<object>();

/** Makes starting a process throw in this process; idempotent. */
export function installUnitGuard(): void {
  const refuse = (what: string) => {
    const f = () => {
      throw new Error(`${what}: ${UNIT_GUARD_MESSAGE}`);
    };
    REFUSERS.add(f);
    return f;
  };
  const cp = childProcess as unknown as Record<string, unknown>;
  for (const name of SPAWNERS) cp[name] = refuse(`child_process.${name}`);
  (cluster as unknown as Record<string, unknown>).fork = refuse('cluster.fork');
  // ESM named imports of built-ins read a copy of the exports: refresh it.
  syncBuiltinESMExports();
}

/** The ways to start a process that do not refuse here (the CommonJS exports and the ESM ones): none once the guard is in. */
export function notRefusing(): string[] {
  const cjs = childProcess as unknown as Record<string, unknown>;
  const esm = childProcessEsm as unknown as Record<string, unknown>;
  return [
    ...SPAWNERS.filter((n) => !REFUSERS.has(cjs[n] as object)).map((n) => `child_process.${n}`),
    ...SPAWNERS.filter((n) => !REFUSERS.has(esm[n] as object)).map(
      (n) => `import { ${n} } from 'node:child_process'`,
    ),
    ...(REFUSERS.has((cluster as unknown as Record<string, object>).fork!) ? [] : ['cluster.fork']),
  ];
}

// Only in the test files' processes (the runner marks them), never in the runner, which starts them.
if (process.env.NODE_TEST_CONTEXT?.startsWith('child') === true) installUnitGuard();
