/**
 * Which test files are "unit" (in-process: `npm run test:unit`, the fast loop) and which need real
 * peer processes (Prometheus, promtool, the Collector, Go, Python, Redis, Postgres, a child
 * `jobmeter serve` or any other child process). `npm test` runs both and stays the gate.
 *
 * The split is derived, never listed by hand, so a new file cannot be left out of it: a test file
 * is a peer test when anything it imports from the test side (test/, scripts/, bench/, examples/,
 * followed transitively; src/ is the code under test and is not followed) imports a module that
 * starts processes (`node:child_process`, `node:cluster`) or a client of a peer server
 * ({@link PEER_PACKAGES}), or carries the mark {@link peerMark} reads. What the scan cannot see (a
 * process started from src/) is caught at run time: `npm run test:unit` preloads unit-guard.ts, which makes every way to start a process
 * throw, naming the file to move.
 */
import { readFileSync, globSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Built-in modules that start processes. */
const PROCESS_MODULES = ['child_process', 'node:child_process', 'cluster', 'node:cluster'];
/** Clients of peer servers: a test importing one talks to a server outside the process. */
export const PEER_PACKAGES = ['ioredis', 'redis', 'pg', 'bullmq', 'pg-boss', 'graphile-worker'];
/** Test-side folders whose files are followed (relative to the repository root). */
const FOLLOWED = ['test/', 'scripts/', 'bench/', 'examples/'];
/** Imports node:child_process and node:cluster only to make them refuse: starts nothing. */
const GUARD = 'test/support/unit-guard.ts';

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The specifiers a file imports (static, re-exports, and dynamic imports of a literal). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) {
    // `import type` never runs: it cannot start anything.
    if (/^\s*;?\s*(?:import|export)\s+type\s/.test(m[0])) continue;
    out.push((m[1] ?? m[2])!);
  }
  return out;
}

/**
 * A file that starts processes in a way the scan cannot see (from src/) says so in a line of its
 * own: `// test-sets: peer — <why>`.
 */
const PEER_MARK = /^\/\/ test-sets: peer\b.*$/m;

/** The mark's line when `source` carries one. */
export function peerMark(source: string): string | undefined {
  return PEER_MARK.exec(source)?.[0];
}

const packageOf = (spec: string) =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;

/** Why `file` (absolute) needs peers: the import chain to what starts or talks to one; undefined when it does not. */
export function peerReason(
  file: string,
  seen = new Map<string, string | undefined>(),
): string | undefined {
  if (seen.has(file)) return seen.get(file);
  seen.set(file, undefined);
  const here = relative(ROOT, file);
  if (here === GUARD) return undefined;
  const source = readFileSync(file, 'utf8');
  const mark = peerMark(source);
  let reason: string | undefined = mark === undefined ? undefined : `${here} is marked (${mark})`;
  for (const spec of reason === undefined ? importsOf(source) : []) {
    if (PROCESS_MODULES.includes(spec)) reason = `${here} imports ${spec}`;
    else if (PEER_PACKAGES.includes(packageOf(spec))) reason = `${here} imports ${spec}`;
    else if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      const rel = relative(ROOT, target);
      if (!FOLLOWED.some((f) => rel.startsWith(f)) || !/\.[cm]?[jt]s$/.test(rel)) continue;
      const inner = peerReason(target, seen);
      if (inner !== undefined) reason = `${here} → ${inner}`;
    }
    if (reason !== undefined) break;
  }
  seen.set(file, reason);
  return reason;
}

export interface TestSets {
  /** Repository-relative paths, sorted. */
  readonly unit: readonly string[];
  /** Peer test → why (the import chain). */
  readonly peer: ReadonlyMap<string, string>;
}

/** Every test file `npm test` runs (its glob), split. */
export function testSets(): TestSets {
  const files = globSync('test/**/*.test.ts', { cwd: ROOT }).sort();
  const seen = new Map<string, string | undefined>();
  const unit: string[] = [];
  const peer = new Map<string, string>();
  for (const f of files) {
    const reason = peerReason(resolve(ROOT, f), seen);
    if (reason === undefined) unit.push(f);
    else peer.set(f, reason);
  }
  return { unit, peer };
}

// `node test/support/test-sets.ts unit|peer`: the files of one set, a line each (package.json's test:unit).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const which = process.argv[2];
  if (which !== 'unit' && which !== 'peer')
    throw new Error(`usage: node test/support/test-sets.ts unit|peer (got ${which})`);
  const sets = testSets();
  process.stdout.write((which === 'unit' ? sets.unit : [...sets.peer.keys()]).join('\n') + '\n');
}
